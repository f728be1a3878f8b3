"""Searchable PDFs from the daemon: written beside the JSON and TXT for inboxes that ask for them.

A real daemon with the real engine and the real PDF writer; the PDFs it writes are checked with
poppler's pdftotext and pdfinfo, as a person's viewer would read them.
"""

from __future__ import annotations

import json
import subprocess
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    Sample,
    drop,
    failures,
    files_under,
    fill_disk,
    free_port,
    image_pdf_bytes,
    inbox_entry,
    inbox_folders,
    lines_for,
    normalize,
    png_bytes,
    sha256,
    sidecars,
    wait_until,
    write_config,
)
from tests.pdf_support import assert_searchable, signed_pdf_bytes

pytestmark = pytest.mark.slow

WITH_PDF = ["json", "txt", "pdf"]


def in_outbox(outbox: Path) -> list[str]:
    return sorted(path.relative_to(outbox).as_posix() for path in files_under(outbox))


class Setup:
    def __init__(self, root: Path) -> None:
        self.root = root
        for name in ("archive", "plain", "again"):
            (root / name).mkdir()
        self.archive = inbox_folders(root / "archive")
        self.plain = inbox_folders(root / "plain")
        self.again = inbox_folders(root / "again")
        config = write_config(
            root / "ocrd.toml",
            [
                {"name": "archive", **inbox_entry(self.archive, settle=0.3, outputs=WITH_PDF)},
                {"name": "plain", **inbox_entry(self.plain, settle=0.3)},
                {"name": "again", **inbox_entry(self.again, settle=0.3, outputs=WITH_PDF, dedupe=True)},
            ],
            daemon=FAST_DAEMON,
            web={"enabled": False},
        )
        self.daemon = Daemon(["--config", str(config)], root / "daemon.log")

    def finished(self, inbox: str, count: int) -> list[dict[str, Any]]:
        def done() -> list[dict[str, Any]]:
            found = [item for item in self.daemon.events("file") if item.get("inbox") == inbox]
            return found if len(found) >= count else []

        return wait_until(done, timeout=300)


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Setup]:
    running = Setup(tmp_path_factory.mktemp("pdf-daemon"))
    running.daemon.start().wait_ready()
    try:
        yield running
    finally:
        assert running.daemon.stop() == 0


def test_an_inbox_with_pdf_writes_a_searchable_pdf_beside_json_and_txt(setup: Setup, tmp_path: Path) -> None:
    folders = setup.archive
    scan = Sample("scan.png", png_bytes(lines_for(1), tmp_path / "a"), lines_for(1))
    pages = [lines_for(2), lines_for(3)]
    scanned = Sample("contract.pdf", image_pdf_bytes(pages), [*pages[0], *pages[1]])
    drop(folders["inbox"], scan)
    drop(folders["inbox"], scanned)
    setup.finished("archive", 2)
    # The same name again, other content: the next number, for all three files together.
    second = Sample("scan.png", png_bytes(lines_for(4), tmp_path / "b"), lines_for(4))
    drop(folders["inbox"], second)
    setup.finished("archive", 3)

    outbox = folders["outbox"]
    assert in_outbox(outbox) == [
        "contract.pdf.json",
        "contract.pdf.pdf",
        "contract.pdf.txt",
        "scan.png.2.json",
        "scan.png.2.pdf",
        "scan.png.2.txt",
        "scan.png.json",
        "scan.png.pdf",
        "scan.png.txt",
    ]
    assert_searchable(outbox / "scan.png.pdf", scan.expected, pages=1)
    assert_searchable(outbox / "scan.png.2.pdf", second.expected, pages=1)
    assert_searchable(outbox / "contract.pdf.pdf", scanned.expected, pages=2)
    assert json.loads((outbox / "scan.png.2.json").read_text())["sha256"] == sha256(second.data)
    assert sorted(path.name for path in files_under(folders["done"])) == ["contract.pdf", "scan.2.png", "scan.png"]
    assert list(outbox.rglob("*.ocrd-tmp")) == [], "no temporary PDF is left behind"


def test_an_inbox_without_pdf_in_its_outputs_writes_none(setup: Setup, tmp_path: Path) -> None:
    folders = setup.plain
    sample = Sample("note.png", png_bytes(lines_for(5), tmp_path), lines_for(5))
    drop(folders["inbox"], sample)
    setup.finished("plain", 1)
    assert in_outbox(folders["outbox"]) == ["note.png.json", "note.png.txt"]
    assert normalize(lines_for(5)[1]) in normalize(sidecars(folders["outbox"])["note.png"][0]["_txt"])


def test_a_signed_pdf_goes_to_failed_with_its_reason_and_no_results(setup: Setup) -> None:
    folders = setup.archive
    signed = Sample("signed.pdf", signed_pdf_bytes(lines_for(6)), [], good=False)
    before = in_outbox(folders["outbox"])
    drop(folders["inbox"], signed)
    wait_until(lambda: [item for item in setup.daemon.events("file") if item["file"] == "signed.pdf"], timeout=300)
    (event,) = [item for item in setup.daemon.events("file") if item["file"] == "signed.pdf"]
    assert event["outcome"] == "failed" and event["error_kind"] == "signed"
    (report,) = failures(folders["failed"])["signed.pdf"]
    assert report["_original"] == signed.data, "the original is kept as it was"
    assert report["error"]["kind"] == "signed"
    assert "signed" in report["error"]["message"] and "signature" in report["error"]["message"]
    assert "pdf" in report["error"]["what_to_do"] and "outputs" in report["error"]["what_to_do"]
    assert in_outbox(folders["outbox"]) == before, "nothing is written for it"
    assert not any(path.name.startswith("signed") for path in files_under(folders["done"]))


