"""The supervisor in-process: the upload API for the web app, status, metrics, retry/fail policy, backlogs."""

from __future__ import annotations

import asyncio
import json
import resource
import time
from pathlib import Path
from typing import Any

import pytest
from prometheus_client import generate_latest

from ocrd import samples
from ocrd.config import Config, DaemonSettings, EngineSettings, InboxSettings, WebSettings
from ocrd.daemon.errors import QueueFullError
from ocrd.daemon.supervisor import Supervisor
from ocrd.errors import CorruptFileError, UsageError
from tests.daemon_engines import FACTORY, GATE_ENV, GATED_FACTORY, Gate
from tests.daemon_support import image_pdf_bytes, normalize


def make_config(tmp_path: Path, *, inbox: bool = True, **daemon: Any) -> Config:
    options = {"workers": 1, "threads_per_worker": 1, "rescan_interval": 1.0, "retry_backoff_max": 1.0, **daemon}
    inboxes = ()
    if inbox:
        inboxes = (
            InboxSettings(
                name="scans",
                path=str(tmp_path / "inbox"),
                outbox=str(tmp_path / "outbox"),
                done=str(tmp_path / "done"),
                failed=str(tmp_path / "failed"),
                settle=0.2,
            ),
        )
        (tmp_path / "inbox").mkdir(exist_ok=True)
    return Config(
        daemon=DaemonSettings(**options),
        engine=EngineSettings(),
        web=WebSettings(enabled=False),
        inboxes=inboxes,
    )


