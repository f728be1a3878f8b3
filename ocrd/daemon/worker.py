"""The worker process: load the engine once, then read files as the supervisor sends them.

Runs in a process started with the "spawn" method (onnxruntime's threads and fork do not mix).
It talks to the supervisor over one pipe:

    supervisor -> worker   ("job", job_id, path, source, overrides, pdf, document)   |   ("stop",)
    worker -> supervisor   ("ready", pid, load_seconds, engine)  |  ("fatal", error)
                           ("done", job_id, Document, seconds, pdf_error)  |  ("error", job_id, error, seconds)

``pdf`` is None or a ``PdfRequest``: check the input before reading it (a signed PDF is refused
as an error), and after reading write the searchable PDF to the temporary file it names.
``document``, when given, is the file's Document already read (an earlier identical file, or a
PDF whose first write failed): only the PDF is written, nothing is read again. ``pdf_error`` is
None, or the error of writing the PDF (the Document is still good): retryable for a disk or
folder problem, otherwise the file's.

The only file it writes is that PDF's temporary file: the sidecars, the original and the
metrics are the supervisor's. It dies with the supervisor (PR_SET_PDEATHSIG) so a killed daemon
leaves no orphans still burning CPU.
"""

from __future__ import annotations

import contextlib
import ctypes
import importlib
import os
import signal
import time
from collections.abc import Callable
from typing import Any

from ocrd.config import EngineSettings
from ocrd.daemon import pdf_jobs
from ocrd.daemon.errors import describe_error, error_info
from ocrd.errors import OcrdError, TransientError

DEFAULT_FACTORY = "ocrd.daemon.worker:build_pipeline"
_PR_SET_PDEATHSIG = 1


def build_pipeline(settings: EngineSettings) -> Any:
    """The production engine factory."""
    from ocrd.engine.pipeline import OcrPipeline

    return OcrPipeline(settings)


def warm_up(pipeline: Any) -> None:
    """Pay one-time costs before reporting ready, not on the first user's file.

    The document loaders import PyMuPDF lazily (~1 s), and onnxruntime's first inference
    allocates and tunes (~1 s); a tiny synthetic line pays both.
    """
    with contextlib.suppress(ImportError):
        import ocrd.documents  # noqa: F401
    if hasattr(pipeline, "warm_up"):
        pipeline.warm_up()
        return
    if hasattr(pipeline, "read_image"):
        import cv2
        import numpy as np

        image = np.full((64, 360, 3), 255, np.uint8)
        cv2.putText(image, "Warm up 2024", (10, 44), cv2.FONT_HERSHEY_SIMPLEX, 1.2, (0, 0, 0), 2)
        pipeline.read_image(image)


def engine_description(pipeline: Any) -> dict[str, str]:
    """What the loaded engine runs, for the status page: pack, precision and why that precision."""
    pack = getattr(pipeline, "pack", None)
    info = dict(getattr(pipeline, "engine_info", {}) or {})
    if pack is not None:
        info["precision_reason"] = getattr(pack, "precision_reason", "")
    return {key: str(value) for key, value in info.items()}


def resolve(factory: str) -> Callable[[EngineSettings], Any]:
    module, _, name = factory.partition(":")
    return getattr(importlib.import_module(module), name)


def _die_with_parent(parent_pid: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(1)


def configure_process(threads: int) -> None:
    """Keep every library in this process to ``threads`` threads (call before importing the engine).

    With several workers per machine, libraries that each default to "all cores" (OpenMP, BLAS,
    OpenCV) oversubscribe the CPU and lose throughput; onnxruntime gets its count via EngineSettings.
    """
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(max(1, threads))
    with contextlib.suppress(ImportError):
        import cv2

        cv2.setNumThreads(max(1, threads))


def run(conn: Any, settings: EngineSettings, factory: str, parent_pid: int) -> None:
    """Process entry point."""
    _die_with_parent(parent_pid)
    # Ctrl-C in a terminal reaches the whole process group; the supervisor decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    configure_process(settings.threads)
    started = time.perf_counter()
    try:
        build = resolve(factory)
        default = build(settings)
        warm_up(default)
    except BaseException as exc:  # report why the engine cannot start, then exit
        conn.send(("fatal", describe_error(exc)))
        return
    conn.send(("ready", os.getpid(), time.perf_counter() - started, engine_description(default)))
    while True:
        try:
            message = conn.recv()
        except (EOFError, OSError):
            return
        if message[0] == "stop":
            return
        _, job_id, path, source, overrides, pdf, document = message
        began = time.perf_counter()
        try:
            if pdf is not None:
                pdf_jobs.check_input(pdf, path)  # also for a reused Document: its first reading may have made no PDF
            if document is None:
                # An inbox's fields settings, language and preprocessing (all its overrides) go with
                # the call: one copy of the models serves every inbox and every upload.
                document = default.run_path(path, source=source, **overrides)
            pdf_error = pdf_jobs.write(pdf, path, document, source) if pdf is not None else None
            reply: tuple[Any, ...] = ("done", job_id, document, time.perf_counter() - began, pdf_error)
        except MemoryError:
            reply = ("error", job_id, _memory_error(), time.perf_counter() - began)
        except OSError as exc:  # the claimed file became unreadable (share gone): not the file's fault
            error = TransientError(f"cannot read the file: {exc.strerror or exc}", path=source)
            reply = ("error", job_id, describe_error(error), time.perf_counter() - began)
        except Exception as exc:
            info = describe_error(exc)
            if not isinstance(exc, OcrdError):
                info["message"] = f"unexpected {type(exc).__name__} while reading {source}: {exc}"
            reply = ("error", job_id, info, time.perf_counter() - began)
        problem = reply[2] if reply[0] == "error" else reply[4]
        if problem is not None and path != source:
            # Messages name the file as the user knows it, not its hidden claimed location.
            problem["message"] = problem["message"].replace(str(path), source)
        conn.send(reply)


def _memory_error() -> dict[str, Any]:
    return error_info(
        "LimitExceededError",
        "limit",
        "not enough memory to read this file; lower [engine.limits] max_pixels or give the service more memory",
    )
