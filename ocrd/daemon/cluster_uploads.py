"""Uploads across hosts: a web host without workers sends the bytes through Redis and waits for the answer.

Where the bytes live: in Redis, under ``<prefix>:upload:<job>`` with a TTL, bounded by [cluster]
max_upload_bytes (32 MB by default). Every worker host can read Redis while no shared folder is
required for uploads, and the TTL cleans up after a web host that died waiting. The answer (the
Document, or the error) is stored with SET NX under the job id: a job delivered twice has one
answer, the first one written.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ocrd.cluster.messages import Delivery, UploadMessage
from ocrd.cluster.queue import QueueUnavailableError
from ocrd.daemon.errors import DaemonStoppingError, error_from_info
from ocrd.daemon.jobs import info_of
from ocrd.daemon.logs import event
from ocrd.errors import InternalError, LimitExceededError, OcrdError, TransientError
from ocrd.result import Document

if TYPE_CHECKING:
    from ocrd.daemon.cluster_link import ClusterLink

log = logging.getLogger("ocrd.daemon.cluster")

POLL = 0.1  # seconds between looks for an answer: an upload's answer is wanted quickly


async def submit_remote(link: ClusterLink, path: str, *, lang: str | None, source: str, fields: str | None) -> Document:
    """Send an upload to whichever worker host takes it; return its Document (or raise its error)."""
    settings = link.settings
    size = await asyncio.to_thread(os.path.getsize, path)
    if size > settings.max_upload_bytes:
        raise LimitExceededError(
            f"{source} has {size} bytes; uploads read by another host may have at most {settings.max_upload_bytes} "
            "([cluster] max_upload_bytes): send it to a host with the work role, or put it into an inbox"
        )
    if link.problem is not None:
        raise TransientError(link.problem)
    data = await asyncio.to_thread(Path(path).read_bytes)
    message = UploadMessage(uuid.uuid4().hex, source, size, lang or "", fields or "", settings.host)
    await link.queue.put_upload(message, data, settings.upload_ttl)
    # A job may be taken over once (claim_idle) after a host died reading it.
    deadline = time.monotonic() + link.supervisor.config.daemon.job_timeout + settings.claim_idle + 60
    while time.monotonic() < deadline:
        try:
            payload = await link.queue.result(message.job)
        except QueueUnavailableError:
            payload = None  # Redis restarts: the answer waits there, or is written once it is back
        if payload is not None:
            return _answer(payload)
        await asyncio.sleep(POLL)
    raise TransientError(f"no ocrd host answered for {source} in time; is a host with the work role running?")


def _answer(payload: bytes) -> Document:
    data = json.loads(payload)
    if data.get("ok"):
        return Document.from_dict(data["document"])
    raise error_from_info(data.get("error") or {})


async def serve_upload(link: ClusterLink, delivery: Delivery) -> None:
    """Read an upload sent by another host with this host's workers; answer it, then acknowledge it."""
    queue, settings = link.queue, link.settings
    message = UploadMessage.from_fields(delivery.fields)
    try:
        if await queue.result(message.job) is None:
            payload = await _read(link, message, delivery)
            if payload is None:
                return  # stopping: left pending for another host
            await queue.put_result(message.job, payload, settings.upload_ttl)
        await queue.drop_upload(message.job)
        await link.acknowledge(delivery)
    except QueueUnavailableError as exc:
        link.went_down(exc)  # unacknowledged: read again (by us or another host) when Redis is back
    finally:
        link.uploads_in_flight.pop(delivery.id, None)


async def _read(link: ClusterLink, message: UploadMessage, delivery: Delivery) -> bytes | None:
    settings = link.settings
    if delivery.deliveries > settings.max_deliveries:
        error: OcrdError = InternalError(
            f"{message.name} was handed to ocrd hosts {delivery.deliveries} times without an answer; giving up"
        )
        return _payload_error(error)
    data = await link.queue.upload_bytes(message.job)
    if data is None:
        return _payload_error(
            TransientError(f"{message.name} waited longer than {settings.upload_ttl:g} s; send it again")
        )
    spool = Path(link.supervisor.config.daemon.data_dir, "cluster-uploads")
    path = spool / f"{message.job}{Path(message.name).suffix[:16]}"
    await asyncio.to_thread(spool.mkdir, parents=True, exist_ok=True)
    await asyncio.to_thread(path.write_bytes, data)
    try:
        while True:
            try:
                document = await link.supervisor.submit_file(
                    path, lang=message.lang or None, source=message.name, fields=message.fields or None, local=True
                )
            except DaemonStoppingError:
                return None
            except TransientError:
                await asyncio.sleep(0.5)  # our own upload queue is full: wait for a worker
                continue
            except OcrdError as error:
                return _payload_error(error)
            break
    finally:
        await asyncio.to_thread(path.unlink, missing_ok=True)
    event(log, "cluster-upload", f"{message.name}: read for host {message.by}", by=message.by, job=message.job)
    return json.dumps({"ok": True, "document": document.to_dict()}, ensure_ascii=False).encode()


def _payload_error(error: OcrdError) -> bytes:
    info: dict[str, Any] = info_of(error)
    return json.dumps({"ok": False, "error": info}, ensure_ascii=False).encode()
