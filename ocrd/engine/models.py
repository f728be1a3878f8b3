"""Model packs: where the ONNX files come from, and proof that they are the right ones.

A model pack is a folder with ``det.onnx`` (text detection), ``rec.onnx`` (CTC text
recognition), ``dict.txt`` (one character per line, in the recognizer's class order)
and optionally ``cls.onnx`` (text-line orientation, 0 / 180 degrees), or one of the named packs
of ``ocrd.packs``, whose files are inside installed Python packages: we locate them with
importlib.resources and check their sha256, we never download anything.
"""

from __future__ import annotations

import importlib.resources
from dataclasses import dataclass
from pathlib import Path

from ocrd.checksums import sha256_of
from ocrd.errors import ModelError
from ocrd.packs import DEFAULT_PACK, PACKS, PackagedFile, PackSpec

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


FOLDER_FILES = {"det": "det.onnx", "rec": "rec.onnx", "cls": "cls.onnx", "dict": "dict.txt"}
# Where a recognizer keeps its character list when there is no dictionary file (PaddleOCR exports).
MODEL_CHARACTERS_KEY = "character"


@dataclass(frozen=True)
class ModelFile:
    role: str  # det, rec, cls, dict
    path: Path
    expected_sha256: str | None  # None: a user pack without a checksum list
    distribution: str | None = None  # the pip package it came from (named packs)

    @property
    def size(self) -> int:
        return self.path.stat().st_size


@dataclass(frozen=True)
class ModelPack:
    name: str
    files: dict[str, ModelFile]
    licence: str | None = None  # None: a user folder, whatever its owner says
    origin: str | None = None
    precision: str | None = None  # set once the engine's files are chosen (see engine_pack.load_engine_pack)
    precision_reason: str = ""
    # Which recognizer layers INT8 quantizes (ocrd.engine.quantize.Int8Recipe), measured per pack.
    int8_min_channels: int = 240
    int8_matmul: bool = False

    @property
    def det(self) -> Path:
        return self.files["det"].path

    @property
    def rec(self) -> Path:
        return self.files["rec"].path

    @property
    def dictionary(self) -> Path:
        """A dictionary file, or the recognizer model itself when its characters are in its metadata."""
        return self.files["dict"].path

    @property
    def cls(self) -> Path | None:
        entry = self.files.get("cls")
        return entry.path if entry else None


def _locate(role: str, candidates: tuple[PackagedFile, ...], pack: str) -> ModelFile:
    """The first installed package of ``candidates`` must hold the file (with its checksum, checked later)."""
    for candidate in candidates:
        try:
            root = importlib.resources.files(candidate.package)
        except ModuleNotFoundError:
            continue
        path = Path(str(root.joinpath(candidate.relative)))
        if not path.is_file():
            raise ModelError(
                f"model file {candidate.relative} of pack {pack} is missing from the installed "
                f"{candidate.distribution} package (looked in {path}); reinstall it: "
                f"pip install --force-reinstall {candidate.distribution}"
            )
        return ModelFile(role, path, candidate.sha256, candidate.distribution)
    wheels = " or ".join(c.distribution for c in candidates)
    raise ModelError(
        f"model pack {pack} needs the Python package {wheels} for its {role} model; install it "
        f"(pip install {candidates[0].distribution}), choose another pack (ocrd models lists them) "
        "or set engine.model_dir to a model folder"
    )


def builtin_pack(name: str = DEFAULT_PACK) -> ModelPack:
    spec: PackSpec | None = PACKS.get(name)
    if spec is None:
        raise ModelError(f"unknown model pack {name!r}; the named packs are: {', '.join(PACKS)}")
    files = {role: _locate(role, candidates, name) for role, candidates in spec.files.items()}
    if spec.dictionary_in_model:
        files["dict"] = ModelFile("dict", files["rec"].path, files["rec"].expected_sha256, files["rec"].distribution)
    return ModelPack(
        name,
        files,
        licence=spec.licence,
        origin=spec.origin,
        int8_min_channels=spec.int8_min_channels,
        int8_matmul=spec.int8_matmul,
    )


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
        raise ModelError(
            f"model folder {root} does not exist or is not a folder (the named packs are: {', '.join(PACKS)})"
        )
    sums = _read_checksum_list(root)
    files = {}
    for role, name in FOLDER_FILES.items():
        path = root / name
        if path.is_file():
            files[role] = ModelFile(role, path, sums.get(name))
        elif role == "dict" and "rec" in files:
            files[role] = files["rec"]  # the recognizer's own character list (read_dictionary checks it has one)
        elif role != "cls":
            raise ModelError(
                f"model folder {root} has no {name}; a model pack needs det.onnx, rec.onnx and dict.txt "
                "(cls.onnx is optional; dict.txt too when rec.onnx carries its characters)"
            )
    return ModelPack(root.name or str(root), files)


def load_pack(models: str | Path | None, *, verify: bool = True) -> ModelPack:
    """The pack's files as shipped: a named pack, a model folder, or the default pack for None;
    ``ocrd.engine.engine_pack.load_engine_pack`` gives the files the engine reads at a model precision."""
    if models is None:
        pack = builtin_pack()
    elif isinstance(models, str) and models in PACKS:
        pack = builtin_pack(models)
    else:
        pack = folder_pack(models)
    if verify:
        for problem in verify_pack(pack):
            raise ModelError(problem)
    return pack


def verify_pack(pack: ModelPack) -> list[str]:
    """Checksum problems, one sentence each; empty when every file with a known sum matches."""
    problems = []
    checked: set[Path] = set()
    for entry in pack.files.values():
        if entry.expected_sha256 is None or entry.path in checked:
            continue  # a recognizer that holds its own dictionary is hashed once
        checked.add(entry.path)
        actual = sha256_of(entry.path)
        if actual != entry.expected_sha256:
            problems.append(
                f"model file {entry.path} has sha256 {actual}, expected {entry.expected_sha256}: "
                "the file is damaged or not the published one; reinstall the model package"
            )
    return problems


def _characters_in_model(path: Path) -> str:
    import onnx

    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf raises its own untyped errors for damaged files
        raise ModelError(f"cannot read the character list of recognizer {path}: {exc}") from exc
    for entry in model.metadata_props:
        if entry.key == MODEL_CHARACTERS_KEY:
            return entry.value
    raise ModelError(
        f"recognizer {path} has no {MODEL_CHARACTERS_KEY!r} metadata, so its characters are unknown; "
        "give the pack a dict.txt"
    )


def read_dictionary(path: Path) -> list[str]:
    """One character per class, from a dictionary file or from a recognizer's own metadata (.onnx)."""
    if path.suffix == ".onnx":
        text = _characters_in_model(path)
    else:
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
