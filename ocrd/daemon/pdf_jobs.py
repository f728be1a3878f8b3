"""The searchable PDF of a job: planned by the supervisor, written by a worker, placed with the sidecars.

The worker writes it because it has the file and the Document at hand, and the PDF writer is
CPU work that would slow the supervisor's loop (and the web app and watchdog sharing it). The
supervisor only chooses where: a temporary name (``durable.temp_path``) in the folder the
result goes to, so that linking it into place is a rename on one file system, and carrying the
supervisor's owner, so that the crash cleanup at the next start removes a half-written one like
any other temporary file. The supervisor then links it together with the JSON and TXT
(``durable.place_group``): all or nothing, one number for the group, the JSON last.

Importing this module costs nothing: the writer (PyMuPDF) is loaded only inside the worker.
"""

from __future__ import annotations

import contextlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrd.config import InboxSettings
from ocrd.daemon.errors import describe_error
from ocrd.daemon.problems import reason  # the words and advice the other sidecars' failures get
from ocrd.durable import temp_path
from ocrd.errors import OcrdError, TransientError
from ocrd.names import result_name
from ocrd.outputs_choice import PDF
from ocrd.result import Document

if TYPE_CHECKING:
    from ocrd.daemon.outputs import Targets


@dataclass(frozen=True)
class PdfRequest:
    """Sent with a job: write the searchable PDF of this file to ``temp`` (created or truncated)."""

    temp: str
    pdfa: bool = False

    @property
    def folder(self) -> Path:
        return Path(self.temp).parent


def plan_for_inbox(settings: InboxSettings, rel: str) -> PdfRequest | None:
    """Where a worker writes the PDF of inbox file ``rel``; None when the inbox wants none (no file I/O)."""
    if PDF not in settings.outputs:
        return None
    folder, name = os.path.split(rel)
    temp = temp_path(Path(settings.outbox, folder), result_name(name, ".pdf"))
    return PdfRequest(str(temp), pdfa=settings.pdfa)


def plan_in(folder: Path, name: str, *, pdfa: bool = False) -> PdfRequest:
    """A PDF written into ``folder`` (a web job's own folder) for an upload called ``name``."""
    return PdfRequest(str(temp_path(folder, result_name(name, ".pdf"))), pdfa=pdfa)


def prepare_folder(targets: Targets, request: PdfRequest) -> None:
    """Before the job goes to a worker: the outbox is on its file system, the result's folder exists.

    The supervisor does this, not the worker, so that the mount guard decides where the PDF may go.
    """
    targets.check(targets.inbox.outbox)
    request.folder.mkdir(parents=True, exist_ok=True)


def discard(request: PdfRequest | None) -> None:
    """Remove the temporary PDF (after it was linked into place, or when the job ends without it)."""
    if request is not None:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(request.temp)


def lost(request: PdfRequest | None, record: Any) -> bool:
    """The worker wrote the PDF but its temporary file is gone before the group was placed.

    (Removed by hand, or its folder was recreated.) The worker then writes it again from the
    Document; without this check the link would fail the same way at every retry.
    """
    if request is None or os.path.exists(request.temp):
        return False
    from ocrd.daemon.outputs import outputs_complete

    return not outputs_complete(record)


# --- in the worker ---------------------------------------------------------------------------------


def check_input(request: PdfRequest, path: str) -> None:
    """Before reading: refuse an input that cannot get a text layer without harm (a signed PDF)."""
    from ocrd.outputs.pdf import check_pdf_input

    check_pdf_input(Path(path), pdfa=request.pdfa)


def write(request: PdfRequest, path: str, document: Document, shown_as: str) -> dict[str, Any] | None:
    """Write the PDF (the writer syncs it); returns None, or the error as the job reports it (the temp removed).

    Its title is the writer's choice: the name the Document was read under (``document.source``).

    A write that fails with an OSError (disk full, folder gone) is not the file's fault: it comes
    back retryable, and the document waits like one whose sidecars could not be written.
    """
    from ocrd.outputs.pdf import write_searchable_pdf

    target = Path(request.temp)
    try:
        discard(request)  # what a worker that died while writing it left
        write_searchable_pdf(Path(path), document, target, pdfa=request.pdfa)
        return None
    except MemoryError:
        discard(request)
        raise  # reported like a page too large to read
    except OSError as exc:
        discard(request)
        if exc.filename is None or str(exc.filename) == request.temp:
            exc.filename = str(target.parent)  # name the folder, not our hidden temporary file
        return describe_error(TransientError(reason(exc, "write the searchable PDF in")))
    except Exception as exc:
        discard(request)
        system = _system_error(exc)
        if system is not None:
            return describe_error(TransientError(f"cannot write the searchable PDF in {target.parent}: {system}"))
        info = describe_error(exc)
        if not isinstance(exc, OcrdError):
            info["message"] = f"unexpected {type(exc).__name__} while writing the searchable PDF of {shown_as}: {exc}"
        return info


def _system_error(exc: BaseException) -> str | None:
    """MuPDF's own words when the error, or what caused it, is a system error (a full disk, an I/O error).

    MuPDF reports a failed write(2) as FzErrorSystem, not OSError, and the writer may wrap it in an
    input error; a full disk must still wait and retry, not fail the document.
    """
    seen: BaseException | None = exc
    for _ in range(8):  # a cause chain is short; a cycle must not hang the worker
        if seen is None:
            return None
        if type(seen).__name__ == "FzErrorSystem":
            return str(seen).split(": ", 1)[-1]
        seen = seen.__cause__ or seen.__context__
    return None
