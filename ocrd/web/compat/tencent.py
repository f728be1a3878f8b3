"""Tencent Cloud OCR (ocr 2018-11-19) answered by ocrd: the official SDK works by changing its endpoint.

Requests are ``POST /`` with a JSON body, the action in ``X-TC-Action`` and a TC3-HMAC-SHA256
signature (``tencent_sign``). Every answer is HTTP 200 ``{"Response": {..., "RequestId": ...}}``,
failures with ``Response.Error.Code`` as Tencent words them. The Content-Type is exactly
``application/json``: the SDK looks for ``Response.Error`` only then, and with ``; charset=utf-8``
it would take an error for an empty success.

Answered: GeneralBasicOCR, GeneralAccurateOCR, GeneralFastOCR, GeneralEfficientOCR (all four are
ocrd's one reading, in each action's response fields) and VatInvoiceOCR (ocrd's invoice fields
under Tencent's Chinese names). See docs/compat-tencent.md.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ocrd.errors import OcrdError
from ocrd.web.compat import tencent_sign
from ocrd.web.compat.problems import (
    AUTH_EXPIRED,
    AUTH_MISSING,
    AUTH_SIGNATURE,
    AUTH_UNKNOWN_KEY,
    BAD_REQUEST,
    BUSY,
    ENCRYPTED,
    IMAGE_DECODE,
    IMAGE_EMPTY,
    IMAGE_TOO_LARGE,
    INTERNAL,
    PDF_PAGE,
    TIMEOUT,
    UNKNOWN_ACTION,
    URL_REFUSED,
    CompatProblem,
    problem_for,
)
from ocrd.web.compat.recognise import Recognised, body_limit, decode_base64, page_number, read_body, recognise
from ocrd.web.compat.tencent_shapes import (
    GENERAL_LANGUAGE,
    page_angle,
    text_detections,
    vat_invoice_infos,
    vat_items,
)
from ocrd.web.context import WebContext, context_of

log = logging.getLogger("ocrd.web")

VERSION = "2018-11-19"
JSON = "application/json"  # exactly: the SDK reads Response.Error only for this Content-Type

# Each problem kind as Tencent's error code (its common codes, or the OCR actions' own).
CODES: dict[str, str] = {
    AUTH_MISSING: "AuthFailure.InvalidAuthorization",
    AUTH_UNKNOWN_KEY: "AuthFailure.SecretIdNotFound",
    AUTH_SIGNATURE: "AuthFailure.SignatureFailure",
    AUTH_EXPIRED: "AuthFailure.SignatureExpire",
    BAD_REQUEST: "InvalidParameter",
    UNKNOWN_ACTION: "InvalidAction",
    URL_REFUSED: "FailedOperation.DownLoadError",
    IMAGE_EMPTY: "FailedOperation.EmptyImageError",
    IMAGE_DECODE: "FailedOperation.ImageDecodeFailed",
    IMAGE_TOO_LARGE: "FailedOperation.ImageSizeTooLarge",
    PDF_PAGE: "InvalidParameterValue.InvalidParameterValueLimit",
    ENCRYPTED: "FailedOperation.PDFParseFailed",
    BUSY: "RequestLimitExceeded",
    TIMEOUT: "FailedOperation.EngineRecognizeTimeout",
    INTERNAL: "FailedOperation.UnKnowError",
}
REQUEST_TOO_LARGE = "RequestSizeLimitExceeded"  # the request body itself
FILE_TOO_LARGE = "LimitExceeded.TooLargeFileError"  # the decoded image or PDF
NO_TEXT = "FailedOperation.ImageNoText"
MISSING_PARAMETER = "MissingParameter"
BAD_VALUE = "InvalidParameterValue"
NO_SUCH_VERSION = "NoSuchVersion"
INTERNAL_ERROR = "InternalError"  # an unexpected failure in this module


class TencentError(Exception):
    """A failure with Tencent's code already chosen (where a problem kind alone would be too coarse)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class Action:
    fields: str  # ocrd's fields stage: "off" for plain text (cheaper), "auto" for invoices
    answer: Callable[[Recognised], dict[str, Any]]


def _general(keys: tuple[str, ...]) -> Callable[[Recognised], dict[str, Any]]:
    """A general-OCR answer with just the fields this action's response model has."""

    def answer(result: Recognised) -> dict[str, Any]:
        angle = page_angle(result.document)
        full = {
            "TextDetections": text_detections(result.document),
            "Language": GENERAL_LANGUAGE,
            "Angel": angle,  # the SDK's old misspelling, still read by older clients
            "Angle": angle,
            "PdfPageSize": result.page_count or 0,
        }
        return {key: full[key] for key in keys}

    return answer


def _vat_invoice(result: Recognised) -> dict[str, Any]:
    return {
        "VatInvoiceInfos": vat_invoice_infos(result.document),
        "Items": vat_items(result.document),
        "PdfPageSize": result.page_count or 0,
        "Angle": page_angle(result.document),
    }


ACTIONS: dict[str, Action] = {
    "GeneralBasicOCR": Action("off", _general(("TextDetections", "Language", "Angel", "Angle", "PdfPageSize"))),
    "GeneralAccurateOCR": Action("off", _general(("TextDetections", "Angel", "Angle"))),
    "GeneralFastOCR": Action("off", _general(("TextDetections", "Language", "Angel", "PdfPageSize"))),
    "GeneralEfficientOCR": Action("off", _general(("TextDetections", "Angel", "Angle"))),
    "VatInvoiceOCR": Action("auto", _vat_invoice),
}


