"""Benchmark worker for RapidOCRLite (rapidocrlite[lite]): its native engine with the bundled "lite" models.

Only the "lite" model type runs offline (its weights ship in the wheel); RapidOCRLite's default
PP-OCRv6 models are downloaded at first use, which the benchmark never does. ``--self-check``
reads one generated image and exits: setup_peers.sh runs it once after installing.
"""

from __future__ import annotations

import sys
from typing import Any

from protocol import Recognise, serve, threads


def _engine() -> Any:
    from rapidocr import RapidOCR

    return RapidOCR(
        params={
            "Det.model_type": "lite",
            "Rec.model_type": "lite",
            "EngineConfig.onnxruntime.intra_op_num_threads": threads(),
            "Global.log_level": "warning",
        }
    )


def _text(result: Any) -> str:
    return "\n".join(result.txts or ())


def load() -> tuple[Recognise, dict[str, str]]:
    from importlib.metadata import version

    engine = _engine()

    def recognise(path: str) -> tuple[str, dict[str, Any]]:
        return _text(engine(path)), {}

    return recognise, {"version": version("rapidocrlite"), "models": "Indra OCR lite (bundled)"}


def self_check() -> None:
    import numpy as np
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (480, 80), "white")
    ImageDraw.Draw(image).text((20, 25), "Hello 2024", fill="black", font_size=32)
    text = _text(_engine()(np.asarray(image)[:, :, ::-1]))
    print(f"rapidocrlite self-check read: {text!r}")


if __name__ == "__main__":
    if "--self-check" in sys.argv:
        self_check()
    else:
        serve(load)
