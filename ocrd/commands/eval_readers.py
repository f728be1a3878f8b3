"""Reading a labelled set for ``ocrd eval``: in this process, or in several at once (``--jobs``).

On a small server one process with two inference threads gains little over one thread (about
1.3x on 2 cores), while two processes with one thread each keep both cores busy for the whole
set. Each process loads its own models (about 400 MB), so the number is the user's choice.
Results come back per file; which process read a file never changes its text.
"""

from __future__ import annotations

import multiprocessing
import time
from concurrent.futures import Executor, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrd.config import EngineSettings, cpu_count
from ocrd.errors import InputError, OcrdError
from ocrd.result import Document


@dataclass(frozen=True)
class EngineDescription:
    """What the report says about the engine that read the set."""

    info: dict[str, str]
    pack: str
    precision: str
    reason: str


@dataclass(frozen=True)
class _Reading:
    document: Document | None
    error: str | None  # an InputError's message: the file was refused
    seconds: float


_pipeline: Any = None  # one per reading process, loaded by _load
_load_error: OcrdError | None = None  # why it could not be (a damaged model file, ...): raised by each call


def _load(settings: EngineSettings) -> None:
    global _pipeline, _load_error
    from ocrd.engine.pipeline import OcrPipeline  # loads onnxruntime: only in a process that reads

    try:
        _pipeline = OcrPipeline(settings)
    except OcrdError as exc:  # kept for the calls, which carry it to the command; a failed
        _load_error = exc  # initializer would only break the pool without saying why
        if multiprocessing.parent_process() is None:
            raise


def _describe() -> EngineDescription:
    if _load_error is not None:
        raise _load_error
    pack = _pipeline.pack
    return EngineDescription(dict(_pipeline.engine_info), pack.name, pack.precision, pack.precision_reason)


def _read(path: Path) -> _Reading:
    if _load_error is not None:
        raise _load_error
    started = time.perf_counter()
    try:
        document = _pipeline.run_path(path, source=path.name)
    except InputError as exc:  # the message crosses the process boundary; the type is always InputError
        return _Reading(None, str(exc), time.perf_counter() - started)
    return _Reading(document, None, time.perf_counter() - started)


def threads_per_job(threads: int, jobs: int, cores: int | None = None) -> int:
    """Inference threads for each reading process: ``threads`` as given, or the cores shared out."""
    if threads > 0:
        return threads
    return max(1, (cores or cpu_count()) // jobs) if jobs > 1 else 0


class SetReader:
    """Reads files with the engine, each once: ``read`` gives a file's Document (or raises the
    InputError it was refused with), ``prefetch`` reads many ahead and gives their seconds."""

    def __init__(self, settings: EngineSettings, jobs: int = 1) -> None:
        self.jobs = max(1, jobs)
        self._readings: dict[Path, _Reading] = {}
        self._pool: Executor | None = None
        if self.jobs == 1:
            _load(settings)
        else:
            self._pool = ProcessPoolExecutor(
                self.jobs,
                mp_context=multiprocessing.get_context("spawn"),  # a fork would copy this process's state
                initializer=_load,
                initargs=(settings,),
            )

    def __enter__(self) -> SetReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def describe(self) -> EngineDescription:
        return self._pool.submit(_describe).result() if self._pool is not None else _describe()

    def prefetch(self, paths: list[Path]) -> dict[Path, float]:
        """Read the files not read yet, ``jobs`` at a time; the seconds each file took."""
        missing = list(dict.fromkeys(path for path in paths if path not in self._readings))
        readings = self._pool.map(_read, missing) if self._pool is not None else map(_read, missing)
        for path, reading in zip(missing, readings, strict=True):
            self._readings[path] = reading
        return {path: self._readings[path].seconds for path in paths}

    def read(self, path: Path) -> Document:
        if path not in self._readings:
            self.prefetch([path])
        reading = self._readings[path]
        if reading.error is not None:
            raise InputError(reading.error)
        assert reading.document is not None
        return reading.document
