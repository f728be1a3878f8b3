"""Benchmark worker for ocrd itself (runs in the interpreter that has ocrd installed).

Engine settings come as JSON in ``BENCH_OCRD_SETTINGS`` (EngineSettings field names; ``threads``
is always the benchmark's thread count).
"""

from __future__ import annotations

import json
import os
from typing import Any

from protocol import Recognise, serve, threads


def load() -> tuple[Recognise, dict[str, Any]]:
    from ocrd.config import EngineSettings
    from ocrd.engine.pipeline import OcrPipeline

    overrides: dict[str, Any] = json.loads(os.environ.get("BENCH_OCRD_SETTINGS") or "{}")
    overrides["threads"] = threads()
    if isinstance(overrides.get("preprocess"), str):
        overrides["preprocess"] = tuple(s for s in overrides["preprocess"].split(",") if s)
    pipeline = OcrPipeline(EngineSettings(**overrides))

    def recognise(path: str) -> tuple[str, dict[str, Any]]:
        document = pipeline.run_path(path)
        # to_text(), exactly as `ocrd eval` scores it
        return document.to_text(), {"timings_ms": document.timings_ms}

    info = pipeline.engine_info
    return recognise, {"version": info["version"], "models": info["models"], "models_seconds": pipeline.load_seconds}


if __name__ == "__main__":
    serve(load)
