"""The job queue on Redis Streams: consumer groups give at-least-once delivery and take-over.

Keys (``p`` = [cluster] prefix)::

    p:files, p:uploads        streams, consumer group "workers", one consumer per host
    p:seen:<job>              a file job published lately (SET NX with a TTL): watchers publish it once
    p:upload:<job>            an upload's bytes (TTL), read by whichever host takes the job
    p:result:<job>            an upload's answer (SET NX: one result per job id, however often delivered)
    p:host:<name>, p:hosts    heartbeats (hash with TTL) and the names that ever sent one (sorted set)

Every call is one round trip (scripts and pipelines where two commands must go together), so
the coordination cost per job stays a handful of round trips: bench/cluster_cost.py measures it.
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError, ResponseError

from ocrd.cluster.messages import FILES, UPLOADS, Delivery, FileMessage, UploadMessage
from ocrd.cluster.queue import QueueUnavailableError
from ocrd.config import ClusterSettings
from ocrd.config_cluster import safe_url

GROUP = "workers"
MAXLEN = 100_000  # acknowledged entries are trimmed beyond this (approximately): the stream stays small
# Publish a file job only if no watcher published it lately: both commands or neither.
PUBLISH = """
if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'EX', ARGV[2]) then
  return redis.call('XADD', KEYS[2], 'MAXLEN', '~', ARGV[3], '*', unpack(ARGV, 4))
