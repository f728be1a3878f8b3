"""Files on shared inboxes in cluster mode: what a watcher publishes, and a worker's claim of one job.

Both run in a thread (``asyncio.to_thread``) like every other file-system step. The rename claim
stays the exclusivity mechanism: a message only says "this file is waiting"; whoever renames
it first owns it, and a message whose file is gone (claimed, done, changed) is acknowledged.
"""

from __future__ import annotations

import os
from typing import Any

from ocrd.cluster.messages import FileMessage
from ocrd.daemon import dedupe
from ocrd.daemon.claims import Claim
from ocrd.daemon.errors import error_info
from ocrd.daemon.inbox import InboxRuntime
from ocrd.daemon.scan import matches
from ocrd.errors import InternalError, UnsupportedFormatError
from ocrd.formats import SUPPORTED_FOR_HUMANS
from ocrd.names import readable

PUBLISH_PER_STEP = 500  # files published per inbox step at most: a huge backlog goes out in slices


def publishable(runtime: InboxRuntime, by: str, republish_after: float) -> list[FileMessage]:
    """Settled, complete files of the inbox as messages; each is not offered again for ``republish_after`` s."""
    found = []
    for key in runtime.tracker.ready(limit=PUBLISH_PER_STEP):
        rel = str(key)
        verdict = runtime.claimer.check_complete(rel)
        if verdict == "gone":
            runtime.tracker.forget(rel)
            continue
        if verdict != "ok":
            continue  # locked, changed: looked at again by the tracker
        seen = runtime.tracker.snapshot(rel)
        try:
            digest = dedupe.sha256_of(os.path.join(runtime.settings.path, rel))
        except OSError:
            continue  # gone or unreadable meanwhile: the next rescan decides
        assert seen is not None
        found.append(FileMessage(runtime.name, rel, digest, seen[0], seen[1], by))
        # Still there after this long (the message was lost, or every worker is gone): publish again.
        runtime.tracker.defer(rel, republish_after)
    return found


def claim_delivered(runtime: InboxRuntime, message: FileMessage) -> Claim | None:
    """Claim the file a message names; None when it is not there as published (nothing to do)."""
    path = os.path.join(runtime.settings.path, message.rel)
    try:
        info = os.stat(path)
    except OSError:
        return None  # claimed by another host, finished, or removed
    if (info.st_size, info.st_mtime_ns) != (message.size, message.mtime_ns):
        return None  # changed since it was published: the watcher publishes the new version
    claim = runtime.area.claim(message.rel, (message.size, message.mtime_ns))
    if claim is not None:
        claim.record.sha256 = message.sha256
    return claim


def rejection(runtime: InboxRuntime, rel: str) -> dict[str, Any] | None:
    """Why a claimed file goes to failed/ unread (a type this inbox does not take), or None to read it."""
    if matches(rel.rsplit("/", 1)[-1], runtime.settings.patterns):
        return None
    error = UnsupportedFormatError(
        f"{readable(rel)} is not a file this inbox reads: it takes {' '.join(runtime.settings.patterns)} "
        f"(ocrd reads {SUPPORTED_FOR_HUMANS})"
    )
    return error_info(type(error).__name__, error.kind, error.message, retryable=False)


def too_many_deliveries(deliveries: int, limit: int) -> dict[str, Any]:
    error = InternalError(
        f"this file was handed to ocrd hosts {deliveries} times without being finished ([cluster] max_deliveries = "
        f"{limit}); each host that took it stopped or lost Redis before its result was written. Look at the "
        "hosts' logs, then put the file back into the inbox"
    )
    return error_info(type(error).__name__, error.kind, error.message, retryable=False)
