"""Umi-OCR's status codes, and which one each kind of ocrd problem is answered with.

Umi-OCR answers every request with HTTP 200 and a ``code``: 100 text found, 101 no text, anything
else a failure with the reason as the ``data`` string. The codes below are the ones Umi-OCR
itself uses (8xx for the request, 3xx for the base64 image, as its PaddleOCR-json engine reports
them, 9xx for the recogniser); 302, 903 and 904 are ocrd's own, for limits and load Umi-OCR has
no code for. Clients branch on 100/101 versus the rest, so new failure codes do not break them.
"""

from __future__ import annotations

from ocrd.web.compat.problems import (
    BAD_REQUEST,
    ENCRYPTED,
    INTERNAL,
    PDF_PAGE,
    CompatProblem,
)
from ocrd.web.compat.problems import BUSY as BUSY_KIND
from ocrd.web.compat.problems import IMAGE_DECODE as IMAGE_DECODE_KIND
from ocrd.web.compat.problems import IMAGE_EMPTY as IMAGE_EMPTY_KIND
from ocrd.web.compat.problems import IMAGE_TOO_LARGE as IMAGE_TOO_LARGE_KIND
from ocrd.web.compat.problems import TIMEOUT as TIMEOUT_KIND

OK = 100
NO_TEXT = 101
BASE64_DECODE = 300  # the base64 text cannot be decoded (or is empty)
IMAGE_DECODE = 301  # decoded, but the bytes are not an image ocrd reads
IMAGE_TOO_LARGE = 302  # ocrd's: beyond [web] max_upload_bytes or [engine.limits]
NOT_JSON = 800
EMPTY_REQUEST = 801
NO_BASE64 = 802
OPTIONS_NOT_DICT = 803
OPTIONS_INVALID = 804
RECOGNISER_FAILED = 902  # the worker reading the image failed (Umi-OCR: its engine process crashed)
BUSY = 903  # ocrd's: the queue is full or the daemon is stopping; try again shortly
TIMEOUT = 904  # ocrd's: the image took longer than the job timeout


class UmiError(Exception):
    """A failure answered as ``{"code": code, "data": message}``."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


# Problems of reading the image (recognise); the base64 text's own problems are sorted in umi.py.
_BY_KIND = {
    BAD_REQUEST: OPTIONS_INVALID,
    IMAGE_EMPTY_KIND: IMAGE_DECODE,
    IMAGE_DECODE_KIND: IMAGE_DECODE,
    IMAGE_TOO_LARGE_KIND: IMAGE_TOO_LARGE,
    PDF_PAGE: IMAGE_DECODE,
    ENCRYPTED: IMAGE_DECODE,
    BUSY_KIND: BUSY,
    TIMEOUT_KIND: TIMEOUT,
    INTERNAL: RECOGNISER_FAILED,
}


def error_for(problem: CompatProblem) -> UmiError:
    return UmiError(_BY_KIND.get(problem.kind, RECOGNISER_FAILED), problem.message)
