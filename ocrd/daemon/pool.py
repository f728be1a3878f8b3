"""A pool of worker processes driven from the supervisor's asyncio loop.

Not ``concurrent.futures.ProcessPoolExecutor``: when one of its workers dies the whole pool is
broken, and it cannot kill a single stuck job. Here every worker has its own pipe and the loop
watches both the pipe and the process sentinel, so a timeout kills exactly one worker, a crash
is noticed at once, and either way a fresh worker takes the dead one's place.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from ocrd.config import EngineSettings
from ocrd.daemon import worker
from ocrd.daemon.errors import error_from_info
from ocrd.daemon.logs import event
from ocrd.daemon.pdf_jobs import PdfRequest
from ocrd.errors import InternalError, OcrdError
from ocrd.result import Document

log = logging.getLogger("ocrd.daemon.pool")

STARTING, IDLE, BUSY, RETIRING = "starting", "idle", "busy", "retiring"


class PoolJob(Protocol):
    id: int
    path: str
    source: str
    overrides: dict[str, Any]
    pdf: PdfRequest | None  # write the searchable PDF there too
    reuse: Document | None  # already read: the worker only writes the PDF


@dataclass
class Outcome:
    """How one run of a job ended."""

    kind: str  # "done" | "error" | "timeout" | "crash" | "stopped"
    document: Document | None = None
    error: dict[str, Any] | None = None
    seconds: float = 0.0  # time the worker spent on it
    detail: str = ""  # for crashes: how the worker died
    pdf_error: dict[str, Any] | None = None  # "done", but the searchable PDF could not be written


def describe_exit(exitcode: int | None) -> str:
    if exitcode is None:
        return "stopped responding"
    if exitcode < 0:
        try:
            name = signal.Signals(-exitcode).name
        except ValueError:
            name = f"signal {-exitcode}"
        hint = " (often the out-of-memory killer)" if -exitcode == signal.SIGKILL else ""
        return f"was killed by {name}{hint}"
    return f"exited with status {exitcode}"


class _Slot:
    def __init__(self, index: int) -> None:
        self.index = index
        self.process: Any = None
        self.conn: Any = None
        self.state = STARTING
        self.job: PoolJob | None = None
        self.job_started = 0.0
        self.timer: asyncio.TimerHandle | None = None
        self.kill_reason: str | None = None
        self.generation = 0
        self.retire = False  # surplus after a shrink: leaves when its current job is done
        self.ready = asyncio.get_running_loop().create_future()

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None


class WorkerPool:
    def __init__(
        self,
        *,
        size: int,
        settings: EngineSettings,
        job_timeout: float,
        on_outcome: Callable[[Any, Outcome], None],
        on_idle: Callable[[], None] | None = None,
        factory: str = worker.DEFAULT_FACTORY,
        context: str = "spawn",
    ) -> None:
        self.size = size
        self.settings = settings
        self.job_timeout = job_timeout
        self.on_outcome = on_outcome
        self.on_idle = on_idle or (lambda: None)
        self.factory = factory
        self._ctx = multiprocessing.get_context(context)
        self._slots: list[_Slot] = []
        self._next_index = 0
        self._generation = 0
        self._stopping = False
        self._deadline = 0.0
        self._hurried = False
        self._start_failures = 0
        self.restarts = 0
        self.load_seconds: list[float] = []
        self.engine: dict[str, str] = {}  # what the last worker that started runs (models, precision, why)

    # --- state ------------------------------------------------------------------------------------

    @property
    def total(self) -> int:
        return len(self._slots)

    @property
    def busy(self) -> int:
        return sum(1 for slot in self._slots if slot.job is not None)

    @property
    def idle(self) -> int:
        return sum(1 for slot in self._slots if slot.state == IDLE)

    def pids(self) -> list[int]:
        return [slot.pid for slot in self._slots if slot.pid is not None]

    def busy_pids(self) -> dict[int, Any]:
        return {slot.pid: slot.job for slot in self._slots if slot.job is not None and slot.pid is not None}

    # --- start / stop -----------------------------------------------------------------------------

    async def start(self, timeout: float = 600.0) -> None:
        """Start all workers and wait until each has loaded the engine; raises if one cannot."""
        self._slots = [self._spawn(self._new_slot()) for _ in range(self.size)]
        try:
            await asyncio.wait_for(asyncio.gather(*(slot.ready for slot in self._slots)), timeout)
        except BaseException:
            await self.stop(0)
            raise

    def _new_slot(self) -> _Slot:
        self._next_index += 1
        return _Slot(self._next_index)

    def _spawn(self, slot: _Slot) -> _Slot:
        loop = asyncio.get_running_loop()
        parent_conn, child_conn = self._ctx.Pipe(duplex=True)
        process = self._ctx.Process(
            target=worker.run,
            args=(child_conn, self.settings, self.factory, os.getpid()),
            name=f"ocrd-worker-{slot.index}",
            daemon=True,
        )
        process.start()
        child_conn.close()  # so that a dead worker reads as EOF here
        slot.process, slot.conn, slot.state = process, parent_conn, STARTING
        slot.job, slot.kill_reason, slot.generation = None, None, self._generation
        if slot.ready.done():
            slot.ready = loop.create_future()
        loop.add_reader(parent_conn.fileno(), self._on_message, slot)
        loop.add_reader(process.sentinel, self._on_exit, slot)
        return slot

    async def stop(self, grace: float) -> None:
        """Let running jobs finish for up to ``grace`` seconds, then stop every worker.

        Jobs still running afterwards are reported with kind "stopped" (hand them back).
        """
        self._stopping = True
        self._deadline = 0.0 if self._hurried else time.monotonic() + grace
        for slot in self._slots:
            if slot.job is None:
                self._ask_to_stop(slot)
        while any(slot.job is not None for slot in self._slots) and time.monotonic() < self._deadline:
            await asyncio.sleep(0.05)
        for slot in self._slots:
            if slot.job is not None:
                slot.kill_reason = "stopped"
                self._kill(slot)
            elif slot.process is not None and slot.process.is_alive():
                self._ask_to_stop(slot)
        end = time.monotonic() + 5
        while any(slot.process is not None for slot in self._slots) and time.monotonic() < end:
            await asyncio.sleep(0.02)
        for slot in self._slots:
            if slot.process is not None:
                self._kill(slot)
                self._on_exit(slot)

    def hurry(self) -> None:
        """End the grace period of a running (or coming) stop() now."""
        self._hurried = True
        self._deadline = 0.0

    def _ask_to_stop(self, slot: _Slot) -> None:
        slot.state = RETIRING
        if slot.conn is not None:
            with contextlib.suppress(OSError, ValueError):
                slot.conn.send(("stop",))

    def _kill(self, slot: _Slot) -> None:
        with contextlib.suppress(OSError, AttributeError, ValueError):
            slot.process.kill()

    # --- reconfiguration (SIGHUP) -----------------------------------------------------------------

    def reconfigure(self, *, settings: EngineSettings | None = None, size: int | None = None) -> None:
        """New engine settings or pool size; busy workers finish their file first."""
        if settings is not None and settings != self.settings:
            self.settings = settings
            self._generation += 1
            for slot in self._slots:
                if slot.job is None:
                    self._ask_to_stop(slot)  # replaced in _on_exit
        if size is not None and size != self.size:
            self.size = size
            active = [slot for slot in self._slots if not slot.retire]
            while len(active) < size:
                slot = self._spawn(self._new_slot())
                self._slots.append(slot)
                active.append(slot)
            # Shrink by retiring idle workers first, busy ones after their current file.
            surplus = sorted(active, key=lambda slot: slot.job is not None)[: max(0, len(active) - size)]
            for slot in surplus:
                slot.retire = True
                if slot.job is None:
                    self._ask_to_stop(slot)

    # --- jobs -------------------------------------------------------------------------------------

    def try_run(self, job: PoolJob) -> bool:
        """Give ``job`` to an idle worker; False if none is idle."""
        for slot in self._slots:
            if slot.state == IDLE and not self._stopping:
                try:
                    slot.conn.send(("job", job.id, job.path, job.source, job.overrides, job.pdf, job.reuse))
                except (OSError, ValueError):
                    continue  # it just died; its sentinel will tell us
                slot.state, slot.job, slot.job_started = BUSY, job, time.monotonic()
                slot.timer = asyncio.get_running_loop().call_later(self.job_timeout, self._on_timeout, slot, job)
                return True
        return False

    def _on_timeout(self, slot: _Slot, job: PoolJob) -> None:
        if slot.job is job:
            slot.kill_reason = "timeout"
            event(
                log,
                "worker-timeout",
                f"worker {slot.pid} spent more than {self.job_timeout:g} s on {job.source}; stopping it",
                level=logging.WARNING,
                pid=slot.pid,
                file=job.source,
            )
            self._kill(slot)

    def _finish_job(self, slot: _Slot) -> PoolJob | None:
        job, slot.job = slot.job, None
        if slot.timer is not None:
            slot.timer.cancel()
            slot.timer = None
        return job

    def _on_message(self, slot: _Slot) -> None:
        try:
            while slot.conn is not None and slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        except (EOFError, OSError):
            self._on_exit(slot)

    def _handle(self, slot: _Slot, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == "ready":
            slot.state = IDLE
            self._start_failures = 0
            self.load_seconds.append(message[2])
            if len(message) > 3:
                self.engine = dict(message[3])
            if not slot.ready.done():
                slot.ready.set_result(None)
            self._after_job(slot)
            return
        if kind == "fatal":
            error = error_from_info(message[1])
            event(log, "worker-failed", f"a worker cannot start: {error}", level=logging.ERROR)
            if not slot.ready.done():
                slot.ready.set_exception(error)
            slot.state = RETIRING
            return
        job = self._finish_job(slot)
        if job is None or job.id != message[1]:
            return
        slot.state = IDLE
        if kind == "done":
            outcome = Outcome("done", document=message[2], seconds=message[3], pdf_error=message[4])
        else:
            outcome = Outcome("error", error=message[2], seconds=message[3])
        self.on_outcome(job, outcome)
        self._after_job(slot)

    def _after_job(self, slot: _Slot) -> None:
        """Retire a worker that is surplus or runs old settings; otherwise it is free for the next job."""
        if self._stopping or slot.retire or slot.generation != self._generation:
            self._ask_to_stop(slot)
            return
        self.on_idle()

    def _on_exit(self, slot: _Slot) -> None:
        if slot.process is None:
            return
        loop = asyncio.get_running_loop()
        with contextlib.suppress(Exception):
            loop.remove_reader(slot.conn.fileno())
        with contextlib.suppress(Exception):
            loop.remove_reader(slot.process.sentinel)
        # A result written just before dying is still in the pipe: take it first.
        with contextlib.suppress(EOFError, OSError):
            while slot.job is not None and slot.conn.poll():
                self._handle(slot, slot.conn.recv())
        slot.process.join(timeout=1)
        exitcode = slot.process.exitcode
        pid = slot.process.pid
        with contextlib.suppress(OSError):
            slot.conn.close()
        slot.process, slot.conn = None, None
        job = self._finish_job(slot)
        was_starting = slot.state == STARTING
        if job is None and slot.state == IDLE and not self._stopping:
            event(
                log,
                "worker-exited",
                f"idle worker {pid} {describe_exit(exitcode)}; starting a new one",
                level=logging.WARNING,
                pid=pid,
            )
        if job is not None:
            reason = slot.kill_reason or "crash"
            detail = describe_exit(exitcode)
            if reason == "crash":
                event(
                    log,
                    "worker-crashed",
                    f"worker {pid} {detail} while reading {job.source}",
                    level=logging.ERROR,
                    pid=pid,
                    file=job.source,
                )
            self.on_outcome(job, Outcome(reason, seconds=time.monotonic() - slot.job_started, detail=detail))
        if was_starting and not slot.ready.done():
            slot.ready.set_exception(InternalError(f"a worker process {describe_exit(exitcode)} while starting"))
        if self._stopping:
            slot.state = RETIRING
            return
        if slot.retire:
            self._slots.remove(slot)
            return
        # Replace it; a worker that keeps dying while loading the engine is retried with backoff.
        self.restarts += 1
        if was_starting:
            self._start_failures += 1
        delay = min(2.0**self._start_failures - 1, 60.0) if was_starting else 0.0
        slot.state = STARTING
        loop.call_later(delay, self._respawn, slot)

    def _respawn(self, slot: _Slot) -> None:
        if self._stopping or slot.process is not None:
            return
        try:
            self._spawn(slot)
        except OSError as exc:  # cannot fork (out of memory or pids): try again later
            event(log, "worker-spawn-failed", f"cannot start a worker: {exc}", level=logging.ERROR)
            asyncio.get_running_loop().call_later(5.0, self._respawn, slot)


def outcome_error(outcome: Outcome) -> OcrdError:
    return error_from_info(outcome.error or {})
