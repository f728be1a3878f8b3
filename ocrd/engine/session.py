"""onnxruntime sessions built the same way everywhere (threads, optimisation level, memory)."""

from __future__ import annotations

import threading
from pathlib import Path

import onnxruntime as ort

from ocrd.errors import ModelError

# Arena growth: by the next power of two above what a run asks for (onnxruntime's default).
_NEXT_POWER_OF_TWO = 0
_shared_arena_lock = threading.Lock()
_shared_arena_registered = False


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
