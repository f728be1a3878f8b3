"""The systemd notification protocol, written directly to $NOTIFY_SOCKET (no libsystemd).

READY=1 once the workers are up, STATUS= with the queue, WATCHDOG=1 from the dispatch loop
while it makes progress, RELOADING=1 / STOPPING=1 around SIGHUP and SIGTERM. Without
$NOTIFY_SOCKET every call is a no-op.
"""

from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Mapping


class SystemdNotifier:
    def __init__(self, env: Mapping[str, str] | None = None, clock=time.monotonic) -> None:
        env = os.environ if env is None else env
        address = env.get("NOTIFY_SOCKET", "")
        if address.startswith("@"):  # abstract socket namespace
            address = "\0" + address[1:]
        self.address = address or None
        self.clock = clock
        self.watchdog_interval: float | None = None
        usec = env.get("WATCHDOG_USEC", "")
        watchdog_pid = env.get("WATCHDOG_PID", "")
        if usec.isdigit() and int(usec) > 0 and (not watchdog_pid or watchdog_pid == str(os.getpid())):
            self.watchdog_interval = int(usec) / 1_000_000
        self._last_watchdog = float("-inf")
        self._last_status: str | None = None
        self._socket: socket.socket | None = None

    @property
    def enabled(self) -> bool:
        return self.address is not None

    def send(self, *lines: str) -> bool:
        if self.address is None:
            return False
        try:
            if self._socket is None:
                self._socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)
            self._socket.sendto("\n".join(lines).encode(), self.address)
            return True
        except OSError:
            return False  # systemd went away (or this is a test that closed its socket): never fatal

    def ready(self, status: str | None = None) -> None:
        lines = ["READY=1", f"MAINPID={os.getpid()}"]
        if status:
            lines.append(f"STATUS={status}")
            self._last_status = status
        self.send(*lines)

    def status(self, text: str) -> None:
        if text != self._last_status:
            self._last_status = text
            self.send(f"STATUS={text}")

    def reloading(self) -> None:
        usec = time.clock_gettime_ns(time.CLOCK_MONOTONIC) // 1000
        self.send("RELOADING=1", f"MONOTONIC_USEC={usec}")

    def stopping(self, status: str | None = None) -> None:
        self.send("STOPPING=1", *([f"STATUS={status}"] if status else []))

    def watchdog(self) -> None:
        """Call often; pings at half the interval systemd asked for."""
        if self.watchdog_interval is None:
            return
        now = self.clock()
        if now - self._last_watchdog >= self.watchdog_interval / 2:
            self._last_watchdog = now
            self.send("WATCHDOG=1")

    def close(self) -> None:
        if self._socket is not None:
            with contextlib.suppress(OSError):
                self._socket.close()
            self._socket = None
