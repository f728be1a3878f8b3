"""The worker pool: real processes, real engine; a stuck worker is killed, a dead one replaced."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from ocrd import samples
from ocrd.config import EngineSettings, FieldsSettings
from ocrd.daemon.pdf_jobs import PdfRequest
from ocrd.daemon.pool import Outcome, WorkerPool
from ocrd.errors import ModelError
from ocrd.result import Document
from tests.daemon_engines import BROKEN_FACTORY, FACTORY, GATE_ENV, GATED_FACTORY, Gate
from tests.daemon_support import image_pdf_bytes, normalize

ENGINE = EngineSettings(threads=1)


@dataclass
class Job:
    id: int
    path: str
    source: str
    overrides: dict[str, Any] = field(default_factory=dict)
    pdf: PdfRequest | None = None
    reuse: Document | None = None


class Harness:
    """A pool plus a queue of its outcomes."""

    def __init__(self, **options: Any) -> None:
        self.outcomes: asyncio.Queue[tuple[Job, Outcome]] = asyncio.Queue()
        options.setdefault("size", 1)
        options.setdefault("settings", ENGINE)
        options.setdefault("job_timeout", 600)
        self.pool = WorkerPool(on_outcome=lambda job, outcome: self.outcomes.put_nowait((job, outcome)), **options)

    async def run(self, job: Job, timeout: float = 300) -> Outcome:
        assert await wait_for_idle(self.pool), "no idle worker"
        assert self.pool.try_run(job)
        done_job, outcome = await asyncio.wait_for(self.outcomes.get(), timeout)
        assert done_job is job
        return outcome


async def wait_for_idle(pool: WorkerPool, timeout: float = 300) -> bool:
    return await until(lambda: pool.idle > 0, timeout)


async def until(predicate: Callable[[], Any], timeout: float = 300) -> bool:
    """Poll ``predicate`` on the pool's loop; False if it is still not met after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.05)
    return True


def test_real_engine_reads_pages_and_reports_bad_files(tmp_path: Path) -> None:
    page = samples.make_sample_page_png(tmp_path / "claimed-name.png", ["增值税发票 12345", "Invoice 2024"])
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(image_pdf_bytes([["x"]])[:300])

    async def scenario() -> None:
        harness = Harness()
        await harness.pool.start()
        try:
            good = await harness.run(Job(1, str(page.path), "inbox/发票.png"))
            assert good.kind == "done" and good.document is not None
            assert good.document.source == "inbox/发票.png"
            assert normalize("增值税发票 12345") in normalize(good.document.to_text())
            assert good.document.timings_ms["total"] > 0 and good.seconds > 0
            bad = await harness.run(Job(2, str(broken), "broken.pdf"))
            assert bad.kind == "error" and bad.error is not None
            assert bad.error["kind"] == "corrupt" and bad.error["retryable"] is False
            assert str(tmp_path) not in bad.error["message"], "messages name the file as the user knows it"
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())


def test_a_stuck_worker_is_killed_at_the_timeout_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "stuck.pdf").write_text("sleep 600")
    (tmp_path / "next.pdf").write_text("hello")

    async def scenario() -> None:
        harness = Harness(job_timeout=1.0, factory=FACTORY)
        await harness.pool.start()
        try:
            (first_pid,) = harness.pool.pids()
            outcome = await harness.run(Job(1, str(tmp_path / "stuck.pdf"), "stuck.pdf"), timeout=300)
            assert outcome.kind == "timeout" and outcome.seconds >= 1.0
            after = await harness.run(Job(2, str(tmp_path / "next.pdf"), "next.pdf"))
            assert after.kind == "done" and after.document is not None
            assert f"pid={first_pid}" not in after.document.to_text(), "a new worker took over"
            assert harness.pool.restarts == 1
            with pytest.raises(ProcessLookupError):
                os.kill(first_pid, 0)
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())


def test_inboxes_with_their_own_fields_settings_or_language_share_one_engine_per_worker(tmp_path: Path) -> None:
    # Models are hundreds of MB: an inbox's fields mode or rules must not load a second copy.
    (tmp_path / "a.tif").write_text("a")

    async def scenario() -> None:
        harness = Harness(factory=FACTORY)
        await harness.pool.start()
        try:
            texts = []
            for number, mode in enumerate(("auto", "off", "vat_normal"), start=1):
                job = Job(number, str(tmp_path / "a.tif"), "a.tif", {"fields": FieldsSettings(mode=mode)})
                outcome = await harness.run(job)
                assert outcome.kind == "done" and outcome.document is not None
                texts.append(outcome.document.to_text())
            assert [text.split("fields=")[1].strip() for text in texts] == ["auto", "off", "vat_normal"]
            assert len({text.split("engine=")[1].split()[0] for text in texts}) == 1
            other_lang = await harness.run(Job(9, str(tmp_path / "a.tif"), "a.tif", {"lang": "en"}))
            assert other_lang.document is not None and "lang=en" in other_lang.document.to_text()
            texts.append(other_lang.document.to_text())
            steps = await harness.run(Job(10, str(tmp_path / "a.tif"), "a.tif", {"preprocess": ("grayscale",)}))
            assert steps.document is not None and "preprocess=grayscale" in steps.document.to_text()
            texts.append(steps.document.to_text())
            # ... nor an inbox's language or preprocessing: the same engine read them all
            assert len({text.split("engine=")[1].split()[0] for text in texts}) == 1
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())


