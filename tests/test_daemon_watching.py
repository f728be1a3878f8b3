"""Acceptance: half-written files are never taken, in inotify and in (forced) polling mode."""

from __future__ import annotations

import fcntl
import time
from pathlib import Path

import pytest

from tests.daemon_engines import Gate
from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    image_pdf_bytes,
    inbox_entry,
    inbox_folders,
    lines_for,
    normalize,
    sha256,
    sidecars,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def start_daemon(tmp_path: Path, watch: str, settle: float, gate: Gate) -> tuple[Daemon, dict[str, Path]]:
    folders = inbox_folders(tmp_path)
    config = write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=settle, watch=watch, poll_interval=0.5)],
        # Rescans only every hour: after the start scan, new files must be found by the watcher itself.
        daemon={**FAST_DAEMON, "rescan_interval": 3600.0, "stale_claim_after": 36000.0},
        web={"enabled": False},
    )
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log", env=gate.env())
    return daemon.start().wait_ready(), folders


def write_slowly(path: Path, data: bytes, chunks: int, pause: float, *, lock: bool = False) -> None:
    size = -(-len(data) // chunks)
    with path.open("wb") as handle:
        if lock:
            fcntl.flock(handle, fcntl.LOCK_EX)  # as scanners and copy tools on SMB shares do
        for start in range(0, len(data), size):
            handle.write(data[start : start + size])
            handle.flush()
            time.sleep(pause)


@pytest.mark.parametrize("watch", ["native", "poll"])
def test_half_written_files_are_never_taken(tmp_path: Path, watch: str) -> None:
    """A slow writer, and names that say "not finished": each file is read once, complete."""
    pages = [lines_for(7), lines_for(8), lines_for(9)]
    data = image_pdf_bytes(pages)
    partial = image_pdf_bytes([lines_for(31)])
    gate = Gate(tmp_path / "gate")
    gate.hold("slow-scan.pdf")  # so that "nothing else finished" can be checked while it is held
    daemon, folders = start_daemon(tmp_path, watch, settle=2.0, gate=gate)
    inbox = folders["inbox"]
    try:
        assert daemon.events("inbox-watching")[0]["mode"] == watch
        (inbox / "upload.pdf.part").write_bytes(partial)
        (inbox / ".scanner-temp.pdf").write_bytes(partial)
        (inbox / "~$locked.pdf").write_bytes(partial)
        # 4 s of writing, longer than the settle time; a chunk every 0.4 s, well within it
        write_slowly(inbox / "slow-scan.pdf", data, chunks=10, pause=0.4)
        gate.wait_started("slow-scan.pdf")
        assert daemon.events("file") == [], "nothing taken while the names say 'not finished'"
        (inbox / "upload.pdf.part").rename(inbox / "upload.pdf")
        gate.release("slow-scan.pdf")
        wait_until(lambda: len(daemon.events("file")) >= 2, timeout=300)
    finally:
        assert daemon.stop() == 0
    results = sidecars(folders["outbox"])
    (slow,) = results["slow-scan.pdf"]
    assert slow["sha256"] == sha256(data), "the complete file was read, not a prefix of it"
    assert len(slow["pages"]) == 3
    assert all(normalize(line) in normalize(slow["_txt"]) for page in pages for line in page)
    assert set(results) == {"slow-scan.pdf", "upload.pdf"} and len(results["upload.pdf"]) == 1
    assert [event["outcome"] for event in daemon.events("file")] == ["ok", "ok"]
    assert list(folders["failed"].iterdir()) == []
    assert sorted(p.name for p in inbox.iterdir()) == [".ocrd", ".scanner-temp.pdf", "~$locked.pdf"]


def test_a_locked_file_waits_even_through_long_pauses(tmp_path: Path) -> None:
    data = image_pdf_bytes([lines_for(21), lines_for(22)])
    daemon, folders = start_daemon(tmp_path, "native", settle=0.5, gate=Gate(tmp_path / "gate"))
    try:
        # Pauses four times the settle time: only the writer's lock says the file is not done.
        write_slowly(folders["inbox"] / "locked.pdf", data, chunks=3, pause=2.0, lock=True)
        wait_until(lambda: daemon.events("file"), timeout=300)
    finally:
        assert daemon.stop() == 0
    (result,) = sidecars(folders["outbox"])["locked.pdf"]
    assert result["sha256"] == sha256(data) and len(result["pages"]) == 2
    assert len(daemon.events("file")) == 1
