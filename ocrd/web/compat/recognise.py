"""The one path from a hosted-API request into ocrd's job queue, shared by every vendor module.

A vendor module parses its request into bytes (decoded from base64, or the raw body) and a page
choice; ``recognise`` writes them into a fresh folder of the web job store, sniffs what they are,
cuts the asked-for PDF page out (so a 300-page PDF does not cost 300 pages for one answer) and
submits the file to the supervisor exactly as ``POST /ocr`` does. Every failure comes back as a
``CompatProblem`` for the vendor to word its own way.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aiohttp import web

from ocrd.documents import sniff_format
from ocrd.documents.sniff import HEAD_BYTES, SUPPORTED_FOR_HUMANS, describe_unsupported
from ocrd.errors import OcrdError
from ocrd.result import Document
from ocrd.web.compat.problems import (
    BAD_REQUEST,
    ENCRYPTED,
    IMAGE_DECODE,
    IMAGE_EMPTY,
    IMAGE_TOO_LARGE,
    PDF_PAGE,
    CompatProblem,
    problem_for,
)
from ocrd.web.context import WebContext
from ocrd.web.uploads import human_size

UPLOAD_NAME = "upload"
PAGE_NAME = "page.pdf"
CHUNK = 256 * 1024
BODY_SLACK = 64 * 1024  # JSON keys and other parameters around the image in a request body
_DATA_URL = re.compile(r"^data:[\w.+-]+/[\w.+-]+;base64,", re.IGNORECASE)
_BASE64_JUNK = re.compile(r"[\s]+")


@dataclass(frozen=True)
class Recognised:
    document: Document
    fmt: str  # what the bytes were: one of ocrd.documents.SUPPORTED_FORMATS
    page_count: int | None  # pages of the PDF sent (before one was chosen); None for images


def body_limit(context: WebContext) -> int:
    """Bytes a request body may have: the largest file base64-encoded, plus room for its parameters."""
    return context.max_upload_bytes * 4 // 3 + 4 + BODY_SLACK


async def read_body(request: web.Request, limit: int) -> bytes:
    """The whole request body, refused as soon as it grows past ``limit`` (nothing larger is held)."""
    if request.content_length is not None and request.content_length > limit:
        raise CompatProblem(IMAGE_TOO_LARGE, f"the request body is larger than {human_size(limit)}")
    data = bytearray()
    while chunk := await request.content.read(CHUNK):
        data += chunk
        if len(data) > limit:
            raise CompatProblem(IMAGE_TOO_LARGE, f"the request body is larger than {human_size(limit)}")
    return bytes(data)


def decode_base64(text: object, *, what: str, max_bytes: int) -> bytes:
    """A base64 image as clients send it: plain or URL-safe, padded or not, with or without a data: prefix."""
    if not isinstance(text, str):
        raise CompatProblem(BAD_REQUEST, f"{what} must be a base64 text string")
    cleaned = _BASE64_JUNK.sub("", _DATA_URL.sub("", text.strip(), count=1))
    if not cleaned:
        raise CompatProblem(IMAGE_EMPTY, f"{what} is empty")
    if len(cleaned) * 3 // 4 > max_bytes + 3:
        raise CompatProblem(IMAGE_TOO_LARGE, f"{what} decodes to more than the limit of {human_size(max_bytes)}")
    cleaned = cleaned.replace("-", "+").replace("_", "/")
    cleaned += "=" * (-len(cleaned) % 4)
    try:
        data = base64.b64decode(cleaned, validate=True)
    except (binascii.Error, ValueError):
        raise CompatProblem(IMAGE_DECODE, f"{what} is not valid base64") from None
    if not data:
        raise CompatProblem(IMAGE_EMPTY, f"{what} is empty")
    return data


def page_number(raw: object, *, what: str) -> int:
    """A 1-based page number as vendors send it (a number or a numeric string)."""
    if isinstance(raw, bool):
        raw = None
    if isinstance(raw, str) and raw.strip().isdigit():
        raw = int(raw.strip())
    if not isinstance(raw, int) or raw < 1:
        raise CompatProblem(BAD_REQUEST, f"{what} must be a page number from 1 (got {str(raw)[:20]!r})")
    return raw


async def recognise(
    context: WebContext,
    data: bytes,
    *,
    name: str = "upload",
    pdf_page: int | None = None,
    require_pdf: bool = False,
    fields: str | None = None,
    lang: str | None = None,
) -> Recognised:
    """Read ``data`` with the daemon's workers. ``pdf_page`` (1-based) reads that page of a PDF only.

    ``require_pdf`` refuses anything but a PDF (a request that said "this is a PDF").
    """
    if not data:
        raise CompatProblem(IMAGE_EMPTY, "the image is empty (0 bytes)")
    limit = context.max_upload_bytes
    if len(data) > limit:
        raise CompatProblem(IMAGE_TOO_LARGE, f"the file is larger than the limit of {human_size(limit)}")
    fmt = sniff_format(data[:HEAD_BYTES])
    if fmt is None:
        raise CompatProblem(
            IMAGE_DECODE,
            f"the data is not a supported document: its content is {describe_unsupported(data[:HEAD_BYTES])}; "
            f"supported are {SUPPORTED_FOR_HUMANS}",
        )
    if require_pdf and fmt != "pdf":
        raise CompatProblem(PDF_PAGE, f"a PDF was announced, but the data is {fmt.upper()}")
    with context.admission():
        _, folder = await asyncio.to_thread(context.store.new_folder, "compat")
        try:
            path = folder / UPLOAD_NAME
            await asyncio.to_thread(_write_new, path, data)
            page_count = None
            if fmt == "pdf":
                page_count = await asyncio.to_thread(_page_count, path)
                if pdf_page is not None:
                    if pdf_page > page_count:
                        raise CompatProblem(
                            PDF_PAGE, f"the PDF has {page_count} page(s); page {pdf_page} does not exist"
                        )
                    path = await asyncio.to_thread(_one_page, path, pdf_page, folder / PAGE_NAME)
            document = await context.supervisor.submit_file(path, lang=lang, source=name, fields=fields)
        except OcrdError as error:
            raise problem_for(error, context.scrub(error.message, folder, name)) from None
        finally:
            await asyncio.to_thread(shutil.rmtree, folder, True)
    return Recognised(document=document, fmt=fmt, page_count=page_count)


def _write_new(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _open_pdf(path: Path) -> Any:  # a pymupdf.Document; imported here, as only PDFs need it
    import pymupdf

    try:
        pdf = pymupdf.open(path, filetype="pdf")
    except Exception:
        raise CompatProblem(IMAGE_DECODE, "the PDF is damaged and cannot be opened") from None
    if pdf.needs_pass:
        pdf.close()
        raise CompatProblem(ENCRYPTED, "the PDF is protected by a password")
    return pdf


def _page_count(path: Path) -> int:
    pdf = _open_pdf(path)
    try:
        return pdf.page_count
    finally:
        pdf.close()


def _one_page(path: Path, number: int, target: Path) -> Path:
    """Page ``number`` (1-based) of the PDF as a PDF of its own; its text layer comes along."""
    import pymupdf

    pdf = _open_pdf(path)
    try:
        single = pymupdf.open()
        try:
            single.insert_pdf(pdf, from_page=number - 1, to_page=number - 1)
            single.save(target, garbage=1)
        finally:
            single.close()
    except CompatProblem:
        raise
    except Exception:
        raise CompatProblem(IMAGE_DECODE, f"page {number} of the PDF cannot be read") from None
    finally:
        pdf.close()
    return target
