"""The watcher never looks into the daemon's own working folders, in either watch mode."""

from __future__ import annotations

import os
import queue
from pathlib import Path

import pytest

from ocrd.daemon.watch import FolderWatcher


@pytest.mark.parametrize("mode", ["native", "poll"])
def test_a_recursive_watch_skips_the_state_folder_but_sees_new_subfolders(tmp_path: Path, mode: str) -> None:
    inbox = tmp_path / "inbox"
    (inbox / ".ocrd" / "processing").mkdir(parents=True)
    (inbox / "dept").mkdir(parents=True)
    seen: queue.Queue[str] = queue.Queue()
    watcher = FolderWatcher(
        str(inbox),
        mode=mode,
        recursive=True,
        poll_interval=0.1,
        on_path=seen.put,
        skip=lambda folder: os.path.basename(folder) == ".ocrd",
    )
    assert watcher.start() == mode
    try:
        # A claim folder appears and fills while a file lands in a subfolder, then in a new one.
        claim = inbox / ".ocrd" / "processing" / "host.1.abc.1" / "f"
        claim.mkdir(parents=True)
        (claim / "scan.pdf").write_bytes(b"claimed")
        (inbox / "dept" / "a.pdf").write_bytes(b"a")
        paths: list[str] = []
        while not any(path.endswith("a.pdf") for path in paths):
            paths.append(seen.get(timeout=60))
        (inbox / "new").mkdir()
        while not any(path.endswith("new") for path in paths):
            paths.append(seen.get(timeout=60))
        (inbox / "new" / "b.pdf").write_bytes(b"b")
        while not any(path.endswith("b.pdf") for path in paths):
            paths.append(seen.get(timeout=60))
    finally:
        watcher.stop()
    assert not [path for path in paths if "/.ocrd" in path], paths
