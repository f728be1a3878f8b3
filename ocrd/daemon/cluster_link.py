"""The supervisor's seam to the cluster: publish settled files, take jobs, acknowledge them, stay visible.

In cluster mode the supervisor's inbox steps never claim on their own: watchers publish what
settled, and the link takes messages (up to the free capacity), claims each one's file by rename
and hands the claim to ``FolderJobs`` exactly as a local claim. A message is acknowledged only
after its job's result (or its failure) is durable and its claim released. Redis unreachable:
jobs in progress finish (their acknowledgements wait in memory), nothing new is taken, and
``problem`` says why (status page, /readyz) until Redis answers again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Gauge

from ocrd import __version__
from ocrd.cluster.messages import FILES, UPLOADS, Delivery, FileMessage
from ocrd.cluster.queue import JobQueue, QueueUnavailableError
from ocrd.config import ClusterSettings
from ocrd.config_cluster import safe_url
from ocrd.daemon import cluster_files, cluster_uploads
from ocrd.daemon.claims import Claim
from ocrd.daemon.cluster_leftovers import DeadWriters, remove_their_temps
from ocrd.daemon.inbox import InboxRuntime, Step
from ocrd.daemon.jobs import Job
from ocrd.daemon.logs import event

if TYPE_CHECKING:
    from ocrd.daemon.supervisor import Supervisor

log = logging.getLogger("ocrd.daemon.cluster")

TICK = 0.2  # seconds between rounds: taking work when capacity frees up is what this loop is for
RECONNECT = 1.0  # seconds between attempts while Redis does not answer


class ClusterMetrics:
    def __init__(self, registry: Any) -> None:
        r = registry
        self.connected = Gauge("ocrd_cluster_connected", "1 while Redis answers this host, else 0", registry=r)
        self.backlog = Gauge("ocrd_cluster_backlog", "Jobs no host has taken yet", ["stream"], registry=r)
        self.pending = Gauge(
            "ocrd_cluster_pending", "Jobs taken by a host, not acknowledged yet", ["stream"], registry=r
        )
        self.stuck = Gauge(
            "ocrd_cluster_stuck", "Pending jobs whose host has not touched them for claim_idle", ["stream"], registry=r
        )
        self.hosts = Gauge("ocrd_cluster_hosts", "Hosts whose heartbeat is current", registry=r)
        self.published = Counter("ocrd_cluster_published", "Inbox files this host published as jobs", registry=r)
        self.taken = Counter(
            "ocrd_cluster_taken", "Jobs this host took, by stream and how", ["stream", "how"], registry=r
        )
        self.acked = Counter("ocrd_cluster_acked", "Jobs this host acknowledged", ["stream"], registry=r)
        self.round_trips = Counter("ocrd_cluster_round_trips", "Requests this host sent to Redis", registry=r)
        for stream in (FILES, UPLOADS):
            self.acked.labels(stream)
            for how in ("new", "taken-over", "history"):
                self.taken.labels(stream, how)


class ClusterLink:
    def __init__(self, supervisor: Supervisor, settings: ClusterSettings, queue: JobQueue | None = None) -> None:
        self.supervisor = supervisor
        self.settings = settings
        if queue is None:
            from ocrd.cluster.redis_queue import RedisQueue

            queue = RedisQueue(settings)
        self.queue = queue
        self.metrics = ClusterMetrics(supervisor.metrics.registry)
        self.problem: str | None = None  # why Redis cannot be used right now; None when it can
        self.deliveries: dict[int, Delivery] = {}  # local job id -> the message it came from
        self.uploads_in_flight: dict[str, Delivery] = {}
        self.unacked: deque[Delivery] = deque()  # finished while Redis was away: acknowledged when it is back
        self.to_publish: deque[FileMessage] = deque()
        self.state: dict[str, Any] = {"streams": {}, "hosts": []}
        self._claiming = 0
        self._dead_writers = DeadWriters(supervisor.owner.prefix)
        self._history_read = False
        self._next_beat = 0.0
        self._next_takeover = 0.0
        self._task: asyncio.Task[None] | None = None
        self._trips_seen = 0

    @property
    def work(self) -> bool:
        return self.settings.has("work")

    # --- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self.queue.connect()
            self._came_back()
        except QueueUnavailableError as exc:
            self.went_down(exc)  # start anyway: /readyz says why, and work begins once Redis answers
        self.supervisor.folder_jobs.on_finished = self.finished
        self._task = asyncio.create_task(self._run(), name="ocrd-cluster")

    async def stop(self) -> None:
        """After the supervisor's last job: acknowledge what finished, say goodbye, close."""
        with contextlib.suppress(QueueUnavailableError):
            await self._flush_acks()
            await self._beat()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.queue.close()

    def went_down(self, exc: QueueUnavailableError) -> None:
        if self.problem is None:
            event(log, "cluster-unavailable", str(exc), level=logging.ERROR, redis=safe_url(self.settings.url))
        self.problem = str(exc)
        self.metrics.connected.set(0)

    def _came_back(self) -> None:
        if self.problem is not None:
            event(log, "cluster-available", f"Redis at {safe_url(self.settings.url)} answers again; taking work")
        self.problem = None
        self._history_read = False  # what we were handed before and never finished: look again
        self.metrics.connected.set(1)

    # --- the loop -----------------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                if self.problem is not None:
                    await self.queue.connect()
                    self._came_back()
                await self._round()
            except QueueUnavailableError as exc:
                self.went_down(exc)
                await asyncio.sleep(RECONNECT)
            except Exception:  # a bug here must not stop the daemon
                log.exception("cluster round failed")
            self._count_trips()
            await asyncio.sleep(TICK)

    async def _round(self) -> None:
        await self._flush_acks()
        while self.to_publish:
            if await self.queue.publish_file(self.to_publish[0], dedupe_for=self.settings.republish_after):
                self.metrics.published.inc()
            self.to_publish.popleft()
        now = time.monotonic()
        if self.work and not self.supervisor.draining and self.supervisor.ready:
            if not self._history_read:
                await self._take(FILES, "history")
                await self._take(UPLOADS, "history")
                self._history_read = True
            await self._take(UPLOADS, "new")
            await self._take(FILES, "new")
            if now >= self._next_takeover:
                self._next_takeover = now + max(0.5, self.settings.claim_idle / 4)
                await self._take(UPLOADS, "taken-over")
                await self._take(FILES, "taken-over")
        if now >= self._next_beat:
            self._next_beat = now + self.settings.heartbeat
            await self._beat()

    def _room(self, stream: str) -> int:
        supervisor = self.supervisor
        if stream == UPLOADS:
            pool = supervisor.pool
            idle = pool.idle if pool is not None else 0
            return max(0, idle - len(supervisor.uploads) - len(self.uploads_in_flight))
        return max(0, supervisor.free_slots() - self._claiming)

    async def _take(self, stream: str, how: str) -> None:
        room = self._room(stream)
        if room <= 0:
            return
        if how == "taken-over":
            found = await self.queue.take_over(stream, room, self.settings.claim_idle)
        else:
            found = await self.queue.read(stream, room, history=how == "history")
        if not found:
            return
        self.metrics.taken.labels(stream, how).inc(len(found))
        if how == "taken-over":
            event(log, "cluster-take-over", f"took over {len(found)} job(s) another host left", stream=stream)
        if stream == UPLOADS:
            for delivery in found:
                self.uploads_in_flight[delivery.id] = delivery
                self.supervisor.spawn(cluster_uploads.serve_upload(self, delivery))
        else:
            await self._claim_files(found)

    async def _claim_files(self, found: list[Delivery]) -> None:
        supervisor, jobs = self.supervisor, self.supervisor.folder_jobs
        work = []
        for delivery in found:
            message = FileMessage.from_fields(delivery.fields)
            runtime = supervisor.inboxes.get(message.inbox)
            if runtime is None:
                # Not an inbox of this host: the watcher publishes the file again after republish_after.
                event(log, "cluster-unknown-inbox", f"no inbox {message.inbox!r} here", level=logging.WARNING)
                await self.acknowledge(delivery)
                continue
            work.append((delivery, message, runtime))
        self._claiming += len(work)
        try:
            claims = await asyncio.to_thread(_claim_all, work)
        finally:
            self._claiming -= len(work)
        for (delivery, _message, runtime), claim in zip(work, claims, strict=True):
            if isinstance(claim, OSError):
                # The inbox cannot be used from here right now: left pending, taken over after claim_idle.
                event(
                    log,
                    "cluster-claim-failed",
                    f"cannot claim in {runtime.settings.path}: {claim}",
                    level=logging.WARNING,
                )
                continue
            if claim is None:
                await self.acknowledge(delivery)  # someone else has it, or it is done: nothing to do
                continue
            job = jobs.new_job(runtime, claim, supervisor.next_id())
            self.deliveries[job.id] = delivery
            supervisor.metrics.claimed.labels(runtime.name).inc()
            info = cluster_files.rejection(runtime, claim.rel)
            if info is None and delivery.deliveries > self.settings.max_deliveries:
                info = cluster_files.too_many_deliveries(delivery.deliveries, self.settings.max_deliveries)
            if info is not None:
                claim.record.attempts = 0
                jobs.finish_failure(job, info)
            elif supervisor.draining:
                await jobs.hand_back(job)
            else:
                jobs.queue.append(job)
        supervisor.dispatch()

    # --- finishing ----------------------------------------------------------------------------------

    def finished(self, job: Job) -> None:
        """FolderJobs: the job's result (or failure) is durable and its claim released."""
        delivery = self.deliveries.pop(job.id, None)
        if delivery is not None:
            self.supervisor.spawn(self.acknowledge(delivery))

    async def acknowledge(self, delivery: Delivery) -> None:
        try:
            await self.queue.ack(delivery)
            self.metrics.acked.labels(delivery.stream).inc()
        except QueueUnavailableError as exc:
            self.unacked.append(delivery)
            self.went_down(exc)

    async def _flush_acks(self) -> None:
        while self.unacked:
            await self.queue.ack(self.unacked[0])
            self.metrics.acked.labels(self.unacked[0].stream).inc()
            self.unacked.popleft()

    # --- inbox steps (in a thread) ------------------------------------------------------------------

    def step_inbox(self, runtime: InboxRuntime, held: list[Claim]) -> Step:
        """An inbox step that never claims: watchers publish what settled; workers adopt dead claims."""
        adopt = self.work and self.problem is None and not self.supervisor.draining
        step = runtime.step(0, held=held, allow_claims=False, adopt=adopt)
        if self.settings.has("watch") and runtime.available:
            found = cluster_files.publishable(runtime, self.settings.host, self.settings.republish_after)
            self.to_publish.extend(found)
        return step

    # --- visibility ---------------------------------------------------------------------------------

    async def _beat(self) -> None:
        supervisor = self.supervisor
        pool = supervisor.pool
        files = [d.id for d in self.deliveries.values()]
        await self.queue.refresh(FILES, files)  # still working on them: nobody should take them over
        await self.queue.refresh(UPLOADS, list(self.uploads_in_flight))
        info = {
            "roles": ",".join(self.settings.roles),
            "version": __version__,
            "node": os.uname().nodename,
            "pid": os.getpid(),
            "owner": supervisor.owner.prefix,  # as in this process's temporary files' names
            "workers": pool.total if pool is not None else 0,
            "busy": pool.busy if pool is not None else 0,
            "in_progress": len(supervisor.folder_jobs.held) + len(self.uploads_in_flight),
            "state": "stopping" if supervisor.draining else "running",
            "at": round(time.time(), 3),
        }
        await self.queue.heartbeat(self.settings.host, info, 3 * self.settings.heartbeat)
        streams = await self.queue.backlog(self.settings.claim_idle)
        hosts = await self.queue.hosts()
        self.state = {"streams": streams, "hosts": hosts}
        if gone := self._dead_writers.gone(hosts):
            supervisor.spawn(self._remove_temps_of(gone))
        for stream, numbers in streams.items():
            self.metrics.backlog.labels(stream).set(numbers["backlog"])
            self.metrics.pending.labels(stream).set(numbers["pending"])
            self.metrics.stuck.labels(stream).set(numbers["stuck"])
        self.metrics.hosts.set(sum(1 for host in hosts if host["alive"]))

    async def _remove_temps_of(self, owners: set[str]) -> None:
        """What hosts that died were writing in the shared folders (ocrd.daemon.cluster_leftovers)."""
        roots = [root for runtime in self.supervisor.inboxes.values() for root in runtime.targets.roots()]
        removed = await asyncio.to_thread(remove_their_temps, roots, owners)
        if removed:
            event(
                log,
                "temp-files-removed",
                f"removed {removed} temporary file(s) left by {', '.join(sorted(owners))}, which no longer runs",
                owners=sorted(owners),
            )

    def _count_trips(self) -> None:
        trips = getattr(self.queue, "round_trips", 0)
        if trips > self._trips_seen:
            self.metrics.round_trips.inc(trips - self._trips_seen)
            self._trips_seen = trips

    def snapshot(self) -> dict[str, Any]:
        now = time.time()
        hosts = [
            {
                "host": host["host"],
                "alive": host["alive"],
                "roles": host.get("roles", "").split(",") if host.get("roles") else [],
                "state": host.get("state", "gone") if host["alive"] else "gone",
                "seconds_since_heartbeat": round(max(0.0, now - host["last_seen"]), 1),
                "workers": int(host.get("workers", 0) or 0),
                "busy": int(host.get("busy", 0) or 0),
                "in_progress": int(host.get("in_progress", 0) or 0),
            }
            for host in self.state.get("hosts", [])
        ]
        return {
            "host": self.settings.host,
            "roles": list(self.settings.roles),
            "redis": safe_url(self.settings.url),
            "connected": self.problem is None,
            "problem": self.problem,
            "streams": self.state.get("streams", {}),
            "hosts": hosts,
            "unacknowledged": len(self.unacked),
        }


def _claim_all(work: list[tuple[Delivery, FileMessage, InboxRuntime]]) -> list[Claim | OSError | None]:
    claims: list[Claim | OSError | None] = []
    for _delivery, message, runtime in work:
        try:
            claims.append(cluster_files.claim_delivered(runtime, message))
        except OSError as exc:
            claims.append(exc)
    return claims
