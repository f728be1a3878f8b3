"""Aliyun OCR requests answered by ocrd: a client of ``alibabacloud_ocr_api20210707`` changes its endpoint only.

The SDK sends ``POST /`` with the image bytes as the body, the action in ``x-acs-action`` and
its parameters (``PageNo``, ``Type``, ``Row``, ...) in the query, signed with
ACS3-HMAC-SHA256 (``aliyun_sign``). This module checks that signature, reads the document
through the daemon's job queue (``recognise``) and answers in Aliyun's shapes
(``aliyun_shapes``). Every failure, expected or not, is answered in Aliyun's error shape.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ocrd.errors import OcrdError
from ocrd.result import Document
from ocrd.web.compat import aliyun_shapes as shapes
from ocrd.web.compat.aliyun_shapes import AliyunError, error_for, error_response, new_request_id, success_response
from ocrd.web.compat.aliyun_sign import NonceCache, SignedRequest, check_headers, check_signed
from ocrd.web.compat.problems import BAD_REQUEST, INTERNAL, CompatProblem, problem_for
from ocrd.web.compat.recognise import page_number, read_body, recognise
from ocrd.web.context import WebContext, context_of

log = logging.getLogger("ocrd.web")

VERSION = "2021-07-07"
NONCES_KEY = "compat.aliyun.nonces"
ALL_TEXT_TYPES = ("General", "Advanced", "Commerce")  # RecognizeAllText Types that plain text answers


@dataclass(frozen=True)
class Action:
    fields: str  # ocrd's fields mode for the job
    pages: bool  # takes PageNo (Aliyun's PDF-capable actions)
    data_as_string: bool  # Data is a JSON string (the recognise actions) or an object (RecognizeAllText)
    shape: Callable[[Document, dict[str, str]], dict[str, Any]]


def _text(document: Document, query: dict[str, str]) -> dict[str, Any]:
    return shapes.text_data(document, rows=_flag(query, "Row"))


def _all_text(document: Document, query: dict[str, str]) -> dict[str, Any]:
    return shapes.all_text_data(document, page_no=int(query.get("PageNo") or 1), kind=query["Type"])


def _invoice(document: Document, query: dict[str, str]) -> dict[str, Any]:
    if not shapes.is_invoice(document):
        raise AliyunError(400, "unmatchedImageType", "The image type does not match the API operation: no VAT invoice.")
    return shapes.invoice_data(document)


ACTIONS: dict[str, Action] = {
    "RecognizeGeneral": Action("off", False, True, _text),
    "RecognizeAdvanced": Action("off", False, True, _text),
    "RecognizeBasic": Action("off", False, True, _text),
    "RecognizeAllText": Action("off", True, False, _all_text),
    "RecognizeInvoice": Action("auto", True, True, _invoice),
}


def _flag(query: dict[str, str], name: str) -> bool:
    return query.get(name, "").strip().lower() == "true"


async def handle(request: web.Request) -> web.StreamResponse:
    request_id = new_request_id()
    try:
        return await _answer(request, request_id)
    except AliyunError as error:
        return error_response(error, request_id)
    except CompatProblem as problem:
        return error_response(error_for(problem), request_id)
    except OcrdError as error:  # e.g. the queue was full before the upload was admitted
        return error_response(error_for(problem_for(error)), request_id)
    except (asyncio.CancelledError, ConnectionResetError):
        raise
    except Exception:
        # The traceback names the failing code, never the request's keys or signature.
        log.exception("internal error answering Aliyun request %s", request_id)
        message = "The request processing has failed due to some unknown error; the daemon log has the details."
        return error_response(error_for(CompatProblem(INTERNAL, message)), request_id)


def _signed_request(request: web.Request) -> SignedRequest:
    headers: dict[str, list[str]] = {}
    for name, value in request.headers.items():
        headers.setdefault(name.lower(), []).append(value)
    return SignedRequest(request.method, request.path, list(request.query.items()), headers)


def _nonces(context: WebContext) -> NonceCache:
    cache = context.extra.get(NONCES_KEY)
    if not isinstance(cache, NonceCache):
        cache = context.extra[NONCES_KEY] = NonceCache()
    return cache


async def _answer(request: web.Request, request_id: str) -> web.StreamResponse:
    context = context_of(request)
    settings = context.supervisor.config.compat.aliyun
    if not settings.enabled:  # not served: answered as Aliyun answers a key it does not know
        raise shapes.unknown_key()
    signed = _signed_request(request)
    auth = check_headers(signed, settings, time.time())
    body = await read_body(request, context.max_upload_bytes)  # the raw image: no base64 overhead
    check_signed(signed, auth, settings, body, _nonces(context), time.time())

    version = request.headers.get("x-acs-version", "")
    if version != VERSION:
        raise AliyunError(400, "InvalidVersion", f"Invalid parameter version: {version[:20]!r}; this API is {VERSION}.")
    name = request.headers.get("x-acs-action", "")
    action = ACTIONS.get(name)
    if action is None:
        raise AliyunError(
            404,
            "InvalidAction.NotFound",
            f"Specified api is not found, please check your url and method: {name[:60]!r} is not answered here; "
            f"ocrd answers {', '.join(ACTIONS)}.",
        )
    query = dict(request.query)
    if "Url" in query:
        raise AliyunError(
            400,
            "IllegalImageUrl",
            "The image URL is not fetched: ocrd reads no images from the network. "
            "Send the image bytes as the request body (the SDK's body=open(path, 'rb')) instead of Url.",
        )
    page = page_number(query["PageNo"], what="PageNo") if action.pages and "PageNo" in query else 1
    if name == "RecognizeAllText" and query.get("Type") not in ALL_TEXT_TYPES:
        raise CompatProblem(BAD_REQUEST, f"Type must be one of {', '.join(ALL_TEXT_TYPES)} for RecognizeAllText")
    recognised = await recognise(context, body, name=f"aliyun-{name}", pdf_page=page, fields=action.fields)
    data = action.shape(recognised.document, query | {"PageNo": str(page)})
    return success_response(data, request_id, data_as_string=action.data_as_string)
