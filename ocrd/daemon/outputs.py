"""Where a claimed file ends: sidecars in the outbox, the original in done/ (or deleted/kept),
or the original in failed/ with an error file.

Order is what makes this safe: results are written and fsynced first, the claim record notes
each planned name before it becomes visible, and only then is the original moved. After a crash,
``resume`` reads the record and completes (or cleanly redoes) exactly the step that was cut off,
so every input ends with exactly one result.
"""

from __future__ import annotations

import contextlib
import json
import os
import posixpath
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ocrd import __version__
from ocrd.config import InboxSettings
from ocrd.daemon import ledger
from ocrd.daemon.claims import CLAIMED, FAILING, FINISHING, PLACING, STATE_DIR, Claim
from ocrd.daemon.dedupe import sha256_of
from ocrd.daemon.errors import ClaimLostError, error_info
from ocrd.durable import fsync_dir, link_new, move_file, place_group, same_content
from ocrd.errors import TransientError
from ocrd.faults import crash_point
from ocrd.names import name_bytes, readable, result_name
from ocrd.result import Document

ERROR_SUFFIX = ".error.json"
ERROR_SCHEMA = 1


def iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")


def split_rel(rel: str) -> tuple[str, str]:
    folder, name = posixpath.split(rel)
    return folder, name


# --- guarding the target folders -----------------------------------------------------------------------


def mount_point(path: str) -> str:
    """The mount point holding ``path`` (or the nearest existing ancestor of it)."""
    current = os.path.abspath(path)
    while not os.path.exists(current):
        current = os.path.dirname(current)
    while not os.path.ismount(current):
        current = os.path.dirname(current)
    return current


def _depth(path: str) -> int:
    return len([part for part in path.split(os.sep) if part])


@dataclass
class Targets:
    """The outbox/done/failed roots of one inbox, guarded against an unmounted share.

    When a share is unmounted, its mount point becomes an empty local folder: writing there puts
    results on the wrong disk, where nobody looks, until the share returns and hides them. So each
    root remembers the mount it was on at start; if it is later found on a *shallower* mount (the
    share went away), writing waits with a TransientError until it is back. A root found on a
    deeper mount (a share mounted after start) is accepted, and a deleted root is recreated.
    """

    inbox: InboxSettings
    mounts: dict[str, str] = field(default_factory=dict)

    def roots(self) -> list[str]:
        roots = [self.inbox.outbox, self.inbox.failed]
        if self.inbox.on_success == "move":
            roots.append(self.inbox.done)
        return roots

    def prepare(self) -> list[str]:
        """Create missing roots and remember their mounts; returns the folders that were created."""
        created = []
        for root in self.roots():
            if not os.path.isdir(root):
                os.makedirs(root, exist_ok=True)
                created.append(root)
            self.mounts[root] = mount_point(root)
        return created

    def check(self, root: str) -> None:
        try:
            current = mount_point(root)
        except OSError as exc:
            raise TransientError(f"folder {root} is not available ({exc.strerror}); waiting for it") from exc
        expected = self.mounts.setdefault(root, current)
        if _depth(current) < _depth(expected):
            raise TransientError(
                f"folder {root} is no longer on its file system {expected} (was the share unmounted?); "
                "waiting for it to come back",
            )
        self.mounts[root] = current
        try:
            os.makedirs(root, exist_ok=True)
        except OSError as exc:
            raise TransientError(f"folder {root} cannot be created: {exc.strerror}") from exc


# --- success -------------------------------------------------------------------------------------------


def result_files(
    rel: str, document: Document, *, outputs: tuple[str, ...] = ("json", "txt"), pdf: Path | None = None
) -> dict[str, bytes | Path]:
    """``a.pdf`` -> ``a.pdf.txt``, ``a.pdf.pdf`` (a written temporary file) and ``a.pdf.json``.

    The JSON is linked last: its presence means complete.
    """
    name = split_rel(rel)[1]
    files: dict[str, bytes | Path] = {}
    if "txt" in outputs:
        files[result_name(name, ".txt")] = document.to_text().encode()
    if "pdf" in outputs:
        if pdf is None:
            raise ValueError("a PDF output needs the PDF written by the worker")
        files[result_name(name, ".pdf")] = pdf
    files[result_name(name, ".json")] = (document.to_json() + "\n").encode()
    return files


