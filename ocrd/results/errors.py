"""What can go wrong asking the results index; the web app maps each to its HTTP answer."""

from __future__ import annotations

from ocrd.errors import UsageError


class ResultNotFoundError(UsageError):
    """No result, page or line with this id or number (expired, or never there)."""

    kind = "not-found"


class NotCorrectableError(UsageError):
    """The result has no lines to correct: the document could not be read."""

    kind = "not-correctable"


class CorrectionRefusedError(UsageError):
    """The new text cannot be stored: not text, too long, or with control characters."""

    kind = "correction-refused"
