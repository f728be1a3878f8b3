"""Acceptance: the outbox becomes unwritable (read-only, full, unmounted) and comes back; files wait, then complete.

The tests run as root in CI, and root ignores permission bits, so "read-only" is made real with the
first method this machine allows: ``chattr +i`` (the immutable attribute stops root too; needs
CAP_LINUX_IMMUTABLE), a read-only bind mount (needs CAP_SYS_ADMIN), or running the daemon as an
unprivileged user with ``setpriv`` and taking the write bit away (works with Docker's default
capabilities). OCRD_TEST_READONLY=chattr|bind|setpriv forces one. Disk full is a tiny tmpfs filled
to the brim; an unmounted share is a tmpfs that is unmounted and mounted again. A test skips
(saying why) only when the machine forbids every method.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.daemon_support import (
    FAST_DAEMON,
    REPO,
    Daemon,
    Sample,
    assert_exactly_once,
    drop,
    fill_disk,
    inbox_entry,
    lines_for,
    png_bytes,
    sidecars,
    text_pdf_bytes,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def run(*command: str) -> bool:
    return subprocess.run(command, capture_output=True).returncode == 0


def make_batch(workdir: Path) -> list[Sample]:
    return [
        Sample("scan-1.png", png_bytes(lines_for(1), workdir), lines_for(1)),
        Sample("letter-2.pdf", text_pdf_bytes(lines_for(2)), lines_for(2)),
        Sample("scan-3.png", png_bytes(lines_for(3), workdir), lines_for(3)),
    ]


def outage_round(
    tmp_path: Path,
    folders: dict[str, Path],
    break_it: Callable[[], None],
    fix_it: Callable[[], None],
    prefix: list[str] | None = None,
) -> Daemon:
    """Start a daemon, break the outbox, drop files, see them wait safely, fix it, see them complete."""
    batch = make_batch(tmp_path / "generated")
    config = write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.3)],
        daemon=FAST_DAEMON,
        web={"enabled": False},
    )
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log", prefix=prefix or []).start().wait_ready()
    try:
        break_it()
        for sample in batch:
            drop(folders["inbox"], sample)
        wait_until(lambda: daemon.events("file-waiting"), timeout=300)
        wait_until(
            lambda: len(daemon.events("file-waiting")) >= 2 or len(daemon.events("inbox-paused")) >= 1, timeout=300
        )
        assert daemon.events("file") == [], "nothing finished while the outbox was unusable"
        claimed = [
            p for p in (folders["inbox"] / ".ocrd" / "processing").rglob("*") if p.is_file() and p.parent.name != ""
        ]
        originals = [p for p in claimed if p.name in {s.name for s in batch}]
        inbox_left = [p for p in folders["inbox"].iterdir() if p.name != ".ocrd"]
        assert len(originals) + len(inbox_left) == len(batch), "every original is still safe in the inbox"
        assert not any(folders["done"].iterdir())
        warning = daemon.events("file-waiting")[0]
        assert warning["level"] == "warning" and "original stays safe" in warning["msg"]
        fix_it()
        wait_until(lambda: len(daemon.events("file")) >= len(batch), timeout=300, interval=0.2)
    finally:
        fix_it()
        assert daemon.stop() == 0
    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
    assert set(sidecars(folders["outbox"])) == {sample.name for sample in batch}
    return daemon


def folders_for(tmp_path: Path, outbox: Path | None = None) -> dict[str, Path]:
    folders = {name: tmp_path / name for name in ("inbox", "outbox", "done", "failed")}
    if outbox is not None:
        folders["outbox"] = outbox
    folders["inbox"].mkdir(exist_ok=True)
    return folders


@dataclass
class ReadOnlyMethod:
    name: str
    base: Path  # where the test folders live
    prefix: list[str]  # how the daemon is started
    make_read_only: Callable[[Path], None]
    make_writable: Callable[[Path], None]


UNPRIVILEGED = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]


def unprivileged_python_works() -> bool:
    """Can user 'nobody' run this very Python with ocrd and the engine importable?"""
    probe = "import sys, onnxruntime, ocrd.daemon.worker; print(sys.base_prefix)"
    result = subprocess.run(
        [*UNPRIVILEGED, sys.executable, "-c", probe],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    return result.returncode == 0 and result.stdout.strip() == sys.base_prefix


@contextmanager
def read_only_method(tmp_path: Path) -> Iterator[ReadOnlyMethod]:
    """The first way to make a folder read-only for the daemon that this machine permits."""
    wanted = os.environ.get("OCRD_TEST_READONLY")
    probe = tmp_path / "probe"
    probe.mkdir()
    if wanted in (None, "chattr") and run("chattr", "+i", str(probe)) and run("chattr", "-i", str(probe)):

        def immutable(folder: Path) -> None:
            assert run("chattr", "+i", str(folder)), "chattr +i failed"

        yield ReadOnlyMethod("chattr +i", tmp_path, [], immutable, lambda folder: run("chattr", "-i", str(folder)))
        return
    if wanted in (None, "bind") and run("mount", "--bind", str(probe), str(probe)):
        run("umount", str(probe))

        def bind_read_only(folder: Path) -> None:
            run("mount", "--bind", str(folder), str(folder))
            run("mount", "-o", "remount,bind,ro", str(folder))

        def unbind(folder: Path) -> None:
            while run("umount", str(folder)):
                pass

        yield ReadOnlyMethod("read-only bind mount", tmp_path, [], bind_read_only, unbind)
        return
    if wanted in (None, "setpriv") and unprivileged_python_works():
        base = Path(tempfile.mkdtemp(prefix="ocrd-readonly-"))  # pytest's tmp is private to root
        base.chmod(0o777)
        try:
            yield ReadOnlyMethod(
                "unprivileged daemon, write bit removed",
                base,
                UNPRIVILEGED,
                lambda folder: folder.chmod(0o555),
                lambda folder: folder.chmod(0o777),
            )
        finally:
            shutil.rmtree(base, ignore_errors=True)
        return
    tried = [name for name in ("chattr", "bind", "setpriv") if wanted in (None, name)]
    pytest.fail(
        f"no permitted way to make a folder read-only for root here (tried: {', '.join(tried)}; chattr needs "
        "CAP_LINUX_IMMUTABLE, bind mounts CAP_SYS_ADMIN, setpriv a Python installation 'nobody' can run)"
    )


def test_read_only_outbox_then_writable_again(tmp_path: Path) -> None:
    with read_only_method(tmp_path) as method:
        folders = folders_for(method.base)
        for folder in folders.values():
            folder.mkdir(exist_ok=True)
            folder.chmod(0o777)
        outbox = folders["outbox"]
        try:
            daemon = outage_round(
                method.base,
                folders,
                lambda: method.make_read_only(outbox),
                lambda: method.make_writable(outbox),
                prefix=method.prefix,
            )
        finally:
            method.make_writable(outbox)
    waiting = daemon.events("file-waiting")
    assert any(word in e["msg"] for e in waiting for word in ("not permitted", "Read-only", "Permission denied"))
    assert daemon.events("inbox-resumed"), "claiming resumed by itself"


def tmpfs(folder: Path, size: str) -> bool:
    folder.mkdir(parents=True, exist_ok=True)
    return run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder))


def test_full_disk_then_space_again(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    if not tmpfs(disk, "512k"):
        pytest.fail("mounting a tmpfs is not permitted on this machine")
    try:
        folders = folders_for(tmp_path, outbox=disk / "outbox")
        filler = disk / "filler.bin"
        daemon = outage_round(tmp_path, folders, lambda: fill_disk(filler), lambda: filler.unlink(missing_ok=True))
        assert any("No space left" in event["msg"] for event in daemon.events("file-waiting"))
    finally:
        run("umount", "-l", str(disk))


def test_share_unmounted_then_back(tmp_path: Path) -> None:
    share = tmp_path / "share"
    if not tmpfs(share, "4m"):
        pytest.fail("mounting a tmpfs is not permitted on this machine")
    try:
        folders = folders_for(tmp_path, outbox=share / "text")
        state = {"mounted": True}

        def unmount() -> None:
            run("umount", str(share))
            state["mounted"] = False

        def mount_again() -> None:
            if not state["mounted"]:
                state["mounted"] = tmpfs(share, "4m")

        daemon = outage_round(tmp_path, folders, unmount, mount_again)
        assert any("unmounted" in event["msg"] for event in daemon.events("file-waiting"))
    finally:
        run("umount", "-l", str(share))
