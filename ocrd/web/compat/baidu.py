"""Baidu AI OCR requests answered by ocrd, so code using the ``baidu-aip`` SDK only changes its endpoint.

``/oauth/2.0/token`` hands out access tokens for the configured ``[compat.baidu]`` keys (see
``baidu_token``); ``POST /rest/2.0/ocr/v1/<service>?access_token=`` reads a base64 ``image`` or
``pdf_file`` (one page, ``pdf_file_num``) through the daemon's job queue and answers in Baidu's
shapes (``baidu_shapes``). Requests under these prefixes skip ocrd's own [web] token check: the
access token is their credential, checked here on every call.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

from aiohttp import web

from ocrd.config import BaiduCompat
from ocrd.web.compat import baidu_shapes as shapes
from ocrd.web.compat import baidu_token as tokens
from ocrd.web.compat.problems import (
    AUTH_EXPIRED,
    AUTH_MISSING,
    AUTH_SIGNATURE,
    AUTH_UNKNOWN_KEY,
    BAD_REQUEST,
    UNKNOWN_ACTION,
    URL_REFUSED,
    CompatProblem,
)
from ocrd.web.compat.recognise import body_limit, decode_base64, page_number, read_body, recognise
from ocrd.web.context import WebContext, context_of
from ocrd.web.replies import dumps

OWN_AUTH_PREFIXES = ("/oauth/2.0/", "/rest/2.0/")
TOKEN_PATH = "/oauth/2.0/token"
OCR_PREFIX = "/rest/2.0/ocr/v1/"
TOKEN_BODY_LIMIT = 64 * 1024  # a token request is a few short parameters
FALLBACK = "*"  # any method: the catch-all routes under the Baidu prefixes
LANGUAGES = {"CHN_ENG": "zh", "ENG": "en", "AUTO_DETECT": None}  # ocrd reads Chinese and English only

log = logging.getLogger("ocrd.web.compat.baidu")


@dataclass(frozen=True)
class Service:
    locations: bool  # the "含位置版" services answer a box per line
    invoice: bool = False


SERVICES = {
    "general_basic": Service(locations=False),
    "accurate_basic": Service(locations=False),
    "webimage": Service(locations=False),
    "general": Service(locations=True),
    "accurate": Service(locations=True),
    "vat_invoice": Service(locations=False, invoice=True),
}


def add_routes(app: web.Application) -> None:
    """The routes of /openapi.json, then catch-alls: other paths and methods get Baidu's error shapes, not ocrd's."""
    app.router.add_get(TOKEN_PATH, token_endpoint)
    app.router.add_post(TOKEN_PATH, token_endpoint)
    app.router.add_post(OCR_PREFIX + "{endpoint}", rest_endpoint)
    app.router.add_route(FALLBACK, "/oauth/2.0/{tail:.*}", token_endpoint)
    app.router.add_route(FALLBACK, "/rest/2.0/{tail:.*}", rest_endpoint)


# ---------------------------------------------------------------------------------------------
# /oauth/2.0/token


async def token_endpoint(request: web.Request) -> web.StreamResponse:
    try:
        return await _token(request)
    except CompatProblem as problem:
        return _oauth_error(400, "invalid_request", problem.message)
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.path)  # path only: no secrets
        return _oauth_error(500, "server_error", "internal error in the OCR service; the daemon log has the details")


async def _token(request: web.Request) -> web.StreamResponse:
    if request.path != TOKEN_PATH:
        return _oauth_error(404, "invalid_request", f"no such endpoint: {request.path}; use {TOKEN_PATH}")
    if request.method not in ("GET", "POST"):
        return _oauth_error(405, "invalid_request", f"use GET or POST on {TOKEN_PATH}")
    params = {key: value for key, value in request.query.items()}
    if request.method == "POST":
        params = _form(await read_body(request, TOKEN_BODY_LIMIT)) | params
    grant_type = params.get("grant_type", "")
    if grant_type != "client_credentials":
        if not grant_type:
            return _oauth_error(400, "invalid_request", "grant_type is missing; use grant_type=client_credentials")
        return _oauth_error(400, "unsupported_grant_type", "The authorization grant type is not supported")
    settings = _settings(context_of(request))
    id_ok, secret_ok = tokens.client_matches(
        settings.api_key or "", settings.secret_key or "", params.get("client_id", ""), params.get("client_secret", "")
    )
    # Baidu's own answers, word for word: clients match on "error".
    if not settings.enabled or not id_ok:
        return _oauth_error(401, "invalid_client", "unknown client id")
    if not secret_ok:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    issued = tokens.issue(settings.api_key or "", settings.secret_key or "", settings.token_ttl)
    session_key, session_secret = tokens.session_values()
    body = {
        "refresh_token": issued.refresh_token,
        "expires_in": issued.expires_in,
        # brain_all_scope is what the SDK looks for: without it, it signs requests another way (BCE auth).
        "scope": "public brain_all_scope brain_ocr_scope vis-ocr_ocr brain_ocr_general brain_ocr_general_basic "
        "brain_ocr_accurate brain_ocr_accurate_basic brain_ocr_webimage brain_ocr_vat_invoice",
        "session_key": session_key,
        "access_token": issued.access_token,
        "session_secret": session_secret,
    }
    return web.json_response(body, dumps=dumps, headers={"Cache-Control": "no-store"})


def _oauth_error(status: int, error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=status, dumps=dumps)


# ---------------------------------------------------------------------------------------------
# /rest/2.0/...


async def rest_endpoint(request: web.Request) -> web.StreamResponse:
    """Every answer in Baidu's shape with HTTP 200 (the SDK parses every body as JSON, whatever the status)."""
    try:
        body = await _rest(request)
    except CompatProblem as problem:
        body = shapes.for_problem(problem)
    except shapes.BaiduError as error:
        body = shapes.error_body(error.code, error.words, error.detail)
    except Exception:
        log.exception("internal error answering %s %s", request.method, request.path)  # path only: no token
        body = shapes.error_body(*shapes.INTERNAL_ERROR, "the daemon log has the details")
    return web.json_response(body, dumps=dumps)


