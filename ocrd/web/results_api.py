"""The results API: find finished documents, open one, see its pages, correct its lines.

GET /api/results?q=&inbox=&needs_review=&outcome=&page=&per_page=   newest first, a page of them
GET /api/results/{id}                                                one result, corrections applied
GET /api/results/{id}/pages/{n}/image                                page n (0-based) as a JPEG
PUT /api/results/{id}/pages/{page}/lines/{line}   {"text": "..."}   correct one line

The index is ocrd.results (SQLite, in threads); corrections record who made them, by token name.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from aiohttp import web

from ocrd.daemon.recording import UPLOAD
from ocrd.errors import OcrdError
from ocrd.results import (
    CorrectionRefusedError,
    NotCorrectableError,
    Query,
    ResultNotFoundError,
    ResultsIndex,
)
from ocrd.results.records import OUTCOMES
from ocrd.web.auth import who
from ocrd.web.context import WebContext, context_of
from ocrd.web.previews import render_preview
from ocrd.web.replies import BAD_REQUEST, NOT_FOUND, ApiFailure, Failure, failure_for, ok

NOT_CORRECTABLE = Failure(409, 40901)  # a failed document: it has no lines
MAX_PER_PAGE = 200
MAX_QUERY = 200  # characters of search text
BOOLEANS = {"true": True, "false": False}


def _index(context: WebContext) -> ResultsIndex:
    index = getattr(context.supervisor, "results", None)
    if index is None:
        raise ApiFailure(NOT_FOUND, "the results index is off ([results] enabled = false) or could not be opened")
    return index


async def _call(function: Any, *args: Any) -> Any:
    """An index call in a thread, its errors as the API's answers."""
    try:
        return await asyncio.to_thread(function, *args)
    except ResultNotFoundError as error:
        raise ApiFailure(NOT_FOUND, error.message) from None
    except NotCorrectableError as error:
        raise ApiFailure(NOT_CORRECTABLE, error.message) from None
    except CorrectionRefusedError as error:
        raise ApiFailure(BAD_REQUEST, error.message) from None


def _number(raw: str, what: str, *, minimum: int = 0, maximum: int | None = None) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = None
    if value is None or value < minimum or (maximum is not None and value > maximum):
        bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
        raise ApiFailure(BAD_REQUEST, f"{what} must be a whole number {bound} (got {raw[:20]!r})")
    return value


def parse_query(params: Any) -> Query:
    q = params.get("q") or None
    if q is not None and len(q) > MAX_QUERY:
        raise ApiFailure(BAD_REQUEST, f"q may have at most {MAX_QUERY} characters")
    review = params.get("needs_review")
    if review is not None and review not in BOOLEANS:
        raise ApiFailure(BAD_REQUEST, f"needs_review must be true or false (got {review[:20]!r})")
    outcome = params.get("outcome")
    if outcome is not None and outcome not in OUTCOMES:
        raise ApiFailure(BAD_REQUEST, f"outcome must be one of {', '.join(OUTCOMES)} (got {outcome[:20]!r})")
    return Query(
        q=q,
        inbox=params.get("inbox") or None,
        needs_review=None if review is None else BOOLEANS[review],
        outcome=outcome,
        page=_number(params.get("page", "1"), "page", minimum=1),
        per_page=_number(params.get("per_page", "50"), "per_page", minimum=1, maximum=MAX_PER_PAGE),
    )


async def list_results(request: web.Request) -> web.StreamResponse:
    index = _index(context_of(request))
    return ok(await _call(index.search, parse_query(request.query)))


async def get_result(request: web.Request) -> web.StreamResponse:
    index = _index(context_of(request))
    return ok(await _call(index.get, request.match_info["result_id"]))


async def page_image(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    index = _index(context)
    number = _number(request.match_info["page"], "the page number (0 is the first page)")
    row = await _call(index.row, request.match_info["result_id"])
    path, result = await _call(index.original, row["id"])
    pages = len(result.get("pages", []))
    if number >= pages:
        raise ApiFailure(NOT_FOUND, f"the document has {pages} page(s), numbered from 0")
    async with context.extra["preview_slots"]:
        try:
            data = await asyncio.to_thread(render_preview, path, number, context.limits, row["source"])
        except OcrdError as error:
            raise ApiFailure(failure_for(error), error.message) from None
    return web.Response(body=data, content_type="image/jpeg", headers={"Cache-Control": "private, max-age=300"})


async def correct_line(request: web.Request) -> web.StreamResponse:
    context = context_of(request)
    index = _index(context)
    page = _number(request.match_info["page"], "the page number (0 is the first page)")
    line = _number(request.match_info["line"], "the line number (0 is the first line)")
    text = await _text_of(request)
    outcome = await _call(index.correct, request.match_info["result_id"], page, line, text, who(request))
    if outcome.distance:
        context.supervisor.metrics.corrected_characters.labels(outcome.inbox or UPLOAD).inc(outcome.distance)
    return ok({"line": outcome.line, "version": outcome.version, "correction": outcome.correction})


async def _text_of(request: web.Request) -> object:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ApiFailure(BAD_REQUEST, 'send JSON: {"text": "the corrected line"}') from None
    if not isinstance(body, dict) or "text" not in body:
        raise ApiFailure(BAD_REQUEST, 'send JSON with the corrected line as "text": {"text": "..."}')
    return body["text"]
