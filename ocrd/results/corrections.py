"""One line's correction: checked, committed with the new version of the result, written back.

The database is the truth: the correction row, the corrected result and its new version are one
transaction. The folder sidecars are rewritten after the commit; if the process dies in between,
``ResultsIndex.finish_pending`` writes them at the next start.
"""

from __future__ import annotations

import json
import sqlite3
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import ocrd.results.sidecars as sidecars
from ocrd.evaluation.distance import levenshtein
from ocrd.results.errors import CorrectionRefusedError, NotCorrectableError, ResultNotFoundError
from ocrd.results.records import body_of, iso

MAX_TEXT = 2000  # characters in one corrected line: far more than any printed line holds
REFUSED_CATEGORIES = {"Cc", "Cs"}  # control characters (newlines, tabs too) and lone surrogates


@dataclass
class Outcome:
    """What a correction did; ``correction`` is None when the text was already that (nothing stored)."""

    line: dict[str, Any]
    version: int
    correction: dict[str, Any] | None
    distance: int  # characters changed (edit distance between the old and the new text)
    inbox: str | None


def check_text(text: object) -> str:
    if not isinstance(text, str):
        raise CorrectionRefusedError('"text" must be a string: the line\'s corrected text')
    if not text.strip():
        raise CorrectionRefusedError('"text" is empty: send the text the line really says')
    if len(text) > MAX_TEXT:
        raise CorrectionRefusedError(f'"text" has {len(text)} characters; a line may have at most {MAX_TEXT}')
    bad = next((ch for ch in text if unicodedata.category(ch) in REFUSED_CATEGORIES), None)
    if bad is not None:
        raise CorrectionRefusedError(
            f'"text" contains the control character U+{ord(bad):04X}: a line is one line of printable text'
        )
    return text


def _locate(document: dict[str, Any], page: int, line: int) -> dict[str, Any]:
    pages = document.get("pages", [])
    if not 0 <= page < len(pages):
        raise ResultNotFoundError(f"the result has {len(pages)} page(s), numbered from 0; there is no page {page}")
    lines = pages[page].get("lines", [])
    if not 0 <= line < len(lines):
        raise ResultNotFoundError(f"page {page} has {len(lines)} line(s), numbered from 0; there is no line {line}")
    return lines[line]


def apply(conn: sqlite3.Connection, result_id: str, page: int, line: int, text: object, by: str, now: float) -> Outcome:
    new_text = check_text(text)
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute("SELECT rowid, * FROM results WHERE id = ?", (result_id,)).fetchone()
        if row is None:
            raise ResultNotFoundError("no result with this id (it may have expired)")
        if row["outcome"] != "done" or not row["current_result"]:
            raise NotCorrectableError("this document could not be read, so it has no lines to correct")
        document = json.loads(row["current_result"])
        item = _locate(document, page, line)
        if item["text"] == new_text:
            conn.execute("ROLLBACK")
            return Outcome(item, row["version"], None, 0, row["inbox"])
        old_text = item["text"]
        item["text"] = new_text
        item.pop("parts", None)  # the pieces' texts were the old reading; the box stays the line's
        version = row["version"] + 1
        body = body_of(document)
        conn.execute(
            "UPDATE results SET current_result = ?, body = ?, version = ?, corrections = corrections + 1 WHERE id = ?",
            (json.dumps(document, ensure_ascii=False, indent=2), body, version, result_id),
        )
        if conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'results_text'").fetchone():
            conn.execute("UPDATE results_text SET body = ? WHERE rowid = ?", (body, row["rowid"]))
        values = (result_id, version, page, line, old_text, new_text, json.dumps(item["box"]), by, now)
        extra = (row["inbox"], row["sha256"], row["model_pack"], row["model_version"])
        conn.execute(
            "INSERT INTO corrections (result_id, version, page, line, old_text, new_text, box, by, at, inbox, sha256,"
            " model_pack, model_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            values + extra,
        )
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    correction = {
        "page": page,
        "line": line,
        "old_text": old_text,
        "new_text": new_text,
        "by": by,
        "at": iso(now),
        "version": version,
        "box": item["box"],
    }
    return Outcome(item, version, correction, levenshtein(old_text, new_text), row["inbox"])


def write_back(row: sqlite3.Row, listed: list[dict[str, Any]]) -> bool:
    """The row's current version into its folder sidecars."""
    return sidecars.rewrite(
        Path(row["sidecar_json"]),
        Path(row["sidecar_txt"]) if row["sidecar_txt"] else None,
        original=row["original_result"],
        document=json.loads(row["current_result"]),
        version=row["version"],
        corrections=listed,
        sha256=row["sha256"],
    )
