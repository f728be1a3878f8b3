"""One unit of work (a claimed inbox file or a web upload) and how its problems are put in words."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

from ocrd.daemon.claims import Claim
from ocrd.daemon.errors import error_info
from ocrd.daemon.inbox import InboxRuntime
from ocrd.daemon.outputs import iso
from ocrd.daemon.pdf_jobs import PdfRequest
from ocrd.errors import OcrdError
from ocrd.result import Document

UPLOAD = "upload"  # inbox label of web uploads in metrics and status


@dataclass(eq=False)
class Job:
    id: int
    source: str  # the name results carry (relative path in the inbox, or the upload's name)
    path: str  # the file the worker reads
    overrides: dict[str, Any]
    inbox: InboxRuntime | None = None  # None for uploads
    claim: Claim | None = None
    future: asyncio.Future[Document] | None = None  # uploads wait on this
    created: float = field(default_factory=time.monotonic)
    dispatched: float = 0.0
    crashes: int = 0
    document: Document | None = None
    worker_seconds: float = 0.0
    retry_at: float = 0.0
    retry_action: str = ""  # "read", "write", "fail" or "verify"
    retry_reason: str = ""
    backoff: float = 1.0
    error: dict[str, Any] | None = None
    pdf: PdfRequest | None = None  # the searchable PDF a worker writes for it, when one is wanted
    pdf_written: bool = False  # the worker wrote pdf.temp (reading again is not needed to place it)
    from_dedupe: bool = False  # the Document is an earlier identical file's
    report: dict[str, Any] | None = None  # its entry among the recent results (status page), once made

    @property
    def reuse(self) -> Document | None:
        """What the worker need not read again: the Document, when only the PDF is still missing."""
        return self.document if self.pdf is not None else None

    @property
    def inbox_name(self) -> str:
        return self.inbox.name if self.inbox is not None else UPLOAD


def now_iso() -> str:
    return iso(time.time())


def info_of(error: OcrdError) -> dict[str, Any]:
    """The error as it is stored in claim records and error files."""
    return error_info(type(error).__name__, error.kind, error.message, retryable=error.retryable)
