"""POST /ocr: one file in, its lines out, in the shape existing clients of hosted OCR parse.

    {"code": 0, "msg": "success", "data": [{"text": "...", "confidence": 0.96, "box": [...], "page": 0}, ...],
     "fields": {"kind": "vat_normal", "needs_review": false, "values": {...}, ...}}

``data`` stays exactly what those clients expect; the extracted fields come beside it, under a
key they do not read (null when the request asked for ``fields=off``). The upload is a job for
the daemon's worker pool like any inbox file; the request waits for it.
"""

from __future__ import annotations

import asyncio
import shutil
from typing import Any

from aiohttp import web

from ocrd.errors import OcrdError
from ocrd.outputs_choice import PDF
from ocrd.result import Document
from ocrd.web.context import context_of
from ocrd.web.replies import BAD_REQUEST, ApiFailure, dumps, envelope, fail, failure_for
from ocrd.web.uploads import receive_upload


def lines_of(document: Document) -> list[dict[str, Any]]:
    """Every line in reading order, page after page; ``page`` is the 0-based page index."""
    # The origin shape exactly: a line's pieces (``parts``) are in the job API's full result only.
    return [
        {"text": item["text"], "confidence": item["confidence"], "box": item["box"], "page": page.index}
        for page in document.pages
        for item in (line.to_dict() for line in page.lines)
    ]


def reply_of(document: Document) -> dict[str, Any]:
    fields = None if document.fields is None else document.fields.to_dict()
    return envelope(lines_of(document)) | {"fields": fields}


async def ocr(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    with context.admission():
        _, folder = await asyncio.to_thread(context.store.new_folder, "ocr")
        name = "upload"
        try:
            upload = await receive_upload(request, folder, context.max_upload_bytes)
            name = upload.name
            if PDF in upload.outputs:
                raise ApiFailure(
                    BAD_REQUEST,
                    "POST /ocr answers with JSON only; for a searchable PDF submit the file to POST /api/jobs "
                    "with outputs=json,txt,pdf and download GET /api/jobs/{id}/result.pdf",
                )
            document = await context.supervisor.submit_file(
                upload.path, lang=upload.lang, source=upload.name, fields=upload.fields
            )
        except OcrdError as error:
            return fail(failure_for(error), context.scrub(error.message, folder, name))
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
    return web.json_response(reply_of(document), dumps=dumps)
