"""When is a file complete, and which files are candidates at all (stepped clock, real folders)."""

from __future__ import annotations

import os
from pathlib import Path

from ocrd.daemon.scan import is_ignored_name, matches, walk
from ocrd.daemon.stability import StabilityTracker


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def test_ready_only_after_the_same_size_and_mtime_were_seen_settle_seconds_apart() -> None:
    clock = Clock()
    tracker = StabilityTracker(2.0, clock=clock)
    tracker.observe("a.pdf", 100, 1)
    assert tracker.ready() == []
    clock.advance(3)
    assert tracker.ready() == [], "no second observation yet: unchanged is not proven"
    assert tracker.due_for_check() == ["a.pdf"]
    tracker.observe("a.pdf", 100, 1)
    assert tracker.ready() == ["a.pdf"]


def test_a_growing_file_restarts_the_settle_time() -> None:
    clock = Clock()
    tracker = StabilityTracker(2.0, clock=clock)
    for size in (10, 20, 30, 40):
        tracker.observe("slow.tif", size, size)
        clock.advance(1.5)
    tracker.observe("slow.tif", 40, 40)
    assert not tracker.is_ready("slow.tif")
    clock.advance(0.6)
    tracker.observe("slow.tif", 40, 40)
    assert tracker.is_ready("slow.tif")


def test_an_mtime_change_at_the_same_size_restarts_the_settle_time() -> None:
    clock = Clock()
    tracker = StabilityTracker(1.0, clock=clock)
    tracker.observe("a.jpg", 5, 1)
    clock.advance(2)
    assert tracker.observe("a.jpg", 5, 2) is True
    assert not tracker.is_ready("a.jpg")


def test_empty_files_must_stay_empty_longer() -> None:
    clock = Clock()
    tracker = StabilityTracker(1.0, clock=clock, empty_settle=5.0)
    tracker.observe("placeholder.pdf", 0, 1)
    clock.advance(2)
    tracker.observe("placeholder.pdf", 0, 1)
    assert not tracker.is_ready("placeholder.pdf")
    clock.advance(3)
    tracker.observe("placeholder.pdf", 0, 1)
    assert tracker.is_ready("placeholder.pdf")


def test_deferred_files_wait_and_ready_files_come_oldest_first() -> None:
    clock = Clock()
    tracker = StabilityTracker(1.0, clock=clock)
    tracker.observe("old.png", 1, 1)
    clock.advance(0.5)
    tracker.observe("new.png", 1, 1)
    clock.advance(2)
    tracker.observe("new.png", 1, 1)
    tracker.observe("old.png", 1, 1)
    assert tracker.ready() == ["old.png", "new.png"]
    tracker.defer("old.png", 5)
    assert tracker.ready() == ["new.png"]
    assert "old.png" not in tracker.due_for_check()
    clock.advance(5)
    assert tracker.ready() == ["old.png", "new.png"]
    tracker.forget("new.png")
    assert tracker.ready(limit=5) == ["old.png"] and len(tracker) == 1


def test_recheck_interval_bounds_the_stat_load() -> None:
    clock = Clock()
    tracker = StabilityTracker(4.0, clock=clock)
    for index in range(1000):
        tracker.observe(f"f{index}.pdf", 1, 1)
    clock.advance(1)
    assert tracker.due_for_check() == [], "re-checked at most every settle/2"
    clock.advance(1)
    assert len(tracker.due_for_check(limit=100)) == 100


def test_names_that_mean_still_being_written_are_ignored() -> None:
    for name in (".hidden.pdf", "scan.pdf.part", "scan.PART", "x.tmp", "~$report.pdf", "a.crdownload", "b.filepart"):
        assert is_ignored_name(name), name
    for name in ("scan.pdf", "part.pdf", "tmp.png", "报告.PDF"):
        assert not is_ignored_name(name), name


def test_folder_files_of_windows_explorer_are_neither_read_nor_reported() -> None:
    for name in ("Thumbs.db", "desktop.ini", "ehthumbs.db"):
        assert is_ignored_name(name), name
    assert not is_ignored_name("thumbs.db.pdf")


def test_patterns_match_case_insensitively() -> None:
    patterns = ("*.pdf", "*.jpg")
    assert matches("SCAN0001.PDF", patterns)
    assert matches("photo.JpG", patterns)
    assert not matches("notes.docx", patterns)


def test_walk_finds_regular_matching_files_and_skips_the_rest(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub" / "deeper").mkdir(parents=True)
    (inbox / ".ocrd" / "processing").mkdir(parents=True)
    (inbox / "done").mkdir()
    for rel in ("a.PDF", "sub/b.png", "sub/deeper/c.jpg", ".ocrd/processing/x.pdf", "done/d.pdf", "e.pdf.part"):
        (inbox / rel).write_bytes(b"x")
    (inbox / "notes.docx").write_bytes(b"x")
    (inbox / "link.pdf").symlink_to(inbox / "a.PDF")
    os.mkfifo(inbox / "pipe.pdf")
    skipped: set[str] = set()
    flat = {found.rel for found in walk(str(inbox), recursive=False, patterns=("*.pdf", "*.png", "*.jpg"))}
    assert flat == {"a.PDF"}
    deep = {
        found.rel
        for found in walk(
            str(inbox),
            recursive=True,
            patterns=("*.pdf", "*.png", "*.jpg"),
            exclude=[str(inbox / "done")],
            skipped=skipped,
        )
    }
    assert deep == {"a.PDF", "sub/b.png", "sub/deeper/c.jpg"}
    assert skipped == {"notes.docx"}
