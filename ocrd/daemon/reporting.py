"""What people and Prometheus learn about finished files: counts, recent results, one log line each."""

from __future__ import annotations

import logging
import time
from collections import deque
from typing import Any

from ocrd.daemon.jobs import UPLOAD, Job
from ocrd.daemon.logs import event
from ocrd.daemon.metrics import DaemonMetrics
from ocrd.daemon.outputs import iso
from ocrd.names import readable
from ocrd.result import Document

log = logging.getLogger("ocrd.daemon")

RECENT = 50  # results kept for the status page


class Reporter:
    def __init__(self, metrics: DaemonMetrics) -> None:
        self.metrics = metrics
        self.recent: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.recent_failures: deque[dict[str, Any]] = deque(maxlen=RECENT)
        self.counts: dict[str, dict[str, int]] = {}

    def add_inbox(self, name: str) -> None:
        self.counts.setdefault(name, {"ok": 0, "failed": 0, "reused": 0})

    def totals(self) -> tuple[int, int]:
        """(files done, files failed) over all inboxes."""
        done = sum(c.get("ok", 0) + c.get("reused", 0) for c in self.counts.values())
        failed = sum(c.get("failed", 0) for c in self.counts.values())
        return done, failed

    def record(self, inbox: str, outcome: str, job: Job, **details: Any) -> dict[str, Any]:
        """Count the outcome and keep it among the recent results; returns that entry (the status page's)."""
        now = time.time()
        document: Document | None = details.pop("document", None)
        error = details.pop("error", None)
        write_seconds = details.pop("write_seconds", 0.0)
        pages = len(document.pages) if document is not None else 0
        stages = document.timings_ms if document is not None else {}
        total = time.monotonic() - job.created
        lines = sum(len(page.lines) for page in document.pages) if document is not None else 0
        self.metrics.record_job(inbox, outcome, total, stages if outcome == "ok" else {}, pages, now, lines)
        # Only documents read now: a reused result was counted when it was first read.
        if outcome == "ok" and document is not None and document.fields is not None:
            self.metrics.record_fields(inbox, document.fields)
        if inbox != UPLOAD:
            counts = self.counts.setdefault(inbox, {"ok": 0, "failed": 0, "reused": 0})
            counts[outcome] = counts.get(outcome, 0) + 1
        attempts = job.claim.record.attempts if job.claim is not None else job.crashes + 1
        source = readable(job.source)
        entry = {
            "at": iso(now),
            "inbox": inbox,
            "source": source,
            "outcome": outcome,
            "pages": pages,
            "attempts": attempts,
            "seconds": round(total, 3),
            **{key: readable(value) if isinstance(value, str) else value for key, value in details.items()},
        }
        if error is not None:
            entry["error"] = {"kind": error.get("kind"), "message": error.get("message")}
            self.recent_failures.appendleft(entry)
        self.recent.appendleft(entry)
        job.report = entry
        if inbox == UPLOAD:
            return entry
        message = f"{source}: {outcome}"
        if error is not None:
            message += f" ({error.get('kind')}: {error.get('message')})"
        event(
            log,
            "file",
            message,
            level=logging.INFO if error is None else logging.WARNING,
            inbox=inbox,
            file=source,
            outcome=outcome,
            pages=pages,
            attempts=attempts,
            output=entry.get("output"),
            moved_to=entry.get("original"),
            error_kind=error.get("kind") if error else None,
            wait_ms=round((job.dispatched - job.created) * 1000) if job.dispatched else None,
            ocr_ms=round(job.worker_seconds * 1000),
            write_ms=round(write_seconds * 1000),
            total_ms=round(total * 1000),
        )
        return entry
