"""Benchmark worker for RapidOCR 1.4 (rapidocr-onnxruntime: PP-OCRv4 mobile on onnxruntime)."""

from __future__ import annotations

from typing import Any

from protocol import Recognise, serve, threads


def load() -> tuple[Recognise, dict[str, str]]:
    from importlib.metadata import version

    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(intra_op_num_threads=threads(), inter_op_num_threads=1)

    def recognise(path: str) -> tuple[str, dict[str, Any]]:
        result, _elapse = engine(path)
        return "\n".join(text for _box, text, _score in result or []), {}

    return recognise, {"version": version("rapidocr-onnxruntime"), "models": "PP-OCRv4 mobile (onnx)"}


if __name__ == "__main__":
    serve(load)
