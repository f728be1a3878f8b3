"""Engine factories for pool tests that need a worker to hang, crash or fail to start on cue.

The real engine cannot be made to hang or segfault deterministically, so these read a command
from the file they are given. The processes, pipes, signals and kills around them are all real.
"""

from __future__ import annotations

import hashlib
import os
import signal
import time
from pathlib import Path

from ocrd.config import EngineSettings
from ocrd.errors import CorruptFileError, ModelError
from ocrd.result import Document, Line, Page


class ScriptedEngine:
    def __init__(self, settings: EngineSettings) -> None:
        self.settings = settings

    def run_path(self, path: str, *, source: str) -> Document:
        data = Path(path).read_bytes()
        command = data.decode(errors="replace").strip()
        if command.startswith("sleep"):
            time.sleep(float(command.split()[1]))
        elif command == "segfault":
            os.kill(os.getpid(), signal.SIGSEGV)
        elif command == "corrupt":
            raise CorruptFileError("the scripted file says it is corrupt", path=path)
        text = f"{command} lang={self.settings.lang} pid={os.getpid()}"
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


FACTORY = "tests.daemon_engines:build"
BROKEN_FACTORY = "tests.daemon_engines:build_broken"
