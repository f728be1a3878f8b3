"""What can go wrong in a hosted-API request, in words no vendor owns.

Each vendor module turns a ``CompatProblem`` into its own error code and shape (Tencent's
``Response.Error``, Aliyun's ``Code``/``Message`` with a 4xx status, Baidu's ``error_code``,
Umi-OCR's ``code``). ocrd's own errors are sorted into these kinds once, here, so the vendors
agree on what "image too large" or "try again later" means.
"""

from __future__ import annotations

from ocrd.daemon.errors import DaemonStoppingError, JobTimeoutError, QueueFullError, WorkerCrashedError
from ocrd.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedDocumentError,
    InputError,
    LimitExceededError,
    OcrdError,
    TransientError,
    UnsupportedFormatError,
    UsageError,
)

# The kinds of problem, as vendor modules branch on them.
AUTH_MISSING = "auth_missing"  # no credentials in the request
AUTH_UNKNOWN_KEY = "auth_unknown_key"  # a key id / API key this server does not know
AUTH_SIGNATURE = "auth_signature"  # the signature or secret does not match
AUTH_EXPIRED = "auth_expired"  # the timestamp is too far from this server's clock, or the token expired
BAD_REQUEST = "bad_request"  # a parameter is missing or malformed
UNKNOWN_ACTION = "unknown_action"  # an action / endpoint ocrd does not answer
URL_REFUSED = "url_refused"  # an image by URL: ocrd fetches nothing from the network
IMAGE_EMPTY = "image_empty"
IMAGE_DECODE = "image_decode"  # not base64, not an image, or a damaged file
IMAGE_TOO_LARGE = "image_too_large"  # bytes, pixels or pages beyond the limits
PDF_PAGE = "pdf_page"  # the PDF page asked for does not exist, or a page number for a non-PDF
ENCRYPTED = "encrypted"
BUSY = "busy"  # queue full or the daemon is stopping: try again shortly
TIMEOUT = "timeout"  # the document took longer than the job timeout
INTERNAL = "internal"

KINDS = (
    AUTH_MISSING,
    AUTH_UNKNOWN_KEY,
    AUTH_SIGNATURE,
    AUTH_EXPIRED,
    BAD_REQUEST,
    UNKNOWN_ACTION,
    URL_REFUSED,
    IMAGE_EMPTY,
    IMAGE_DECODE,
    IMAGE_TOO_LARGE,
    PDF_PAGE,
    ENCRYPTED,
    BUSY,
    TIMEOUT,
    INTERNAL,
)


class CompatProblem(Exception):
    """Raised inside a vendor handler; the vendor's own answer is built from ``kind`` and ``message``."""

    def __init__(self, kind: str, message: str) -> None:
        assert kind in KINDS, kind
        super().__init__(message)
        self.kind = kind
        self.message = message


# Most specific class first: the first isinstance match wins.
_BY_ERROR: tuple[tuple[type[OcrdError], str], ...] = (
    (QueueFullError, BUSY),
    (DaemonStoppingError, BUSY),
    (TransientError, BUSY),
    (JobTimeoutError, TIMEOUT),
    (LimitExceededError, IMAGE_TOO_LARGE),
    (EmptyFileError, IMAGE_EMPTY),
    (EncryptedDocumentError, ENCRYPTED),
    (UnsupportedFormatError, IMAGE_DECODE),
    (CorruptFileError, IMAGE_DECODE),
    (InputError, IMAGE_DECODE),
    (UsageError, BAD_REQUEST),
    (WorkerCrashedError, INTERNAL),
)


def problem_for(error: OcrdError, message: str | None = None) -> CompatProblem:
    """ocrd's error as a vendor-neutral problem; ``message`` replaces the error's words (e.g. scrubbed of paths)."""
    for cls, kind in _BY_ERROR:
        if isinstance(error, cls):
            return CompatProblem(kind, message or error.message)
    return CompatProblem(INTERNAL, message or error.message)
