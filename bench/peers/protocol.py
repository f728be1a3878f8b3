"""The line protocol every benchmark worker speaks, whichever engine it wraps.

A worker is one process holding one loaded engine. It is started with the thread count in
``BENCH_THREADS``, prints one JSON line once its models are loaded, then reads one JSON request
per line on stdin (``{"path": ...}``) and answers each with one JSON line on stdout:

    {"ready": true, "load_seconds": 0.8, "engine": {...}, "maxrss_kb": 123456}
    {"text": "...", "seconds": 0.41, "maxrss_kb": 234567, "timings_ms": {...}, "error": null}

It exits at end of input. This file must import nothing outside the standard library: each
worker runs in its own engine's virtual environment.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
import traceback
from collections.abc import Callable
from typing import Any, TextIO

# recognise(path) -> (text in reading order with lines joined by "\n", extra fields for the reply)
Recognise = Callable[[str], tuple[str, dict[str, Any]]]


def threads() -> int:
    return max(1, int(os.environ.get("BENCH_THREADS", "1")))


def peak_rss_kb() -> int:
    """Peak resident memory of this process and of any children it waited for (Linux: KiB)."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children)


def _private_stdout() -> TextIO:
    """The protocol's own channel; fd 1 is pointed at stderr so engine chatter cannot corrupt it."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8", buffering=1)
    sys.stdout.flush()
    os.dup2(2, 1)
    return channel


def _send(channel: TextIO, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message, ensure_ascii=False) + "\n")
    channel.flush()


def serve(load: Callable[[], tuple[Recognise, dict[str, Any]]]) -> None:
    """Load the engine (timed), announce readiness, then answer requests until stdin closes.

    ``load`` does the engine's imports itself, so the load figure covers importing the engine
    and building its models: what a new worker process costs before its first page. The engine
    description ``load`` returns (version, models) may add ``models_seconds``: the engine's own
    figure for building its models, imports excluded.
    """
    channel = _private_stdout()
    started = time.perf_counter()
    recognise, engine = load()
    load_seconds = time.perf_counter() - started
    _send(channel, {"ready": True, "load_seconds": load_seconds, "engine": engine, "maxrss_kb": peak_rss_kb()})
    for line in sys.stdin:
        if not line.strip():
            continue
        path = json.loads(line)["path"]
        began = time.perf_counter()
        try:
            text, extra = recognise(path)
            error = None
        except Exception as exc:  # one unreadable file must not end the run; the harness scores it as empty
            text, extra = "", {}
            error = f"{type(exc).__name__}: {exc}"
            traceback.print_exc()
        seconds = time.perf_counter() - began
        _send(channel, {"text": text, "seconds": seconds, "maxrss_kb": peak_rss_kb(), "error": error, **extra})
