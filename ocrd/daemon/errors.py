"""Errors the daemon adds to ocrd.errors, and the advice written into failed/<name>.error.json."""

from __future__ import annotations

from typing import Any

from ocrd.errors import InternalError, LimitExceededError, OcrdError, TransientError
from ocrd.formats import SUPPORTED_FOR_HUMANS


class QueueFullError(TransientError):
    """Too many uploads are already waiting for a worker: try again shortly."""

    kind = "queue-full"


class DaemonStoppingError(TransientError):
    """The daemon is shutting down and takes no new work."""

    kind = "stopping"


class ClaimLostError(TransientError):
    """Another daemon took over this claim (we looked dead to it); it owns the file now."""

    kind = "claim-lost"


class JobTimeoutError(LimitExceededError):
    """A worker spent longer than [daemon] job_timeout on one file and was stopped."""

    kind = "timeout"


class WorkerCrashedError(InternalError):
    """The worker process died (signal, out of memory) while reading the file, on every attempt."""

    kind = "crash"


class InterruptedJobError(InternalError):
    """The daemon itself stopped (crash, kill -9, power loss) while reading the file, too often."""

    kind = "interrupted"


_ADVICE = {
    "empty": "The file is empty (0 bytes). Check that the scanner finished writing it, then drop it again.",
    "corrupt": (
        "The file is damaged or is not really the format its name says. Open it on a desktop to check, "
        "re-scan or re-export it, and drop the new copy into the inbox."
    ),
    "unsupported": f"Save the document as one of {SUPPORTED_FOR_HUMANS} and drop it into the inbox again.",
    "unreadable": "Give the user ocrd runs as read permission (e.g. chmod g+r) and drop it again.",
    "encrypted": "Remove the password protection (save or print it as a new PDF) and drop it again.",
    "limit": (
        "The file exceeds a configured limit. Split it into smaller files, or raise the limit in "
        "[engine.limits] of the configuration."
    ),
    "timeout": (
        "Reading the file took longer than [daemon] job_timeout. Split it into smaller files, or raise "
        "job_timeout if such files are expected."
    ),
    "crash": (
        "The OCR worker process died while reading this file on every attempt (often: not enough memory "
        "for a very large page, or damage that crashes the decoder). Check the daemon log and memory "
        "limits, try splitting or re-exporting the file, and report it if it keeps happening."
    ),
    "interrupted": (
        "The daemon stopped (crash, kill, power loss) while reading this file on every attempt, so the "
        "file itself may be the cause. Check the system log around the times listed in 'history', then "
        "drop the file into the inbox again."
    ),
    "signed": (
        "The PDF is digitally signed, and a searchable copy would break its signature, so this inbox (which "
        'writes searchable PDFs) wrote nothing. Drop it into an inbox without "pdf" in its outputs to get its '
        "JSON and text, or ask the sender for an unsigned copy."
    ),
    "protected": (
        "The PDF is encrypted, and a searchable copy would drop its protection, so this inbox (which writes "
        'searchable PDFs) wrote nothing. Drop it into an inbox without "pdf" in its outputs to get its JSON and '
        "text, or remove the protection first."
    ),
    "pdfa-input": (
        "This inbox writes its searchable PDFs as PDF/A, which is made from images only. Set pdfa = false for "
        "the inbox that takes PDFs, or convert the PDF to PDF/A first and drop that."
    ),
    "model": "The OCR models could not be used; run `ocrd models` (it verifies every model file) and check the daemon log.",
    "internal": (
        "This is a bug in ocrd. Please report it with the message above (and the file, if you can share "
        "it); dropping the file again may work after an upgrade."
    ),
}


def describe_error(error: BaseException) -> dict[str, Any]:
    """The error part of an error file / job failure: type, kind, message and what to do."""
    if isinstance(error, OcrdError):
        kind = error.kind
        message = error.message
        retryable = error.retryable
    else:
        kind = "internal"
        message = f"unexpected {type(error).__name__}: {error}"
        retryable = False
    return error_info(type(error).__name__, kind, message, retryable=retryable)


def error_info(type_name: str, kind: str, message: str, *, retryable: bool = False) -> dict[str, Any]:
    return {
        "type": type_name,
        "kind": kind,
        "message": message,
        "retryable": retryable,
        "what_to_do": _ADVICE.get(kind, _ADVICE["internal"] if kind == "error" else "See the message above."),
    }


# Rebuild an exception of the right class from a worker's error report (they cross a process boundary).
def error_from_info(info: dict[str, Any]) -> OcrdError:
    import ocrd.errors as base

    cls = getattr(base, info.get("type", ""), None) or globals().get(info.get("type", ""))
    if not (isinstance(cls, type) and issubclass(cls, OcrdError)):
        cls = TransientError if info.get("retryable") else InternalError
    return cls(info.get("message", "unknown error"))
