"""Prometheus metrics of one daemon, in a registry the daemon owns.

Nothing is defined at import time: each ``DaemonMetrics`` creates its own ``CollectorRegistry``
(tests build a fresh one each; two supervisors in one process never collide). Only the
supervisor process updates them; workers send their timings back with each result. No file
names in labels: label values are inbox names, outcomes and stage names, all bounded sets.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Iterator

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from ocrd import __version__
from ocrd.fields.model import Fields

# A small page takes well under a second, a 200-page scan several minutes.
DURATION_BUCKETS = (0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120, 300, 600, 1800)
STAGE_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300)


class DaemonMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        # No *_created series: they double the series count and nothing reads them. The switch is
        # process-global in prometheus_client, so it is thrown here, before the first metric exists.
        disable_created_metrics()
        self.registry = registry if registry is not None else CollectorRegistry(auto_describe=True)
        r = self.registry
        self.jobs = Counter(
            "ocrd_jobs", "Files finished, by inbox and outcome (ok, failed, reused)", ["inbox", "outcome"], registry=r
        )
        self.pages = Counter("ocrd_pages", "Pages read", ["inbox"], registry=r)
        self.lines = Counter("ocrd_lines", "Text lines recognised", ["inbox"], registry=r)
        # Series appear with the first document of a kind: which kinds an inbox sees is not known at start.
        self.documents_fields = Counter(
            "ocrd_documents_fields",
            "Documents read with the fields stage on, by inbox, document kind and whether a person should check them",
            ["inbox", "kind", "needs_review"],
            registry=r,
        )
        self.discovered = Counter("ocrd_files_discovered", "New files seen in an inbox", ["inbox"], registry=r)
        self.claimed = Counter("ocrd_files_claimed", "Files claimed for processing", ["inbox"], registry=r)
        self.unsupported = Counter(
            "ocrd_files_unsupported",
            "Files of a type the inbox does not read (moved to failed/ unless the inbox leaves them)",
            ["inbox"],
            registry=r,
        )
        self.unreadable = Gauge(
            "ocrd_files_unreadable",
            "Files in the inbox that the daemon's user may neither read nor move (left in place)",
            ["inbox"],
            registry=r,
        )
        self.outbox_writable = Gauge(
            "ocrd_outbox_writable",
            "1 if the inbox's results can be written; 0 while writing fails (disk full, share gone)",
            ["inbox"],
            registry=r,
        )
        self.outbox_disk = OutboxDiskCollector()
        r.register(self.outbox_disk)
        self.job_duration = Histogram(
            "ocrd_job_duration_seconds",
            "Time from claiming a file until its results (or failure) were durable",
            ["inbox"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.stage_duration = Histogram(
            "ocrd_stage_duration_seconds",
            "Engine time per stage and file (load, preprocess, detect, recognize, ...)",
            ["stage"],
            buckets=STAGE_BUCKETS,
            registry=r,
        )
        self.queue_depth = Gauge(
            "ocrd_queue_depth", "Files waiting: in the inbox or claimed but not yet on a worker", ["inbox"], registry=r
        )
        self.workers = Gauge("ocrd_workers", "Worker processes", registry=r)
        self.workers_busy = Gauge("ocrd_workers_busy", "Worker processes reading a file right now", registry=r)
        self.worker_restarts = Counter(
            "ocrd_worker_restarts", "Workers replaced, by reason (crash, timeout)", ["reason"], registry=r
        )
        self.retries = Counter(
            "ocrd_retries",
            "Temporary problems (disk full, share gone, permission) that will be retried",
            ["inbox", "stage"],
            registry=r,
        )
        self.last_success = Gauge(
            "ocrd_last_success_timestamp_seconds", "When a file of this inbox last succeeded", ["inbox"], registry=r
        )
        self.inbox_available = Gauge(
            "ocrd_inbox_available", "1 if the inbox folder can be read and claimed from", ["inbox"], registry=r
        )
        self.corrected_characters = Counter(
            "ocrd_corrected_characters",
            "Characters people corrected in results (edit distance between old and new line text), by inbox",
            ["inbox"],
            registry=r,
        )
        self.build_info = Gauge(
            "ocrd_build_info", "Always 1; labels name the running version", ["version", "python"], registry=r
        )
        self.build_info.labels(__version__, platform.python_version()).set(1)

    def add_inbox(self, inbox: str, outbox: str) -> None:
        """Start an inbox's counters at zero, so the first file after a start shows in increase()."""
        for outcome in ("ok", "failed"):
            self.jobs.labels(inbox, outcome)
        for counter in (
            self.pages,
            self.lines,
            self.discovered,
            self.claimed,
            self.unsupported,
            self.corrected_characters,
        ):
            counter.labels(inbox)
        self.unreadable.labels(inbox).set(0)
        self.outbox_writable.labels(inbox).set(1)
        self.outbox_disk.outboxes[inbox] = outbox

    def record_job(
        self,
        inbox: str,
        outcome: str,
        seconds: float,
        stages_ms: dict[str, float],
        pages: int,
        finished_at: float,
        lines: int = 0,
    ) -> None:
        self.jobs.labels(inbox, outcome).inc()
        if lines:
            self.lines.labels(inbox).inc(lines)
        self.job_duration.labels(inbox).observe(seconds)
        if pages:
            self.pages.labels(inbox).inc(pages)
        for stage, ms in stages_ms.items():
            if stage != "total":
                self.stage_duration.labels(stage).observe(ms / 1000)
        if outcome in ("ok", "reused"):
            self.last_success.labels(inbox).set(finished_at)

    def record_fields(self, inbox: str, fields: Fields) -> None:
        """One document's fields result; kinds are a fixed set (ocrd.fields.model.KINDS), so labels stay bounded."""
        self.documents_fields.labels(inbox, fields.kind, "true" if fields.needs_review else "false").inc()


class OutboxDiskCollector(Collector):
    """Free and total bytes of each inbox's outbox file system, read at scrape time (statvfs).

    Per inbox rather than from node_exporter: outboxes often live on shares node_exporter
    does not look at, and the alert should name the inbox whose results are at risk.
    """

    def __init__(self) -> None:
        self.outboxes: dict[str, str] = {}

    def collect(self) -> Iterator[GaugeMetricFamily]:
        free = GaugeMetricFamily(
            "ocrd_outbox_free_bytes", "Bytes available to ocrd on the outbox's file system", labels=["inbox"]
        )
        size = GaugeMetricFamily("ocrd_outbox_size_bytes", "Size of the outbox's file system", labels=["inbox"])
        for inbox, outbox in sorted(self.outboxes.items()):
            try:
                stats = os.statvfs(outbox)
            except OSError:  # outbox gone (share unmounted): no sample rather than a wrong one
                continue
            free.add_metric([inbox], stats.f_bavail * stats.f_frsize)
            size.add_metric([inbox], stats.f_blocks * stats.f_frsize)
        yield free
        yield size
