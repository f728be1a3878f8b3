"""Claimed files waiting to be tried again, and when.

A problem outside the file (disk full, share gone, no permission) keeps the file claimed and is
tried again with a doubling pause up to ``retry_backoff_max``; it is logged once per reason.
A file found empty or damaged waits one settle time before its fate is decided, in case its
writer was only pausing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

from ocrd.daemon.jobs import Job
from ocrd.daemon.logs import event
from ocrd.daemon.metrics import DaemonMetrics

log = logging.getLogger("ocrd.daemon")

VERIFY = "verify"  # retry action: decide whether a damaged file is still being written


class RetryQueue:
    def __init__(self, metrics: DaemonMetrics) -> None:
        self.metrics = metrics
        self._waiting: list[Job] = []

    def __iter__(self) -> Iterator[Job]:
        return iter(list(self._waiting))

    def schedule(self, job: Job, action: str, why: str, *, limit: float) -> float:
        """Try ``action`` again after a growing pause; returns the pause in seconds."""
        delay = min(job.backoff, limit)
        job.backoff = min(job.backoff * 2, limit)
        job.retry_at, job.retry_action = time.monotonic() + delay, action
        if why != job.retry_reason:
            event(
                log,
                "file-waiting",
                f"{job.source}: {why}; the original stays safe, retrying in {delay:g} s and then less often",
                level=logging.WARNING,
                inbox=job.inbox_name,
                file=job.source,
                stage=action,
            )
        job.retry_reason = why
        if job.inbox is not None:
            self.metrics.retries.labels(job.inbox.name, action).inc()
        self._waiting.append(job)
        return delay

    def verify_later(self, job: Job, error: dict[str, Any], seconds: float) -> None:
        """Decide about a damaged file in ``seconds``, when its writer (if any) has had time to go on."""
        job.error = error
        job.retry_action, job.retry_at = VERIFY, time.monotonic() + seconds
        self._waiting.append(job)

    def due(self, now: float) -> list[Job]:
        ready = [job for job in self._waiting if job.retry_at <= now]
        for job in ready:
            self._waiting.remove(job)
        return ready

    def take_all(self) -> list[Job]:
        waiting, self._waiting = self._waiting, []
        return waiting
