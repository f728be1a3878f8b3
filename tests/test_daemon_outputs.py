"""Sidecars, done/ and failed/: atomic, never overwriting, and resumable after a crash at any step."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from ocrd import durable
from ocrd.config import InboxSettings
from ocrd.daemon import outputs
from ocrd.daemon.claims import FAILING, FINISHING, PLACING, RECORD, Claim, Owner, ProcessingArea
from ocrd.daemon.errors import error_info
from ocrd.result import Document, Line, Page


class Crash(BaseException):
    """Stands in for the process dying at this exact point."""


def settings(tmp_path: Path, **changes: object) -> InboxSettings:
    values = {
        "name": "scans",
        "path": str(tmp_path / "inbox"),
        "outbox": str(tmp_path / "outbox"),
        "done": str(tmp_path / "done"),
        "failed": str(tmp_path / "failed"),
        **changes,
    }
    return InboxSettings(**values)  # type: ignore[arg-type]


def claimed(tmp_path: Path, rel: str, data: bytes, **changes: object) -> tuple[outputs.Targets, Claim, ProcessingArea]:
    inbox = settings(tmp_path, **changes)
    Path(inbox.path, rel).parent.mkdir(parents=True, exist_ok=True)
    Path(inbox.path, rel).write_bytes(data)
    targets = outputs.Targets(inbox)
    targets.prepare()
    area = ProcessingArea(inbox.path, Owner.current())
    area.ensure()
    claim = area.claim(rel)
    assert claim is not None
    return targets, claim, area


def document(source: str, data: bytes, text: str = "发票号码 12345678") -> Document:
    return Document(
        source=source,
        sha256=__import__("hashlib").sha256(data).hexdigest(),
        engine={"version": "test", "models": "ppocrv5-mobile"},
        pages=[Page(0, 100, 50, "ocr", [Line(text, 0.99, [[0, 0], [10, 0], [10, 5], [0, 5]])])],
    )


def test_numbered_names_go_before_the_last_suffix() -> None:
    assert durable.numbered("a.pdf", 1) == "a.pdf"
    assert durable.numbered("a.pdf", 2) == "a.2.pdf"
    assert durable.numbered("扫描 1.tar.gz", 3) == "扫描 1.tar.3.gz"
    assert durable.numbered("README", 2) == "README.2"


def test_place_group_never_overwrites_and_keeps_pairs_together(tmp_path: Path) -> None:
    (tmp_path / "a.json").write_text("earlier result")
    placed = durable.place_group(tmp_path, {"a.txt": b"text", "a.json": b"{}"})
    assert placed == {"a.txt": tmp_path / "a.2.txt", "a.json": tmp_path / "a.2.json"}
    assert (tmp_path / "a.json").read_text() == "earlier result"
    assert not (tmp_path / "a.txt").exists(), "the pair takes one number together"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.2.json", "a.2.txt", "a.json"], "no temp files left"


def test_success_writes_sidecars_then_moves_the_original(tmp_path: Path) -> None:
    data = b"%PDF-1.7 fake but bytes"
    targets, claim, area = claimed(tmp_path, "2026/11/发票.pdf", data)
    written, original = outputs.complete_success(targets, claim, document("2026/11/发票.pdf", data))
    assert written == {
        "txt": str(tmp_path / "outbox/2026/11/发票.pdf.txt"),
        "json": str(tmp_path / "outbox/2026/11/发票.pdf.json"),
    }
    sidecar = json.loads(Path(written["json"]).read_text())
    assert sidecar["source"] == "2026/11/发票.pdf" and sidecar["sha256"] == document("x", data).sha256
    assert sidecar["engine"]["models"] == "ppocrv5-mobile"
    assert Path(written["txt"]).read_text() == "发票号码 12345678\n"
    assert original == str(tmp_path / "done/2026/11/发票.pdf") and Path(original).read_bytes() == data
    area.release(claim)
    assert list(Path(area.root).iterdir()) == []


def test_collisions_in_outbox_and_done_get_numbers(tmp_path: Path) -> None:
    for round_number, data in enumerate((b"first", b"second"), start=1):
        inbox = tmp_path / "inbox"
        inbox.mkdir(exist_ok=True)
        targets, claim, _ = claimed(tmp_path, "a.png", data)
        written, original = outputs.complete_success(targets, claim, document("a.png", data))
        suffix = "" if round_number == 1 else ".2"
        assert written["json"].endswith(f"a.png{suffix}.json") and original.endswith(f"a{suffix}.png")
    assert (tmp_path / "done" / "a.png").read_bytes() == b"first"
    assert (tmp_path / "done" / "a.2.png").read_bytes() == b"second"


def test_failure_moves_the_original_and_explains_what_to_do(tmp_path: Path) -> None:
    targets, claim, _ = claimed(tmp_path, "broken.pdf", b"%PDF-1.4 truncated")
    claim.record.attempts = 1
    error = error_info("CorruptFileError", "corrupt", "PDF is incomplete: it ends before its end-of-file marker")
    moved = outputs.fail(targets, claim, error, node="scanner-01")
    assert moved == str(tmp_path / "failed" / "broken.pdf")
    report = json.loads(Path(moved + ".error.json").read_text())
    assert report["source"] == "broken.pdf" and report["inbox"] == "scans" and report["host"] == "scanner-01"
    assert report["error"]["kind"] == "corrupt" and "end-of-file" in report["error"]["message"]
    assert "re-scan" in report["error"]["what_to_do"]
    assert report["attempts"] == 1 and report["sha256"] and report["failed_at"].endswith("+00:00")


def test_crash_between_the_two_sidecar_links_is_redone_cleanly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = b"image bytes"
    targets, claim, _ = claimed(tmp_path, "a.jpg", data)
    real_link = durable.link_new
    calls = []

    def link_then_die(source: Path, target: Path) -> bool:
        calls.append(target)
        if len(calls) == 2:
            raise Crash()
        return real_link(source, target)

    monkeypatch.setattr(durable, "link_new", link_then_die)
    with pytest.raises(Crash):
        outputs.complete_success(targets, claim, document("a.jpg", data))
    monkeypatch.setattr(durable, "link_new", real_link)
    assert (tmp_path / "outbox" / "a.jpg.txt").exists() and not (tmp_path / "outbox" / "a.jpg.json").exists()

    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None and adopted.record.stage == PLACING
    assert outputs.resume(targets, adopted).action == outputs.REQUEUE
    assert not (tmp_path / "outbox" / "a.jpg.txt").exists(), "the orphan half of the pair is removed"
    written, _ = outputs.complete_success(targets, adopted, document("a.jpg", data))
    assert written["json"].endswith("/a.jpg.json"), "the redo takes the original name, no a.jpg.2.json"


def test_crash_after_sidecars_before_the_move_finishes_without_reading_again(tmp_path: Path) -> None:
    data = b"pdf bytes"
    targets, claim, _ = claimed(tmp_path, "a.pdf", data)
    outputs.write_results(targets, claim, document("a.pdf", data))  # ... and then the process died
    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None
    resumed = outputs.resume(targets, adopted)
    assert resumed.action == outputs.FINISHED
    assert (tmp_path / "done" / "a.pdf").read_bytes() == data
    # what the results index is told about the finished file
    assert resumed.written["json"] == str(tmp_path / "outbox" / "a.pdf.json")
    assert resumed.original == str(tmp_path / "done" / "a.pdf") and resumed.error is None
    assert sorted(p.name for p in (tmp_path / "outbox").iterdir() if p.is_file()) == ["a.pdf.json", "a.pdf.txt"]


def test_a_claim_killed_before_its_file_moved_in_is_finished_with_nothing_failed(tmp_path: Path) -> None:
    # The kill came between making the claim's folder and moving the file into it: no record, no file.
    targets, claim, _ = claimed(tmp_path, "a.png", b"png bytes")
    os.rename(claim.file, tmp_path / "inbox" / "a.png")  # the file never left the inbox
    (claim.folder / RECORD).unlink(missing_ok=True)
    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None and adopted.record.rel == ""
    resumed = outputs.resume(targets, adopted)
    assert resumed == outputs.Resumed(outputs.FINISHED)
    assert list((tmp_path / "failed").iterdir()) == [] and list((tmp_path / "done").iterdir()) == []
    assert (tmp_path / "inbox" / "a.png").read_bytes() == b"png bytes"  # to be claimed again as new


def test_crash_between_link_and_unlink_of_the_move_leaves_one_original(tmp_path: Path) -> None:
    data = b"tiff bytes"
    targets, claim, _ = claimed(tmp_path, "a.tif", data)
    outputs.write_results(targets, claim, document("a.tif", data))
    planned = tmp_path / "done" / "a.tif"
    claim.record.stage, claim.record.original_to = FINISHING, str(planned)
    claim.save()
    planned.parent.mkdir(exist_ok=True)
    os.link(claim.file, planned)  # the link happened; the unlink of the claimed name did not
    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None and outputs.resume(targets, adopted).action == outputs.FINISHED
    assert [p.name for p in (tmp_path / "done").iterdir()] == ["a.tif"]
    assert not adopted.file.exists()


def test_crash_after_moving_a_failure_writes_the_missing_error_file(tmp_path: Path) -> None:
    targets, claim, _ = claimed(tmp_path, "bad.png", b"not a png")
    planned = tmp_path / "failed" / "bad.png"
    claim.record.stage, claim.record.original_to = FAILING, str(planned)
    claim.record.error = error_info("CorruptFileError", "corrupt", "not a PNG")
    claim.save()
    planned.parent.mkdir(exist_ok=True)
    os.rename(claim.file, planned)
    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None
    resumed = outputs.resume(targets, adopted)
    assert resumed.action == outputs.FINISHED
    assert resumed.original == str(planned) and resumed.error is not None and resumed.written == {}
    report = json.loads((tmp_path / "failed" / "bad.png.error.json").read_text())
    assert report["error"]["message"] == "not a PNG"
    assert sorted(p.name for p in (tmp_path / "failed").iterdir()) == ["bad.png", "bad.png.error.json"]


def test_keep_mode_puts_the_original_back_and_remembers_it(tmp_path: Path) -> None:
    data = b"keep me"
    targets, claim, _ = claimed(tmp_path, "a.pdf", data, on_success="keep")
    kept = outputs.KeptIndex(str(tmp_path / "inbox"))
    _, original = outputs.complete_success(targets, claim, document("a.pdf", data), kept)
    assert original == str(tmp_path / "inbox" / "a.pdf") and Path(original).read_bytes() == data
    info = os.stat(original)
    assert ("a.pdf", info.st_size, info.st_mtime_ns) in outputs.KeptIndex(str(tmp_path / "inbox"))
    assert not (tmp_path / "done").exists()


def test_delete_mode_removes_the_original_only_after_the_results(tmp_path: Path) -> None:
    data = b"delete me"
    targets, claim, _ = claimed(tmp_path, "a.pdf", data, on_success="delete")
    written, original = outputs.complete_success(targets, claim, document("a.pdf", data))
    assert original == "deleted" and not claim.file.exists() and Path(written["json"]).exists()


def test_move_to_another_file_system_copies_durably(tmp_path: Path) -> None:
    shm = Path("/dev/shm")
    if not shm.is_dir() or os.stat(shm).st_dev == os.stat(tmp_path).st_dev:
        pytest.fail("needs /dev/shm on a different file system")
    source = tmp_path / "a.pdf"
    source.write_bytes(b"x" * 100_000)
    target_dir = Path(tempfile.mkdtemp(dir=shm))
    try:
        (target_dir / "a.pdf").write_bytes(b"earlier")
        moved = durable.move_file(source, target_dir, "a.pdf")
        assert moved == target_dir / "a.2.pdf" and moved.read_bytes() == b"x" * 100_000
        assert not source.exists() and (target_dir / "a.pdf").read_bytes() == b"earlier"
        assert sorted(p.name for p in target_dir.iterdir()) == ["a.2.pdf", "a.pdf"]
    finally:
        shutil.rmtree(target_dir)


def test_a_deleted_outbox_is_recreated(tmp_path: Path) -> None:
    targets = outputs.Targets(settings(tmp_path))
    targets.prepare()
    shutil.rmtree(tmp_path / "outbox")
    targets.check(str(tmp_path / "outbox"))
    assert (tmp_path / "outbox").is_dir()


def test_an_unmounted_share_blocks_writing_until_it_is_back(tmp_path: Path) -> None:
    share = tmp_path / "share"
    share.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(share)], capture_output=True).returncode:
        pytest.fail("mounting a tmpfs is not permitted here")
    try:
        targets = outputs.Targets(settings(tmp_path, outbox=str(share / "text")))
        targets.prepare()
        subprocess.run(["umount", str(share)], check=True)
        with pytest.raises(outputs.TransientError, match="no longer on its file system"):
            targets.check(str(share / "text"))
        assert not (share / "text").exists(), "nothing is created on the disk under the mount point"
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(share)], check=True)
        targets.check(str(share / "text"))
        assert (share / "text").is_dir()
    finally:
        subprocess.run(["umount", str(share)], capture_output=True)


def test_a_claim_taken_over_by_another_daemon_is_never_written(tmp_path: Path) -> None:
    data = b"slow share"
    targets, claim, _ = claimed(tmp_path, "a.pdf", data)
    # This daemon hung; another one found the claim stale and took it over.
    thief = ProcessingArea(tmp_path / "inbox", Owner("other-host", 7, "0"))
    assert thief.adopt(claim.folder) is not None
    with pytest.raises(outputs.ClaimLostError, match="taken over by another daemon"):
        outputs.complete_success(targets, claim, document("a.pdf", data))
    with pytest.raises(outputs.ClaimLostError):
        outputs.fail(targets, claim, error_info("CorruptFileError", "corrupt", "x"))
    assert list((tmp_path / "outbox").iterdir()) == [] == list((tmp_path / "done").iterdir())


def test_crash_between_link_and_unlink_of_a_failure_leaves_one_copy(tmp_path: Path) -> None:
    targets, claim, _ = claimed(tmp_path, "bad.png", b"not a png")
    planned = tmp_path / "failed" / "bad.png"
    claim.record.stage, claim.record.original_to = FAILING, str(planned)
    claim.record.error = error_info("CorruptFileError", "corrupt", "not a PNG")
    claim.save()
    planned.parent.mkdir(exist_ok=True)
    os.link(claim.file, planned)  # linked into failed/, the claimed name not removed yet
    adopted = ProcessingArea(tmp_path / "inbox", Owner("next-run", 1, "0")).adopt(claim.folder)
    assert adopted is not None and outputs.resume(targets, adopted).action == outputs.FINISHED
    assert sorted(p.name for p in (tmp_path / "failed").iterdir()) == ["bad.png", "bad.png.error.json"]
