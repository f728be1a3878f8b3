"""Interrupted writes leave nothing behind; half-written scans wait; a full outbox shows in /readyz.

Kills are real SIGKILLs: ``OCRD_CRASH_AT`` makes the daemon kill itself at one step of writing a
result (see ocrd/faults.py), which no outside timing could hit reliably.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ocrd.durable import place_group
from ocrd.faults import POINTS
from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    Sample,
    drop,
    failures,
    fill_disk,
    free_port,
    image_pdf_bytes,
    inbox_entry,
    inbox_folders,
    lines_for,
    normalize,
    png_bytes,
    sidecars,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def temp_files(root: Path) -> list[Path]:
    return [path for path in root.rglob("*") if path.name.endswith(".ocrd-tmp")]


def config_for(tmp_path: Path, folders: dict[str, Path], **web: Any) -> Path:
    return write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.3)],
        daemon={**FAST_DAEMON, "workers": 1},
        web={"enabled": False, **web},
    )


@pytest.mark.parametrize("point", POINTS)
def test_a_kill_at_any_step_of_writing_leaves_one_outcome_and_no_temporary_files(tmp_path: Path, point: str) -> None:
    folders = inbox_folders(tmp_path)
    config = config_for(tmp_path, folders)
    fails = point == "error-written"
    if fails:
        sample = Sample("broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64, [], good=False)
    else:
        sample = Sample("page.png", png_bytes(lines_for(7), tmp_path / "page"), lines_for(7))
    first = Daemon(["--config", str(config)], tmp_path / "first.log", env={"OCRD_CRASH_AT": point}).start()
    first.wait_ready()
    drop(folders["inbox"], sample)
    assert first.process is not None
    assert first.process.wait(240) == -9, "the daemon killed itself at the crash point"

    second = Daemon(["--config", str(config)], tmp_path / "second.log").start().wait_ready()
    try:
        if fails:
            wait_until(lambda: failures(folders["failed"]).get(sample.name), timeout=240)
        else:
            wait_until(lambda: (folders["done"] / sample.name).exists(), timeout=240)
        wait_until(lambda: not list((folders["inbox"] / ".ocrd" / "processing").iterdir()), timeout=60)
    finally:
        assert second.stop() == 0
    if fails:
        (report,) = failures(folders["failed"])[sample.name]
        assert report["_original"] == sample.data and sidecars(folders["outbox"]) == {}
    else:
        (result,) = sidecars(folders["outbox"])[sample.name]
        assert normalize(sample.expected[1]) in normalize(result["_txt"])
        assert (folders["done"] / sample.name).read_bytes() == sample.data
        assert not (folders["inbox"] / sample.name).exists()
        assert list(folders["failed"].iterdir()) == [], "nothing failed for a kill"
    assert temp_files(tmp_path) == [], "no temporary file survives the kill and the restart"


def test_a_writer_that_pauses_longer_than_the_settle_time_gets_one_complete_result(tmp_path: Path) -> None:
    folders = inbox_folders(tmp_path)
    pages = [lines_for(21), [f"第{21:03d}号第2页", "Page 2 of 021"]]
    data = image_pdf_bytes(pages)
    daemon = Daemon(["--config", str(config_for(tmp_path, folders))], tmp_path / "daemon.log").start().wait_ready()
    try:
        # A scanner writing straight into the inbox under the final name, without a lock, that
        # stalls halfway (a slow network, a paper jam) for longer than the settle time.
        with (folders["inbox"] / "scan.pdf").open("wb") as writer:
            writer.write(data[: len(data) // 2])
            writer.flush()
            wait_until(lambda: daemon.events("file-still-being-written"), timeout=240)
            writer.write(data[len(data) // 2 :])
        wait_until(lambda: daemon.events("file"), timeout=240)
    finally:
        assert daemon.stop() == 0
    (outcome,) = daemon.events("file")
    assert outcome["outcome"] == "ok", outcome
    (result,) = sidecars(folders["outbox"])["scan.pdf"]
    assert len(result["pages"]) == 2 and normalize("Page 2 of 021") in normalize(result["_txt"])
    assert (folders["done"] / "scan.pdf").read_bytes() == data
    assert failures(folders["failed"]) == {}


def test_a_damaged_file_that_nobody_is_writing_is_failed(tmp_path: Path) -> None:
    folders = inbox_folders(tmp_path)
    whole = image_pdf_bytes([lines_for(22)])
    truncated = Sample("cut.pdf", whole[: len(whole) // 2], [], good=False)
    daemon = Daemon(["--config", str(config_for(tmp_path, folders))], tmp_path / "daemon.log").start().wait_ready()
    try:
        drop(folders["inbox"], truncated)
        wait_until(lambda: daemon.events("file"), timeout=240)
    finally:
        assert daemon.stop() == 0
    (report,) = failures(folders["failed"])["cut.pdf"]
    assert report["error"]["kind"] == "corrupt" and report["_original"] == truncated.data
    assert daemon.events("file-still-being-written") == []


def fetch(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_full_outbox_makes_the_daemon_not_ready_naming_inbox_and_folder(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    disk.mkdir()
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=512k", "tmpfs", str(disk)], check=False)
    if mounted.returncode != 0:
        pytest.fail("mounting a tmpfs is not permitted on this machine (the test runs as root in CI)")
    try:
        folders = inbox_folders(tmp_path)
        folders["outbox"] = disk / "outbox"
        port = free_port()
        config = config_for(tmp_path, folders, enabled=True, port=port)
        daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log").start().wait_ready()
        filler = disk / "filler.bin"
        try:
            assert fetch(port, "/readyz")[0] == 200
            fill_disk(filler)
            sample = Sample("page.png", png_bytes(lines_for(30), tmp_path / "page"), lines_for(30))
            drop(folders["inbox"], sample)
            wait_until(lambda: daemon.events("file-waiting"), timeout=240)
            status, body = fetch(port, "/readyz")
            health, _ = fetch(port, "/healthz")
            _, metrics = fetch(port, "/metrics")
            filler.unlink()
            wait_until(lambda: daemon.events("file"), timeout=240)
            wait_until(lambda: fetch(port, "/readyz")[0] == 200, timeout=60)
        finally:
            filler.unlink(missing_ok=True)
            assert daemon.stop() == 0
        assert status == 503 and health == 200
        message = json.loads(body)["msg"]
        assert "outbox:default" in message or "inbox" in message
        assert str(folders["outbox"]) in message and "No space left" in message, message
        waiting = daemon.events("file-waiting")[0]
        assert str(folders["outbox"]) in waiting["msg"], "the log names the folder too"
        assert any(line.startswith("ocrd_outbox_writable{") and line.endswith(" 0.0") for line in metrics.splitlines())
        (result,) = sidecars(folders["outbox"])["page.png"]
        assert normalize(lines_for(30)[1]) in normalize(result["_txt"])
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_a_disk_that_fills_between_two_result_files_keeps_no_temporary_file(tmp_path: Path) -> None:
    disk = tmp_path / "tiny"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(disk)], check=False).returncode:
        pytest.fail("mounting a tmpfs is not permitted on this machine (the test runs as root in CI)")
    try:
        with pytest.raises(OSError) as caught:
            place_group(disk, {"a.pdf.txt": b"text" * 100, "a.pdf.json": b"x" * 200_000})
        assert caught.value.filename == str(disk), "the error names the folder that is full"
        assert list(disk.iterdir()) == [], "neither the written nor the half-written temporary file is left"
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)
