"""What is recorded for a finished document, what a search asks for, and how a row is shown."""

from __future__ import annotations

import json
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ORIGINS = ("folder", "upload")
OUTCOMES = ("done", "failed")
ID_BYTES = 12  # 16 URL-safe characters: not guessable, short enough for a link


def new_id() -> str:
    return secrets.token_urlsafe(ID_BYTES)


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


@dataclass
class NewResult:
    """One finished document, as the daemon hands it to the index.

    ``document``: the result as the sidecar schema dict (None for a failure). ``original``: where
    the original file is now; with ``keep_copy`` the index copies it into its own folder (an
    upload, removed by the web app soon), otherwise it only remembers the path (a folder file in
    done/ or failed/). ``sidecar_json``/``sidecar_txt``: the folder result's files, rewritten
    when the result is corrected.
    """

    origin: str
    source: str
    outcome: str
    inbox: str | None = None
    document: dict[str, Any] | None = None
    error: str | None = None
    sha256: str | None = None
    original: Path | None = None
    keep_copy: bool = False
    sidecar_json: str | None = None
    sidecar_txt: str | None = None


@dataclass(frozen=True)
class Query:
    """A search: text in the file name or the result, filters, and which page of answers."""

    q: str | None = None
    inbox: str | None = None
    needs_review: bool | None = None
    outcome: str | None = None
    page: int = 1
    per_page: int = 50


def body_of(document: dict[str, Any] | None) -> str:
    """The searchable text: every line, pages one after the other."""
    if not document:
        return ""
    return "\n".join(line["text"] for page in document.get("pages", []) for line in page.get("lines", []))


def summary_of(document: dict[str, Any] | None) -> dict[str, Any]:
    """The columns taken from the result document itself."""
    if not document:
        return {"pages": None, "kind": None, "needs_review": None, "model_pack": None, "model_version": None}
    fields = document.get("fields") or {}
    engine = document.get("engine") or {}
    review = fields.get("needs_review") if fields else None
    return {
        "pages": len(document.get("pages", [])),
        "kind": fields.get("kind") if fields else None,
        "needs_review": None if review is None else int(bool(review)),
        "model_pack": engine.get("models"),
        "model_version": engine.get("version"),
    }


def item_of(row: sqlite3.Row, snippet: str | None = None) -> dict[str, Any]:
    """A result as the API lists it."""
    review = row["needs_review"]
    return {
        "id": row["id"],
        "created_at": iso(row["created_at"]),
        "origin": row["origin"],
        "inbox": row["inbox"],
        "source": row["source"],
        "pages": row["pages"],
        "kind": row["kind"],
        "needs_review": None if review is None else bool(review),
        "outcome": row["outcome"],
        "error": row["error"],
        "corrections": row["corrections"],
        "snippet": snippet,
        "model": {"pack": row["model_pack"], "version": row["model_version"]},
        "version": row["version"],
        "links": {"self": f"/api/results/{row['id']}", "review": f"/results/{row['id']}"},
    }


def correction_of(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "page": row["page"],
        "line": row["line"],
        "old_text": row["old_text"],
        "new_text": row["new_text"],
        "by": row["by"],
        "at": iso(row["at"]),
        "version": row["version"],
        "box": json.loads(row["box"]),
    }
