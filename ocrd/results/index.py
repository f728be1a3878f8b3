"""The results index: record finished documents, find them, open them, expire them.

One connection, used by one thread at a time (a lock): callers on an event loop run these
methods with ``asyncio.to_thread``. Every write is a committed transaction before the method
returns; see ``store`` for why a killed process loses nothing committed.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import ocrd.results.corrections as corrections
import ocrd.results.originals as originals
from ocrd.config import ResultsSettings
from ocrd.results.errors import ResultNotFoundError
from ocrd.results.records import NewResult, Query, body_of, correction_of, item_of, new_id, summary_of
from ocrd.results.search import snippet, where_of
from ocrd.results.store import connect, folder_of

log = logging.getLogger("ocrd.results")

DAY = 86400.0


class ResultsIndex:
    def __init__(self, folder: Path, settings: ResultsSettings, *, clock: Callable[[], float] = time.time) -> None:
        self.folder = folder
        self.settings = settings
        self.clock = clock
        self.conn, self.fts = connect(folder)
        self.lock = threading.RLock()  # the connection, one user at a time
        self.sidecars = threading.Lock()  # sidecar rewrites, one at a time: the latest version wins
        originals.sweep_partial(folder)

    def close(self) -> None:
        with self.lock:
            self.conn.close()

    # --- recording ------------------------------------------------------------------------------

    def record(self, new: NewResult) -> str:
        """Add a finished document; returns its id."""
        result_id = new_id()
        original_path, owned, size = (str(new.original) if new.original else None), 0, 0
        if new.keep_copy and new.original is not None:
            kept = originals.keep_copy(new.original, self.folder, result_id, self.settings.max_bytes)
            original_path, owned, size = (str(kept[0]), 1, kept[1]) if kept else (None, 0, 0)
        text = json.dumps(new.document, ensure_ascii=False, indent=2) if new.document is not None else None
        body = body_of(new.document)
        row = {
            "id": result_id,
            "created_at": self.clock(),
            "origin": new.origin,
            "inbox": new.inbox,
            "source": new.source,
            **summary_of(new.document),
            "outcome": new.outcome,
            "error": new.error,
            "sha256": new.sha256 or (new.document or {}).get("sha256"),
            "original_result": text,
            "current_result": text,
            "body": body,
            "original_path": original_path,
            "original_owned": owned,
            "original_bytes": size,
            "sidecar_json": new.sidecar_json,
            "sidecar_txt": new.sidecar_txt,
        }
        names = ", ".join(row)
        marks = ", ".join(f":{name}" for name in row)
        with self.lock:
            self.conn.execute("BEGIN IMMEDIATE")
            try:
                cursor = self.conn.execute(f"INSERT INTO results ({names}) VALUES ({marks})", row)
                if self.fts:
                    self.conn.execute(
                        "INSERT INTO results_text (rowid, source, body) VALUES (?, ?, ?)",
                        (cursor.lastrowid, new.source, body),
                    )
                self.conn.execute("COMMIT")
            except BaseException:
                self.conn.execute("ROLLBACK")
                originals.remove(original_path if owned else None)
                raise
        if owned:
            self._bound_originals()
        return result_id

    # --- reading --------------------------------------------------------------------------------

    def search(self, query: Query) -> dict[str, Any]:
        where, params = where_of(query, fts=self.fts)
        offset = (query.page - 1) * query.per_page
        with self.lock:
            total = self.conn.execute(f"SELECT COUNT(*) FROM results{where}", params).fetchone()[0]
            rows = self.conn.execute(
                f"SELECT * FROM results{where} ORDER BY created_at DESC, rowid DESC LIMIT ? OFFSET ?",
                [*params, query.per_page, offset],
            ).fetchall()
        items = [item_of(row, snippet(row["body"], query.q)) for row in rows]
        return {"total": total, "page": query.page, "per_page": query.per_page, "items": items}

    def row(self, result_id: str) -> sqlite3.Row:
        with self.lock:
            row = self.conn.execute("SELECT * FROM results WHERE id = ?", (result_id,)).fetchone()
        if row is None:
            days = self.settings.retention_days
            raise ResultNotFoundError(f"no result with this id; results are kept for {days:g} days")
        return row

    def corrections_of(self, result_id: str) -> list[dict[str, Any]]:
        with self.lock:
            rows = self.conn.execute(
                "SELECT * FROM corrections WHERE result_id = ? ORDER BY number", (result_id,)
            ).fetchall()
        return [correction_of(row) for row in rows]

    def get(self, result_id: str) -> dict[str, Any]:
        """The item, the current result (corrections applied), its version and corrections."""
        row = self.row(result_id)
        item = item_of(row)
        result = json.loads(row["current_result"]) if row["current_result"] else None
        has_pages = bool(result and result.get("pages"))
        page_image = f"/api/results/{result_id}/pages/{{n}}/image" if has_pages and self._original(row) else None
        return item | {
            "result": result,
            "version": row["version"],
            "corrections": self.corrections_of(result_id),
            "corrections_count": row["corrections"],
            "page_image": page_image,
        }

    @staticmethod
    def _original(row: sqlite3.Row) -> Path | None:
        path = row["original_path"]
        return Path(path) if path and Path(path).is_file() else None

    def original(self, result_id: str) -> tuple[Path, dict[str, Any]]:
        """The kept original and the current result, for a page image; ResultNotFoundError when gone."""
        row = self.row(result_id)
        path = self._original(row)
        if path is None or not row["current_result"]:
            raise ResultNotFoundError("the original of this result is no longer kept, so its pages cannot be shown")
        return path, json.loads(row["current_result"])

    # --- correcting -----------------------------------------------------------------------------

    def correct(self, result_id: str, page: int, line: int, text: str, by: str) -> corrections.Outcome:
        """Store one line's correction (committed), then bring the folder sidecars up to date."""
        with self.lock:
            outcome = corrections.apply(self.conn, result_id, page, line, text, by, self.clock())
        if outcome.correction is not None:
            self._write_sidecars(result_id)
        return outcome

    def finish_pending(self) -> int:
        """Sidecars whose correction was committed but not written (the process was killed): write them."""
        with self.lock:
            rows = self.conn.execute(
                "SELECT id FROM results WHERE sidecar_json IS NOT NULL AND sidecar_version < version"
            ).fetchall()
        for row in rows:
            self._write_sidecars(row["id"])
        return len(rows)

    def _write_sidecars(self, result_id: str) -> None:
        with self.sidecars:
            row = self.row(result_id)
            if not row["sidecar_json"] or row["sidecar_version"] >= row["version"]:
                return
            listed = [
                {key: item[key] for key in ("page", "line", "old_text", "new_text", "by", "at")}
                for item in self.corrections_of(result_id)
            ]
            written = corrections.write_back(row, listed)
            if not written:
                log.warning(
                    "results: the sidecar %s is gone or is another file now; not rewritten", row["sidecar_json"]
                )
            with self.lock:
                self.conn.execute(
                    "UPDATE results SET sidecar_version = ? WHERE id = ? AND sidecar_version < ?",
                    (row["version"], result_id, row["version"]),
                )

    # --- expiry ---------------------------------------------------------------------------------

    def sweep(self) -> int:
        """Remove results older than the retention (and the originals kept for them); returns how many."""
        cutoff = self.clock() - self.settings.retention_days * DAY
        with self.lock:
            rows = self.conn.execute(
                "SELECT rowid, id, original_path, original_owned FROM results WHERE created_at < ?", (cutoff,)
            ).fetchall()
            if rows:
                self.conn.execute("BEGIN IMMEDIATE")
                for row in rows:
                    self.conn.execute("DELETE FROM results WHERE rowid = ?", (row["rowid"],))
                    if self.fts:
                        self.conn.execute("DELETE FROM results_text WHERE rowid = ?", (row["rowid"],))
                self.conn.execute("COMMIT")
        for row in rows:  # after the commit: a crash in between leaves a file, never a row without it
            originals.remove(row["original_path"] if row["original_owned"] else None)
        self._bound_originals()
        return len(rows)

    def _bound_originals(self) -> None:
        """Beyond [results] max_bytes, the oldest kept uploads lose their original (the result stays)."""
        limit = self.settings.max_bytes
        if not limit:
            return
        with self.lock:
            total = self.conn.execute("SELECT COALESCE(SUM(original_bytes), 0) FROM results").fetchone()[0]
            if total <= limit:
                return
            rows = self.conn.execute(
                "SELECT id, original_path, original_bytes FROM results WHERE original_owned = 1 ORDER BY created_at"
            ).fetchall()
            dropped = []
            for row in rows:
                if total <= limit:
                    break
                total -= row["original_bytes"]
                dropped.append(row)
                self.conn.execute(
                    "UPDATE results SET original_path = NULL, original_owned = 0, original_bytes = 0 WHERE id = ?",
                    (row["id"],),
                )
        for row in dropped:
            originals.remove(row["original_path"])


def open_index(
    data_dir: str | Path, settings: ResultsSettings, *, clock: Callable[[], float] = time.time
) -> ResultsIndex | None:
    """The index under the data folder, or None when [results] enabled = false."""
    if not settings.enabled or not data_dir:
        return None
    return ResultsIndex(folder_of(data_dir), settings, clock=clock)
