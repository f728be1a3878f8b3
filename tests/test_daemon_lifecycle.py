"""Acceptance: SIGTERM drains or hands back, SIGHUP reloads without dropping work, systemd hears about it all."""

from __future__ import annotations

import signal
import socket
from pathlib import Path

import pytest

from tests.daemon_engines import Gate
from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    Sample,
    drop,
    image_pdf_bytes,
    inbox_entry,
    inbox_folders,
    lines_for,
    normalize,
    sha256,
    sidecars,
    text_pdf_bytes,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def long_document(number: int, pages: int = 3) -> Sample:
    content = [[f"第{number:03d}号文件第{page}页", f"Document {number} page {page}"] for page in range(1, pages + 1)]
    return Sample(f"long{number:03d}.pdf", image_pdf_bytes(content), content[0])


def folders_in(tmp_path: Path) -> dict[str, Path]:
    return inbox_folders(tmp_path)


def config_for(tmp_path: Path, folders: dict[str, Path], **daemon: object) -> Path:
    return write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.2)],
        daemon={**FAST_DAEMON, "workers": 1, **daemon},
        web={"enabled": False},
    )


def gated_daemon(tmp_path: Path, config: Path, gate: Gate) -> Daemon:
    return Daemon(["--config", str(config)], tmp_path / "daemon.log", env=gate.env()).start().wait_ready()


def test_sigterm_finishes_the_file_in_progress_then_exits_0(tmp_path: Path) -> None:
    folders, gate = folders_in(tmp_path), Gate(tmp_path / "gate")
    sample = long_document(1)
    # A grace period no test waits out: only finishing the file can end this run.
    daemon = gated_daemon(tmp_path, config_for(tmp_path, folders, grace_period=3600.0), gate)
    gate.hold(sample.name)
    drop(folders["inbox"], sample)
    gate.wait_started(sample.name)  # read by the worker, held before it is handed back
    daemon.signal(signal.SIGTERM)
    wait_until(lambda: daemon.events("stopping"), timeout=60)
    assert daemon.events("stopping")[0]["in_progress"] == 1
    assert daemon.process.poll() is None, "still running: it waits for the file in progress"
    assert sidecars(folders["outbox"]) == {}
    gate.release(sample.name)
    assert daemon.process.wait(120) == 0
    (result,) = sidecars(folders["outbox"])[sample.name]
    assert result["sha256"] == sha256(sample.data) and len(result["pages"]) == 3
    assert all(normalize(line) in normalize(result["_txt"]) for line in sample.expected)
    assert daemon.events("file")[0]["outcome"] == "ok"
    assert (folders["done"] / sample.name).read_bytes() == sample.data


def test_sigterm_hands_back_what_cannot_finish_in_the_grace_period(tmp_path: Path) -> None:
    folders, gate = folders_in(tmp_path), Gate(tmp_path / "gate")
    slow, queued = long_document(2), Sample("waiting.pdf", text_pdf_bytes(lines_for(3)), lines_for(3))
    gate.hold(slow.name)  # never released in this run: it cannot finish within any grace period
    daemon = gated_daemon(tmp_path, config_for(tmp_path, folders, grace_period=0.5), gate)
    drop(folders["inbox"], slow)
    gate.wait_started(slow.name)
    daemon.signal(signal.SIGTERM)
    assert daemon.process.wait(120) == 0
    assert (folders["inbox"] / slow.name).read_bytes() == slow.data, "handed back intact"
    assert list((folders["inbox"] / ".ocrd" / "processing").iterdir()) == []
    assert sidecars(folders["outbox"]) == {}
    assert [e["file"] for e in daemon.events("file-handed-back")] == [slow.name]

    # The next run reads it; a second signal ends a long grace period at once without losing anything.
    gate.release(slow.name)
    gate.hold(queued.name)
    daemon = gated_daemon(tmp_path, config_for(tmp_path, folders, grace_period=3600.0), gate)
    wait_until(lambda: sidecars(folders["outbox"]).get(slow.name), timeout=300)
    # Only now: with one worker, a held file claimed first would keep the other waiting forever.
    drop(folders["inbox"], queued)
    gate.wait_started(queued.name)
    daemon.signal(signal.SIGTERM)
    wait_until(lambda: daemon.events("stopping")[1:], timeout=60)
    assert daemon.process.poll() is None, "the first signal waits for the file in progress"
    daemon.signal(signal.SIGINT)
    assert daemon.process.wait(120) == 0
    assert set(sidecars(folders["outbox"])) == {slow.name}
    assert (folders["inbox"] / queued.name).read_bytes() == queued.data, "handed back intact"
    assert [e["file"] for e in daemon.events("file-handed-back")] == [slow.name, queued.name]
    assert [event["attempts"] for event in daemon.events("file") if event["file"] == slow.name] == [1], (
        "a shutdown does not count as a failed attempt"
    )