async def until(predicate: Any, timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def metric(supervisor: Supervisor, name: str, **labels: str) -> float | None:
    return supervisor.metrics.registry.get_sample_value(name, labels)


def test_uploads_use_the_same_pool_and_report_errors_as_ocrd_errors(tmp_path: Path) -> None:
    page = samples.make_sample_page_png(tmp_path / "upload-1234.png", ["合同编号 HT-2024-007", "Total 88.50"])
    bad = tmp_path / "bad.pdf"
    bad.write_bytes(b"%PDF-1.4\n" + b"\x00" * 50)

    async def scenario() -> None:
        supervisor = Supervisor(make_config(tmp_path, inbox=False))
        await supervisor.start()
        try:
            document = await supervisor.submit_file(page.path, source="合同.png")
            assert document.source == "合同.png"
            assert normalize("合同编号 HT-2024-007") in normalize(document.to_text())
            with pytest.raises(CorruptFileError):
                await supervisor.submit_file(bad)
            with pytest.raises(UsageError, match="unknown language 'fr'"):
                await supervisor.submit_file(page.path, lang="fr")
            status = supervisor.status()
            assert status["ready"] and status["workers"]["total"] == 1
            assert [entry["outcome"] for entry in status["recent"]] == ["failed", "ok"]
            assert status["recent_failures"][0]["error"]["kind"] == "corrupt"
            assert metric(supervisor, "ocrd_jobs_total", inbox="upload", outcome="ok") == 1
            assert metric(supervisor, "ocrd_jobs_total", inbox="upload", outcome="failed") == 1
            assert metric(supervisor, "ocrd_stage_duration_seconds_count", stage="detect") == 1
            exposition = generate_latest(supervisor.metrics.registry).decode()
            assert "ocrd_build_info{" in exposition and "ocrd_workers_busy " in exposition
            json.dumps(status)  # the web app serves it as JSON
        finally:
            await supervisor.stop()

    asyncio.run(scenario())


def test_a_full_upload_queue_refuses_at_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pdf = tmp_path / "two.pdf"
    pdf.write_bytes(image_pdf_bytes([[f"第{n}页", f"Page {n}"] for n in range(1, 3)]))
    gate = Gate(tmp_path / "gate")
    monkeypatch.setenv(GATE_ENV, str(gate.folder))  # the workers inherit it
    gate.hold("running.pdf")

    async def scenario() -> None:
        supervisor = Supervisor(make_config(tmp_path, inbox=False, max_queued_uploads=1), engine_factory=GATED_FACTORY)
        await supervisor.start()
        try:
            running = asyncio.create_task(supervisor.submit_file(pdf, source="running.pdf"))
            await until(lambda: gate.starts("running.pdf"))
            waiting = asyncio.create_task(supervisor.submit_file(pdf, source="waiting.pdf"))
            await until(lambda: supervisor.status()["uploads_waiting"] == 1)
            # Nothing can leave the queue while the first upload is held: waiting for room would never end.
            with pytest.raises(QueueFullError, match="try again"):
                await asyncio.wait_for(supervisor.submit_file(pdf, source="refused.pdf"), 120)
            assert not running.done() and not waiting.done()
            gate.release("running.pdf")
            first, second = await asyncio.gather(running, waiting)
            assert len(first.pages) == len(second.pages) == 2
            assert normalize("Page 2") in normalize(second.to_text())
        finally:
            await supervisor.stop()

    asyncio.run(scenario())


def test_a_file_that_crashes_its_worker_is_retried_once_then_failed(tmp_path: Path) -> None:
    async def scenario() -> None:
        config = make_config(tmp_path)
        supervisor = Supervisor(config, engine_factory=FACTORY)
        await supervisor.start()
        try:
            (tmp_path / "inbox" / "poison.pdf").write_text("segfault")
            (tmp_path / "inbox" / "fine.pdf").write_text("fine")
            await until(lambda: (tmp_path / "failed" / "poison.pdf.error.json").exists())
            await until(lambda: (tmp_path / "outbox" / "fine.pdf.json").exists())
        finally:
            await supervisor.stop()
        report = json.loads((tmp_path / "failed" / "poison.pdf.error.json").read_text())
        assert report["error"]["kind"] == "crash" and "SIGSEGV" in report["error"]["message"]
        assert report["attempts"] == 2 and len([h for h in report["history"] if "SIGSEGV" in h]) == 2
        assert "memory" in report["error"]["what_to_do"]
        assert metric(supervisor, "ocrd_worker_restarts_total", reason="crash") == 2
        assert (tmp_path / "done" / "fine.pdf").exists()

    asyncio.run(scenario())


def test_a_file_over_the_time_limit_fails_with_the_reason(tmp_path: Path) -> None:
    async def scenario() -> None:
        supervisor = Supervisor(make_config(tmp_path, job_timeout=1.0), engine_factory=FACTORY)
        await supervisor.start()
        try:
            (tmp_path / "inbox" / "huge.tif").write_text("sleep 600")
            await until(lambda: (tmp_path / "failed" / "huge.tif.error.json").exists())
        finally:
            await supervisor.stop()
        report = json.loads((tmp_path / "failed" / "huge.tif.error.json").read_text())
        assert report["error"]["kind"] == "timeout" and "longer than 1 s" in report["error"]["message"]
        assert "job_timeout" in report["error"]["what_to_do"] and report["attempts"] == 1

    asyncio.run(scenario())


def test_a_large_backlog_is_worked_off_with_bounded_claims_and_nothing_lost(tmp_path: Path) -> None:
    count, stop_after = 10_000, 200
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for index in range(count):
        (inbox / f"s{index:05d}.png").write_text("x")

    async def scenario() -> int:
        supervisor = Supervisor(make_config(tmp_path, workers=2, rescan_interval=30.0), engine_factory=FACTORY)
        await supervisor.start()
        # claimed-but-unread files, plus at most two per worker whose results are being written
        capacity = supervisor.max_held()
        peaks = {"held": 0, "claims": 0}
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        processing = inbox / ".ocrd" / "processing"

        def processed() -> int:
            peaks["held"] = max(peaks["held"], len(supervisor._held))
            peaks["claims"] = max(peaks["claims"], sum(1 for _ in processing.iterdir()))
            return sum(supervisor.counts["scans"].values())

        try:
            # Checked on the supervisor's own loop: nothing finishes between this and the next line.
            await until(lambda: processed() >= stop_after, timeout=600)
            assert supervisor.status()["inboxes"][0]["queue_depth"] > 0, "the backlog is reported"
        finally:
            await supervisor.stop()
        rss_growth_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
        assert peaks["held"] <= capacity and peaks["claims"] <= capacity, (peaks, capacity)
        assert rss_growth_mb < 100, f"memory grew by {rss_growth_mb:.0f} MB"
        return sum(supervisor.counts["scans"].values())

    processed = asyncio.run(scenario())
    assert processed >= stop_after
    left = {p.name for p in inbox.iterdir() if p.name != ".ocrd"}
    done = {p.name for p in (tmp_path / "done").iterdir()}
    assert len(done) == processed < count
    assert len(left) + len(done) == count and not left & done, "every file is either done or back in the inbox"
    assert len(list((tmp_path / "outbox").glob("*.json"))) == len(done)
    assert list((inbox / ".ocrd" / "processing").iterdir()) == []
