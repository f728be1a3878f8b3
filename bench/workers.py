"""One engine in one worker process: started pinned to some cores, fed one file at a time.

The worker scripts are in bench/peers/ and speak the line protocol of bench/peers/protocol.py.
Each runs with its own engine's interpreter (a venv under bench/.venvs/, or this interpreter for
ocrd and Tesseract), so engines never share a process, a thread pool or an allocator.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from bench.engines import EngineSpec


class WorkerError(RuntimeError):
    """A worker died or broke the protocol; the message ends with the tail of its log."""


@dataclass
class Reading:
    text: str
    seconds: float
    error: str | None
    timings_ms: dict[str, float] = field(default_factory=dict)


def thread_environment(threads: int) -> dict[str, str]:
    """Every knob the engines' math libraries read for their thread count."""
    value = str(threads)
    return {
        "BENCH_THREADS": value,
        "OMP_NUM_THREADS": value,
        "OMP_THREAD_LIMIT": value,  # Tesseract's OpenMP
        "OPENBLAS_NUM_THREADS": value,
        "MKL_NUM_THREADS": value,
        "PPOCR_BENCH_THREADS": value,  # RapidOCRLite's fallback when its config says -1
    }


class Worker:
    """A running worker process. ``start`` returns once its models are loaded."""

    def __init__(
        self, spec: EngineSpec, cores: list[int], log_dir: Path, *, threads: int | None = None, tag: str = ""
    ) -> None:
        self.spec = spec
        self.cores = cores
        self.threads = threads or len(cores)  # the engine's threads; by default one per core it may use
        self.log_path = log_dir / f"{spec.name}-{len(cores)}core{tag}.log"
        self.load_seconds = 0.0
        self.startup_seconds = 0.0  # process start to ready, as the harness saw it
        self.engine: dict[str, Any] = {}
        self.peak_rss_kb = 0
        self._process: subprocess.Popen[str] | None = None
        self._log: IO[str] | None = None

    def start(self) -> None:
        env = {**os.environ, **thread_environment(self.threads), **self.spec.environment}
        self.spec.workdir.mkdir(parents=True, exist_ok=True)
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("w", encoding="utf-8")
        cores = set(self.cores)
        began = time.perf_counter()
        self._process = subprocess.Popen(
            [str(self.spec.python), str(self.spec.script)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            encoding="utf-8",
            cwd=self.spec.workdir,
            env=env,
            # Pinned before the interpreter starts, so every thread it ever creates inherits it.
            preexec_fn=lambda: os.sched_setaffinity(0, cores),
        )
        ready = self._receive()
        if not ready.get("ready"):
            raise self._failure(f"expected a ready message, got {ready!r}")
        self.startup_seconds = time.perf_counter() - began
        self.load_seconds = float(ready["load_seconds"])
        self.engine = dict(ready.get("engine", {}))
        self.peak_rss_kb = int(ready.get("maxrss_kb", 0))

    def read(self, path: Path) -> Reading:
        assert self._process is not None and self._process.stdin is not None
        try:
            self._process.stdin.write(json.dumps({"path": str(path)}) + "\n")
            self._process.stdin.flush()
        except BrokenPipeError as exc:
            raise self._failure(f"died before reading {path.name}") from exc
        reply = self._receive()
        self.peak_rss_kb = max(self.peak_rss_kb, int(reply.get("maxrss_kb", 0)))
        return Reading(
            text=str(reply.get("text", "")),
            seconds=float(reply["seconds"]),
            error=reply.get("error"),
            timings_ms=dict(reply.get("timings_ms") or {}),
        )

    def stop(self) -> None:
        if self._process is not None:
            if self._process.stdin is not None:
                self._process.stdin.close()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
            self._process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def _receive(self) -> dict[str, Any]:
        assert self._process is not None and self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            self._process.wait()
            raise self._failure(f"exited with status {self._process.returncode}")
        try:
            return json.loads(line)
        except json.JSONDecodeError as exc:
            raise self._failure(f"wrote a line that is not JSON: {line[:200]!r}") from exc

    def _failure(self, what: str) -> WorkerError:
        if self._log is not None:
            self._log.flush()
        tail = self.log_path.read_text(encoding="utf-8", errors="replace").splitlines()[-15:]
        return WorkerError(f"{self.spec.name} worker {what}; log {self.log_path}:\n" + "\n".join(tail))
