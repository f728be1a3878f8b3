"""The SQLite database of the results index: where it is, how it is opened, its tables.

Opened in WAL mode with synchronous=FULL: a commit is on disk when it returns, and a process
killed at any instant leaves the database as of its last commit. A busy timeout lets
``ocrd corrections export`` read while the daemon writes.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

DATABASE = "results.sqlite3"
ORIGINALS = "originals"
BUSY_TIMEOUT_MS = 10_000
SCHEMA_VERSION = 1

TABLES = """
CREATE TABLE IF NOT EXISTS results (
    id TEXT PRIMARY KEY,
    created_at REAL NOT NULL,
    origin TEXT NOT NULL,
    inbox TEXT,
    source TEXT NOT NULL,
    pages INTEGER,
    kind TEXT,
    needs_review INTEGER,
    outcome TEXT NOT NULL,
    error TEXT,
    sha256 TEXT,
    model_pack TEXT,
    model_version TEXT,
    original_result TEXT,
    current_result TEXT,
    body TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    corrections INTEGER NOT NULL DEFAULT 0,
    original_path TEXT,
    original_owned INTEGER NOT NULL DEFAULT 0,
    original_bytes INTEGER NOT NULL DEFAULT 0,
    sidecar_json TEXT,
    sidecar_txt TEXT,
    sidecar_version INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS results_by_time ON results (created_at);
CREATE TABLE IF NOT EXISTS corrections (
    number INTEGER PRIMARY KEY,
    result_id TEXT NOT NULL,
    version INTEGER NOT NULL,
    page INTEGER NOT NULL,
    line INTEGER NOT NULL,
    old_text TEXT NOT NULL,
    new_text TEXT NOT NULL,
    box TEXT NOT NULL,
    by TEXT NOT NULL,
    at REAL NOT NULL,
    inbox TEXT,
    sha256 TEXT,
    model_pack TEXT,
    model_version TEXT
);
CREATE INDEX IF NOT EXISTS corrections_by_result ON corrections (result_id, number);
"""
# File names and text, searched by substring: the trigram tokenizer finds "发票" inside "增值税发票".
FTS_TABLE = "CREATE VIRTUAL TABLE IF NOT EXISTS results_text USING fts5(source, body, tokenize='trigram')"


def folder_of(data_dir: str | Path) -> Path:
    return Path(data_dir) / "results"


def connect(folder: Path) -> tuple[sqlite3.Connection, bool]:
    """The open database (created if new) and whether full-text search (FTS5) is available."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ORIGINALS).mkdir(exist_ok=True)
    # Autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT) where they are needed.
    conn = sqlite3.connect(
        folder / DATABASE, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    conn.executescript(TABLES)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
    try:
        conn.execute(FTS_TABLE)
        fts = True
    except sqlite3.OperationalError:  # an SQLite built without FTS5 or trigram: search falls back to LIKE
        fts = False
    return conn, fts
