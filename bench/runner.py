"""Running every engine over the same pages, interleaved, at a given number of cores.

All workers of a round are alive at once, each pinned to the same cores, each idle while another
reads. Page by page, every engine reads the page in turn, and the turn order rotates from one
page to the next; so whatever else the machine does at a moment (other jobs, thermal changes)
falls on all engines alike, and ratios between engines hold even when absolute times wander.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.engines import EngineSpec
from bench.inputs import BenchItem
from bench.workers import Reading, Worker


class BenchFailure(RuntimeError):
    """The run cannot give honest figures (an engine read nothing); the message says why."""


@dataclass
class EngineRun:
    """What one engine did in one round."""

    engine: str
    cores: int
    info: dict[str, Any] = field(default_factory=dict)
    load_seconds: float = 0.0
    startup_seconds: float = 0.0
    peak_rss_kb: int = 0
    page_seconds: dict[str, list[float]] = field(default_factory=dict)  # per set
    texts: dict[str, str] = field(default_factory=dict)  # BenchItem.name -> text
    errors: dict[str, str] = field(default_factory=dict)
    stage_ms: dict[str, dict[str, float]] = field(default_factory=dict)  # per set: stage -> total ms

    @property
    def pages(self) -> int:
        return sum(len(seconds) for seconds in self.page_seconds.values())

    def add(self, item: BenchItem, page_index: int, reading: Reading) -> None:
        self.page_seconds.setdefault(item.set_name, []).append(reading.seconds)
        previous = self.texts.get(item.name)
        self.texts[item.name] = reading.text if previous is None else previous + "\n" + reading.text
        if reading.error:
            self.errors[f"{item.name} page {page_index + 1}"] = reading.error
        stages = self.stage_ms.setdefault(item.set_name, {})
        for stage, ms in reading.timings_ms.items():
            stages[stage] = stages.get(stage, 0.0) + ms


Progress = Callable[[str], None]


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def run_round(
    specs: list[EngineSpec],
    items: list[BenchItem],
    cores: list[int],
    log_dir: Path,
    progress: Progress = _stderr,
) -> list[EngineRun]:
    """Start one worker per engine on ``cores``, warm each up, then read every page with every engine."""
    pages = [(item, index, path) for item in items for index, path in enumerate(item.pages)]
    workers: list[Worker] = []
    runs = {spec.name: EngineRun(spec.name, len(cores)) for spec in specs}
    try:
        # One at a time, so each load time is measured without the others loading beside it.
        for spec in specs:
            progress(f"[{len(cores)} core(s)] loading {spec.name} ...")
            worker = Worker(spec, cores, log_dir)
            workers.append(worker)
            worker.start()
        if pages:
            for worker in workers:  # first-call costs (allocator growth, lazy kernels) are not a page's time
                worker.read(pages[0][2])
        for number, (item, index, path) in enumerate(pages):
            turn = number % len(workers)
            for worker in workers[turn:] + workers[:turn]:
                runs[worker.spec.name].add(item, index, worker.read(path))
            progress(f"[{len(cores)} core(s)] {number + 1}/{len(pages)} {item.name}")
    finally:
        for worker in workers:
            worker.stop()
    for worker in workers:
        run = runs[worker.spec.name]
        run.info, run.load_seconds, run.startup_seconds = worker.engine, worker.load_seconds, worker.startup_seconds
        run.peak_rss_kb = worker.peak_rss_kb
    return [runs[spec.name] for spec in specs]


def check_readings(runs: list[EngineRun], log_dir: Path) -> None:
    """Stop the run when an engine refused every page: its time per page would be the time it
    takes to refuse (fast), and its accuracy that of empty text, both printed as if measured."""
    for run in runs:
        if run.pages and len(run.errors) >= run.pages:
            page, error = next(iter(run.errors.items()))
            raise BenchFailure(
                f"{run.engine} refused all {run.pages} page(s) at {run.cores} core(s), so there is nothing to "
                f"measure; the first: {page}: {error}. Its log is in {log_dir}"
            )