def test_the_same_bytes_again_reuse_the_reading_and_still_get_their_pdf(setup: Setup, tmp_path: Path) -> None:
    folders = setup.again
    data = png_bytes(lines_for(7), tmp_path)
    drop(folders["inbox"], Sample("first.png", data, lines_for(7)))
    setup.finished("again", 1)
    drop(folders["inbox"], Sample("copy.png", data, lines_for(7)))
    events = setup.finished("again", 2)
    assert [item["outcome"] for item in events] == ["ok", "reused"]
    outbox = folders["outbox"]
    assert in_outbox(outbox) == [
        "copy.png.json",
        "copy.png.pdf",
        "copy.png.txt",
        "first.png.json",
        "first.png.pdf",
        "first.png.txt",
    ]
    assert_searchable(outbox / "copy.png.pdf", lines_for(7), pages=1)
    assert json.loads((outbox / "copy.png.json").read_text())["source"] == "copy.png"


# --- a PDF that cannot be written --------------------------------------------------------------------


def fetch(port: int, path: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=30) as reply:
            return reply.status, reply.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def test_a_pdf_that_cannot_be_written_keeps_the_original_and_writes_nothing_until_it_can(tmp_path: Path) -> None:
    disk = tmp_path / "small-disk"
    disk.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(disk)], check=False).returncode:
        pytest.fail("mounting a tmpfs is not permitted on this machine (the test runs as root in CI)")
    try:
        folders = inbox_folders(tmp_path)
        folders["outbox"] = disk / "outbox"
        port = free_port()
        config = write_config(
            tmp_path / "ocrd.toml",
            [inbox_entry(folders, settle=0.3, outputs=WITH_PDF)],
            daemon={**FAST_DAEMON, "workers": 1},
            web={"enabled": True, "port": port},
        )
        daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log").start().wait_ready()
        filler = disk / "filler.bin"
        sample = Sample("page.png", png_bytes(lines_for(8), tmp_path / "page"), lines_for(8))
        try:
            fill_disk(filler)
            drop(folders["inbox"], sample)
            wait_until(lambda: daemon.events("file-waiting"), timeout=240)
            waiting = daemon.events("file-waiting")[0]["msg"]
            ready, body = fetch(port, "/readyz")
            outbox_then = sorted(path.name for path in folders["outbox"].rglob("*"))
            done_then, failed_then = files_under(folders["done"]), files_under(folders["failed"])
            claimed = [path.read_bytes() for path in (folders["inbox"] / ".ocrd" / "processing").rglob("page.png")]
            filler.unlink()
            wait_until(lambda: daemon.events("file"), timeout=240)
        finally:
            filler.unlink(missing_ok=True)
            assert daemon.stop() == 0
        assert "searchable PDF" in waiting and "No space left" in waiting, waiting
        assert ready == 503 and "No space left" in json.loads(body)["msg"]
        assert outbox_then == [], "no JSON, no TXT, no half-written PDF while it cannot be written"
        assert done_then == [] and failed_then == [], "the original is not moved before its results are durable"
        assert claimed == [sample.data], "it waits, claimed, unchanged"
        (event,) = daemon.events("file")
        assert event["outcome"] == "ok"
        assert in_outbox(folders["outbox"]) == ["page.png.json", "page.png.pdf", "page.png.txt"]
        assert_searchable(folders["outbox"] / "page.png.pdf", sample.expected, pages=1)
        assert [path.read_bytes() for path in files_under(folders["done"])] == [sample.data]
        assert list(disk.rglob("*.ocrd-tmp")) == []
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


# --- a crash while the group is written ---------------------------------------------------------------


@pytest.mark.parametrize("point", ["results-written", "results-planned", "result-linked", "original-planned"])
def test_a_kill_while_placing_the_pdf_leaves_one_complete_group_and_no_temporary_pdf(
    tmp_path: Path, point: str
) -> None:
    folders = inbox_folders(tmp_path)
    config = write_config(
        tmp_path / "ocrd.toml",
        [inbox_entry(folders, settle=0.3, outputs=WITH_PDF)],
        daemon={**FAST_DAEMON, "workers": 1},
        web={"enabled": False},
    )
    sample = Sample("page.png", png_bytes(lines_for(9), tmp_path / "page"), lines_for(9))
    first = Daemon(["--config", str(config)], tmp_path / "first.log", env={"OCRD_CRASH_AT": point}).start()
    first.wait_ready()
    drop(folders["inbox"], sample)
    assert first.process is not None
    assert first.process.wait(240) == -9, "the daemon killed itself at the crash point"
    left = [path.name for path in folders["outbox"].rglob("*")]
    if point == "results-written":
        assert any(name.startswith(".page.png.pdf~") for name in left), f"the PDF was written by then: {left}"

    second = Daemon(["--config", str(config)], tmp_path / "second.log").start().wait_ready()
    try:
        wait_until(lambda: (folders["done"] / sample.name).exists(), timeout=240)
        wait_until(lambda: not list((folders["inbox"] / ".ocrd" / "processing").iterdir()), timeout=60)
    finally:
        assert second.stop() == 0
    assert in_outbox(folders["outbox"]) == ["page.png.json", "page.png.pdf", "page.png.txt"]
    assert_searchable(folders["outbox"] / "page.png.pdf", sample.expected, pages=1)
    assert list(tmp_path.rglob("*.ocrd-tmp")) == [], "the half-placed PDF's temporary file is cleaned up"