def _kind(path: str) -> str:
    """``a.pdf.json`` -> ``json``, ``a.pdf.2.txt`` -> ``txt``: the key of a result in the claim record."""
    return os.path.splitext(path)[1].lstrip(".")


def write_results(targets: Targets, claim: Claim, document: Document, pdf: Path | None = None) -> dict[str, str]:
    """Write the sidecars durably; returns {"txt": path, "json": path} (and "pdf" when the inbox wants it)."""
    inbox = targets.inbox
    targets.check(inbox.outbox)
    folder = Path(inbox.outbox, split_rel(claim.rel)[0])
    record = claim.record

    def plan(chosen: dict[str, Path]) -> None:
        record.stage = PLACING
        record.sha256 = document.sha256
        record.outputs = {_kind(name): str(path) for name, path in chosen.items()}
        claim.save()

    files = result_files(claim.rel, document, outputs=inbox.outputs, pdf=pdf)
    placed = place_group(folder, files, plan=plan)
    return {_kind(name): str(path) for name, path in placed.items()}


def finish_original(targets: Targets, claim: Claim, kept: KeptIndex | None = None) -> str:
    """Results are durable: move the original to done/, delete it, or put it back (keep)."""
    inbox = targets.inbox
    record = claim.record
    if inbox.on_success == "delete":
        record.stage, record.original_to = FINISHING, "deleted"
        claim.save()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(claim.file)
        fsync_dir(claim.file.parent)
        return "deleted"
    if inbox.on_success == "keep" and kept is not None:
        info = claim.file.stat()
        kept.add(claim.rel, info.st_size, info.st_mtime_ns)
        target = Path(inbox.path, claim.rel)
        record.stage, record.original_to = FINISHING, str(target)
        claim.save()
        target.parent.mkdir(parents=True, exist_ok=True)
        if link_new(claim.file, target):
            if os.path.lexists(claim.file):
                os.unlink(claim.file)
            return str(target)
        # A new file with the same name arrived meanwhile: keep ours in done/ instead of replacing it.
    targets.check(inbox.done)
    folder, name = split_rel(claim.rel)

    def plan(target: Path) -> None:
        record.stage, record.original_to = FINISHING, str(target)
        claim.save()
        crash_point("original-planned")

    moved = move_file(claim.file, Path(inbox.done, folder), name, plan=plan)
    crash_point("original-moved")
    return str(moved)


# --- failure -------------------------------------------------------------------------------------------


def fail(targets: Targets, claim: Claim, error: dict[str, Any], *, node: str = "") -> str:
    """Move the original to failed/ and write ``<name>.error.json`` beside it; returns the new path."""
    inbox = targets.inbox
    ensure_owned(claim)
    targets.check(inbox.failed)
    record = claim.record
    record.error = error
    folder, name = split_rel(claim.rel)

    def plan(target: Path) -> None:
        record.stage, record.original_to = FAILING, str(target)
        claim.save()

    if record.sha256 is None and os.path.lexists(claim.file):
        with contextlib.suppress(OSError):
            record.sha256 = sha256_of(claim.file)
    planned = record.original_to
    moved_before = record.stage == FAILING and planned and os.path.lexists(planned) and os.path.lexists(claim.file)
    if moved_before and _same(claim.file, planned):
        os.unlink(claim.file)  # crashed between link and unlink of the move
    if os.path.lexists(claim.file):
        moved = move_file(claim.file, Path(inbox.failed, folder), name, plan=plan)
        crash_point("original-moved")
    else:  # resumed after a crash that came after the move
        moved = Path(planned or Path(inbox.failed, folder, name))
    write_error_file(moved, inbox, record, node=node)
    crash_point("error-written")
    return str(moved)


