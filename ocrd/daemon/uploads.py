"""Web uploads waiting for a worker: they share the pool with the inboxes and go first.

An upload's Document goes back to the caller waiting on its future; nothing is written to an
outbox. A worker crash is retried once, as for inbox files.
"""

from __future__ import annotations

import contextlib
from collections import deque

from ocrd.daemon.errors import DaemonStoppingError, JobTimeoutError, WorkerCrashedError, error_from_info
from ocrd.daemon.jobs import UPLOAD, Job, info_of
from ocrd.daemon.pool import Outcome
from ocrd.daemon.reporting import Reporter
from ocrd.errors import OcrdError


class UploadQueue:
    def __init__(self, reporter: Reporter) -> None:
        self.reporter = reporter
        self.waiting: deque[Job] = deque()

    def __len__(self) -> int:
        return len(self.waiting)

    def add(self, job: Job) -> None:
        self.waiting.append(job)

    def take(self) -> Job | None:
        """The next upload whose caller still waits, or None."""
        while self.waiting:
            job = self.waiting.popleft()
            if job.future is not None and not job.future.done():
                return job
        return None

    def put_back(self, job: Job) -> None:
        self.waiting.appendleft(job)

    def forget(self, job: Job) -> None:
        with contextlib.suppress(ValueError):
            self.waiting.remove(job)

    def reject_all(self, error: OcrdError) -> None:
        while self.waiting:
            self.reject(self.waiting.popleft(), error)

    def reject(self, job: Job, error: OcrdError) -> None:
        if job.future is not None and not job.future.done():
            job.future.set_exception(error)
        self.reporter.record(UPLOAD, "failed", job, error=info_of(error))

    def finish(self, job: Job, outcome: Outcome, *, job_timeout: float, draining: bool) -> None:
        """Answer the caller, or queue the upload again after a first worker crash."""
        assert job.future is not None
        if outcome.kind == "crash" and job.crashes == 0 and not draining:
            job.crashes += 1
            self.waiting.appendleft(job)
            return
        if outcome.kind == "done" and outcome.pdf_error is None:
            document = outcome.document
            assert document is not None
            if not job.future.done():
                job.future.set_result(document)
            self.reporter.record(UPLOAD, "ok", job, document=document)
            return
        error: OcrdError
        if outcome.kind == "done":  # read, but its searchable PDF could not be written
            error = error_from_info(outcome.pdf_error or {})
        elif outcome.kind == "error":
            error = error_from_info(outcome.error or {})
        elif outcome.kind == "timeout":
            error = JobTimeoutError(f"reading took longer than {job_timeout:g} s")
        elif outcome.kind == "crash":
            error = WorkerCrashedError(f"the OCR worker {outcome.detail} while reading this file, twice")
        else:
            error = DaemonStoppingError("the service is shutting down; try again")
        self.reject(job, error)
