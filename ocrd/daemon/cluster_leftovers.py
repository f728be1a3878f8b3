"""Temporary files of a cluster host that died, removed as soon as the other hosts know it.

A host killed while writing a result leaves a hidden temporary file in the shared outbox; another
host finishes the file. Without the cluster, such a file goes only when it is older than
``stale_claim_after`` and a daemon starts. Each host names itself in its heartbeat (``owner``:
node, pid and process token, as in its temporary files' names), so a host whose heartbeat stops,
or which comes back as a new process, is known dead from the next heartbeat on, and what it was
writing is garbage at once: a dead process writes nothing more.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ocrd.daemon.claims import remove_temps_of


class DeadWriters:
    """Which hosts' processes are gone, from one heartbeat listing to the next."""

    def __init__(self, me: str) -> None:
        self.me = me
        self._live: dict[str, str] = {}  # host name -> the owner its heartbeat names
        self._removed: set[str] = set()

    def gone(self, hosts: Iterable[Mapping[str, Any]]) -> set[str]:
        """Owners known dead since the last call: a host whose heartbeat stopped, or that restarted."""
        gone = set()
        for host in hosts:
            name, owner = str(host.get("host", "")), host.get("owner")
            previous = self._live.get(name)
            if host.get("alive") and owner:
                if previous is not None and previous != owner:
                    gone.add(previous)  # the same host, a new process: the old one is dead
                self._live[name] = str(owner)
            elif previous is not None:
                gone.add(previous)
                del self._live[name]
        gone -= self._removed | {self.me}
        self._removed |= gone
        return gone


def remove_their_temps(roots: Iterable[str], owners: set[str]) -> int:
    """Remove what ``owners`` were writing under ``roots``; returns how many files."""
    return sum(remove_temps_of(root, owners) for root in roots)
