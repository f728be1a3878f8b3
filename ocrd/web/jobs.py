"""The job API, for documents too large to wait for in one request (and for the upload page).

POST   /api/jobs                          multipart "image" (+ "lang", "fields", "outputs")  -> 202, the job
GET    /api/jobs/{id}[?wait=SECONDS]      the job's state (waits up to 30 s for it to finish)
GET    /api/jobs/{id}/result.json         the result document (the sidecar schema)
GET    /api/jobs/{id}/result.txt          the text, pages separated by form feeds
GET    /api/jobs/{id}/result.pdf          the searchable PDF, for a job submitted with outputs=...,pdf
GET    /api/jobs/{id}/pages/{n}/image     page n (0-based) as a JPEG preview
DELETE /api/jobs/{id}                     forget it now (a waiting job leaves the queue)
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
from typing import Any
from urllib.parse import quote

from aiohttp import web

from ocrd.daemon.pdf_jobs import plan_in
from ocrd.errors import OcrdError
from ocrd.names import result_name
from ocrd.outputs_choice import PDF
from ocrd.result import Document
from ocrd.web.context import WebContext, context_of
from ocrd.web.formatting import iso
from ocrd.web.jobstore import DONE, FAILED, PENDING, RESULT_PDF, WebJob
from ocrd.web.previews import render_preview
from ocrd.web.replies import BAD_REQUEST, NOT_FINISHED, NOT_FOUND, ApiFailure, failure_for, ok
from ocrd.web.uploads import Upload, receive_upload

MAX_WAIT = 30.0


def describe(job: WebJob, context: WebContext) -> dict[str, Any]:
    base = f"/api/jobs/{job.id}"
    info: dict[str, Any] = {
        "id": job.id,
        "status": job.state,
        "source": job.upload.name,
        "lang": job.upload.lang,
        "fields_mode": job.upload.fields,
        "outputs": list(job.upload.outputs),
        "bytes": job.upload.size,
        "format": job.upload.fmt,
        "created_at": iso(job.created),
        "finished_at": iso(job.finished) if job.finished is not None else None,
        "expires_at": iso(expires) if (expires := context.store.expires_at(job)) is not None else None,
        "pages": None,
        "lines": None,
        "fields": None,
        "error": None,
        "result_id": None,
        "links": {"self": base},
    }
    if job.state == DONE and job.document is not None:
        if job.document.result_id is not None:
            info["result_id"] = job.document.result_id
            info["links"]["review"] = f"/results/{job.document.result_id}"
        info["pages"] = len(job.document.pages)
        info["lines"] = len(job.document.lines)
        info["fields"] = fields_summary(job.document)
        info["links"].update({"json": f"{base}/result.json", "txt": f"{base}/result.txt"})
        if job.pdf_bytes is not None:
            info["links"]["pdf"] = f"{base}/result.pdf"
        if job.original_kept:
            info["links"]["page_image"] = f"{base}/pages/{{n}}/image"
    if job.state == FAILED and job.error is not None:
        failure = failure_for(job.error)
        info["error"] = {
            "code": failure.code,
            "status": failure.status,
            "msg": context.scrub(job.error.message, job.folder, job.upload.name),
        }
    return info


def fields_summary(document: Document) -> dict[str, Any] | None:
    """What a poller needs to route the document; the values are in result.json."""
    fields = document.fields
    if fields is None:
        return None
    return {"kind": fields.kind, "needs_review": fields.needs_review, "reasons": list(fields.reasons)}


def _job(request: web.Request) -> WebJob:
    context = context_of(request)
    job = context.store.get(request.match_info["job_id"])
    if job is None:
        minutes = context.store.ttl / 60
        raise ApiFailure(
            NOT_FOUND, f"no job with this id; results are kept for {minutes:g} minutes after they are finished"
        )
    return job


def _finished(job: WebJob, context: WebContext) -> WebJob:
    if job.state == PENDING:
        raise ApiFailure(NOT_FINISHED, f"the job is not finished yet; poll GET /api/jobs/{job.id}?wait=30")
    if job.state == FAILED and job.error is not None:
        raise ApiFailure(failure_for(job.error), context.scrub(job.error.message, job.folder, job.upload.name))
    return job


async def submit(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    supervisor = context.supervisor
    with context.admission():
        job_id, folder = await asyncio.to_thread(context.store.new_folder, "job")
        try:
            upload = await receive_upload(request, folder, context.max_upload_bytes)
        except BaseException:
            await asyncio.to_thread(shutil.rmtree, folder, True)
            raise

        async def run(item: Upload) -> Any:
            # The worker that reads the file writes its PDF too (it has the pages and the lines at
            # hand), under a temporary name: result.pdf exists only once it is complete.
            pdf = plan_in(folder, item.name) if PDF in item.outputs else None
            document = await supervisor.submit_file(
                item.path, lang=item.lang, source=item.name, fields=item.fields, pdf=pdf
            )
            if pdf is not None:
                await asyncio.to_thread(os.replace, pdf.temp, folder / RESULT_PDF)
            return document

        job = await context.store.add(job_id, folder, upload, run)
    location = f"/api/jobs/{job.id}"
    return ok(describe(job, context), status=202, msg="accepted", headers={"Location": location})


async def status(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    wait = _wait_seconds(request.query.get("wait"))
    job = _job(request)
    if wait and job.state == PENDING:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(job.done.wait(), wait)
    return ok(describe(job, context))


def _wait_seconds(raw: str | None) -> float:
    if raw is None:
        return 0.0
    try:
        seconds = float(raw)
    except ValueError:
        seconds = float("nan")
    if not 0 <= seconds <= MAX_WAIT:  # also refuses nan
        raise ApiFailure(BAD_REQUEST, f"wait must be a number of seconds from 0 to {MAX_WAIT:g} (got {raw[:20]!r})")
    return seconds


async def result_json(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    job = _finished(_job(request), context)
    assert job.document is not None
    return web.Response(
        text=job.document.to_json(),
        content_type="application/json",
        headers=_download_headers(request, job.upload.name, ".json"),
    )


async def result_txt(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    job = _finished(_job(request), context)
    assert job.document is not None
    return web.Response(
        text=job.document.to_text(),
        content_type="text/plain",
        charset="utf-8",
        headers=_download_headers(request, job.upload.name, ".txt"),
    )


async def result_pdf(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    job = _finished(_job(request), context)
    if PDF not in job.upload.outputs:
        raise ApiFailure(
            NOT_FOUND,
            "this job has no searchable PDF: it was not asked for; submit the file again with outputs=json,txt,pdf",
        )
    if job.pdf_bytes is None:
        raise ApiFailure(NOT_FOUND, "the searchable PDF is no longer stored (old uploads are removed to save space)")
    # Always a download: a PDF opened in the browser tab would replace the upload page.
    headers = {"Content-Type": "application/pdf", **_attachment(job.upload.name, ".pdf")}
    return web.FileResponse(job.pdf_path, headers=headers)


def _download_headers(request: web.Request, name: str, suffix: str) -> dict[str, str]:
    if "download" not in request.query:
        return {}
    return _attachment(name, suffix)


def _attachment(name: str, suffix: str) -> dict[str, str]:
    # Named as the daemon and `ocrd ocr --out` name results: scan.jpg -> scan.jpg.json.
    filename = result_name(name, suffix)
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\;' else "_" for ch in filename)
    return {"Content-Disposition": f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename)}"}


async def page_image(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    job = _finished(_job(request), context)
    assert job.document is not None
    try:
        index = int(request.match_info["page"])
    except ValueError:
        raise ApiFailure(BAD_REQUEST, "the page number must be a whole number (0 is the first page)") from None
    if not 0 <= index < len(job.document.pages):
        raise ApiFailure(NOT_FOUND, f"the document has {len(job.document.pages)} page(s), numbered from 0")
    if not job.original_kept:
        raise ApiFailure(NOT_FOUND, "the page image is no longer stored (old uploads are removed to save space)")
    slots: asyncio.Semaphore = context.extra["preview_slots"]
    async with slots:
        try:
            data = await asyncio.to_thread(render_preview, job.upload.path, index, context.limits, job.upload.name)
        except OcrdError as error:
            raise ApiFailure(failure_for(error), context.scrub(error.message, job.folder, job.upload.name)) from None
    return web.Response(
        body=data, content_type="image/jpeg", headers={"Cache-Control": f"private, max-age={int(context.store.ttl)}"}
    )


async def delete(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    job = _job(request)
    await context.store.remove(job)
    return ok({"id": job.id, "deleted": True})
