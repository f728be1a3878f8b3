"""Acceptance: kill -9 of the daemon (and of a worker) mid-batch, restart, repeat: exactly one result each."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    Sample,
    assert_exactly_once,
    drop,
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


def crash_batch(workdir: Path) -> list[Sample]:
    items = []
    for number in range(1, 21):
        lines = lines_for(number)
        if number % 5 == 0:  # longer jobs, so kills often land while a worker is busy
            pages = [lines, *([[f"续页{number:03d}第{page}页", f"Page {page}"] for page in range(2, 5)])]
            items.append(Sample(f"long{number:03d}.pdf", image_pdf_bytes(pages), lines))
        else:
            workdir.mkdir(parents=True, exist_ok=True)
            items.append(Sample(f"page{number:03d}.png", png_bytes(lines, workdir), lines))
    items.append(Sample("damaged.pdf", image_pdf_bytes([lines_for(99)])[:400], [], good=False))
    items.append(Sample("empty.png", b"", [], good=False))
    return items


def cpu_ticks(pid: int) -> int:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0
    return int(fields[11]) + int(fields[12])


def kill_a_busy_worker(daemon: Daemon) -> None:
    """SIGKILL a worker while it reads a file (the one burning CPU), as the OOM killer would."""
    for _ in range(5):
        before = len(daemon.events("worker-crashed"))
        pids = daemon.worker_pids()
        start = {pid: cpu_ticks(pid) for pid in pids}
        time.sleep(0.3)
        busiest = max(pids, key=lambda pid: cpu_ticks(pid) - start[pid])
        os.kill(busiest, signal.SIGKILL)
        try:
            wait_until(lambda: len(daemon.events("worker-crashed")) > before, timeout=5)  # noqa: B023
            return
        except AssertionError:  # it had just finished its file: idle when killed; try again
            wait_until(lambda: len(daemon.worker_pids()) == 2, timeout=60)
    raise AssertionError("could not catch a worker in the middle of a file")


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_kill_9_cycles_leave_exactly_one_result_per_file(tmp_path: Path) -> None:
    batch = crash_batch(tmp_path / "generated")
    folders = inbox_folders(tmp_path)
    config = write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.3)],
        # Several kills may hit the same file; it must not be failed for our violence, so allow more tries.
        daemon={**FAST_DAEMON, "max_attempts": 6},
        web={"enabled": False},
    )
    for sample in batch:
        drop(folders["inbox"], sample)

    def finished() -> int:
        return len(list(folders["outbox"].glob("*.json"))) + len(list(folders["failed"].glob("*.error.json")))

    log = tmp_path / "daemon.log"
    orphans_checked = 0
    for cycle in range(3):
        daemon = Daemon(["--config", str(config)], log).start().wait_ready()
        workers = daemon.worker_pids()
        assert len(workers) == 2
        target = min(len(batch) - 2, finished() + 4)
        wait_until(lambda: finished() >= target, timeout=120, interval=0.05)  # noqa: B023
        if cycle == 1:
            # A worker dies mid-file: the daemon lives on, replaces it and retries the file.
            kill_a_busy_worker(daemon)
            wait_until(lambda: len(daemon.worker_pids()) == 2, timeout=60)  # noqa: B023
            workers = daemon.worker_pids()
        daemon.kill9()
        # Workers die with their supervisor instead of running on as orphans.
        wait_until(lambda: not any(alive(pid) for pid in workers), timeout=10)  # noqa: B023
        orphans_checked += 1

    daemon = Daemon(["--config", str(config)], log).start().wait_ready()
    try:
        wait_until(lambda: finished() >= len(batch), timeout=180, interval=0.2)
        wait_until(lambda: not [p for p in (folders["inbox"] / ".ocrd" / "processing").iterdir()], timeout=30)
    finally:
        assert daemon.stop() == 0
    assert orphans_checked == 3

    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
    results = sidecars(folders["outbox"])
    for sample in batch:
        if sample.good:
            (result,) = results[sample.name]
            assert all(normalize(line) in normalize(result["_txt"]) for line in sample.expected), sample.name
    recovered = daemon.events("claim-recovered")
    assert recovered, "files left in processing by the killed runs were recovered"
    assert daemon.events("worker-crashed")
