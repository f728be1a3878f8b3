"""Per-inbox behaviour: recursion mirrored, keep/delete originals, duplicates reused, language, a recreated inbox.

One supervisor with the real engine serves all these inboxes (starting one costs seconds); it runs
in a background thread with its own event loop, and each test works on its own inbox folder.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ocrd.config import Config, DaemonSettings, EngineSettings, InboxSettings, WebSettings
from ocrd.daemon.claims import Owner, ProcessingArea
from ocrd.daemon.supervisor import Supervisor
from ocrd.daemon.watch import choose_mode, filesystem_type, is_network_filesystem
from tests.daemon_support import lines_for, normalize, png_bytes, sidecars, text_pdf_bytes, wait_until

CJK = re.compile(r"[\u4e00-\u9fff]")


class Running:
    """A started Supervisor on an event loop in a background thread."""

    def __init__(self, config: Config) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="supervisor-loop", daemon=True)
        self.thread.start()

        async def start() -> Supervisor:
            supervisor = Supervisor(config)
            await supervisor.start()
            return supervisor

        self.supervisor = self.call(start(), timeout=180)

    def call(self, coroutine: Any, timeout: float = 60) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    def count(self, inbox: str, outcome: str = "ok") -> int:
        return self.supervisor.counts.get(inbox, {}).get(outcome, 0)

    def close(self) -> None:
        self.call(self.supervisor.stop(), timeout=120)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def inbox(root: Path, name: str, **changes: Any) -> InboxSettings:
    (root / name).mkdir(parents=True, exist_ok=True)
    values = {
        "name": name,
        "path": str(root / name),
        "outbox": str(root / f"{name}-out"),
        "done": str(root / f"{name}-done"),
        "failed": str(root / f"{name}-failed"),
        "settle": 0.2,
        **changes,
    }
    return InboxSettings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    root = tmp_path_factory.mktemp("inbox-modes")
    config = Config(
        daemon=DaemonSettings(workers=2, threads_per_worker=1, rescan_interval=0.5, retry_backoff_max=1.0),
        engine=EngineSettings(),
        web=WebSettings(enabled=False),
        inboxes=(
            inbox(root, "tree", recursive=True),
            inbox(root, "kept", on_success="keep"),
            inbox(root, "deleted", on_success="delete"),
            inbox(root, "dedupe", dedupe=True),
            inbox(root, "english", lang="en"),
            inbox(root, "volatile"),
        ),
    )
    running = Running(config)
    yield running
    running.close()


def settings_of(daemon: Running, name: str) -> InboxSettings:
    return next(s for s in daemon.supervisor.config.inboxes if s.name == name)


def test_recursive_inbox_is_mirrored_in_outbox_done_and_failed(daemon: Running) -> None:
    settings = settings_of(daemon, "tree")
    root = Path(settings.path)
    (root / "2026" / "11").mkdir(parents=True)
    (root / "2026" / "11" / "发票.pdf").write_bytes(text_pdf_bytes(lines_for(1)))
    (root / "2026" / "broken.pdf").write_bytes(b"%PDF-1.7\nnothing else")
    (root / "top.pdf").write_bytes(text_pdf_bytes(lines_for(2)))
    # A whole folder moved in at once brings no event per file: it must still be found quickly.
    staging = root.parent / "staging-dept"
    (staging / "sub").mkdir(parents=True)
    (staging / "sub" / "memo.pdf").write_bytes(text_pdf_bytes(lines_for(3)))
    staging.rename(root / "dept")
    wait_until(lambda: daemon.count("tree") + daemon.count("tree", "failed") == 4, timeout=120)
    outbox, done, failed = Path(settings.outbox), Path(settings.done), Path(settings.failed)
    assert (outbox / "2026" / "11" / "发票.pdf.json").exists() and (outbox / "2026" / "11" / "发票.pdf.txt").exists()
    assert json.loads((outbox / "2026" / "11" / "发票.pdf.json").read_text())["source"] == "2026/11/发票.pdf"
    assert (outbox / "dept" / "sub" / "memo.pdf.json").exists()
    assert (done / "2026" / "11" / "发票.pdf").exists() and (done / "top.pdf").exists()
    assert (failed / "2026" / "broken.pdf").exists() and (failed / "2026" / "broken.pdf.error.json").exists()


def after_a_rescan(settings: InboxSettings, marker: str) -> None:
    """Return once the inbox has been rescanned in full after this call.

    A claim left by a process that is gone is taken over only by a full rescan, so one planted now
    (as an earlier process with our pid would have left it) is finished only after the next rescan.
    It is made aside and moved in whole, so that no watcher event can announce it.
    """
    staging = Path(settings.path).parent / f"{settings.name}-staging"
    staging.mkdir(exist_ok=True)
    (staging / marker).write_bytes(text_pdf_bytes([f"Rescan marker {marker}"]))
    me = Owner.current()
    gone = ProcessingArea(staging, Owner(me.node, me.pid, "0" * 8))
    gone.ensure()
    claim = gone.claim(marker)
    assert claim is not None
    claim.save()
    os.rename(claim.folder, ProcessingArea(settings.path, me).root / claim.folder.name)
    wait_until(lambda: marker in sidecars(Path(settings.outbox)), timeout=120)


def test_keep_leaves_originals_in_place_and_reads_them_once(daemon: Running) -> None:
    settings = settings_of(daemon, "kept")
    original = Path(settings.path) / "a.pdf"

    def readings() -> list[dict[str, Any]]:
        return sidecars(Path(settings.outbox)).get("a.pdf", [])

    original.write_bytes(text_pdf_bytes(lines_for(3)))
    wait_until(lambda: len(readings()) == 1, timeout=120)
    for number in (1, 2):  # rescans see the kept file again
        after_a_rescan(settings, f"marker-{number}.pdf")
    assert len(readings()) == 1
    original.write_bytes(text_pdf_bytes(lines_for(4)))  # changed content: a new document
    wait_until(lambda: len(readings()) == 2, timeout=120)
    after_a_rescan(settings, "marker-3.pdf")
    assert len(readings()) == 2 and original.exists()
    assert not Path(settings.done).exists() or not any(Path(settings.done).iterdir())
    results = sidecars(Path(settings.outbox))["a.pdf"]
    texts = sorted(normalize(result["_txt"]) for result in results)
    assert texts == sorted(normalize("\n".join(lines_for(n))) for n in (3, 4))


def test_delete_removes_originals_once_results_exist(daemon: Running) -> None:
    settings = settings_of(daemon, "deleted")
    (Path(settings.path) / "a.pdf").write_bytes(text_pdf_bytes(lines_for(5)))
    wait_until(lambda: daemon.count("deleted") == 1, timeout=120)
    assert [p.name for p in Path(settings.path).iterdir()] == [".ocrd"]
    assert set(sidecars(Path(settings.outbox))) == {"a.pdf"}
    assert not Path(settings.done).exists()


def test_the_same_bytes_dropped_twice_reuse_the_earlier_result(daemon: Running, tmp_path: Path) -> None:
    settings = settings_of(daemon, "dedupe")
    data = png_bytes(lines_for(6), tmp_path)
    (Path(settings.path) / "first.png").write_bytes(data)
    wait_until(lambda: daemon.count("dedupe") == 1, timeout=120)
    (Path(settings.path) / "again.png").write_bytes(data)
    wait_until(lambda: daemon.count("dedupe", "reused") == 1, timeout=120)
    results = sidecars(Path(settings.outbox))
    (first,), (again,) = results["first.png"], results["again.png"]
    assert again["sha256"] == first["sha256"] and again["_txt"] == first["_txt"]
    assert normalize(lines_for(6)[0]) in normalize(again["_txt"])
    reused = [entry for entry in daemon.supervisor.recent if entry["outcome"] == "reused"]
    assert reused[0]["source"] == "again.png"
    assert (Path(settings.done) / "again.png").read_bytes() == data


def test_each_inbox_reads_in_its_own_language(daemon: Running, tmp_path: Path) -> None:
    page = png_bytes(["中文发票抬头", "Invoice 2024 total 88"], tmp_path)
    (Path(settings_of(daemon, "english").path) / "page.png").write_bytes(page)
    (Path(settings_of(daemon, "deleted").path) / "page.png").write_bytes(page)  # [engine] lang = zh
    wait_until(lambda: daemon.count("english") == 1 and daemon.count("deleted") >= 2, timeout=120)
    english = sidecars(Path(settings_of(daemon, "english").outbox))["page.png"][0]["_txt"]
    chinese = sidecars(Path(settings_of(daemon, "deleted").outbox))["page.png"][0]["_txt"]
    assert "Invoice 2024" in english and not CJK.search(english)
    assert "中文发票抬头" in chinese and "Invoice 2024" in chinese


def test_an_inbox_that_is_removed_and_recreated_is_watched_again(daemon: Running) -> None:
    settings = settings_of(daemon, "volatile")
    root = Path(settings.path)

    def available() -> bool:
        return next(i for i in daemon.supervisor.status()["inboxes"] if i["name"] == "volatile")["available"]

    shutil.rmtree(root)
    wait_until(lambda: not available(), timeout=120)
    root.mkdir()
    wait_until(available, timeout=120)
    (root / "after.pdf").write_bytes(text_pdf_bytes(lines_for(7)))
    wait_until(lambda: daemon.count("volatile") == 1, timeout=120)
    assert set(sidecars(Path(settings.outbox))) == {"after.pdf"}
    registry = daemon.supervisor.metrics.registry
    assert registry.get_sample_value("ocrd_inbox_available", {"inbox": "volatile"}) == 1


def test_network_file_systems_are_polled_automatically(tmp_path: Path) -> None:
    mountinfo = tmp_path / "mountinfo"
    mountinfo.write_text(
        "22 1 8:1 / / rw,relatime - ext4 /dev/sda1 rw\n"
        "40 22 0:50 / /mnt/finance rw,relatime - nfs4 files:/export rw,vers=4.2\n"
        "41 22 0:51 / /mnt/scan\\040share rw,relatime - cifs //nas/scans rw\n"
        "42 22 0:52 / /home/user/remote rw - fuse.sshfs user@host: rw\n"
    )
    assert filesystem_type("/mnt/finance/inbox/2026", str(mountinfo)) == "nfs4"
    assert filesystem_type("/mnt/scan share/in", str(mountinfo)) == "cifs"
    assert filesystem_type("/mnt/financial", str(mountinfo)) == "ext4", "a prefix of a name is not a parent"
    assert all(is_network_filesystem(t) for t in ("nfs4", "cifs", "fuse.sshfs", "smb3"))
    assert not any(is_network_filesystem(t) for t in ("ext4", "xfs", "btrfs", "tmpfs", "overlay", None))
    assert choose_mode("auto", str(tmp_path))[0] == "native"  # this disk is local
    assert choose_mode("poll", str(tmp_path))[0] == "poll"