def error_file_name(failed_name: str) -> str:
    """``a.pdf`` in failed/ -> ``a.pdf.error.json`` (shortened with a hash when too long)."""
    return result_name(failed_name, ERROR_SUFFIX)


def write_error_file(moved: Path, inbox: InboxSettings, record: Any, *, node: str = "") -> Path:
    target = moved.with_name(error_file_name(moved.name))
    if target.exists():
        return target
    document = {
        "schema": ERROR_SCHEMA,
        "source": readable(record.rel),
        **({"source_bytes": exact} if (exact := name_bytes(record.rel)) else {}),
        "inbox": inbox.name,
        "file": readable(moved.name),
        "error": record.error,
        "attempts": record.attempts,
        "history": record.history,
        "sha256": record.sha256,
        "claimed_at": iso(record.claimed_at),
        "failed_at": iso(time.time()),
        "host": node,
        "ocrd_version": __version__,
    }
    data = readable(json.dumps(document, ensure_ascii=False, indent=2) + "\n").encode()
    placed = place_group(moved.parent, {target.name: data})
    return placed[target.name]


# --- after a crash -------------------------------------------------------------------------------------


REQUEUE = "requeue"
FINISHED = "finished"


@dataclass(frozen=True)
class Resumed:
    """What resuming an adopted claim did: REQUEUE (run OCR again) or FINISHED.

    A finished claim says how it ended, so the results index can learn of it too: ``written``
    (the sidecars) and ``original`` for a success, ``error`` and ``original`` for a failure;
    neither for an empty claim.
    """

    action: str
    written: dict[str, str] = field(default_factory=dict)
    original: str | None = None
    error: dict[str, Any] | None = None


def outputs_complete(record: Any) -> bool:
    """The planned sidecars exist and the JSON is ours (same source bytes)."""
    json_path = record.outputs.get("json")
    others = [path for kind, path in record.outputs.items() if kind != "json"]
    if not json_path or not all(os.path.exists(path) for path in others):
        return False
    try:
        data = json.loads(Path(json_path).read_text())
    except (OSError, ValueError):
        return False
    return data.get("sha256") == record.sha256 and data.get("source") == readable(record.rel)


def discard_partial_outputs(record: Any) -> None:
    """Remove sidecars that a crashed attempt linked before it could finish the group."""
    json_path = record.outputs.get("json")
    if json_path and os.path.exists(json_path):
        with contextlib.suppress(OSError, ValueError):
            if json.loads(Path(json_path).read_text()).get("sha256") == record.sha256:
                os.unlink(json_path)
    if not (json_path and os.path.exists(json_path)):
        # The others are linked before the JSON and their names were free when planned: orphans are this claim's.
        for kind, path in record.outputs.items():
            if kind != "json" and os.path.exists(path):
                os.unlink(path)
    record.outputs = {}


def ensure_owned(claim: Claim) -> None:
    """Refuse to write for a claim another daemon has taken over (it renamed the claim folder away)."""
    if not claim.folder.is_dir():
        raise ClaimLostError(
            f"{claim.rel} was taken over by another daemon while this one was not responding; leaving it to that one"
        )


def complete_success(
    targets: Targets,
    claim: Claim,
    document: Document | None,
    kept: KeptIndex | None = None,
    *,
    pdf: Path | None = None,
) -> tuple[dict[str, str], str | None]:
    """Sidecars, then the original; safe to call again after a failure or crash at any point.

    Returns (sidecar paths, where the original went). ``document`` may be None only when the
    record shows the sidecars are already complete (resuming after a crash). ``pdf`` is the
    searchable PDF a worker wrote to a temporary file, for an inbox whose outputs include it.
    """
    ensure_owned(claim)
    record = claim.record
    already_written = record.stage in (PLACING, FINISHING) and outputs_complete(record)
    if already_written:
        outputs = dict(record.outputs)
    else:
        if record.stage == PLACING:
            discard_partial_outputs(record)
        if document is None:
            raise ValueError("no document to write and no complete sidecars recorded")
        outputs = write_results(targets, claim, document, pdf)
    if targets.inbox.ledger and record.stage == PLACING:
        # After the sidecars, before the original moves (FINISHING): a failed or cut-off ledger
        # write comes back here, and the row is then added only where it is missing.
        targets.check(targets.inbox.outbox)
        ledger.note_document(
            targets.inbox.outbox, claim.rel, document, outputs["json"], record.sha256, once=already_written
        )
    if not os.path.lexists(claim.file):
        return outputs, record.original_to
    planned = record.original_to
    resumable = record.stage == FINISHING and planned and planned != "deleted" and os.path.lexists(planned)
    if resumable and _same(claim.file, planned):
        os.unlink(claim.file)  # crashed between link and unlink of the move
        return outputs, planned
    return outputs, finish_original(targets, claim, kept)


def resume(targets: Targets, claim: Claim, kept: KeptIndex | None = None, *, node: str = "") -> Resumed:
    """Continue an adopted claim from its recorded stage."""
    record = claim.record
    if record.stage == FAILING and record.error is not None:
        moved = fail(targets, claim, record.error, node=node)
        return Resumed(FINISHED, original=moved, error=record.error)
    if record.stage in (PLACING, FINISHING) and outputs_complete(record):
        written, original = complete_success(targets, claim, None, kept)
        return Resumed(FINISHED, written=written, original=original)
    if not record.rel or not os.path.lexists(claim.file):
        # Nothing left to do: an empty claim, killed after making its folder and before the file was
        # moved in (with no file the rebuilt record names none, and claim.file is the empty folder).
        return Resumed(FINISHED)
    if record.stage == PLACING:
        discard_partial_outputs(record)
    record.stage = CLAIMED
    return Resumed(REQUEUE)


def _same(first: Path, second: str) -> bool:
    return same_content(first, Path(second))


def interrupted_error(record: Any) -> dict[str, Any]:
    return error_info(
        "InterruptedJobError",
        "interrupted",
        f"processing was interrupted {record.attempts} time(s) before it could finish "
        f"(the daemon or its worker stopped while reading {record.rel})",
    )


# --- "keep" mode ---------------------------------------------------------------------------------------


class KeptIndex:
    """Originals left in the inbox (on_success = "keep"), so they are not processed again.

    Keyed by relative path, size and mtime: a file that is changed or replaced counts as new.
    Appended as JSON lines to ``inbox/.ocrd/kept.jsonl``; re-read when another daemon appended.
    """

    def __init__(self, inbox: str) -> None:
        self.path = Path(inbox, STATE_DIR, "kept.jsonl")
        self._entries: set[tuple[str, int, int]] = set()
        self._read_size = 0

    def _refresh(self) -> None:
        try:
            size = self.path.stat().st_size
        except FileNotFoundError:
            return
        if size == self._read_size:
            return
        with self.path.open("rb") as handle:
            handle.seek(self._read_size)
            chunk = handle.read()
        complete = chunk[: chunk.rfind(b"\n") + 1]
        self._read_size += len(complete)
        for line in complete.splitlines():
            with contextlib.suppress(ValueError, KeyError, TypeError):
                item = json.loads(line)
                self._entries.add((item["rel"], int(item["size"]), int(item["mtime_ns"])))

    def __contains__(self, key: tuple[str, int, int]) -> bool:
        self._refresh()
        return key in self._entries

    def add(self, rel: str, size: int, mtime_ns: int) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # ASCII escapes keep a name with undecodable bytes exact (they read back as the same surrogates).
        line = json.dumps({"rel": rel, "size": size, "mtime_ns": mtime_ns}) + "\n"
        with self.path.open("ab") as handle:
            handle.write(line.encode())
            handle.flush()
            os.fsync(handle.fileno())
        self._entries.add((rel, size, mtime_ns))
