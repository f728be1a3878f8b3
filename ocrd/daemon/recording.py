"""Finished documents into the results index (ocrd.results), without ever costing a file.

Called after a folder file's sidecars (or its failure) are durable and after an upload was
read. Indexing runs in a thread; any problem with it is logged and forgotten: the file's own
results are already safe, and a missing index entry must not send it to failed/.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

from ocrd.config import Config
from ocrd.daemon.jobs import Job
from ocrd.daemon.logs import event
from ocrd.errors import OcrdError
from ocrd.result import Document
from ocrd.results import NewResult, ResultsIndex, open_index

log = logging.getLogger("ocrd.daemon")

UPLOAD = "upload"  # the metrics' inbox label for uploads
SWEEP_EVERY = 3600.0  # seconds between expiry sweeps of the results index (retention is in days)


async def open_results(config: Config) -> ResultsIndex | None:
    """The index, with the sidecar rewrites a killed process left undone finished first."""
    try:
        index = await asyncio.to_thread(open_index, config.daemon.data_dir, config.results)
        if index is not None:
            finished = await asyncio.to_thread(index.finish_pending)
            if finished:
                event(log, "results-recovered", f"wrote {finished} corrected result(s) interrupted at the last stop")
        return index
    except Exception as exc:  # reading files matters more than the index: go on without it, loudly
        event(
            log,
            "results-unavailable",
            f"the results index under {config.daemon.data_dir} cannot be used ({exc!r}); results are not "
            "recorded and cannot be corrected until this is fixed and ocrd restarted",
            level=logging.ERROR,
        )
        return None


async def sweep_forever(index: ResultsIndex, every: float = SWEEP_EVERY) -> None:
    while True:
        try:
            removed = await asyncio.to_thread(index.sweep)
            if removed:
                event(log, "results-expired", f"removed {removed} result(s) past [results] retention_days")
        except Exception:  # keep sweeping; one bad round must not end expiry
            log.exception("results sweep failed")
        await asyncio.sleep(every)


async def record(index: ResultsIndex | None, new: NewResult) -> str | None:
    """The new result's id, or None (no index, or indexing failed and was logged)."""
    if index is None:
        return None
    try:
        return await asyncio.to_thread(index.record, new)
    except Exception:  # never the file's problem: its results are written already
        log.exception("could not add %s to the results index", new.source)
        return None


def folder_done(
    inbox: str, source: str, document: dict[str, Any], written: dict[str, str], original: str | None
) -> NewResult:
    """``document``: the result as its JSON sidecar holds it (Document.to_dict())."""
    kept = Path(original) if original and original != "deleted" else None
    return NewResult(
        origin="folder",
        source=source,
        outcome="done",
        inbox=inbox,
        document=document,
        sha256=document.get("sha256"),
        original=kept,
        sidecar_json=written.get("json"),
        sidecar_txt=written.get("txt"),
    )


def read_sidecar(path: str) -> dict[str, Any] | None:
    """A finished file's JSON sidecar, for a result finished by crash recovery (None if unreadable)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        log.warning("could not read %s to add it to the results index", path)
        return None
    return data if isinstance(data, dict) else None


def folder_failed(inbox: str, job: Job, info: dict[str, Any], moved: str | None) -> NewResult:
    record_sha = job.claim.record.sha256 if job.claim is not None else None
    return NewResult(
        origin="folder",
        source=job.source,
        outcome="failed",
        inbox=inbox,
        error=str(info.get("message") or info.get("kind") or "failed"),
        sha256=record_sha,
        original=Path(moved) if moved else None,
    )


def upload_done(path: Path, source: str, document: Document) -> NewResult:
    return NewResult(
        origin=UPLOAD,
        source=source,
        outcome="done",
        document=document.to_dict(),
        sha256=document.sha256,
        original=path,
        keep_copy=True,  # the web app removes the upload soon; the index keeps its own copy
    )


def upload_failed(source: str, error: OcrdError) -> NewResult:
    return NewResult(origin=UPLOAD, source=source, outcome="failed", error=error.message)