end
return false
"""


class RedisQueue:
    def __init__(self, settings: ClusterSettings) -> None:
        self.settings = settings
        self.consumer = settings.host
        self.where = safe_url(settings.url)
        options: dict[str, Any] = {
            "socket_connect_timeout": settings.connect_timeout,
            "socket_timeout": settings.connect_timeout,
            "retry_on_timeout": False,
        }
        if settings.ca_file:
            options["ssl_ca_certs"] = settings.ca_file
        self.redis = aioredis.Redis.from_url(settings.url, **options)
        self._publish = self.redis.register_script(PUBLISH)
        self.round_trips = 0  # for bench/cluster_cost.py and the metrics

    def key(self, *parts: str) -> str:
        return ":".join((self.settings.prefix, *parts))

    def unavailable(self, exc: BaseException) -> QueueUnavailableError:
        return QueueUnavailableError(
            f"Redis at {self.where} does not answer ({exc or type(exc).__name__}); "
            "work in progress finishes, no new files are taken until it is back"
        )

    async def _call(self, method: str, *args: Any, **kwargs: Any) -> Any:
        self.round_trips += 1
        try:
            return await getattr(self.redis, method)(*args, **kwargs)
        except ResponseError as exc:
            if "NOGROUP" in str(exc):  # Redis lost its data (restart without AOF): make the groups again
                await self._ensure_groups()
                return await getattr(self.redis, method)(*args, **kwargs)
            raise self.unavailable(exc) from exc
        except (RedisError, OSError) as exc:
            raise self.unavailable(exc) from exc

    async def _ensure_groups(self) -> None:
        for stream in (FILES, UPLOADS):
            try:
                await self.redis.xgroup_create(self.key(stream), GROUP, id="0", mkstream=True)
            except ResponseError as exc:
                if "BUSYGROUP" not in str(exc):
                    raise

    async def connect(self) -> None:
        try:
            await self.redis.ping()
            await self._ensure_groups()
        except (RedisError, OSError) as exc:
            raise self.unavailable(exc) from exc

    async def close(self) -> None:
        with contextlib.suppress(RedisError, OSError):
            await self.redis.aclose()

    # --- jobs ---------------------------------------------------------------------------------------

    async def publish_file(self, message: FileMessage, *, dedupe_for: float) -> bool:
        flat = [item for pair in message.to_fields().items() for item in pair]
        self.round_trips += 1
        try:
            added = await self._publish(
                keys=[self.key("seen", message.job), self.key(FILES)],
                args=[message.by or "1", max(1, int(dedupe_for)), MAXLEN, *flat],
            )
        except (RedisError, OSError) as exc:
            raise self.unavailable(exc) from exc
        return added is not None

    async def read(self, stream: str, count: int, *, history: bool = False) -> list[Delivery]:
        """New messages for this host (``history``: the ones it was given before and never acknowledged)."""
        if count <= 0:
            return []
        reply = await self._call(
            "xreadgroup", GROUP, self.consumer, {self.key(stream): "0" if history else ">"}, count=count
        )
        found = [Delivery.of(stream, mid, data) for _, entries in reply or [] for mid, data in entries if data]
        if history and found:
            await self._count_deliveries(found)
        return found

    async def take_over(self, stream: str, count: int, min_idle: float) -> list[Delivery]:
        """Messages pending longer than ``min_idle`` s with any consumer (a dead host's) are ours now."""
        if count <= 0:
            return []
        reply = await self._call(
            "xautoclaim", self.key(stream), GROUP, self.consumer, int(min_idle * 1000), "0-0", count=count
        )
        entries = reply[1] if reply and len(reply) > 1 else []
        found = [Delivery.of(stream, mid, data) for mid, data in entries if data]
        if found:
            await self._count_deliveries(found)
        return found

    async def _count_deliveries(self, found: list[Delivery]) -> None:
        ids = sorted(found, key=lambda d: tuple(int(x) for x in d.id.split("-")))
        rows = await self._call(
            "xpending_range", self.key(found[0].stream), GROUP, ids[0].id, ids[-1].id, len(found) * 4 + 10
        )
        counts = {_text(row["message_id"]): int(row["times_delivered"]) for row in rows or []}
        for delivery in found:
            delivery.deliveries = counts.get(delivery.id, delivery.deliveries)

    async def ack(self, delivery: Delivery) -> None:
        # The seen key is left to expire: deleting it here would let a watcher that still sees the file
        # (its listing is a moment old) publish it a second time.
        await self._call("xack", self.key(delivery.stream), GROUP, delivery.id)

    async def refresh(self, stream: str, ids: list[str]) -> None:
        """Reset the idle time of messages this host still works on, so nobody takes them over."""
        if ids:
            await self._call("xclaim", self.key(stream), GROUP, self.consumer, 0, ids, justid=True)

    # --- uploads ------------------------------------------------------------------------------------

    async def put_upload(self, message: UploadMessage, data: bytes, ttl: float) -> None:
        async with self.redis.pipeline(transaction=True) as pipe:
            pipe.set(self.key("upload", message.job), data, ex=max(1, int(ttl)))
            pipe.xadd(self.key(UPLOADS), message.to_fields(), maxlen=MAXLEN, approximate=True)
            self.round_trips += 1
            try:
                await pipe.execute()
            except (RedisError, OSError) as exc:
                raise self.unavailable(exc) from exc

    async def upload_bytes(self, job: str) -> bytes | None:
        return await self._call("get", self.key("upload", job))

    async def put_result(self, job: str, payload: bytes, ttl: float) -> bool:
        return bool(await self._call("set", self.key("result", job), payload, ex=max(1, int(ttl)), nx=True))

    async def result(self, job: str) -> bytes | None:
        return await self._call("get", self.key("result", job))

    async def drop_upload(self, job: str) -> None:
        await self._call("delete", self.key("upload", job))

    # --- the cluster's state ------------------------------------------------------------------------

    async def heartbeat(self, host: str, info: dict[str, Any], ttl: float) -> None:
        async with self.redis.pipeline(transaction=False) as pipe:
            key = self.key("host", host)
            pipe.hset(key, mapping={name: str(value) for name, value in info.items()})
            pipe.expire(key, max(1, int(ttl)))
            pipe.zadd(self.key("hosts"), {host: time.time()})
            self.round_trips += 1
            try:
                await pipe.execute()
            except (RedisError, OSError) as exc:
                raise self.unavailable(exc) from exc

    async def hosts(self) -> list[dict[str, Any]]:
        """Every host that sent a heartbeat in the last day; ``alive`` while its heartbeat key lives."""
        names = await self._call("zrangebyscore", self.key("hosts"), time.time() - 86400, "+inf", withscores=True)
        async with self.redis.pipeline(transaction=False) as pipe:
            for name, _ in names:
                pipe.hgetall(self.key("host", _text(name)))
            self.round_trips += 1
            try:
                details = await pipe.execute() if names else []
            except (RedisError, OSError) as exc:
                raise self.unavailable(exc) from exc
        found = []
        for (name, seen), info in zip(names, details, strict=True):
            data = {_text(k): _text(v) for k, v in (info or {}).items()}
            found.append({**data, "host": _text(name), "alive": bool(data), "last_seen": float(seen)})
        return found

    async def backlog(self, min_idle: float) -> dict[str, dict[str, int]]:
        """Per stream: messages nobody took yet (lag), taken and not acknowledged (pending), pending too long."""
        state: dict[str, dict[str, int]] = {}
        for stream in (FILES, UPLOADS):
            groups = await self._call("xinfo_groups", self.key(stream))
            group = next((g for g in groups if _text(g.get("name")) == GROUP), {})
            stuck = await self._call(
                "xpending_range", self.key(stream), GROUP, "-", "+", 1000, idle=int(min_idle * 1000)
            )
            state[stream] = {
                "backlog": int(group.get("lag") or 0),
                "pending": int(group.get("pending") or 0),
                "stuck": len(stuck or []),
            }
        return state


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)
