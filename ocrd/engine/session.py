"""onnxruntime sessions built the same way everywhere (threads, optimisation level, memory)."""

from __future__ import annotations

import contextlib
import ctypes
import ctypes.util
import threading
from pathlib import Path

import onnxruntime as ort

from ocrd.errors import ModelError

# Arena growth: by the next power of two above what a run asks for (onnxruntime's default).
_NEXT_POWER_OF_TWO = 0
_shared_arena_lock = threading.Lock()
_shared_arena_registered = False
# glibc's mallopt parameter number for the mmap threshold.
_M_MMAP_THRESHOLD = -3
_MMAP_THRESHOLD_BYTES = 1 << 20


def _fix_mmap_threshold() -> None:
    """Every malloc of 1 MB or more gets its own mapping, returned to the system when freed.

    glibc raises its mmap threshold (up to 32 MB) each time a mapped block is freed, so after the
    first page the big buffers (page images, detection maps, the recognizer's (T, 18710) scores)
    come from the heap, whose freed holes stay resident. With PP-OCRv6 small on the three heaviest
    A4 pages (tests/test_memory.py, 2-core AMD EPYC Zen 3) a worker's ru_maxrss went from 401 to
    377 MB at 1 thread and from 405 to 379 MB at 2 threads with the threshold fixed at 1 MB. The
    onnxruntime arena keeps its own regions, so inference allocates no more often than before.
    """
    name = ctypes.util.find_library("c")
    if name is None:  # not glibc (musl, macOS): nothing to tune
        return
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(name).mallopt(_M_MMAP_THRESHOLD, _MMAP_THRESHOLD_BYTES)


def _register_shared_arena() -> None:
    """One CPU memory arena for every session of this process.

    By default each session (detection, recognition, orientation) keeps its own arena, so a
    worker ends up holding the detector's peak and the recognizer's peak at once: 620 MB after
    the 20 A4 pages of the eval set. One shared arena lets recognition reuse the blocks detection
    freed. Growing it by powers of two (big regions, carved into blocks of any size) kept the peak
    over all 68 eval pages and images at 368-377 MB whatever their order; growing it by exactly
    what is asked reached 437-455 MB for some orders (each new input shape needed new regions:
    freed blocks of other sizes could not serve it), at the same speed.
    """
    global _shared_arena_registered
    with _shared_arena_lock:
        if _shared_arena_registered:
            return
        _fix_mmap_threshold()
        config = ort.OrtArenaCfg(0, _NEXT_POWER_OF_TWO, -1, -1)  # no cap; defaults for chunk sizes
        memory = ort.OrtMemoryInfo("Cpu", ort.OrtAllocatorType.ORT_ARENA_ALLOCATOR, 0, ort.OrtMemType.DEFAULT)
        try:
            ort.create_and_register_allocator(memory, config)
        except Exception as exc:  # onnxruntime raises its own untyped exceptions
            raise ModelError(f"cannot set up onnxruntime's memory arena: {exc}") from exc
        _shared_arena_registered = True


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Each worker process owns its cores: one intra-op pool, no inter-op parallelism,
    # and no spinning threads that would steal CPU from sibling workers between runs.
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.add_session_config_entry("session.use_env_allocators", "1")
    # The memory-pattern planner reserves one block per input shape for all of a run's
    # intermediate tensors; with shapes changing every page and line, that block only adds to
    # the arena. Without it a worker peaked at 376 MB instead of 454 MB on the A4 eval pages,
    # at the same speed (measured with the shared arena).
    options.enable_mem_pattern = False
    options.log_severity_level = 3
    return options


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    _register_shared_arena()
    try:
        return ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped exceptions for bad files
        raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc
