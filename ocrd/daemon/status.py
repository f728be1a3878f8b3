"""Snapshots of a running daemon: the status page and /readyz, systemd's STATUS= line, queue gauges."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ocrd import __version__
from ocrd.daemon.jobs import UPLOAD
from ocrd.daemon.outputs import iso
from ocrd.names import readable

if TYPE_CHECKING:
    from ocrd.daemon.supervisor import Supervisor


def queue_depths(supervisor: Supervisor) -> dict[str, int]:
    depths = {name: runtime.waiting() for name, runtime in supervisor.inboxes.items()}
    for job in supervisor.folder_jobs.queue:
        if job.inbox is not None:
            depths[job.inbox.name] = depths.get(job.inbox.name, 0) + 1
    return depths


def update_gauges(supervisor: Supervisor) -> None:
    metrics = supervisor.metrics
    for name, depth in queue_depths(supervisor).items():
        metrics.queue_depth.labels(name).set(depth)
    metrics.queue_depth.labels(UPLOAD).set(len(supervisor.uploads))
    if supervisor.pool is not None:
        metrics.workers_busy.set(supervisor.pool.busy)


def status_line(supervisor: Supervisor) -> str:
    pool = supervisor.pool
    busy = pool.busy if pool is not None else 0
    total = pool.total if pool is not None else 0
    waiting = sum(queue_depths(supervisor).values()) + len(supervisor.uploads)
    done, failed = supervisor.reporter.totals()
    state = "stopping" if supervisor.draining else "running"
    return f"{state}: {waiting} waiting, {busy}/{total} workers busy, {done} done, {failed} failed"


def snapshot(supervisor: Supervisor) -> dict[str, Any]:
    depths = queue_depths(supervisor)
    jobs = supervisor.folder_jobs
    inboxes = []
    for name, runtime in supervisor.inboxes.items():
        held = [job for job in jobs.held.values() if job.inbox is runtime]
        inboxes.append(
            {
                "name": name,
                "path": runtime.settings.path,
                "outbox": runtime.settings.outbox,
                "watch": runtime.mode,
                "filesystem": runtime.fs_type,
                "available": runtime.available,
                "paused": runtime.paused_reason,
                "outbox_problem": runtime.outbox_problem,
                "queue_depth": depths.get(name, 0),
                "in_progress": len(held),
                "waiting_to_retry": sum(1 for job in jobs.retries if job.inbox is runtime),
                "unreadable": [readable(rel) for rel in sorted(runtime.unreadable)][:50],
                **supervisor.reporter.counts.get(name, {}),
            }
        )
    pool = supervisor.pool
    cluster = {"cluster": supervisor.cluster.snapshot()} if supervisor.cluster is not None else {}
    return {
        **cluster,
        "version": __version__,
        "node": supervisor.owner.node,
        "pid": supervisor.owner.pid,
        "started_at": iso(supervisor.started_at),
        "uptime_seconds": round(time.time() - supervisor.started_at, 1),
        "ready": supervisor.ready and not supervisor.draining,
        "draining": supervisor.draining,
        "configuration": supervisor.config.origin,
        "inboxes": inboxes,
        "workers": {
            "total": pool.total if pool else 0,
            "busy": pool.busy if pool else 0,
            "idle": pool.idle if pool else 0,
            "restarts": pool.restarts if pool else 0,
            "pids": pool.pids() if pool else [],
        },
        "uploads_waiting": len(supervisor.uploads),
        "recent": list(supervisor.reporter.recent),
        "recent_failures": list(supervisor.reporter.recent_failures),
    }
