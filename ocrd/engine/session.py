"""onnxruntime sessions built the same way everywhere (threads, optimisation level)."""

from __future__ import annotations

from pathlib import Path

import onnxruntime as ort

from ocrd.errors import ModelError


def session_options(threads: int) -> ort.SessionOptions:
    options = ort.SessionOptions()
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Each worker process owns its cores: one intra-op pool, no inter-op parallelism,
    # and no spinning threads that would steal CPU from sibling workers between runs.
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    options.log_severity_level = 3
    return options


def open_session(path: Path, threads: int) -> ort.InferenceSession:
    try:
        return ort.InferenceSession(
            str(path), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # onnxruntime raises its own untyped exceptions for bad files
        raise ModelError(f"cannot load ONNX model {path}: {exc}") from exc
