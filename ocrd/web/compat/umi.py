"""Umi-OCR's HTTP API answered by ocrd: ``POST /api/ocr`` and ``GET /api/ocr/get_options``.

A client sends ``{"base64": "...", "options": {...}}`` and reads ``{"code", "data", "time",
"timestamp"}``. Like Umi-OCR, every answer of ``POST /api/ocr`` is HTTP 200 with the outcome in
``code`` (Umi-OCR's own example calls ``raise_for_status()`` before it reads the code), and every
failure inside the handler is answered in that shape: the path starts with /api/, so ocrd's error
middleware would otherwise answer in ocrd's own. What comes before the handler stays ocrd's: a
missing or wrong token is ocrd's 401, and while ``[compat.umi] enabled`` is false the routes are
ocrd's 404, as for any path it does not serve.

Umi-OCR's document API (``/api/doc/...``, an upload-poll-download cycle for PDFs) and its QR code
API are not served; ocrd's own ``POST /api/jobs`` does the document job.
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any

from aiohttp import web

from ocrd.documents import sniff_format
from ocrd.documents.sniff import HEAD_BYTES
from ocrd.errors import OcrdError
from ocrd.result import Document
from ocrd.web.compat.problems import IMAGE_TOO_LARGE, CompatProblem, problem_for
from ocrd.web.compat.recognise import body_limit, decode_base64, read_body, recognise
from ocrd.web.compat.umi_blocks import blocks_of, joined_text, mean_score
from ocrd.web.compat.umi_codes import (
    BASE64_DECODE,
    EMPTY_REQUEST,
    IMAGE_DECODE,
    NO_BASE64,
    NO_TEXT,
    NOT_JSON,
    OK,
    OPTIONS_NOT_DICT,
    RECOGNISER_FAILED,
    UmiError,
    error_for,
)
from ocrd.web.compat.umi_codes import IMAGE_TOO_LARGE as TOO_LARGE_CODE
from ocrd.web.compat.umi_options import UmiOptions, option_table, parse_options
from ocrd.web.context import WebContext, context_of

log = logging.getLogger("ocrd.web")

OCR_PATH = "/api/ocr"
OPTIONS_PATH = "/api/ocr/get_options"
SOURCE_NAME = "base64 image"  # the name an image has in ocrd's logs and error messages


def _served(context: WebContext) -> None:
    if not context.supervisor.config.compat.umi.enabled:
        raise web.HTTPNotFound()


async def get_options(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    _served(context)
    return web.json_response(option_table(context.supervisor.config.engine.lang))


async def ocr(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    _served(context)
    timestamp = time.time()
    started = time.perf_counter()
    try:
        answer = await _answer(request, context)
    except UmiError as error:
        answer = {"code": error.code, "data": error.message}
    except CompatProblem as problem:
        answer = {"code": error_for(problem).code, "data": problem.message}
    except OcrdError as error:  # the admission check, before recognise sorts ocrd's errors itself
        problem = problem_for(error)
        answer = {"code": error_for(problem).code, "data": problem.message}
    except Exception:
        log.exception("internal error answering an Umi-OCR request")
        answer = {
            "code": RECOGNISER_FAILED,
            "data": "internal error in the OCR service; the daemon log has the details",
        }
    answer |= {"time": round(time.perf_counter() - started, 3), "timestamp": timestamp}
    # json.dumps escapes non-ASCII as \uXXXX, as Umi-OCR's answers do: its clients are written for that.
    return web.json_response(answer)


async def _answer(request: web.Request, context: WebContext) -> dict[str, Any]:
    body = await _request_body(request, context)
    options = body.get("options")
    if options is None:
        options = {}
    if not isinstance(options, dict):
        raise UmiError(OPTIONS_NOT_DICT, "options must be a JSON object of option names and values")
    chosen = parse_options(options)
    image = _image(body["base64"], context)
    recognised = await recognise(context, image, name=SOURCE_NAME, fields="off", lang=chosen.lang)
    return _result(recognised.document, chosen)


async def _request_body(request: web.Request, context: WebContext) -> dict[str, Any]:
    try:
        raw = await read_body(request, body_limit(context))
    except CompatProblem as problem:
        raise UmiError(TOO_LARGE_CODE, problem.message) from None
    if not raw.strip():
        raise UmiError(EMPTY_REQUEST, "the request is empty: send a JSON object with the image as base64")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError) as error:
        raise UmiError(NOT_JSON, f"the request is not JSON: {error}") from None
    if not body:
        raise UmiError(EMPTY_REQUEST, "the request is empty: send a JSON object with the image as base64")
    if not isinstance(body, dict) or "base64" not in body:
        raise UmiError(NO_BASE64, 'the request has no "base64" field: send {"base64": "<the image, base64>"}')
    return body


def _image(text: object, context: WebContext) -> bytes:
    """The decoded image; a PDF is refused, as Umi-OCR's /api/ocr reads images only."""
    try:
        data = decode_base64(text, what="base64", max_bytes=context.max_upload_bytes)
    except CompatProblem as problem:
        code = TOO_LARGE_CODE if problem.kind == IMAGE_TOO_LARGE else BASE64_DECODE
        raise UmiError(code, problem.message) from None
    if sniff_format(data[:HEAD_BYTES]) == "pdf":
        raise UmiError(
            IMAGE_DECODE,
            "the data is a PDF; /api/ocr reads images (PNG, JPEG, TIFF, ...). "
            "ocrd reads PDFs through its own POST /ocr and POST /api/jobs",
        )
    return data


def _result(document: Document, options: UmiOptions) -> dict[str, Any]:
    if not any(line.text.strip() for line in document.lines):
        return {"code": NO_TEXT, "data": "no text found in the image"}
    blocks = blocks_of(document, options.parser, options.ignore_areas)
    if not blocks:
        return {"code": NO_TEXT, "data": "all the text found lies inside tbpu.ignoreArea"}
    data: Any = joined_text(blocks) if options.format == "text" else [block.to_dict() for block in blocks]
    return {"code": OK, "data": data, "score": round(mean_score(blocks), 6)}


def add_routes(app: web.Application) -> None:
    app.router.add_post(OCR_PATH, ocr)
    app.router.add_get(OPTIONS_PATH, get_options)