def test_a_crashing_worker_is_reported_and_replaced(tmp_path: Path) -> None:
    (tmp_path / "poison.tif").write_text("segfault")
    (tmp_path / "fine.tif").write_text("fine")

    async def scenario() -> None:
        harness = Harness(factory=FACTORY)
        await harness.pool.start()
        try:
            outcome = await harness.run(Job(1, str(tmp_path / "poison.tif"), "poison.tif"))
            assert outcome.kind == "crash" and "SIGSEGV" in outcome.detail
            fine = await harness.run(Job(2, str(tmp_path / "fine.tif"), "fine.tif"))
            assert fine.kind == "done"
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())


def test_kill_9_of_a_worker_running_the_real_engine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = [[f"第{n}页 长文档", f"Long document page {n}"] for n in range(1, 3)]
    (tmp_path / "long.pdf").write_bytes(image_pdf_bytes(pages))
    gate = Gate(tmp_path / "gate")
    monkeypatch.setenv(GATE_ENV, str(gate.folder))
    gate.hold("long.pdf")  # read by the real engine, then held until the worker is killed

    async def scenario() -> None:
        harness = Harness(factory=GATED_FACTORY)
        await harness.pool.start()
        try:
            assert harness.pool.try_run(Job(1, str(tmp_path / "long.pdf"), "long.pdf"))
            assert await until(lambda: gate.starts("long.pdf")), "the worker never reached the gate"
            (pid,) = harness.pool.busy_pids()
            assert gate.starts("long.pdf") == [pid]
            os.kill(pid, signal.SIGKILL)
            _, outcome = await asyncio.wait_for(harness.outcomes.get(), 120)
            assert outcome.kind == "crash" and "SIGKILL" in outcome.detail
            assert await wait_for_idle(harness.pool), "a replacement worker loaded the engine"
            assert pid not in harness.pool.pids()
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())


def test_an_engine_that_cannot_load_stops_the_start_with_its_reason() -> None:
    async def scenario() -> None:
        harness = Harness(factory=BROKEN_FACTORY)
        with pytest.raises(ModelError, match=r"det\.onnx is missing"):
            await harness.pool.start(timeout=300)

    asyncio.run(scenario())


def test_stop_lets_a_job_finish_within_grace_and_stops_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "quick.png").write_text("quick")
    (tmp_path / "slow.png").write_text("slow")
    gate = Gate(tmp_path / "gate")
    monkeypatch.setenv(GATE_ENV, str(gate.folder))
    gate.hold("quick.png", "slow.png")  # slow.png is never released

    async def scenario() -> None:
        harness = Harness(size=2, factory=FACTORY)
        await harness.pool.start()
        assert harness.pool.try_run(Job(1, str(tmp_path / "quick.png"), "quick.png"))
        assert harness.pool.try_run(Job(2, str(tmp_path / "slow.png"), "slow.png"))
        assert await until(lambda: gate.starts("quick.png") and gate.starts("slow.png"))
        stopping = asyncio.create_task(harness.pool.stop(3600))
        await asyncio.sleep(0)  # stop() has begun: no new jobs, running ones get their grace
        gate.release("quick.png")
        job, outcome = await asyncio.wait_for(harness.outcomes.get(), 120)
        assert (job.source, outcome.kind) == ("quick.png", "done"), "finished within the grace period"
        assert not stopping.done(), "still waiting for slow.png"
        harness.pool.hurry()  # the end of the grace period, without waiting an hour for it
        await asyncio.wait_for(stopping, 120)
        job, outcome = harness.outcomes.get_nowait()
        assert (job.source, outcome.kind) == ("slow.png", "stopped")
        assert harness.outcomes.empty()
        assert harness.pool.pids() == []

    asyncio.run(scenario())


def test_reconfigure_grows_the_pool_and_applies_new_settings(tmp_path: Path) -> None:
    (tmp_path / "a.png").write_text("a")

    async def scenario() -> None:
        harness = Harness(factory=FACTORY)
        await harness.pool.start()
        try:
            harness.pool.reconfigure(settings=EngineSettings(threads=1, lang="en"), size=2)
            assert await until(lambda: harness.pool.idle == 2), "two workers with the new settings"
            assert harness.pool.total == 2
            outcome = await harness.run(Job(1, str(tmp_path / "a.png"), "a.png"))
            assert outcome.document is not None and "lang=en" in outcome.document.to_text()
        finally:
            await harness.pool.stop(5)

    asyncio.run(scenario())