def test_a_mistyped_engine_factory_is_refused_before_anything_starts(tmp_path: Path) -> None:
    folders = folders_in(tmp_path)
    env = {"OCRD_ENGINE_FACTORY": "tests.daemon_engines:no_such_builder"}
    daemon = Daemon(["--config", str(config_for(tmp_path, folders))], tmp_path / "daemon.log", env=env).start()
    code = daemon.process.wait(120)
    daemon.stop()
    assert code == 2
    message = daemon.log_path.read_text()
    assert "OCRD_ENGINE_FACTORY='tests.daemon_engines:no_such_builder': cannot load it" in message
    assert "no_such_builder" in message and not (folders["inbox"] / ".ocrd").exists()


def test_sighup_reloads_and_systemd_is_notified(tmp_path: Path) -> None:
    folders = folders_in(tmp_path)
    config = config_for(tmp_path, folders)
    second = {"inbox": tmp_path / "inbox2", "outbox": tmp_path / "outbox2"}
    second["inbox"].mkdir()
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    listener.bind(str(tmp_path / "notify.sock"))
    listener.settimeout(0.2)
    messages: list[str] = []

    def heard(prefix: str) -> bool:
        try:
            while True:
                messages.append(listener.recv(4096).decode())
        except TimeoutError:
            pass
        return any(line.startswith(prefix) for message in messages for line in message.splitlines())

    env = {"NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "1000000"}
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log", env=env).start().wait_ready()
    try:
        wait_until(lambda: heard("READY=1"), timeout=120)
        ready = next(m for m in messages if "READY=1" in m)
        assert f"MAINPID={daemon.pid}" in ready and "STATUS=running: 0 waiting, 0/1 workers busy" in ready
        wait_until(lambda: sum("WATCHDOG=1" in m for m in messages) >= 2 or heard("never"), timeout=120)

        text = config.read_text() + (
            f'\n[[inbox]]\nname = "second"\npath = "{second["inbox"]}"\noutbox = "{second["outbox"]}"\nsettle = 0.2\n'
        )
        config.write_text(text)
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: daemon.events("reloaded"), timeout=120)
        wait_until(lambda: heard("RELOADING=1"), timeout=120)
        reloading = next(m for m in messages if "RELOADING=1" in m)
        assert "MONOTONIC_USEC=" in reloading
        drop(second["inbox"], Sample("after-reload.pdf", text_pdf_bytes(lines_for(5)), lines_for(5)))
        wait_until(lambda: sidecars(second["outbox"]).get("after-reload.pdf"), timeout=120)
        wait_until(lambda: heard("STATUS=running: 0 waiting, 0/1 workers busy, 1 done"), timeout=120)

        assert "workers = 1\n" in text
        config.write_text(text.replace("workers = 1\n", "workers = 'many'\n"))
        daemon.signal(signal.SIGHUP)
        wait_until(lambda: daemon.events("reload-failed"), timeout=120)
        assert "workers must be a whole number" in daemon.events("reload-failed")[0]["msg"]
        drop(folders["inbox"], Sample("still-working.pdf", text_pdf_bytes(lines_for(6)), lines_for(6)))
        wait_until(lambda: sidecars(folders["outbox"]).get("still-working.pdf"), timeout=120)
    finally:
        code = daemon.stop()
    assert code == 0
    wait_until(lambda: heard("STOPPING=1"), timeout=120)
    listener.close()
