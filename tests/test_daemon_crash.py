"""Acceptance: kill -9 of the daemon (and of a worker) mid-batch, restart, repeat: exactly one result each."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest

from tests.daemon_engines import Gate
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
        if number % 5 == 0:  # longer jobs, so kills often land while the other worker is busy too
            pages = [lines, *([[f"续页{number:03d}第{page}页", f"Page {page}"] for page in range(2, 5)])]
            items.append(Sample(f"long{number:03d}.pdf", image_pdf_bytes(pages), lines))
        else:
            workdir.mkdir(parents=True, exist_ok=True)
            items.append(Sample(f"page{number:03d}.png", png_bytes(lines, workdir), lines))
    items.append(Sample("damaged.pdf", image_pdf_bytes([lines_for(99)])[:400], [], good=False))
    items.append(Sample("empty.png", b"", [], good=False))
    return items


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat").read_text()
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def test_kill_9_cycles_leave_exactly_one_result_per_file(tmp_path: Path) -> None:
    batch = crash_batch(tmp_path / "generated")
    # Held at the gate in every run but the last: each kill lands while a worker is in the middle of it.
    held, rest = batch[0], batch[1:]
    folders, gate = inbox_folders(tmp_path), Gate(tmp_path / "gate")
    gate.hold(held.name)
    config = write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.3)],
        # The held file is hit by every kill; it must not be failed for our violence, so allow more tries.
        daemon={**FAST_DAEMON, "max_attempts": 6},
        web={"enabled": False},
    )

    def finished() -> int:
        return len(list(folders["outbox"].glob("*.json"))) + len(list(folders["failed"].glob("*.error.json")))

    log = tmp_path / "daemon.log"
    reads = 0  # times the held file has reached the gate
    for cycle in range(3):
        daemon = Daemon(["--config", str(config)], log, env=gate.env()).start().wait_ready()
        workers = daemon.worker_pids()
        assert len(workers) == 2
        if cycle == 0:
            drop(folders["inbox"], held)  # first and alone: one worker takes it, the other does the rest
        reads += 1  # in later runs: the claim the killed run left behind, recovered and read again
        gate.wait_started(held.name, count=reads)
        if cycle == 0:
            for sample in rest:
                drop(folders["inbox"], sample)
        target = min(len(rest) - 2, finished() + 4)
        wait_until(lambda: finished() >= target, timeout=300, interval=0.05)  # noqa: B023
        if cycle == 1:
            # A worker dies mid-file: the daemon lives on, replaces it and retries the file.
            os.kill(gate.starts(held.name)[-1], signal.SIGKILL)
            wait_until(lambda: daemon.events("worker-crashed"), timeout=60)  # noqa: B023
            reads += 1
            gate.wait_started(held.name, count=reads)
            wait_until(lambda: len(daemon.worker_pids()) == 2, timeout=300)  # noqa: B023
            workers = daemon.worker_pids()
        daemon.kill9()
        # Workers die with their supervisor instead of running on as orphans.
        wait_until(lambda: not any(alive(pid) for pid in workers), timeout=60)  # noqa: B023
    assert daemon.events("file-handed-back") == [] and held.name not in {e["file"] for e in daemon.events("file")}

    gate.release(held.name)
    daemon = Daemon(["--config", str(config)], log, env=gate.env()).start().wait_ready()
    try:
        wait_until(lambda: finished() >= len(batch), timeout=600, interval=0.2)
        wait_until(lambda: not [p for p in (folders["inbox"] / ".ocrd" / "processing").iterdir()], timeout=60)
    finally:
        assert daemon.stop() == 0

    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
    results = sidecars(folders["outbox"])
    for sample in batch:
        if sample.good:
            (result,) = results[sample.name]
            assert all(normalize(line) in normalize(result["_txt"]) for line in sample.expected), sample.name
    recovered = [event["file"] for event in daemon.events("claim-recovered")]
    assert recovered.count(held.name) == 3, "each killed run left the held file claimed; the next run took it over"
    assert [event["file"] for event in daemon.events("worker-crashed")] == [held.name]
    assert [event["outcome"] for event in daemon.events("file") if event["file"] == held.name] == ["ok"]
