"""Decide when a file in an inbox is complete: size and mtime unchanged for the settle time.

Pure bookkeeping with an injected clock: callers feed it observations (from events, polls or
rescans) and ask which files are ready, so tests can step time instead of sleeping.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable, Hashable
from dataclasses import dataclass


@dataclass
class _Entry:
    size: int
    mtime_ns: int
    changed_at: float  # when this (size, mtime) was first seen
    checked_at: float  # when it was last confirmed
    not_before: float = 0.0  # deferred (locked, claim failed) until then


class StabilityTracker:
    """Files seen in one inbox, and whether each has settled.

    A file is ready when the same (size, mtime) was observed at two moments at least ``settle``
    seconds apart. Empty files must stay empty longer (``empty_settle``): many scanners create
    the file first and only start writing after the page has been scanned.
    """

    def __init__(
        self,
        settle: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        empty_settle: float | None = None,
    ) -> None:
        self.settle = settle
        self.empty_settle = max(3 * settle, 2.0) if empty_settle is None else empty_settle
        self.clock = clock
        self._entries: dict[Hashable, _Entry] = {}

    def __len__(self) -> int:
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._entries

    def tracked(self) -> list[Hashable]:
        return list(self._entries)

    def observe(self, key: Hashable, size: int, mtime_ns: int) -> bool:
        """Record a fresh stat of ``key``; returns True if the file changed (or is new)."""
        now = self.clock()
        entry = self._entries.get(key)
        if entry is None:
            self._entries[key] = _Entry(size, mtime_ns, changed_at=now, checked_at=now)
            return True
        entry.checked_at = now
        if entry.size != size or entry.mtime_ns != mtime_ns:
            entry.size, entry.mtime_ns, entry.changed_at = size, mtime_ns, now
            return True
        return False

    def forget(self, key: Hashable) -> None:
        self._entries.pop(key, None)

    def defer(self, key: Hashable, seconds: float) -> None:
        """Not ready for ``seconds`` (the file is still locked, or claiming it failed)."""
        entry = self._entries.get(key)
        if entry is not None:
            entry.not_before = self.clock() + seconds

    def settle_for(self, size: int) -> float:
        return self.empty_settle if size == 0 else self.settle

    def _is_ready(self, entry: _Entry, now: float) -> bool:
        return now >= entry.not_before and entry.checked_at - entry.changed_at >= self.settle_for(entry.size)

    def is_ready(self, key: Hashable) -> bool:
        entry = self._entries.get(key)
        return entry is not None and self._is_ready(entry, self.clock())

    def snapshot(self, key: Hashable) -> tuple[int, int] | None:
        entry = self._entries.get(key)
        return None if entry is None else (entry.size, entry.mtime_ns)

    def due_for_check(self, limit: int | None = None) -> list[Hashable]:
        """Files that are not ready yet and whose last stat is old enough to be worth repeating.

        Re-checking every half settle time bounds the stat() load on big backlogs (and on NFS,
        where every stat is a round trip) while still deciding within ~1.5 x settle.
        """
        now = self.clock()
        interval = min(max(self.settle / 2, 0.05), 5.0)
        due = []
        for key, entry in self._entries.items():
            if now < entry.not_before or self._is_ready(entry, now):
                continue
            if now - entry.checked_at >= min(interval, self.settle_for(entry.size) / 2):
                due.append(key)
                if limit is not None and len(due) >= limit:
                    break
        return due

    def ready(self, limit: int | None = None) -> list[Hashable]:
        """Ready files, the longest-settled first (so a backlog is worked off in arrival order)."""
        now = self.clock()
        ready = ((entry.changed_at, key) for key, entry in self._entries.items() if self._is_ready(entry, now))
        if limit is None:
            return [key for _, key in sorted(ready, key=lambda item: item[0])]
        return [key for _, key in heapq.nsmallest(limit, ready, key=lambda item: item[0])]

    def waiting(self) -> int:
        return len(self._entries)
