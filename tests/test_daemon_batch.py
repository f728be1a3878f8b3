"""Acceptance: 50 mixed files dropped at once into a real daemon running the real engine."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.daemon_support import (
    FAST_DAEMON,
    Daemon,
    assert_exactly_once,
    failures,
    files_under,
    inbox_folders,
    mixed_batch,
    normalize,
    sidecars,
    wait_until,
    write_config,
)

pytestmark = pytest.mark.slow


def test_fifty_mixed_files_each_end_with_exactly_one_correct_outcome(tmp_path: Path) -> None:
    batch = mixed_batch(50, tmp_path / "generated")
    folders = inbox_folders(tmp_path)
    config = write_config(
        tmp_path / "ocrd.toml",
        [
            {
                "name": "scans",
                "path": folders["inbox"],
                "outbox": folders["outbox"],
                "done": folders["done"],
                "failed": folders["failed"],
                "settle": 0.5,
            }
        ],
        daemon=FAST_DAEMON,
        web={"enabled": False},
    )
    daemon = Daemon(["--config", str(config)], tmp_path / "daemon.log").start().wait_ready()
    try:
        for sample in batch:  # all at once, written in place (not renamed in): settling is the daemon's job
            (folders["inbox"] / sample.name).write_bytes(sample.data)
        wait_until(lambda: len(daemon.events("file")) >= len(batch), timeout=600, interval=0.5)
    finally:
        code = daemon.stop()
    assert code == 0, daemon.log_path.read_text()[-3000:]

    assert_exactly_once(batch, folders["inbox"], folders["outbox"], folders["done"], folders["failed"])
    results, failed = sidecars(folders["outbox"]), failures(folders["failed"])
    for sample in batch:
        if sample.good:
            (result,) = results[sample.name]
            text = normalize(result["_txt"])
            missing = [line for line in sample.expected if normalize(line) not in text]
            assert not missing, f"{sample.name}: {missing} not in {result['_txt']!r}"
            assert result["engine"]["models"] and result["engine"]["version"]
        else:
            (report,) = failed[sample.name]
            assert report["error"]["kind"] in {"corrupt", "empty", "unsupported"}, report
            assert report["error"]["what_to_do"] and report["attempts"] == 1
            assert ".ocrd" not in report["error"]["message"], "messages name the file, not its claimed location"
    assert len([p for p in files_under(folders["failed"]) if p.name.endswith(".error.json")]) == 5

    # One log line per file, with outcome and timings.
    lines = daemon.events("file")
    assert sorted(line["file"] for line in lines) == sorted(sample.name for sample in batch)
    for line in lines:
        assert line["outcome"] in ("ok", "failed") and line["total_ms"] >= line["ocr_ms"] >= 0
        assert line["inbox"] == "scans" and "write_ms" in line
    assert sum(line["outcome"] == "ok" for line in lines) == 45
    assert daemon.events("stopped"), "SIGTERM ends with a clean stop"
