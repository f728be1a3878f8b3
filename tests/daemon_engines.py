"""Engine factories for daemon and pool tests, and the gate that holds a document mid-read.

The real engine cannot be made to hang or segfault deterministically, so ``ScriptedEngine``
reads a command from the file it is given. ``GatedEngine`` wraps the real OcrPipeline: the text
is really recognised, but the document is not handed back until the test says so, so a test
can act (signal, kill, stop) while a file is certainly in progress, on any machine. The
processes, pipes, signals and kills around them are all real.

The gate works across processes through a folder named by $OCRD_TEST_GATE:
``<source>.hold`` (written by the test) means "hold this document"; the worker then appends
its pid to ``<source>.started`` and waits until ``<source>.release`` exists.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ocrd.config import EngineSettings
from ocrd.errors import CorruptFileError, ModelError
from ocrd.result import Document, Line, Page

GATE_ENV = "OCRD_TEST_GATE"
POLL_SECONDS = 0.02


def _marker(folder: str | os.PathLike[str], source: str, kind: str) -> Path:
    return Path(folder) / f"{quote(source, safe='')}.{kind}"


def wait_at_gate(source: str) -> None:
    """In the worker: if the test holds ``source``, say so and wait for its release."""
    folder = os.environ.get(GATE_ENV)
    if not folder or not _marker(folder, source, "hold").exists():
        return
    with _marker(folder, source, "started").open("a") as started:
        started.write(f"{os.getpid()}\n")
    release = _marker(folder, source, "release")
    while not release.exists():
        time.sleep(POLL_SECONDS)


class Gate:
    """The test's side of the gate: hold documents, see them reach it, let them go."""

    def __init__(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.folder = folder

    def env(self, factory: str | None = None) -> dict[str, str]:
        """Environment for a daemon subprocess whose workers run ``factory`` (the gated real engine)."""
        from ocrd.daemon.commands import ENGINE_FACTORY_ENV  # not at import: workers load this module too

        return {GATE_ENV: str(self.folder), ENGINE_FACTORY_ENV: factory or GATED_FACTORY}

    def hold(self, *sources: str) -> None:
        for source in sources:
            _marker(self.folder, source, "hold").touch()

    def release(self, *sources: str) -> None:
        for source in sources:
            _marker(self.folder, source, "release").touch()

    def starts(self, source: str) -> list[int]:
        """The pids of the workers that reached the gate with ``source``, in order."""
        try:
            text = _marker(self.folder, source, "started").read_text()
        except FileNotFoundError:
            return []
        complete = text[: text.rfind("\n") + 1]
        return [int(line) for line in complete.splitlines()]

    def wait_started(self, source: str, count: int = 1, timeout: float = 300) -> int:
        """Block until ``source`` reached the gate ``count`` times; the pid of that worker."""
        deadline = time.monotonic() + timeout
        while len(self.starts(source)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{source} did not reach the gate {count} time(s) within {timeout:g} s")
            time.sleep(POLL_SECONDS)
        return self.starts(source)[count - 1]


class GatedEngine:
    """The real engine, whose documents wait at the gate before they are returned."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:  # warm_up, engine_info, ...: the real engine's
        return getattr(self.inner, name)

    def run_path(self, path: str, *, source: str | None = None, **options: Any) -> Document:
        document = self.inner.run_path(path, source=source, **options)
        wait_at_gate(source or Path(path).name)
        return document


class ScriptedEngine:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def run_path(self, path: str, *, source: str, **options: Any) -> Document:
        data = Path(path).read_bytes()
        command = data.decode(errors="replace").strip()
        if command.startswith("sleep"):
            time.sleep(float(command.split()[1]))
        elif command == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif command == "corrupt":
            raise CorruptFileError("the scripted file says it is corrupt", path=path)
        fields = options.get("fields") or self.settings.fields
        lang = options.get("lang") or self.settings.lang
        steps = ",".join(options.get("preprocess") or self.settings.preprocess) or "none"
        text = f"{command} lang={lang} preprocess={steps} pid={os.getpid()} engine={id(self)} fields={fields.mode}"
        wait_at_gate(source)
        return Document(
            source=source,
            sha256=hashlib.sha256(data).hexdigest(),
            engine={"version": "scripted", "models": "none"},
            pages=[Page(0, 10, 10, "ocr", [Line(text, 1.0, [[0, 0], [1, 0], [1, 1], [0, 1]])])],
            timings_ms={"recognize": 1.0, "total": 1.0},
        )


def build(settings: EngineSettings) -> ScriptedEngine:
    return ScriptedEngine(settings)


def build_broken(settings: EngineSettings) -> ScriptedEngine:
    raise ModelError("model file det.onnx is missing; reinstall the model package")


def build_gated(settings: EngineSettings) -> GatedEngine:
    from ocrd.engine.pipeline import OcrPipeline

    return GatedEngine(OcrPipeline(settings))


FACTORY = "tests.daemon_engines:build"
BROKEN_FACTORY = "tests.daemon_engines:build_broken"
GATED_FACTORY = "tests.daemon_engines:build_gated"
