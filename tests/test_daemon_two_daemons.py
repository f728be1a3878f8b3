"""Acceptance: two daemons on one inbox (as two hosts on one share would be) never process a file twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from tests.daemon_engines import Gate
from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    Sample,
    assert_exactly_once,
    drop,
    inbox_entry,
    inbox_folders,
    lines_for,
    png_bytes,
    text_pdf_bytes,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def test_two_daemons_share_one_inbox_without_duplicates(tmp_path: Path) -> None:
    batch = []
    for number in range(1, 41):
        if number % 2:
            batch.append(Sample(f"page{number:03d}.png", png_bytes(lines_for(number), tmp_path), lines_for(number)))
        else:  # text-layer PDFs are read in milliseconds: the daemons race hard for them
            batch.append(Sample(f"text{number:03d}.pdf", text_pdf_bytes(lines_for(number)), lines_for(number)))
    folders, gate = inbox_folders(tmp_path), Gate(tmp_path / "gate")
    held, rest = batch[0], batch[1:]
    gate.hold(held.name)
    daemons = []
    for host in ("host-a", "host-b"):
        config = write_config(
            tmp_path / f"{host}.toml",
            [inbox_entry(folders, settle=0.3)],
            daemon={**FAST_DAEMON, "workers": 1, "node_name": host},
            web={"enabled": False},
        )
        daemons.append(Daemon(["--config", str(config)], tmp_path / f"{host}.log", env=gate.env()).start())
    for daemon in daemons:
        daemon.wait_ready()
    try:
        # One daemon's only worker is held on the first file, so the other one certainly gets work.
        drop(folders["inbox"], held)
        pid = gate.wait_started(held.name)
        (holder,) = [daemon for daemon in daemons if pid in daemon.worker_pids()]
        (other,) = [daemon for daemon in daemons if daemon is not holder]
        for sample in rest:
            drop(folders["inbox"], sample)
        wait_until(lambda: other.events("file"), timeout=300)
        gate.release(held.name)
        wait_until(lambda: sum(len(d.events("file")) for d in daemons) >= len(batch), timeout=600, interval=0.3)
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0, 0]
    handled = Counter(event["file"] for daemon in daemons for event in daemon.events("file"))
    assert set(handled) == {sample.name for sample in batch}
    assert max(handled.values()) == 1, [name for name, count in handled.items() if count > 1]
    assert held.name in {event["file"] for event in holder.events("file")}
    assert all(daemon.events("file") for daemon in daemons), "both daemons did part of the work"
    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