async def _rest(request: web.Request) -> dict[str, Any]:
    context = context_of(request)
    name = request.path[len(OCR_PREFIX) :] if request.path.startswith(OCR_PREFIX) else None
    service = SERVICES.get(name or "")
    if name is None:
        raise shapes.BaiduError(shapes.UNSUPPORTED_METHOD, f"ocrd answers {OCR_PREFIX}{{{', '.join(SERVICES)}}}")
    # The token first: nobody without one gets to send ocrd a large body.
    _authorise(request, _settings(context))
    if service is None:
        raise CompatProblem(UNKNOWN_ACTION, f"ocrd does not answer {name!r}; it answers {', '.join(SERVICES)}")
    if request.method != "POST":
        raise CompatProblem(BAD_REQUEST, f"{request.method} is not allowed; POST the form")
    form = _form(await read_body(request, body_limit(context)))
    return await _ocr(context, service, form)


def _authorise(request: web.Request, settings: BaiduCompat) -> None:
    token = request.query.get("access_token", "")
    if not token:
        if request.headers.get("Authorization", "").lower().startswith("bce-auth-v1/"):
            # What the SDK falls back to when it got no token (wrong keys): ocrd takes access tokens only.
            raise CompatProblem(AUTH_SIGNATURE, "ocrd accepts access tokens only: get one from /oauth/2.0/token")
        raise CompatProblem(AUTH_MISSING, "access_token is missing from the URL")
    if not settings.enabled:
        raise CompatProblem(AUTH_UNKNOWN_KEY, "this server issues no Baidu access tokens")
    verdict = tokens.check(settings.api_key or "", settings.secret_key or "", token)
    if verdict == tokens.EXPIRED:
        raise CompatProblem(AUTH_EXPIRED, "get a new one from /oauth/2.0/token")
    if verdict != tokens.VALID:
        raise CompatProblem(AUTH_UNKNOWN_KEY, "not a token of this server; get one from /oauth/2.0/token")


async def _ocr(context: WebContext, service: Service, form: dict[str, str]) -> dict[str, Any]:
    limit = context.max_upload_bytes
    lang = _language(form.get("language_type"))
    # Baidu's order of precedence: image, then url, then pdf_file.
    if "image" in form:
        data = decode_base64(_unplussed(form["image"]), what="image", max_bytes=limit)
        recognised = await recognise(context, data, name="image", pdf_page=1, fields=_fields(service), lang=lang)
        pdf_file_size = None
    elif "url" in form:
        raise CompatProblem(URL_REFUSED, "ocrd fetches nothing from the network; send the image as base64 in image")
    elif "pdf_file" in form:
        data = decode_base64(_unplussed(form["pdf_file"]), what="pdf_file", max_bytes=limit)
        page = page_number(form.get("pdf_file_num") or "1", what="pdf_file_num")
        recognised = await recognise(
            context, data, name="pdf_file", pdf_page=page, require_pdf=True, fields=_fields(service), lang=lang
        )
        pdf_file_size = recognised.page_count
    else:
        raise shapes.BaiduError(shapes.NOT_ENOUGH_PARAM, "param image not exist (send image or pdf_file, base64)")
    if service.invoice:
        return shapes.vat_invoice(recognised.document, pdf_file_size=pdf_file_size)
    return shapes.general(
        recognised.document,
        locations=service.locations,
        vertexes=service.locations and _flag(form, "vertexes_location"),
        probability=_flag(form, "probability"),
        direction=_flag(form, "detect_direction"),
        paragraph=_flag(form, "paragraph"),
        pdf_file_size=pdf_file_size,
    )


def _fields(service: Service) -> str:
    return "auto" if service.invoice else "off"


def _language(raw: str | None) -> str | None:
    if raw is None or not raw.strip():
        return None
    key = raw.strip().upper()
    if key not in LANGUAGES:
        raise CompatProblem(
            BAD_REQUEST,
            f"language_type {raw.strip()[:20]!r}: ocrd reads Chinese and English (CHN_ENG, ENG, auto_detect)",
        )
    return LANGUAGES[key]


def _flag(form: dict[str, str], name: str) -> bool:
    return form.get(name, "").strip().lower() == "true"


def _unplussed(base64_text: str) -> str:
    """Base64 sent without URL-encoding has its "+" read as spaces by the form parser: put them back."""
    return base64_text.replace(" ", "+")


def _form(body: bytes) -> dict[str, str]:
    """A form-urlencoded body, first value of each key (blank values kept: an empty image is "empty")."""
    try:
        text = body.decode("ascii")
    except UnicodeDecodeError:
        text = body.decode("utf-8", "replace")  # a client that sent unencoded text: read it as well as it goes
    return {key: values[0] for key, values in parse_qs(text, keep_blank_values=True).items()}


def _settings(context: WebContext) -> BaiduCompat:
    return context.supervisor.config.compat.baidu
