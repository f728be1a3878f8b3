"""The fate of claimed inbox files: counted attempts, results written, failures filed, retries, hand-backs.

Every claimed file is held here from its claim until its results (or its failure) are durable,
or until it is handed back to its inbox. File-system work runs in threads so that a slow share
delays only its own files. Problems outside the file (disk full, share gone) keep the file
claimed and are retried with backoff; problems of the file itself send it to failed/.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ocrd.config import Config, InboxSettings
from ocrd.daemon import dedupe, outputs, pdf_jobs, recording
from ocrd.daemon.claims import Claim, Owner
from ocrd.daemon.errors import ClaimLostError, JobTimeoutError, WorkerCrashedError
from ocrd.daemon.inbox import InboxRuntime
from ocrd.daemon.jobs import Job, info_of, now_iso
from ocrd.daemon.logs import event
from ocrd.daemon.metrics import DaemonMetrics
from ocrd.daemon.pool import Outcome
from ocrd.daemon.problems import reason
from ocrd.daemon.reporting import Reporter
from ocrd.daemon.retries import VERIFY, RetryQueue
from ocrd.daemon.writers import still_being_written
from ocrd.errors import InternalError, OcrdError, SourceChangedError, TransientError
from ocrd.names import readable
from ocrd.result import Document
from ocrd.results import ResultsIndex

log = logging.getLogger("ocrd.daemon")

# What a file that is still being written looks like to the reader.
HALF_WRITTEN_KINDS = {"empty", "corrupt"}
# Errors that stop every result of an inbox, not just one file's.
FOLDER_ERRNOS = {
    errno.ENOSPC,
    errno.EDQUOT,
    errno.EROFS,
    errno.EIO,
    errno.ENOTCONN,
    errno.ESTALE,
    errno.EACCES,
    errno.EPERM,
    errno.ENOENT,
}


def is_folder_problem(exc: BaseException) -> bool:
    return isinstance(exc, TransientError) or (isinstance(exc, OSError) and exc.errno in FOLDER_ERRNOS)


class Host(Protocol):
    """What folder jobs need of the supervisor that runs them."""

    config: Config
    owner: Owner
    metrics: DaemonMetrics
    reporter: Reporter
    draining: bool
    results: ResultsIndex | None

    def spawn(self, coro: Any) -> None: ...
    def kick(self) -> None: ...
    def dispatch(self) -> None: ...
    def try_run(self, job: Job) -> bool: ...


class FolderJobs:
    def __init__(self, host: Host) -> None:
        self.host = host
        self.held: dict[int, Job] = {}  # every job not finished yet (queued, running, writing, retrying)
        self.queue: deque[Job] = deque()  # claimed, waiting for a worker
        self.retries = RetryQueue(host.metrics)
        self.starting = 0  # jobs between "taken from the queue" and "sent to a worker"
        self.writing = 0  # jobs whose results (or failure) are being written right now
        # Called once a job's result (or failure) is durable and its claim released (cluster: acknowledge it).
        self.on_finished: Callable[[Job], None] | None = None

    def new_job(self, runtime: InboxRuntime, claim: Claim, job_id: int) -> Job:
        job = Job(job_id, claim.rel, str(claim.file), self._overrides(runtime.settings), runtime, claim)
        job.pdf = pdf_jobs.plan_for_inbox(runtime.settings, claim.rel)
        self.held[job.id] = job
        return job

    def _overrides(self, settings: InboxSettings) -> dict[str, Any]:
        engine = self.host.config.engine
        overrides: dict[str, Any] = {}
        if settings.lang is not None and settings.lang != engine.lang:
            overrides["lang"] = settings.lang
        if settings.preprocess is not None and settings.preprocess != engine.preprocess:
            overrides["preprocess"] = settings.preprocess
        fields = engine.fields.for_inbox(settings.fields, settings.rules)
        if fields != engine.fields:
            overrides["fields"] = fields  # read with this inbox's mode and rules (run_path's fields=)
        return overrides

    def held_claims(self, runtime: InboxRuntime) -> list[Claim]:
        return [job.claim for job in self.held.values() if job.inbox is runtime and job.claim is not None]

    # --- starting an attempt ----------------------------------------------------------------------

    async def start(self, job: Job) -> None:
        """Count the attempt durably (crash accounting), or reuse an earlier result, then run it."""
        assert job.claim is not None and job.inbox is not None
        claim, runtime = job.claim, job.inbox
        try:
            claim.record.attempts += 1
            if claim.record.attempts > 1:
                claim.record.history.append(f"{now_iso()}: attempt {claim.record.attempts}")
            reused = await asyncio.to_thread(self._prepare_attempt, runtime.settings, claim)
        except OSError as exc:
            self.starting -= 1
            claim.record.attempts -= 1
            self.retry_later(job, "read", f"cannot update the claim of {readable(job.source)}: {exc.strerror or exc}")
            return
        except Exception as exc:  # a bug must cost this one file, never the inbox behind it
            self.starting -= 1
            log.exception("cannot start %s", readable(job.source))
            self.finish_failure(job, info_of(InternalError(f"ocrd could not start reading this file: {exc!r}")))
            return
        if job.pdf is not None and not await self._prepare_pdf(job):
            return
        self.starting -= 1
        if reused is not None:
            reused.source = job.source
            job.document, job.from_dedupe = reused, True
            if job.pdf is None:
                self.finish_success(job, outcome="reused")
                self.host.dispatch()
                return
            # The earlier PDF is not copied: the earlier inbox may have made none, people may have moved
            # it, and its title names the earlier file. A worker writes this one from the reused Document.
        if self.host.draining:
            claim.record.attempts -= 1  # it never reached a worker
            await self.hand_back(job)
            return
        job.dispatched = time.monotonic()
        if not self.host.try_run(job):
            job.dispatched = 0.0
            claim.record.attempts -= 1
            self.queue.appendleft(job)
        self.host.dispatch()

    async def _prepare_pdf(self, job: Job) -> bool:
        """The PDF's folder is ready for the worker; otherwise the job waits (False) like a result that cannot be written."""
        assert job.pdf is not None and job.inbox is not None and job.claim is not None
        try:
            await asyncio.to_thread(pdf_jobs.prepare_folder, job.inbox.targets, job.pdf)
        except (OSError, TransientError) as exc:
            self.starting -= 1
            job.claim.record.attempts -= 1
            self.retry_later(job, "read", reason(exc), folder_wide=is_folder_problem(exc))
            return False
        return True

    @staticmethod
    def _prepare_attempt(settings: InboxSettings, claim: Claim) -> Document | None:
        if settings.dedupe:
            claim.record.sha256 = dedupe.sha256_of(claim.file)
            earlier = dedupe.lookup(settings.outbox, claim.record.sha256)
            if earlier is not None:
                return earlier
        # The attempt counter only spots files that crash workers; a power cut may lose one count.
        claim.save(durable=False)
        return None

    # --- what the worker said ---------------------------------------------------------------------

    def on_outcome(self, job: Job, outcome: Outcome) -> None:
        assert job.claim is not None
        daemon = self.host.config.daemon
        record = job.claim.record
        if outcome.kind == "done":
            job.document = outcome.document
            if outcome.pdf_error is not None:
                self._pdf_not_written(job, outcome.pdf_error)
            else:
                job.pdf_written = job.pdf is not None
                self.finish_success(job, "reused" if job.from_dedupe else "ok")
            self.host.kick()  # the worker is free: claim the next file now
        elif outcome.kind == "error":
            info = outcome.error or {}
            if info.get("retryable"):
                record.attempts = max(0, record.attempts - 1)  # the file is not to blame
                self.retry_later(job, "read", info.get("message", "temporary problem"))
            elif info.get("kind") in HALF_WRITTEN_KINDS and job.inbox is not None:
                # Look again once a writer that only paused has had a settle time to go on.
                self.retries.verify_later(job, info, max(job.inbox.settings.settle, 0.5))
            else:
                self.finish_failure(job, info)
        elif outcome.kind == "timeout":
            error = JobTimeoutError(f"reading took longer than {daemon.job_timeout:g} s; the worker was stopped")
            self.finish_failure(job, info_of(error))
        elif outcome.kind == "crash":
            job.crashes += 1
            record.history.append(f"{now_iso()}: the worker {outcome.detail}")
            if record.attempts >= daemon.max_attempts:
                error = WorkerCrashedError(
                    f"the OCR worker {outcome.detail} while reading this file, "
                    f"{record.attempts} time(s) in a row; it was not retried again"
                )
                self.finish_failure(job, info_of(error))
            else:
                event(
                    log, "file-retry", f"{job.source}: the worker {outcome.detail}; trying once more", file=job.source
                )
                self.queue.appendleft(job)
        elif outcome.kind == "stopped":
            record.attempts = max(0, record.attempts - 1)  # a shutdown is not the file's fault
            self.host.spawn(self.hand_back(job))

    def _pdf_not_written(self, job: Job, info: dict[str, Any]) -> None:
        """As when the sidecars cannot be written: a disk or folder problem waits, the file's own fails it."""
        assert job.claim is not None
        if info.get("kind") == SourceChangedError.kind:
            job.document, job.from_dedupe = None, False  # the file changed after it was read: read it again
            self.queue.appendleft(job)
        elif info.get("retryable"):
            job.claim.record.attempts = max(0, job.claim.record.attempts - 1)  # the disk, not the file, is to blame
            self.retry_later(
                job, "write", info.get("message", "the searchable PDF cannot be written"), folder_wide=True
            )
        else:
            self.finish_failure(job, info)

    # --- writing the outcome ----------------------------------------------------------------------

    def finish_success(self, job: Job, outcome: str = "ok") -> None:
        """Write the results in the background; counted as writing from this moment on."""
        self.writing += 1
        self.host.spawn(self._counted(self._write_success(job, outcome)))

    def finish_failure(self, job: Job, info: dict[str, Any]) -> None:
        self.writing += 1
        self.host.spawn(self._counted(self._write_failure(job, info)))

    async def _counted(self, work: Any) -> None:
        try:
            await work
        finally:
            self.writing -= 1

    async def _write_success(self, job: Job, outcome: str) -> None:
        assert job.claim is not None and job.inbox is not None
        runtime, claim = job.inbox, job.claim
        began = time.monotonic()
        if await asyncio.to_thread(pdf_jobs.lost, job.pdf, claim.record):
            job.pdf_written = False
            self.queue.appendleft(job)  # the worker writes the PDF again from the Document
            self.host.dispatch()
            return
        try:
            written, original = await asyncio.to_thread(
                outputs.complete_success,
                runtime.targets,
                claim,
                job.document,
                runtime.kept,
                pdf=Path(job.pdf.temp) if job.pdf is not None else None,
            )
            await asyncio.to_thread(pdf_jobs.discard, job.pdf)  # linked into place: the temporary name goes
            if runtime.settings.dedupe and written.get("json"):
                await asyncio.to_thread(dedupe.remember, runtime.settings.outbox, claim.record.sha256, written["json"])
            await asyncio.to_thread(runtime.area.release, claim)
        except ClaimLostError as exc:
            self._drop_lost(job, exc)
            return
        except (OSError, TransientError) as exc:
            self.retry_later(job, "write", reason(exc), folder_wide=is_folder_problem(exc))
            return
        self._done(job)
        result_id = None
        if job.document is not None:  # after the sidecars are durable; never fails the file
            entry = recording.folder_done(runtime.name, job.source, job.document.to_dict(), written, original)
            result_id = await recording.record(self.host.results, entry)
        self.host.reporter.record(
            runtime.name,
            outcome,
            job,
            document=job.document,
            output=written.get("json"),
            original=original,
            write_seconds=time.monotonic() - began,
            result_id=result_id,
        )
        self.host.dispatch()

    async def _write_failure(self, job: Job, info: dict[str, Any]) -> None:
        assert job.claim is not None and job.inbox is not None
        runtime, claim = job.inbox, job.claim
        job.error = info
        began = time.monotonic()
        try:
            await asyncio.to_thread(pdf_jobs.discard, job.pdf)  # a failed file gets no results at all
            moved = await asyncio.to_thread(outputs.fail, runtime.targets, claim, info, node=self.host.owner.node)
            await asyncio.to_thread(runtime.area.release, claim)
        except ClaimLostError as exc:
            self._drop_lost(job, exc)
            return
        except (OSError, TransientError) as exc:
            self.retry_later(job, "fail", reason(exc), folder_wide=is_folder_problem(exc))
            return
        self._done(job)
        result_id = await recording.record(self.host.results, recording.folder_failed(runtime.name, job, info, moved))
        self.host.reporter.record(
            runtime.name,
            "failed",
            job,
            error=info,
            original=moved,
            write_seconds=time.monotonic() - began,
            result_id=result_id,
        )
        self.host.dispatch()

    def _done(self, job: Job) -> None:
        assert job.inbox is not None
        job.inbox.resume_outputs()
        self.host.metrics.outbox_writable.labels(job.inbox.name).set(1)
        self.held.pop(job.id, None)
        if self.on_finished is not None:
            self.on_finished(job)
        self.host.kick()

    def _drop_lost(self, job: Job, exc: ClaimLostError) -> None:
        event(log, "claim-lost", str(exc), level=logging.WARNING, file=job.source)
        self.held.pop(job.id, None)
        if self.on_finished is not None:
            self.on_finished(job)  # someone else finishes the file: nothing is left for this message
        self.host.kick()

    # --- retries ----------------------------------------------------------------------------------

    def retry_later(self, job: Job, action: str, why: str, *, folder_wide: bool = False) -> None:
        """A problem outside the file (disk full, share gone, no permission): keep it claimed, try again.

        ``folder_wide``: the problem stops every result of the inbox (disk full, share gone), so
        claiming pauses and readiness says so; otherwise only this file waits.
        """
        delay = self.retries.schedule(job, action, why, limit=self.host.config.daemon.retry_backoff_max)
        if job.inbox is not None and action in ("write", "fail") and folder_wide:
            job.inbox.pause_for_outputs(why, delay)
            self.host.metrics.outbox_writable.labels(job.inbox.name).set(0)

    def run_due_retries(self, now: float) -> None:
        for job in self.retries.due(now):
            if self.host.draining:
                self.host.spawn(self.hand_back(job))
            elif job.retry_action == "write" and job.pdf is not None and not job.pdf_written:
                self.queue.appendleft(job)  # the PDF could not be written: a worker writes it from the Document
            elif job.retry_action == "write":
                self.finish_success(job)
            elif job.retry_action == "fail":
                assert job.error is not None
                self.finish_failure(job, job.error)
            elif job.retry_action == VERIFY:
                self.host.spawn(self._verify(job))
            else:
                self.queue.appendleft(job)

    # --- damaged, or not finished? ----------------------------------------------------------------

    async def _verify(self, job: Job) -> None:
        """Fail a damaged file only if nobody is still writing it; otherwise it waits in the inbox again."""
        assert job.claim is not None and job.inbox is not None and job.error is not None
        claim, record = job.claim, job.claim.record
        try:
            writing = await asyncio.to_thread(still_being_written, claim.file, record.seen_size, record.seen_mtime_ns)
        except OSError:
            writing = False
        if not writing:
            self.finish_failure(job, job.error)
            return
        record.attempts = max(0, record.attempts - 1)  # not the file's fault
        event(
            log,
            "file-still-being-written",
            f"{readable(job.source)} was {job.error.get('kind')} but is still being written; it waits in the inbox",
            inbox=job.inbox.name,
            file=readable(job.source),
        )
        job.inbox.note_being_written(claim.rel)
        await self.hand_back(job)

    # --- giving files back ------------------------------------------------------------------------

    async def hand_back(self, job: Job) -> None:
        """Return a file that was not (completely) processed to its inbox, for this or another daemon."""
        if job.claim is None or job.inbox is None:
            return
        claim, runtime = job.claim, job.inbox
        record = claim.record

        def give_back() -> str:
            pdf_jobs.discard(job.pdf)  # the next attempt writes its own
            complete = record.stage == outputs.PLACING and outputs.outputs_complete(record)
            if record.stage in (outputs.FINISHING, outputs.FAILING) or complete:
                claim.save()
                return "kept"  # results (or the verdict) are durable: the next start completes it, no re-read
            if record.stage == outputs.PLACING:
                outputs.discard_partial_outputs(record)
                record.stage = outputs.CLAIMED
            if runtime.area.hand_back(claim):
                return "returned"
            claim.save()
            return "left"

        try:
            result = await asyncio.to_thread(give_back)
        except OSError:
            result = "left"
        self.held.pop(job.id, None)
        if result == "kept":
            return
        returned = result == "returned"
        event(
            log,
            "file-handed-back",
            f"{job.source}: " + ("put back into the inbox" if returned else "left claimed; recovered at next start"),
            inbox=runtime.name,
            file=job.source,
        )

    async def hand_back_all_waiting(self) -> None:
        """Stopping: queued and retrying files go back to their inboxes."""
        queued, self.queue = list(self.queue), deque()
        for job in queued:
            await self.hand_back(job)
        for job in self.retries.take_all():
            await self.hand_back(job)

    # --- claims left by a crashed owner -----------------------------------------------------------

    async def _record_recovered(self, job: Job, resumed: outputs.Resumed) -> None:
        """A file the crash kept out of the results index goes in now (it is indexed only after its
        claim is released, so a finished claim found at start was never indexed)."""
        assert job.inbox is not None
        if resumed.error is not None:
            entry = recording.folder_failed(job.inbox.name, job, resumed.error, resumed.original)
        elif sidecar := resumed.written.get("json"):
            document = await asyncio.to_thread(recording.read_sidecar, sidecar)
            if document is None:
                return
            entry = recording.folder_done(job.inbox.name, job.source, document, resumed.written, resumed.original)
        else:
            return  # an empty claim: there was nothing to read
        await recording.record(self.host.results, entry)

    async def recover(self, job: Job) -> None:
        """An abandoned claim is ours now: finish it, run it again, or fail it after too many tries."""
        assert job.claim is not None and job.inbox is not None
        claim, runtime = job.claim, job.inbox
        try:
            resumed = await asyncio.to_thread(
                outputs.resume, runtime.targets, claim, runtime.kept, node=self.host.owner.node
            )
        except (OSError, OcrdError) as exc:
            self.retry_later(job, "read", str(exc))
            return
        if resumed.action == outputs.FINISHED:
            await asyncio.to_thread(runtime.area.release, claim)
            self.held.pop(job.id, None)
            event(
                log, "file-recovered", f"{claim.rel}: finished the interrupted work", inbox=runtime.name, file=claim.rel
            )
            await self._record_recovered(job, resumed)
            return
        if claim.record.attempts >= self.host.config.daemon.max_attempts:
            self.finish_failure(job, outputs.interrupted_error(claim.record))
            return
        if self.host.draining:
            await self.hand_back(job)
            return
        self.queue.appendleft(job)
        self.host.dispatch()
