"""Acceptance: two daemons on one inbox (as two hosts on one share would be) never process a file twice."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

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
    folders = inbox_folders(tmp_path)
    daemons = []
    for host in ("host-a", "host-b"):
        config = write_config(
            tmp_path / f"{host}.toml",
            [inbox_entry(folders, settle=0.3)],
            daemon={**FAST_DAEMON, "workers": 1, "node_name": host},
            web={"enabled": False},
        )
        daemons.append(Daemon(["--config", str(config)], tmp_path / f"{host}.log").start())
    for daemon in daemons:
        daemon.wait_ready()
    try:
        for sample in batch:
            drop(folders["inbox"], sample)
        wait_until(lambda: sum(len(d.events("file")) for d in daemons) >= len(batch), timeout=180, interval=0.3)
    finally:
        codes = [daemon.stop() for daemon in daemons]
    assert codes == [0, 0]
    handled = Counter(event["file"] for daemon in daemons for event in daemon.events("file"))
    assert set(handled) == {sample.name for sample in batch}
    assert max(handled.values()) == 1, [name for name, count in handled.items() if count > 1]
    assert all(daemon.events("file") for daemon in daemons), "both daemons did part of the work"
    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
