"""The supervisor: inboxes -> worker pool -> sidecars -> done/failed, in one asyncio loop.

Each round of the dispatch loop: every inbox takes a step (watch, settle, claim up to its share
of the free capacity), due retries run, idle workers get work (uploads first), gauges and the
systemd watchdog are fed. What happens to a claimed file after that is ``FolderJobs``'s job;
web uploads wait in ``UploadQueue``; ``Reporter`` and ``status`` say what happened.

File-system work runs in threads (``asyncio.to_thread``) so a slow or hung share delays its own
files but never the loop, the web app sharing it, or the systemd watchdog.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import time
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from ocrd import __version__
from ocrd.config import Config, InboxSettings, effective_threads, effective_workers
from ocrd.daemon import recording, status
from ocrd.daemon.claims import Owner
from ocrd.daemon.errors import DaemonStoppingError
from ocrd.daemon.folder_jobs import FolderJobs
from ocrd.daemon.inbox import InboxRuntime
from ocrd.daemon.jobs import Job
from ocrd.daemon.logs import event
from ocrd.daemon.metrics import DaemonMetrics
from ocrd.daemon.notify import SystemdNotifier
from ocrd.daemon.pdf_jobs import PdfRequest
from ocrd.daemon.pool import Outcome, WorkerPool
from ocrd.daemon.problems import reason
from ocrd.daemon.reporting import Reporter
from ocrd.daemon.upload_submit import submit
from ocrd.daemon.uploads import UploadQueue
from ocrd.daemon.worker import DEFAULT_FACTORY
from ocrd.durable import set_temp_owner
from ocrd.result import Document
from ocrd.results import ResultsIndex

if TYPE_CHECKING:
    from ocrd.daemon.cluster_link import ClusterLink

log = logging.getLogger("ocrd.daemon")

TICK = 0.2  # seconds between dispatch-loop rounds (stability checks, claims, retries, watchdog)


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
        self.reporter = Reporter(self.metrics)
        self.uploads = UploadQueue(self.reporter)
        self.folder_jobs = FolderJobs(self)
        self._ids = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stepping: set[str] = set()
        self._kick_again: set[str] = set()
        self._step_problems: dict[str, str] = {}
        self._promised = 0  # claims asked of inbox steps that have not returned yet
        self._loop_task: asyncio.Task[None] | None = None
        self._sweep_task: asyncio.Task[None] | None = None
        self._rotation = 0
        self.results: ResultsIndex | None = None  # opened at start; None when [results] enabled = false
        self.cluster: ClusterLink | None = None  # [cluster]: jobs come through Redis, not straight from the folder

    # What the web app and tests read.
    @property
    def counts(self) -> dict[str, dict[str, int]]:
        return self.reporter.counts

    @property
    def recent(self) -> list[dict[str, Any]]:
        return list(self.reporter.recent)

    @property
    def _held(self) -> dict[int, Job]:
        return self.folder_jobs.held

    def status(self) -> dict[str, Any]:
        """A snapshot for the web status page and /readyz."""
        return status.snapshot(self)

    # --- capacity -----------------------------------------------------------------------------------

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

    def free_slots(self) -> int:
        """Folder files that may be claimed now (the cluster link takes this many jobs)."""
        return self._free_slots()

    def _free_slots(self) -> int:
        held = len(self.folder_jobs.held) + self._promised  # claims that running steps may still bring back
        active = held - self.folder_jobs.writing
        return max(0, min(self.capacity() - active, self.max_held() - held))

    # --- start / stop -----------------------------------------------------------------------------

    async def start(self, *, announce: bool = True) -> None:
        """Start inboxes and workers (models loaded); ``announce=False`` leaves "ready" to the caller."""
        # File work runs in threads; a hung share may hold a few of them, so have plenty.
        asyncio.get_running_loop().set_default_executor(
            ThreadPoolExecutor(max_workers=32, thread_name_prefix="ocrd-io")
        )
        set_temp_owner(self.owner.prefix)  # so a later start can tell our leftovers from a neighbour's work
        await self._open_results()
        for settings in self.config.inboxes:
            await self._add_inbox(settings)
        self.pool = WorkerPool(
            size=self.workers,
            settings=self.engine_settings(),
            job_timeout=self.config.daemon.job_timeout,
            on_outcome=self._on_outcome,
            on_idle=self.dispatch,
            factory=self.engine_factory,
            context=self.mp_context,
        )
        await self.pool.start()
        self.metrics.workers.set(self.pool.total)
        if self.config.cluster is not None:  # imported only here: a single host never loads Redis
            from ocrd.daemon.cluster_link import ClusterLink

            self.cluster = ClusterLink(self, self.config.cluster)
            await self.cluster.start()
        self._loop_task = asyncio.create_task(self._dispatch_loop(), name="ocrd-dispatch")
        self.ready = True
        if announce:
            self.announce_ready()

    async def _open_results(self) -> None:
        self.results = await recording.open_results(self.config)
        if self.results is not None:
            self._sweep_task = asyncio.create_task(recording.sweep_forever(self.results), name="ocrd-results-sweep")

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
        self.notifier.ready(status.status_line(self))

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
        self.reporter.add_inbox(settings.name)
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
        jobs = self.folder_jobs
        grace = self.config.daemon.grace_period if grace is None else grace
        event(
            log,
            "stopping",
            f"stopping: {len(jobs.held)} file(s) in progress get {grace:g} s",
            in_progress=len(jobs.held),
        )
        self.notifier.stopping(f"stopping, {len(jobs.held)} file(s) in progress")
        for runtime in self.inboxes.values():
            await asyncio.to_thread(runtime.stop)
        self.uploads.reject_all(DaemonStoppingError("the service is shutting down; try again"))
        await jobs.hand_back_all_waiting()
        if self.pool is not None:
            await self.pool.stop(grace)
        if self._tasks:
            await asyncio.wait(list(self._tasks), timeout=max(grace, 10.0))
        await jobs.hand_back_all_waiting()  # e.g. requeued after a worker crash meanwhile
        if self._loop_task is not None:
            self._loop_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
        if self._sweep_task is not None:
            self._sweep_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweep_task
        if self.results is not None:
            await asyncio.to_thread(self.results.close)
        if self.cluster is not None:  # after the last job: its acknowledgement goes out first
            await self.cluster.stop()
        left = len(jobs.held)
        event(
            log,
            "stopped",
            "stopped" + (f"; {left} claimed file(s) will be recovered at the next start" if left else ""),
        )
        self.notifier.close()
        self.stopped.set()

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
        self.notifier.ready(status.status_line(self))

    # --- the dispatch loop --------------------------------------------------------------------------

    async def _dispatch_loop(self) -> None:
        while True:
            try:
                self._round()
            except Exception:  # a bug here must not stop the daemon; log it and go on
                log.exception("dispatch round failed")
            await asyncio.sleep(TICK)

    def _round(self) -> None:
        self._step_inboxes()
        self.folder_jobs.run_due_retries(time.monotonic())
        self.dispatch()
        status.update_gauges(self)
        self.notifier.watchdog()
        self.notifier.status(status.status_line(self))

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
            if self.cluster is not None:
                want = 0  # cluster mode: claims follow the queue's messages, never the folder listing
            self._stepping.add(name)  # now, not when the task starts: one step per inbox at a time
            self._promised += want
            self.spawn(self._step(self.inboxes[name], want))

    def kick(self) -> None:
        """A file finished: claim the next one now rather than at the next tick (matters for fast files)."""
        if not self.draining and self._free_slots() > 0:
            self._step_inboxes()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._task_done)

    def _task_done(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.error("internal task failed", exc_info=task.exception())

    def _next_id(self) -> int:
        self._ids += 1
        return self._ids

    def next_id(self) -> int:
        return self._next_id()

    def _inbox_step(self, runtime: InboxRuntime, want: int, held: list[Any]) -> Any:
        """One inbox step (in a thread): claiming from the folder, or, in cluster mode, publishing to the queue."""
        if self.cluster is not None:
            return self.cluster.step_inbox(runtime, held)
        return runtime.step(want, held=held, allow_claims=not self.draining)

    async def _step(self, runtime: InboxRuntime, want: int) -> None:
        jobs = self.folder_jobs
        try:
            held = jobs.held_claims(runtime)
            step = await asyncio.to_thread(self._inbox_step, runtime, want, held)
        except Exception as exc:  # e.g. the processing folder became unreadable: say so once, keep going
            problem = reason(exc, "use") if isinstance(exc, OSError) else f"{runtime.settings.path}: {exc!r}"
            if problem != self._step_problems.get(runtime.name):
                self._step_problems[runtime.name] = problem
                event(log, "inbox-error", problem, level=logging.ERROR, inbox=runtime.name)
            return
        finally:
            self._stepping.discard(runtime.name)
            self._promised -= want
        self._step_problems.pop(runtime.name, None)
        self._count_step(runtime, step)
        new_jobs = [jobs.new_job(runtime, claim, self._next_id()) for claim in step.claims]  # held before any await
        if runtime.name in self._kick_again:
            self._kick_again.discard(runtime.name)
            if step.claims:
                self.kick()
        for job in new_jobs:
            if self.draining:
                await jobs.hand_back(job)
            else:
                jobs.queue.append(job)
        for claim in step.adopted:
            await jobs.recover(jobs.new_job(runtime, claim, self._next_id()))
        for claim, info in step.rejected:
            job = jobs.new_job(runtime, claim, self._next_id())
            claim.record.attempts = 0
            jobs.finish_failure(job, info)
        if step.claims:
            self.dispatch()

    def _count_step(self, runtime: InboxRuntime, step: Any) -> None:
        metrics = self.metrics
        metrics.inbox_available.labels(runtime.name).set(1 if runtime.available else 0)
        if step.discovered:
            metrics.discovered.labels(runtime.name).inc(step.discovered)
        if step.claims:
            metrics.claimed.labels(runtime.name).inc(len(step.claims))
        if step.unsupported:
            metrics.unsupported.labels(runtime.name).inc(step.unsupported)
            counts = self.reporter.counts.setdefault(runtime.name, {})
            counts["unsupported"] = counts.get("unsupported", 0) + step.unsupported
        metrics.unreadable.labels(runtime.name).set(len(runtime.unreadable))

    # --- dispatching ------------------------------------------------------------------------------

    def dispatch(self) -> None:
        """Hand queued work to idle workers: uploads first (someone is waiting), then folder files."""
        if self.pool is None or self.draining:
            return
        jobs = self.folder_jobs
        while self.pool.idle - jobs.starting > 0:
            upload = self.uploads.take()
            if upload is not None:
                upload.dispatched = time.monotonic()
                if not self.pool.try_run(upload):
                    self.uploads.put_back(upload)
                    return
                continue
            if not jobs.queue:
                return
            job = jobs.queue.popleft()
            jobs.starting += 1
            self.spawn(jobs.start(job))

    def try_run(self, job: Job) -> bool:
        assert self.pool is not None
        return self.pool.try_run(job)

    def _on_outcome(self, job: Job, outcome: Outcome) -> None:
        job.worker_seconds += outcome.seconds
        if outcome.kind in ("crash", "timeout"):
            self.metrics.worker_restarts.labels(outcome.kind).inc()
        if job.future is not None:
            self.uploads.finish(job, outcome, job_timeout=self.config.daemon.job_timeout, draining=self.draining)
            return
        self.folder_jobs.on_outcome(job, outcome)
        self.dispatch()

    # --- uploads (the web app) --------------------------------------------------------------------

    async def submit_file(
        self,
        path: str | os.PathLike[str],
        *,
        lang: str | None = None,
        source: str | None = None,
        fields: str | None = None,
        pdf: PdfRequest | None = None,
        local: bool = False,
    ) -> Document:
        """Read one file with the shared worker pool and return its Document (ocrd.daemon.upload_submit)."""
        return await submit(self, path, lang=lang, source=source, fields=fields, pdf=pdf, local=local)