def reply(response: dict[str, Any], request_id: str) -> web.Response:
    body = json.dumps({"Response": response | {"RequestId": request_id}}, ensure_ascii=False)
    # Built by hand: json_response would add "; charset=utf-8" and the SDK would miss every error.
    return web.Response(body=body.encode("utf-8"), headers={"Content-Type": JSON})


def error_reply(code: str, message: str, request_id: str) -> web.Response:
    return reply({"Error": {"Code": code, "Message": message}}, request_id)


async def handle(request: web.Request) -> web.StreamResponse:
    request_id = str(uuid.uuid4())
    try:
        return reply(await _answer(request), request_id)
    except TencentError as error:
        return error_reply(error.code, error.message, request_id)
    except CompatProblem as problem:
        return error_reply(CODES[problem.kind], problem.message, request_id)
    except OcrdError as error:  # e.g. the queue full before recognise took the upload
        problem = problem_for(error)
        return error_reply(CODES[problem.kind], problem.message, request_id)
    except Exception:
        # Logged without the request: its headers carry the signature, its body the document.
        log.exception("Tencent-compatible request %s failed", request_id)
        return error_reply(
            INTERNAL_ERROR, f"internal error; the server log has details (RequestId {request_id})", request_id
        )


async def _answer(request: web.Request) -> dict[str, Any]:
    context = context_of(request)
    body = await _authenticated_body(request, context)
    action = _action(request)
    params = _params(body)
    data = _image(params, context.max_upload_bytes)
    page = _pdf_page(params)
    result = await recognise(context, data, name="ImageBase64", pdf_page=page, fields=action.fields)
    if not result.document.lines:
        raise TencentError(NO_TEXT, "no text was found in the image")
    return action.answer(result)


async def _authenticated_body(request: web.Request, context: WebContext) -> bytes:
    """The body, once the request is proven signed with the configured key (header checks first: no body needed)."""
    settings = context.supervisor.config.compat.tencent
    if not settings.enabled or settings.secret_id is None or settings.secret_key is None:
        raise CompatProblem(
            AUTH_UNKNOWN_KEY,
            "this server does not answer Tencent Cloud requests: [compat.tencent] secret_id and secret_key are not set",
        )
    auth = tencent_sign.parse_authorization(request.headers.get("Authorization"))
    tencent_sign.check_key(auth, settings.secret_id)
    timestamp = tencent_sign.check_timestamp(
        request.headers.get("X-TC-Timestamp"), now=time.time(), max_skew=settings.max_skew
    )
    try:
        body = await read_body(request, body_limit(context))
    except CompatProblem as problem:
        if problem.kind == IMAGE_TOO_LARGE:
            raise TencentError(REQUEST_TOO_LARGE, problem.message) from None
        raise
    path, _, query = request.raw_path.partition("?")
    tencent_sign.verify(
        auth,
        secret_key=settings.secret_key,
        timestamp=timestamp,
        method=request.method,
        path=path,
        query=query,
        headers=request.headers,
        body=body,
    )
    return body


def _action(request: web.Request) -> Action:
    version = request.headers.get("X-TC-Version")
    if version is not None and version != VERSION:
        raise TencentError(NO_SUCH_VERSION, f"API version {version[:40]!r} does not exist; ocrd answers {VERSION}")
    name = request.headers.get("X-TC-Action", "")
    action = ACTIONS.get(name)
    if action is None:
        raise CompatProblem(
            UNKNOWN_ACTION,
            f"the action {name[:60]!r} is not answered by ocrd; supported: {', '.join(ACTIONS)}",
        )
    return action


def _params(body: bytes) -> dict[str, Any]:
    try:
        params = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, ValueError):
        raise CompatProblem(BAD_REQUEST, "the request body is not valid JSON") from None
    if not isinstance(params, dict):
        raise CompatProblem(BAD_REQUEST, "the request body must be a JSON object")
    return params


def _image(params: dict[str, Any], max_bytes: int) -> bytes:
    encoded = params.get("ImageBase64")
    if encoded in (None, ""):
        # Tencent prefers ImageUrl when both are sent; ocrd cannot fetch it, so it uses ImageBase64 when present.
        if params.get("ImageUrl") not in (None, ""):
            raise CompatProblem(
                URL_REFUSED, "ocrd fetches nothing from the network: send the file itself as ImageBase64, not ImageUrl"
            )
        raise TencentError(MISSING_PARAMETER, "ImageBase64 is required (the image or PDF, base64-encoded)")
    try:
        return decode_base64(encoded, what="ImageBase64", max_bytes=max_bytes)
    except CompatProblem as problem:
        if problem.kind == IMAGE_TOO_LARGE:
            raise TencentError(FILE_TOO_LARGE, problem.message) from None
        raise


def _pdf_page(params: dict[str, Any]) -> int:
    """The PDF page to read (1 by default). Also honoured without IsPdf: reading page 1 beats refusing a PDF."""
    is_pdf = params.get("IsPdf")
    if is_pdf is not None and not isinstance(is_pdf, bool):
        raise TencentError(BAD_VALUE, "IsPdf must be true or false")
    raw = params.get("PdfPageNumber")
    if raw is None:
        return 1
    try:
        return page_number(raw, what="PdfPageNumber")
    except CompatProblem as problem:
        raise TencentError(BAD_VALUE, problem.message) from None
