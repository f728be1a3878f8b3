"""The systemd notification protocol over a real datagram socket."""

from __future__ import annotations

import os
import socket
import uuid

from ocrd.daemon.notify import SystemdNotifier


class Clock:
    now = 100.0

    def __call__(self) -> float:
        return self.now


def listen_abstract() -> tuple[socket.socket, str]:
    name = f"ocrd-test-{uuid.uuid4().hex}"
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind("\0" + name)
    listener.settimeout(1)
    return listener, "@" + name


def test_messages_reach_an_abstract_notify_socket() -> None:
    listener, address = listen_abstract()
    notifier = SystemdNotifier({"NOTIFY_SOCKET": address})
    notifier.ready("running: 0 waiting")
    assert listener.recv(1024).decode().splitlines() == [
        "READY=1",
        f"MAINPID={os.getpid()}",
        "STATUS=running: 0 waiting",
    ]
    notifier.status("running: 0 waiting")  # unchanged: not sent again
    notifier.status("running: 3 waiting")
    assert listener.recv(1024) == b"STATUS=running: 3 waiting"
    notifier.reloading()
    reloading = listener.recv(1024).decode().splitlines()
    assert reloading[0] == "RELOADING=1" and reloading[1].startswith("MONOTONIC_USEC=")
    notifier.stopping()
    assert listener.recv(1024) == b"STOPPING=1"
    listener.close()
    notifier.status("after the listener went away")  # never raises


def test_watchdog_pings_at_half_the_interval_and_only_for_our_pid(tmp_path) -> None:
    path = str(tmp_path / "notify.sock")
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(path)
    listener.settimeout(0.2)
    clock = Clock()
    notifier = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000"}, clock=clock)
    assert notifier.watchdog_interval == 4.0
    pings = 0
    for _ in range(20):  # 10 s of dispatch rounds every 0.5 s
        notifier.watchdog()
        clock.now += 0.5
    try:
        while listener.recv(64) == b"WATCHDOG=1":
            pings += 1
    except TimeoutError:
        pass
    assert pings == 5
    other = SystemdNotifier({"NOTIFY_SOCKET": path, "WATCHDOG_USEC": "4000000", "WATCHDOG_PID": "1"})
    assert other.watchdog_interval is None


def test_without_notify_socket_everything_is_a_no_op() -> None:
    notifier = SystemdNotifier({})
    assert not notifier.enabled and notifier.send("READY=1") is False
    notifier.ready()
    notifier.watchdog()
