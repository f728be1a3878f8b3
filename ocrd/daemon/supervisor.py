"""The supervisor: inboxes -> worker pool -> sidecars -> done/failed, in one asyncio loop.

It owns every decision about a file's fate; workers only read pixels and the inbox runtimes
only watch and claim. File-system work runs in threads (``asyncio.to_thread``) so a slow or
hung share delays its own files but never the loop, the web app sharing it, or the systemd
watchdog.

Uploads from the web app go through ``submit_file``: the same pool, the same timeouts and crash
handling, but the Document is returned to the caller instead of written to an outbox.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import errno
import logging
import os
import time
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd import __version__
from ocrd.config import LANGS, Config, InboxSettings, effective_threads, effective_workers
from ocrd.daemon import dedupe, outputs
from ocrd.daemon.claims import Claim, Owner
from ocrd.daemon.durable import TEMP_SUFFIX
from ocrd.daemon.errors import (
    ClaimLostError,
    DaemonStoppingError,
    JobTimeoutError,
    QueueFullError,
    WorkerCrashedError,
    error_from_info,
    error_info,
)
from ocrd.daemon.inbox import InboxRuntime
from ocrd.daemon.logs import event
from ocrd.daemon.metrics import DaemonMetrics
from ocrd.daemon.notify import SystemdNotifier
from ocrd.daemon.pool import Outcome, WorkerPool
from ocrd.daemon.worker import DEFAULT_FACTORY
from ocrd.errors import OcrdError, TransientError, UsageError
from ocrd.result import Document

log = logging.getLogger("ocrd.daemon")

TICK = 0.2  # seconds between dispatch-loop rounds (stability checks, claims, retries, watchdog)
RECENT = 50  # results kept for status()
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
    retry_action: str = ""  # "read", "write" or "fail"
    retry_reason: str = ""
    backoff: float = 1.0
    error: dict[str, Any] | None = None


def _now_iso() -> str:
    return outputs.iso(time.time())


class Supervisor:
    def __init__(
        self,
        config: Config,
        *,
        engine_factory: str = DEFAULT_FACTORY,
        metrics: DaemonMetrics | None = None,
        notifier: SystemdNotifier | None = None,
        mp_context: str = "spawn",
    ) -> None:
        self.config = config
        self.engine_factory = engine_factory
        self.metrics = metrics or DaemonMetrics()
        self.notifier = notifier or SystemdNotifier()
        self.mp_context = mp_context
        self.owner = Owner.current(config.daemon.node_name)
        self.inboxes: dict[str, InboxRuntime] = {}
        self.pool: WorkerPool | None = None
        self.started_at = time.time()
        self.ready = False
        self.draining = False
        self.stopped = asyncio.Event()
        self._ids = 0
        self._uploads: deque[Job] = deque()
        self._queue: deque[Job] = deque()  # claimed folder files waiting for a worker
        self._held: dict[int, Job] = {}  # every folder job not finished yet (queued, running, writing, retrying)
        self._retries: list[Job] = []
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stepping: set[str] = set()
        self._kick_again: set[str] = set()
        self._step_problems: dict[str, str] = {}
        self._starting = 0  # jobs between "taken from the queue" and "sent to a worker"
        self._writing = 0  # jobs whose results (or failure) are being written right now
        self._promised = 0  # claims asked of inbox steps that have not returned yet
        self._loop_task: asyncio.Task[None] | None = None
        self._rotation = 0
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.recent_failures: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.counts: dict[str, dict[str, int]] = {}

    # --- start / stop -----------------------------------------------------------------------------

    @property
    def workers(self) -> int:
        return effective_workers(self.config.daemon)

    def engine_settings(self, config: Config | None = None) -> Any:
        config = config or self.config
        return dataclasses.replace(config.engine, threads=effective_threads(config.daemon))

    def capacity(self) -> int:
        """Folder files claimed and not yet read: one per worker plus the claim-ahead queue.

        Files whose results are being written do not count (up to two per worker), so a slow disk
        never leaves a worker waiting for its next file; beyond that, claiming pauses.
        """
        return self.workers + (self.config.daemon.queue_size or self.workers)

    def max_held(self) -> int:
        """Hard bound on folder files held at once (claimed, being read, or being written)."""
        return self.capacity() + 2 * self.workers

    def _free_slots(self) -> int:
        held = len(self._held) + self._promised  # claims that running steps may still bring back
        active = held - self._writing
        return max(0, min(self.capacity() - active, self.max_held() - held))

    async def start(self, *, announce: bool = True) -> None:
        """Start inboxes and workers (models loaded); ``announce=False`` leaves "ready" to the caller."""
        # File work runs in threads; a hung share may hold a few of them, so have plenty.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="ocrd-io")
        )
        for settings in self.config.inboxes:
            await self._add_inbox(settings)
        self.pool = WorkerPool(
            size=self.workers,
            settings=self.engine_settings(),
            job_timeout=self.config.daemon.job_timeout,
            on_outcome=self._on_outcome,
            on_idle=self._dispatch,
            factory=self.engine_factory,
            context=self.mp_context,
        )
        await self.pool.start()
        self.metrics.workers.set(self.pool.total)
        self._loop_task = asyncio.create_task(self._dispatch_loop(), name="ocrd-dispatch")
        self.ready = True
        if announce:
            self.announce_ready()

    def announce_ready(self, extra: str = "") -> None:
        """Log "ready" and tell systemd (call once everything, including the web app, is up)."""
        assert self.pool is not None
        event(
            log,
            "ready",
            f"ocrd {__version__} ready: {self.pool.total} worker(s) x {effective_threads(self.config.daemon)} "
            f"thread(s), {len(self.inboxes)} inbox(es), configuration: {self.config.origin}{extra}",
            workers=self.pool.total,
            node=self.owner.node,
            pid=self.owner.pid,
        )
        self.notifier.ready(self._status_line())

    async def _add_inbox(self, settings: InboxSettings) -> InboxRuntime:
        runtime = InboxRuntime(
            settings,
            self.owner,
            stale_claim_after=self.config.daemon.stale_claim_after,
            rescan_interval=self.config.daemon.rescan_interval,
            retry_backoff_max=self.config.daemon.retry_backoff_max,
        )
        created = await asyncio.to_thread(runtime.start)
        for folder in created:
            event(log, "folder-created", f"created {folder}", inbox=settings.name, folder=folder)
        self.inboxes[settings.name] = runtime
        self.metrics.add_inbox(settings.name, settings.outbox)
        self.counts.setdefault(settings.name, {"ok": 0, "failed": 0, "reused": 0})
        return runtime

    def hurry(self) -> None:
        """A second stop signal: do not wait for in-flight files any longer (they are handed back)."""
        if self.pool is not None:
            self.pool.hurry()

    async def wait_stopped(self) -> None:
        await self.stopped.wait()

    async def stop(self, grace: float | None = None) -> None:
        """Stop claiming, let in-flight files finish within the grace period, hand back the rest."""
        if self.draining:
            await self.stopped.wait()
            return
        self.draining = True
        grace = self.config.daemon.grace_period if grace is None else grace
        event(
            log,
            "stopping",
            f"stopping: {len(self._held)} file(s) in progress get {grace:g} s",
            in_progress=len(self._held),
        )
        self.notifier.stopping(f"stopping, {len(self._held)} file(s) in progress")
        for runtime in self.inboxes.values():
            await asyncio.to_thread(runtime.stop)
        while self._uploads:
            self._reject(self._uploads.popleft(), DaemonStoppingError("the service is shutting down; try again"))
        queued, self._queue = list(self._queue), deque()
        for job in queued:
            await self._hand_back(job)
        if self.pool is not None:
            await self.pool.stop(grace)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=max(grace, 10.0))
        queued, self._queue = list(self._queue), deque()  # e.g. requeued after a worker crash meanwhile
        for job in queued:
            await self._hand_back(job)
        for job in list(self._retries):
            self._retries.remove(job)
            await self._hand_back(job)
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        left = len(self._held)
        event(
            log,
            "stopped",
            "stopped" + (f"; {left} claimed file(s) will be recovered at the next start" if left else ""),
        )
        self.notifier.close()
        self.stopped.set()

    async def _hand_back(self, job: Job) -> None:
        """Return a file that was not (completely) processed to its inbox, for this or another daemon."""
        if job.claim is None or job.inbox is None:
            return
        claim, runtime = job.claim, job.inbox
        record = claim.record

        def give_back() -> str:
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
        self._held.pop(job.id, None)
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

    # --- reload (SIGHUP) --------------------------------------------------------------------------

    async def reload(self, config: Config) -> None:
        """Apply a new configuration without dropping work: in-flight files finish under the old one."""
        self.notifier.reloading()
        old = self.config
        self.config = config
        for name, runtime in list(self.inboxes.items()):
            new = next((s for s in config.inboxes if s.name == name), None)
            if new != runtime.settings:
                await asyncio.to_thread(runtime.stop)
                del self.inboxes[name]  # its held jobs keep a reference and finish normally
        for settings in config.inboxes:
            if settings.name not in self.inboxes:
                await self._add_inbox(settings)
        for runtime in self.inboxes.values():
            runtime.stale_claim_after = config.daemon.stale_claim_after
            runtime.rescan_interval = config.daemon.rescan_interval
            runtime.retry_backoff_max = config.daemon.retry_backoff_max
        if self.pool is not None:
            self.pool.job_timeout = config.daemon.job_timeout
            self.pool.reconfigure(settings=self.engine_settings(config), size=self.workers)
            self.metrics.workers.set(self.workers)
        if config.web != old.web:
            event(log, "reload-web", "web settings change only after a restart", level=logging.WARNING)
        event(log, "reloaded", f"configuration reloaded from {config.origin}", inboxes=len(self.inboxes))
        self.notifier.ready(self._status_line())

    # --- the dispatch loop --------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while True:
            try:
                self._round()
            except Exception:  # a bug here must not stop the daemon; log it and go on
                log.exception("dispatch round failed")
            await asyncio.sleep(TICK)

    def _round(self) -> None:
        now = time.monotonic()
        self._step_inboxes()
        for job in [job for job in self._retries if job.retry_at <= now]:
            self._retries.remove(job)
            self._run_retry(job)
        self._dispatch()
        self._update_gauges()
        self.notifier.watchdog()
        self.notifier.status(self._status_line())

    def _step_inboxes(self) -> None:
        """Give every inbox a step, sharing the free capacity out fairly (rotating who goes first)."""
        free = self._free_slots()
        names = list(self.inboxes)
        if names:
            self._rotation = (self._rotation + 1) % len(names)
            names = names[self._rotation :] + names[: self._rotation]
        for index, name in enumerate(names):
            if name in self._stepping:
                self._kick_again.add(name)
                continue  # its previous step is still running (slow share)
            if not self.inboxes[name].needs_step():
                continue
            want = free // len(names) + (1 if index < free % len(names) else 0)
            self._stepping.add(name)  # now, not when the task starts: one step per inbox at a time
            self._promised += want
            self._spawn(self._step(self.inboxes[name], want))

    def _kick(self) -> None:
        """A file finished: claim the next one now rather than at the next tick (matters for fast files)."""
        if not self.draining and self._free_slots() > 0:
            self._step_inboxes()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("internal task failed", exc_info=task.exception())

    async def _step(self, runtime: InboxRuntime, want: int) -> None:
        try:
            held = [job.claim for job in self._held.values() if job.inbox is runtime and job.claim is not None]
            step = await asyncio.to_thread(runtime.step, want, held=held, allow_claims=not self.draining)
        except Exception as exc:  # e.g. the processing folder became unreadable: say so once, keep going
            problem = _reason(exc, "use") if isinstance(exc, OSError) else f"{runtime.settings.path}: {exc!r}"
            if problem != self._step_problems.get(runtime.name):
                self._step_problems[runtime.name] = problem
                event(log, "inbox-error", problem, level=logging.ERROR, inbox=runtime.name)
            return
        finally:
            self._stepping.discard(runtime.name)
            self._promised -= want
        self._step_problems.pop(runtime.name, None)
        self.metrics.inbox_available.labels(runtime.name).set(1 if runtime.available else 0)
        if step.discovered:
            self.metrics.discovered.labels(runtime.name).inc(step.discovered)
        if step.claims:
            self.metrics.claimed.labels(runtime.name).inc(len(step.claims))
        jobs = [self._new_folder_job(runtime, claim) for claim in step.claims]  # held before anything awaits
        if runtime.name in self._kick_again:
            self._kick_again.discard(runtime.name)
            if step.claims:
                self._kick()
        for job in jobs:
            if self.draining:
                await self._hand_back(job)
            else:
                self._queue.append(job)
        for claim in step.adopted:
            await self._recover(runtime, claim)
        if step.claims:
            self._dispatch()

    def _new_folder_job(self, runtime: InboxRuntime, claim: Claim) -> Job:
        self._ids += 1
        job = Job(self._ids, claim.rel, str(claim.file), self._overrides(runtime.settings), runtime, claim)
        self._held[job.id] = job
        return job

    def _overrides(self, settings: InboxSettings) -> dict[str, Any]:
        overrides: dict[str, Any] = {}
        if settings.lang is not None and settings.lang != self.config.engine.lang:
            overrides["lang"] = settings.lang
        if settings.preprocess is not None and settings.preprocess != self.config.engine.preprocess:
            overrides["preprocess"] = settings.preprocess
        return overrides

    async def _recover(self, runtime: InboxRuntime, claim: Claim) -> None:
        """An abandoned claim is ours now: finish it, run it again, or fail it after too many tries."""
        job = self._new_folder_job(runtime, claim)
        try:
            action = await asyncio.to_thread(outputs.resume, runtime.targets, claim, runtime.kept, node=self.owner.node)
        except (OSError, OcrdError) as exc:
            self._retry_later(job, "read", str(exc))
            return
        if action == outputs.FINISHED:
            await asyncio.to_thread(runtime.area.release, claim)
            self._held.pop(job.id, None)
            event(
                log, "file-recovered", f"{claim.rel}: finished the interrupted work", inbox=runtime.name, file=claim.rel
            )
            return
        if claim.record.attempts >= self.config.daemon.max_attempts:
            self._finish_failure(job, outputs.interrupted_error(claim.record))
            return
        if self.draining:
            await self._hand_back(job)
            return
        self._queue.appendleft(job)
        self._dispatch()

    # --- dispatching ------------------------------------------------------------------------------

    def _dispatch(self) -> None:
        """Hand queued work to idle workers: uploads first (someone is waiting), then folder files."""
        if self.pool is None or self.draining:
            return
        while self.pool.idle - self._starting > 0:
            if self._uploads:
                job = self._uploads.popleft()
                if job.future is not None and job.future.done():
                    continue  # the client gave up
                job.dispatched = time.monotonic()
                if not self.pool.try_run(job):
                    self._uploads.appendleft(job)
                    return
                continue
            if not self._queue:
                return
            job = self._queue.popleft()
            self._starting += 1
            self._spawn(self._start_folder_job(job))

    async def _start_folder_job(self, job: Job) -> None:
        """Count the attempt durably (crash accounting), or reuse an earlier result, then run it."""
        assert job.claim is not None and job.inbox is not None
        claim, runtime = job.claim, job.inbox
        try:
            claim.record.attempts += 1
            if claim.record.attempts > 1:
                claim.record.history.append(f"{_now_iso()}: attempt {claim.record.attempts}")
            reused = await asyncio.to_thread(self._prepare_attempt, runtime.settings, claim)
        except OSError as exc:
            self._starting -= 1
            claim.record.attempts -= 1
            self._retry_later(job, "read", f"cannot update the claim of {job.source}: {exc.strerror or exc}")
            return
        self._starting -= 1
        if reused is not None:
            reused.source = job.source
            job.document = reused
            self._finish_success(job, outcome="reused")
            self._dispatch()
            return
        if self.draining:
            claim.record.attempts -= 1  # it never reached a worker
            await self._hand_back(job)
            return
        job.dispatched = time.monotonic()
        assert self.pool is not None
        if not self.pool.try_run(job):
            job.dispatched = 0.0
            claim.record.attempts -= 1
            self._queue.appendleft(job)
        self._dispatch()

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

    # --- outcomes ---------------------------------------------------------------------------------

    def _on_outcome(self, job: Job, outcome: Outcome) -> None:
        job.worker_seconds += outcome.seconds
        if outcome.kind in ("crash", "timeout"):
            self.metrics.worker_restarts.labels(outcome.kind).inc()
        if job.future is not None:
            self._upload_outcome(job, outcome)
            return
        assert job.claim is not None
        record = job.claim.record
        if outcome.kind == "done":
            job.document = outcome.document
            self._finish_success(job)
            self._kick()  # the worker is free: claim the next file now
        elif outcome.kind == "error":
            info = outcome.error or {}
            if info.get("retryable"):
                record.attempts = max(0, record.attempts - 1)  # the file is not to blame
                self._retry_later(job, "read", info.get("message", "temporary problem"))
            else:
                self._finish_failure(job, info)
        elif outcome.kind == "timeout":
            error = JobTimeoutError(
                f"reading took longer than {self.config.daemon.job_timeout:g} s; the worker was stopped"
            )
            self._finish_failure(job, _info(error))
        elif outcome.kind == "crash":
            job.crashes += 1
            record.history.append(f"{_now_iso()}: the worker {outcome.detail}")
            if record.attempts >= self.config.daemon.max_attempts:
                error = WorkerCrashedError(
                    f"the OCR worker {outcome.detail} while reading this file, "
                    f"{record.attempts} time(s) in a row; it was not retried again"
                )
                self._finish_failure(job, _info(error))
            else:
                event(
                    log, "file-retry", f"{job.source}: the worker {outcome.detail}; trying once more", file=job.source
                )
                self._queue.appendleft(job)
        elif outcome.kind == "stopped":
            record.attempts = max(0, record.attempts - 1)  # a shutdown is not the file's fault
            self._spawn(self._hand_back(job))
        self._dispatch()

    def _upload_outcome(self, job: Job, outcome: Outcome) -> None:
        assert job.future is not None
        if outcome.kind == "crash" and job.crashes == 0 and not self.draining:
            job.crashes += 1
            self._uploads.appendleft(job)
            return
        if outcome.kind == "done":
            document = outcome.document
            assert document is not None
            if not job.future.done():
                job.future.set_result(document)
            self._record(UPLOAD, "ok", job, document=document)
            return
        error: OcrdError
        if outcome.kind == "error":
            error = error_from_info(outcome.error or {})
        elif outcome.kind == "timeout":
            error = JobTimeoutError(f"reading took longer than {self.config.daemon.job_timeout:g} s")
        elif outcome.kind == "crash":
            error = WorkerCrashedError(f"the OCR worker {outcome.detail} while reading this file, twice")
        else:
            error = DaemonStoppingError("the service is shutting down; try again")
        self._reject(job, error)

    def _reject(self, job: Job, error: OcrdError) -> None:
        if job.future is not None and not job.future.done():
            job.future.set_exception(error)
        self._record(UPLOAD, "failed", job, error=_info(error))

    def _finish_success(self, job: Job, outcome: str = "ok") -> None:
        """Write the results in the background; counted as writing from this moment on."""
        self._writing += 1
        self._spawn(self._counted(self._write_success(job, outcome)))

    def _finish_failure(self, job: Job, info: dict[str, Any]) -> None:
        self._writing += 1
        self._spawn(self._counted(self._write_failure(job, info)))

    async def _counted(self, work: Any) -> None:
        try:
            await work
        finally:
            self._writing -= 1

    async def _write_success(self, job: Job, outcome: str) -> None:
        assert job.claim is not None and job.inbox is not None
        runtime, claim = job.inbox, job.claim
        began = time.monotonic()
        try:
            written, original = await asyncio.to_thread(
                outputs.complete_success, runtime.targets, claim, job.document, runtime.kept
            )
            if runtime.settings.dedupe and written.get("json"):
                await asyncio.to_thread(dedupe.remember, runtime.settings.outbox, claim.record.sha256, written["json"])
            await asyncio.to_thread(runtime.area.release, claim)
        except ClaimLostError as exc:
            self._drop_lost(job, exc)
            return
        except (OSError, TransientError) as exc:
            self._retry_later(job, "write", _reason(exc))
            return
        runtime.resume_outputs()
        self._held.pop(job.id, None)
        self._kick()
        self._record(
            runtime.name,
            outcome,
            job,
            document=job.document,
            output=written.get("json"),
            original=original,
            write_seconds=time.monotonic() - began,
        )
        self._dispatch()

    async def _write_failure(self, job: Job, info: dict[str, Any]) -> None:
        assert job.claim is not None and job.inbox is not None
        runtime, claim = job.inbox, job.claim
        job.error = info
        began = time.monotonic()
        try:
            moved = await asyncio.to_thread(outputs.fail, runtime.targets, claim, info, node=self.owner.node)
            await asyncio.to_thread(runtime.area.release, claim)
        except ClaimLostError as exc:
            self._drop_lost(job, exc)
            return
        except (OSError, TransientError) as exc:
            self._retry_later(job, "fail", _reason(exc))
            return
        runtime.resume_outputs()
        self._held.pop(job.id, None)
        self._kick()
        self._record(runtime.name, "failed", job, error=info, original=moved, write_seconds=time.monotonic() - began)
        self._dispatch()

    def _drop_lost(self, job: Job, exc: ClaimLostError) -> None:
        event(log, "claim-lost", str(exc), level=logging.WARNING, file=job.source)
        self._held.pop(job.id, None)
        self._kick()

    # --- retries ----------------------------------------------------------------------------------

    def _retry_later(self, job: Job, action: str, reason: str) -> None:
        """A problem outside the file (disk full, share gone, no permission): keep it claimed, try again."""
        limit = self.config.daemon.retry_backoff_max
        delay = min(job.backoff, limit)
        job.backoff = min(job.backoff * 2, limit)
        job.retry_at, job.retry_action = time.monotonic() + delay, action
        if reason != job.retry_reason:
            event(
                log,
                "file-waiting",
                f"{job.source}: {reason}; the original stays safe, retrying in {delay:g} s and then less often",
                level=logging.WARNING,
                inbox=job.inbox.name if job.inbox else UPLOAD,
                file=job.source,
                stage=action,
            )
        job.retry_reason = reason
        if job.inbox is not None:
            self.metrics.retries.labels(job.inbox.name, action).inc()
            if action in ("write", "fail"):
                job.inbox.pause_for_outputs(reason, delay)
        self._retries.append(job)

    def _run_retry(self, job: Job) -> None:
        if self.draining:
            self._spawn(self._hand_back(job))
        elif job.retry_action == "write":
            self._finish_success(job)
        elif job.retry_action == "fail":
            assert job.error is not None
            self._finish_failure(job, job.error)
        else:
            self._queue.appendleft(job)

    # --- uploads (the web app) --------------------------------------------------------------------

    async def submit_file(
        self, path: str | os.PathLike[str], *, lang: str | None = None, source: str | None = None
    ) -> Document:
        """Read one file with the shared worker pool and return its Document.

        Raises the ocrd.errors types: InputError subclasses for bad files, QueueFullError (a
        TransientError) at once when too many uploads are waiting, JobTimeoutError, ...
        """
        if self.draining or not self.ready:
            raise DaemonStoppingError("the service is not accepting work right now; try again shortly")
        if lang is not None and lang not in LANGS:
            raise UsageError(f"unknown language {lang!r}; choose one of: {', '.join(LANGS)}")
        limit = self.config.daemon.max_queued_uploads
        if len(self._uploads) >= limit:
            raise QueueFullError(f"{limit} uploads are already waiting for a worker; try again in a few seconds")
        self._ids += 1
        overrides = {"lang": lang} if lang and lang != self.config.engine.lang else {}
        job = Job(
            self._ids,
            source or Path(path).name,
            str(path),
            overrides,
            future=asyncio.get_running_loop().create_future(),
        )
        self._uploads.append(job)
        self._dispatch()
        assert job.future is not None
        try:
            return await job.future
        finally:
            # The caller was cancelled (client went away, job deleted): drop the job if still queued.
            # Cancelling the caller cancels the future it awaited, so "cancelled" is the usual sign.
            if job.future.cancelled() or not job.future.done():
                with contextlib.suppress(ValueError):
                    self._uploads.remove(job)

    # --- reporting --------------------------------------------------------------------------------

    def _record(self, inbox: str, outcome: str, job: Job, **details: Any) -> None:
        now = time.time()
        document: Document | None = details.pop("document", None)
        error = details.pop("error", None)
        pages = len(document.pages) if document is not None else 0
        stages = document.timings_ms if document is not None else {}
        total = time.monotonic() - job.created
        lines = sum(len(page.lines) for page in document.pages) if document is not None else 0
        self.metrics.record_job(inbox, outcome, total, stages if outcome == "ok" else {}, pages, now, lines)
        if inbox != UPLOAD:
            counts = self.counts.setdefault(inbox, {"ok": 0, "failed": 0, "reused": 0})
            counts[outcome] = counts.get(outcome, 0) + 1
        attempts = job.claim.record.attempts if job.claim is not None else job.crashes + 1
        entry = {
            "at": outputs.iso(now),
            "inbox": inbox,
            "source": job.source,
            "outcome": outcome,
            "pages": pages,
            "attempts": attempts,
            "seconds": round(total, 3),
            **{key: value for key, value in details.items() if key != "write_seconds"},
        }
        if error is not None:
            entry["error"] = {"kind": error.get("kind"), "message": error.get("message")}
            self.recent_failures.appendleft(entry)
        self.recent.appendleft(entry)
        if inbox == UPLOAD:
            return
        message = f"{job.source}: {outcome}"
        if error is not None:
            message += f" ({error.get('kind')}: {error.get('message')})"
        event(
            log,
            "file",
            message,
            level=logging.INFO if error is None else logging.WARNING,
            inbox=inbox,
            file=job.source,
            outcome=outcome,
            pages=pages,
            attempts=attempts,
            output=details.get("output"),
            moved_to=details.get("original"),
            error_kind=error.get("kind") if error else None,
            wait_ms=round((job.dispatched - job.created) * 1000) if job.dispatched else None,
            ocr_ms=round(job.worker_seconds * 1000),
            write_ms=round(details.get("write_seconds", 0.0) * 1000),
            total_ms=round(total * 1000),
        )

    def _queue_depths(self) -> dict[str, int]:
        depths = {name: runtime.waiting() for name, runtime in self.inboxes.items()}
        for job in self._queue:
            if job.inbox is not None:
                depths[job.inbox.name] = depths.get(job.inbox.name, 0) + 1
        return depths

    def _update_gauges(self) -> None:
        for name, depth in self._queue_depths().items():
            self.metrics.queue_depth.labels(name).set(depth)
        self.metrics.queue_depth.labels(UPLOAD).set(len(self._uploads))
        if self.pool is not None:
            self.metrics.workers_busy.set(self.pool.busy)

    def _status_line(self) -> str:
        busy = self.pool.busy if self.pool is not None else 0
        total = self.pool.total if self.pool is not None else 0
        waiting = sum(self._queue_depths().values()) + len(self._uploads)
        done = sum(c.get("ok", 0) + c.get("reused", 0) for c in self.counts.values())
        failed = sum(c.get("failed", 0) for c in self.counts.values())
        state = "stopping" if self.draining else "running"
        return f"{state}: {waiting} waiting, {busy}/{total} workers busy, {done} done, {failed} failed"

    def status(self) -> dict[str, Any]:
        """A snapshot for the web status page and /readyz."""
        depths = self._queue_depths()
        inboxes = []
        for name, runtime in self.inboxes.items():
            held = [job for job in self._held.values() if job.inbox is runtime]
            inboxes.append(
                {
                    "name": name,
                    "path": runtime.settings.path,
                    "outbox": runtime.settings.outbox,
                    "watch": runtime.mode,
                    "filesystem": runtime.fs_type,
                    "available": runtime.available,
                    "paused": runtime.paused_reason,
                    "queue_depth": depths.get(name, 0),
                    "in_progress": len(held),
                    "waiting_to_retry": sum(1 for job in self._retries if job.inbox is runtime),
                    **self.counts.get(name, {}),
                }
            )
        pool = self.pool
        return {
            "version": __version__,
            "node": self.owner.node,
            "pid": self.owner.pid,
            "started_at": outputs.iso(self.started_at),
            "uptime_seconds": round(time.time() - self.started_at, 1),
            "ready": self.ready and not self.draining,
            "draining": self.draining,
            "configuration": self.config.origin,
            "inboxes": inboxes,
            "workers": {
                "total": pool.total if pool else 0,
                "busy": pool.busy if pool else 0,
                "idle": pool.idle if pool else 0,
                "restarts": pool.restarts if pool else 0,
                "pids": pool.pids() if pool else [],
            },
            "uploads_waiting": len(self._uploads),
            "recent": list(self.recent),
            "recent_failures": list(self.recent_failures),
        }


def _info(error: OcrdError) -> dict[str, Any]:
    return error_info(type(error).__name__, error.kind, error.message, retryable=error.retryable)


_OS_HINTS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "check the folder's owner and permissions",
    errno.EPERM: "check permissions and attributes (read-only mount, chattr +i)",
    errno.EROFS: "the file system is mounted read-only",
    errno.ENOENT: "the folder is missing",
    errno.EIO: "the disk or share reports I/O errors",
    errno.ESTALE: "the network share was reset",
    errno.ENOTCONN: "the network share is disconnected",
}


def _reason(exc: BaseException, action: str = "write in") -> str:
    if isinstance(exc, OcrdError):
        return exc.message
    if isinstance(exc, OSError):
        where = str(exc.filename or "")
        if where.endswith(TEMP_SUFFIX) or os.path.basename(where).startswith("."):
            where = os.path.dirname(where)  # name the folder, not our hidden temporary file
        hint = _OS_HINTS.get(exc.errno or 0)
        return f"cannot {action} {where or 'the folder'}: {exc.strerror or exc}" + (f" ({hint})" if hint else "")
    return str(exc)
