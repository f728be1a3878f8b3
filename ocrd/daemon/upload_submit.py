"""A file from the web app (an upload, POST /ocr, the job API, the hosted APIs) read by the pool.

The upload waits in the supervisor's UploadQueue, goes to the next idle worker before any folder
file, and its Document comes back to the caller; it is recorded in the results index either way.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrd.config import LANGS
from ocrd.daemon import recording
from ocrd.daemon.errors import DaemonStoppingError, QueueFullError
from ocrd.daemon.jobs import Job
from ocrd.daemon.pdf_jobs import PdfRequest
from ocrd.errors import OcrdError, UsageError
from ocrd.fields.model import FIELD_MODES
from ocrd.result import Document

if TYPE_CHECKING:
    from ocrd.daemon.supervisor import Supervisor


async def submit(
    host: Supervisor,
    path: str | os.PathLike[str],
    *,
    lang: str | None = None,
    source: str | None = None,
    fields: str | None = None,
    pdf: PdfRequest | None = None,
    local: bool = False,
) -> Document:
    """Read one file with the shared worker pool and return its Document.

    ``fields`` is a mode of the fields stage (ocrd.fields.model.FIELD_MODES) for this file
    only; None keeps the configured one. With ``pdf`` the worker also writes the searchable
    PDF to ``pdf.temp`` (the Document is returned only once it is written, and a PDF that cannot
    be written fails the call like a file that cannot be read). Raises the ocrd.errors types: InputError subclasses
    for bad files, QueueFullError (a TransientError) at once when too many uploads are
    waiting, JobTimeoutError, ...
    """
    if host.draining or not host.ready:
        raise DaemonStoppingError("the service is not accepting work right now; try again shortly")
    if lang is not None and lang not in LANGS:
        raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}")
    if fields is not None and fields not in FIELD_MODES:
        raise UsageError(f"unknown fields mode {fields!r}; choose one of: {', '.join(FIELD_MODES)}")
    if host.cluster is not None and not local and not host.cluster.work:
        # No workers of our own in the cluster: another host reads it (ocrd.daemon.cluster_uploads).
        if pdf is not None:
            raise UsageError("searchable PDFs of uploads are made on hosts with the cluster role 'work' only")
        from ocrd.daemon.cluster_uploads import submit_remote

        return await submit_remote(host.cluster, str(path), lang=lang, source=source or Path(path).name, fields=fields)
    limit = host.config.daemon.max_queued_uploads
    if len(host.uploads) >= limit:
        raise QueueFullError(f"{limit} uploads are already waiting for a worker; try again in a few seconds")
    engine = host.config.engine
    overrides: dict[str, Any] = {"lang": lang} if lang and lang != engine.lang else {}
    if fields and fields != engine.fields.mode:
        # Goes with the reading: the worker's one copy of the models reads it with these settings.
        overrides["fields"] = dataclasses.replace(engine.fields, mode=fields)
    job = Job(
        host.next_id(),
        source or Path(path).name,
        str(path),
        overrides,
        future=asyncio.get_running_loop().create_future(),
        pdf=pdf,
    )
    host.uploads.add(job)
    host.dispatch()
    assert job.future is not None
    try:
        document = await job.future
    except OcrdError as error:
        if not error.retryable:  # the file's own failure (not "busy" or "stopping"): worth finding later
            result_id = await recording.record(host.results, recording.upload_failed(job.source, error))
            _link_report(job, result_id)
        raise
    finally:
        # The caller was cancelled (client went away, job deleted): drop the job if still queued.
        # Cancelling the caller cancels the future it awaited, so "cancelled" is the usual sign.
        if job.future.cancelled() or not job.future.done():
            host.uploads.forget(job)
    document.result_id = await recording.record(host.results, recording.upload_done(Path(path), job.source, document))
    _link_report(job, document.result_id)
    return document


def _link_report(job: Job, result_id: str | None) -> None:
    # The status page's entry was made when the worker answered; the index id comes after.
    if result_id is not None and job.report is not None:
        job.report["result_id"] = result_id
