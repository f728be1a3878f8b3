"""Jobs of the job API (and of the upload page): one folder each, kept until they expire.

A job is an upload waiting for, or done with, the supervisor's worker pool. Its folder holds
the uploaded file under a fixed name (page previews are rendered from it) and, when the upload
asked for one, the searchable PDF the worker wrote (``result.pdf``); the result stays in memory. Finished jobs expire ``ttl`` seconds after they finished; the
store also caps how many jobs and how many stored bytes it keeps, so it stays bounded however
many uploads arrive.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from ocrd.errors import InternalError, OcrdError
from ocrd.outputs_choice import PDF
from ocrd.result import Document
from ocrd.web.uploads import Upload

log = logging.getLogger("ocrd.web")

PENDING, DONE, FAILED = "pending", "done", "failed"
MAX_JOBS = 1000  # finished jobs kept at most; the oldest go first
STORE_BUDGET = 2 * 1024**3  # bytes of uploads and PDFs kept; beyond, the oldest jobs' files are dropped
RESULT_PDF = "result.pdf"  # a job's searchable PDF inside its folder
LEFTOVER_AGE = 24 * 3600.0  # folders of earlier processes older than this are removed at start

Submit = Callable[[Upload], Awaitable[Document]]


@dataclass(eq=False)
class WebJob:
    id: str
    folder: Path
    upload: Upload
    created: float = field(default_factory=time.time)
    state: str = PENDING
    finished: float | None = None
    document: Document | None = None
    error: OcrdError | None = None
    original_kept: bool = True
    pdf_bytes: int | None = None  # the size of its searchable PDF while it is stored; None: none (any more)
    task: asyncio.Task[None] | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def pdf_path(self) -> Path:
        return self.folder / RESULT_PDF


class JobStore:
    def __init__(self, base: Path, *, ttl: float, max_jobs: int = MAX_JOBS, budget: int = STORE_BUDGET) -> None:
        self.base = base  # shared by daemons using the same data folder; each has its own folder inside
        self.root = base
        self.ttl = ttl
        self.max_jobs = max_jobs
        self.budget = budget
        self.jobs: dict[str, WebJob] = {}
        self.clock: Callable[[], float] = time.time

    # --- folders ----------------------------------------------------------------------------------

    def open(self) -> None:
        """Create this process's folder; remove what crashed processes left long ago."""
        self.base.mkdir(parents=True, exist_ok=True)
        for old in self.base.iterdir():
            with contextlib.suppress(OSError):
                if old.is_dir() and time.time() - old.stat().st_mtime > LEFTOVER_AGE:
                    shutil.rmtree(old, ignore_errors=True)
        self.root = Path(tempfile.mkdtemp(prefix=f"{os.getpid()}-", dir=self.base))

    def new_folder(self, prefix: str = "job") -> tuple[str, Path]:
        token = secrets.token_urlsafe(16)
        folder = self.root / f"{prefix}-{token}"
        folder.mkdir(mode=0o700)
        return token, folder

    async def close(self) -> None:
        for job in list(self.jobs.values()):
            await self.remove(job)
        if self.root != self.base:
            await asyncio.to_thread(shutil.rmtree, self.root, True)

    # --- jobs -------------------------------------------------------------------------------------

    async def add(self, job_id: str, folder: Path, upload: Upload, submit: Submit) -> WebJob:
        """Start reading the upload; raises at once (and forgets the job) if it is refused at once."""
        job = WebJob(job_id, folder, upload, created=self.clock())
        self.jobs[job.id] = job
        job.task = asyncio.create_task(self._run(job, submit), name=f"ocrd-web-job-{job.id[:6]}")
        # One turn of the loop runs submit() up to its first wait: a full queue fails right here.
        await asyncio.sleep(0)
        if job.state == FAILED and job.error is not None and job.error.retryable:
            await self.remove(job)
            raise job.error
        return job

    async def _run(self, job: WebJob, submit: Submit) -> None:
        try:
            job.document = await submit(job.upload)
            if PDF in job.upload.outputs:
                job.pdf_bytes = (await asyncio.to_thread(os.stat, job.pdf_path)).st_size
            job.state = DONE
        except OcrdError as exc:
            job.error, job.state = exc, FAILED
        except asyncio.CancelledError:
            job.error, job.state = InternalError("the job was cancelled"), FAILED
            raise
        except Exception as exc:  # a bug: keep it out of the loop's log noise, report it with the job
            log.exception("web job %s failed unexpectedly", job.id)
            job.error, job.state = InternalError(f"unexpected {type(exc).__name__}: {exc}"), FAILED
        finally:
            job.finished = self.clock()
            job.done.set()
            self._enforce_bounds()

    def get(self, job_id: str) -> WebJob | None:
        job = self.jobs.get(job_id)
        if job is not None and self.expired(job):
            return None
        return job

    def expires_at(self, job: WebJob) -> float | None:
        return None if job.finished is None else job.finished + self.ttl

    def expired(self, job: WebJob) -> bool:
        expires = self.expires_at(job)
        return expires is not None and self.clock() >= expires

    def pending(self) -> int:
        return sum(1 for job in self.jobs.values() if job.state == PENDING)

    async def remove(self, job: WebJob) -> None:
        """Forget a job; a pending one is cancelled (it leaves the queue if no worker has it yet)."""
        self.jobs.pop(job.id, None)
        if job.task is not None and not job.task.done():
            job.task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await job.task
        await asyncio.to_thread(shutil.rmtree, job.folder, True)

    async def purge_expired(self) -> int:
        expired = [job for job in self.jobs.values() if self.expired(job)]
        for job in expired:
            await self.remove(job)
        return len(expired)

    def _enforce_bounds(self) -> None:
        finished = sorted((j for j in self.jobs.values() if j.finished is not None), key=lambda j: j.finished or 0)
        while len(finished) > self.max_jobs:
            oldest = finished.pop(0)
            self.jobs.pop(oldest.id, None)
            shutil.rmtree(oldest.folder, ignore_errors=True)
        kept = sum(j.upload.size for j in self.jobs.values() if j.original_kept)
        kept += sum(j.pdf_bytes or 0 for j in self.jobs.values())
        for job in finished:
            if kept <= self.budget:
                break
            if job.original_kept:
                with contextlib.suppress(OSError):
                    os.unlink(job.upload.path)
                job.original_kept = False
                kept -= job.upload.size
            if job.pdf_bytes is not None:
                with contextlib.suppress(OSError):
                    os.unlink(job.pdf_path)
                kept -= job.pdf_bytes
                job.pdf_bytes = None
