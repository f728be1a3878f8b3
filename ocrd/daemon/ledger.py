"""An inbox's ledger: one row per finished document, in ``<outbox>/ledger.csv`` and ``ledger.jsonl``.

The CSV is for people who open it in Excel: UTF-8 with a byte order mark (else Excel reads the
Chinese as another code page), CRLF row ends, every cell quoted, one row per physical line.
Invoice text is attacker-controlled, so a cell that Excel would run as a formula (=, +, -, @,
tab, CR first) is defused with a leading apostrophe. The JSON Lines file carries the full fields.

Several daemons (and their threads) may finish documents into one outbox at once, and a crash
may cut a write short, so each append is: take an exclusive flock, cut off a torn last row left
by a crash, write the whole row with one write() on an O_APPEND descriptor, fsync. Every row in
the file is then whole, and no two rows interleave.
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from ocrd.durable import fsync_dir
from ocrd.fields.model import HEADER_FIELDS, Fields
from ocrd.names import readable
from ocrd.result import Document

LEDGER_CSV = "ledger.csv"
LEDGER_JSONL = "ledger.jsonl"
COLUMNS = ("file", "processed_at", "kind", "needs_review", "reasons", *HEADER_FIELDS, "line_items")
BOM = "\ufeff".encode()
# What makes Excel (and LibreOffice) treat a cell as a formula, or hide one behind white space.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A negative amount ("-120.00", on a red-letter invoice) cannot run anything and must stay a number.
_PLAIN_NEGATIVE = re.compile(r"-\d+(?:\.\d+)?")
_CHUNK = 64 * 1024


def processed_at(timestamp: float) -> str:
    """ISO 8601 local time with its UTC offset, to the second: "2026-03-14T09:30:00+08:00"."""
    return datetime.fromtimestamp(timestamp).astimezone().isoformat(timespec="seconds")


def csv_cell(value: Any) -> str:
    """A cell's text, defused against formula injection and kept on one line."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NEGATIVE.fullmatch(text):
        text = "'" + text
    # One row per line is what lets a torn last row be found and cut off after a crash.
    return text.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerow([csv_cell(cell) for cell in cells])
    return buffer.getvalue().encode()


CSV_HEADER = BOM + _csv_line(list(COLUMNS))


@dataclass(frozen=True)
class Entry:
    """One finished document as the ledger records it."""

    file: str  # its path relative to the inbox, as people know it
    processed_at: str
    sha256: str | None
    fields: Fields | None  # None: the fields stage did not run

    def _cells(self) -> list[str]:
        fields = self.fields
        if fields is None:
            return [self.file, self.processed_at, *[""] * (len(COLUMNS) - 2)]
        items = fields.value_of("line_items")
        return [
            self.file,
            self.processed_at,
            fields.kind,
            "true" if fields.needs_review else "false",
            "; ".join(fields.reasons),
            *["" if fields.value_of(name) is None else str(fields.value_of(name)) for name in HEADER_FIELDS],
            json.dumps(items, ensure_ascii=False, default=str) if items else "",
        ]

    def csv_row(self) -> bytes:
        return _csv_line(self._cells())

    def csv_key(self) -> bytes:
        """How this entry's CSV row starts: file and time tell one document's row from another's."""
        return _csv_line([self.file, self.processed_at]).removesuffix(b"\r\n") + b","

    def json_line(self) -> bytes:
        data = {
            "file": self.file,
            "processed_at": self.processed_at,
            "sha256": self.sha256,
            "fields": None if self.fields is None else self.fields.to_dict(),
        }
        # ensure_ascii=False keeps the Chinese readable; json never writes a raw newline inside a line.
        return (json.dumps(data, ensure_ascii=False, default=str) + "\n").encode()

    def json_key(self) -> bytes:
        return json.dumps({"file": self.file, "processed_at": self.processed_at}, ensure_ascii=False)[:-1].encode()


# --- appending whole rows -------------------------------------------------------------------------


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[int]:
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield fd
    finally:
        os.close(fd)  # closing releases the lock


def _cut_torn_tail(fd: int) -> int:
    """Drop bytes after the last newline (a row a crash cut short); returns the file's size."""
    size = os.fstat(fd).st_size
    if size == 0 or os.pread(fd, 1, size - 1) == b"\n":
        return size
    end = size
    while end > 0:
        start = max(0, end - _CHUNK)
        newline = os.pread(fd, end - start, start).rfind(b"\n")
        if newline >= 0:
            os.ftruncate(fd, start + newline + 1)
            return start + newline + 1
        end = start
    os.ftruncate(fd, 0)
    return 0


def _has_line_starting(fd: int, size: int, key: bytes) -> bool:
    # Read only on a retry or a resumed claim, so reading the whole file is a rare cost.
    return size > 0 and b"\n" + key in b"\n" + os.pread(fd, size, 0)


def append(path: Path, row: bytes, *, header: bytes = b"", key: bytes | None = None) -> bool:
    """Append ``row`` (one line, ending in a newline) whole; ``header`` starts a new file.

    With ``key``, nothing is written if a line starting with it is there already (a retry after a
    crash or failed write), and False is returned.
    """
    with _locked(path) as fd:
        size = _cut_torn_tail(fd)
        if key is not None and _has_line_starting(fd, size, key):
            return False
        data = (header if size == 0 else b"") + row
        written = os.write(fd, data)
        if written != len(data):  # a full disk can take part of a write without failing it
            os.ftruncate(fd, size)
            raise OSError(errno.ENOSPC, f"only {written} of {len(data)} bytes could be added", str(path))
        os.fsync(fd)
    if size == 0:
        fsync_dir(path.parent)  # the new file's name must survive a power cut too
    return True


def record(outbox: str | os.PathLike[str], entry: Entry, *, once: bool = False) -> None:
    """Add ``entry`` to both ledger files; ``once``: skip a file that already holds its row."""
    folder = Path(outbox)
    append(folder / LEDGER_CSV, entry.csv_row(), header=CSV_HEADER, key=entry.csv_key() if once else None)
    append(folder / LEDGER_JSONL, entry.json_line(), key=entry.json_key() if once else None)


def note_document(
    outbox: str, rel: str, document: Document | None, sidecar_json: str, sha256: str | None, *, once: bool
) -> None:
    """The ledger rows of a document whose sidecars are durable (``document`` None: read them back).

    The time is the JSON sidecar's, so a retry or a resumed claim writes the same row, and ``once``
    can tell that it is already there.
    """
    if document is None:
        document = Document.from_dict(json.loads(Path(sidecar_json).read_text(encoding="utf-8")))
    entry = Entry(
        file=readable(rel),
        processed_at=processed_at(os.stat(sidecar_json).st_mtime),
        sha256=document.sha256 or sha256,
        # The fields stage adds Document.fields; a document without the attribute has no fields.
        fields=getattr(document, "fields", None),
    )
    record(outbox, entry, once=once)
