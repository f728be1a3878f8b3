"""The API's answer shape, and which HTTP status and code each failure gets.

Every JSON answer of the API is ``{"code": 0, "msg": "success", "data": ...}``; failures keep
the shape with a non-zero ``code`` and a ``msg`` a developer can act on. The code is the HTTP
status times 100 plus a detail, so a client can branch on it without parsing messages (and the
upload page can show the message in the reader's language).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from ocrd.daemon.errors import DaemonStoppingError, JobTimeoutError, QueueFullError, WorkerCrashedError
from ocrd.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedDocumentError,
    InputError,
    LimitExceededError,
    ModelError,
    OcrdError,
    PdfOutputRefusedError,
    TransientError,
    UnsupportedFormatError,
    UsageError,
)


@dataclass(frozen=True)
class Failure:
    """One kind of failure as the API reports it."""

    status: int
    code: int
    retry_after: int | None = None  # seconds, sent as Retry-After


BAD_REQUEST = Failure(400, 40001)
EMPTY_FILE = Failure(400, 40002)
CORRUPT_FILE = Failure(400, 40003)
ENCRYPTED = Failure(400, 40004)
UNREADABLE = Failure(400, 40005)  # an input error of no more specific kind
PDF_REFUSED = Failure(400, 40006)  # no searchable PDF may be made of it (signed, encrypted, PDF/A of a PDF)
UNAUTHORIZED = Failure(401, 40100)
NOT_FOUND = Failure(404, 40400)
METHOD_NOT_ALLOWED = Failure(405, 40500)
NOT_FINISHED = Failure(409, 40900)
TOO_LARGE = Failure(413, 41300)
OVER_LIMIT = Failure(413, 41301)
TOO_SLOW = Failure(413, 41302)
UNSUPPORTED = Failure(415, 41500)
INTERNAL = Failure(500, 50000)
WORKER_CRASHED = Failure(500, 50001)
MODELS_BROKEN = Failure(500, 50002)
QUEUE_FULL = Failure(503, 50300, retry_after=5)
NOT_ACCEPTING = Failure(503, 50301, retry_after=10)
TEMPORARY = Failure(503, 50302, retry_after=10)

# Most specific class first: the first isinstance match wins.
_BY_ERROR: tuple[tuple[type[OcrdError], Failure], ...] = (
    (QueueFullError, QUEUE_FULL),
    (DaemonStoppingError, NOT_ACCEPTING),
    (TransientError, TEMPORARY),
    (JobTimeoutError, TOO_SLOW),
    (LimitExceededError, OVER_LIMIT),
    (UnsupportedFormatError, UNSUPPORTED),
    (EmptyFileError, EMPTY_FILE),
    (CorruptFileError, CORRUPT_FILE),
    (EncryptedDocumentError, ENCRYPTED),
    (PdfOutputRefusedError, PDF_REFUSED),
    (InputError, UNREADABLE),
    (UsageError, BAD_REQUEST),
    (WorkerCrashedError, WORKER_CRASHED),
    (ModelError, MODELS_BROKEN),
)


def failure_for(error: OcrdError) -> Failure:
    for cls, failure in _BY_ERROR:
        if isinstance(error, cls):
            return failure
    return INTERNAL


def message_for(error: OcrdError) -> str:
    """The error's own words; the file name is the upload's, which the client already knows."""
    return error.message


def envelope(data: Any = None, *, code: int = 0, msg: str = "success") -> dict[str, Any]:
    return {"code": code, "msg": msg, "data": data}


def dumps(payload: Any) -> str:
    return json.dumps(payload, ensure_ascii=False)


def ok(data: Any, *, status: int = 200, msg: str = "success", headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(envelope(data, msg=msg), status=status, dumps=dumps, headers=headers)


def fail(failure: Failure, msg: str) -> web.Response:
    headers = {"Retry-After": str(failure.retry_after)} if failure.retry_after else None
    if failure is UNAUTHORIZED:
        headers = {"WWW-Authenticate": 'Bearer realm="ocrd"'}
    return web.json_response(
        envelope(None, code=failure.code, msg=msg), status=failure.status, dumps=dumps, headers=headers
    )


def fail_with(error: OcrdError) -> web.Response:
    return fail(failure_for(error), message_for(error))


class ApiFailure(Exception):
    """Raised inside handlers to answer with a failure; the error middleware turns it into a response."""

    def __init__(self, failure: Failure, msg: str) -> None:
        super().__init__(msg)
        self.failure = failure
        self.msg = msg
