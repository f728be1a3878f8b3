"""The cache of model files our code derives from a pack's shipped ONNX files.

Layout, one folder per (source file, recipe)::

    <cache>/models/<source sha256>-<recipe>/<output file>
    <cache>/models/<source sha256>-<recipe>/manifest.json   # source and output sha256, recipe, details

A cached file is used only when its manifest names the same source checksum and recipe and the
file itself still has the checksum the manifest recorded; anything else (a new model package, a
new recipe, a truncated or edited file) rebuilds it. Several worker processes may start at
once: the first takes a file lock and builds into a private folder that is renamed into place
in one step, the others wait for the lock and then find the finished folder.

The cache folder is ``$OCRD_CACHE_DIR``, else systemd's ``$CACHE_DIRECTORY`` (CacheDirectory=),
else ``$XDG_CACHE_HOME/ocrd``, else ``~/.cache/ocrd``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import shutil
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ocrd.config import MODEL_PRECISIONS
from ocrd.engine.models import ModelFile, ModelPack, load_pack, sha256_of
from ocrd.errors import ModelError, UsageError

log = logging.getLogger("ocrd.engine.derived")

MANIFEST = "manifest.json"

# (source, target) -> details worth keeping in the manifest (counts, accuracy check)
Builder = Callable[[Path, Path], dict[str, Any]]


@dataclass(frozen=True)
class Derivation:
    recipe: str  # names the recipe and its version; part of the folder name
    output_name: str
    build: Builder


def cache_root() -> Path:
    explicit = os.environ.get("OCRD_CACHE_DIR")
    if explicit:
        return Path(explicit).expanduser()
    systemd = os.environ.get("CACHE_DIRECTORY")
    if systemd:
        return Path(systemd.split(":")[0])
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "ocrd"


def models_dir(root: Path | None = None) -> Path:
    return (root or cache_root()) / "models"


def read_manifest(folder: Path) -> dict[str, Any] | None:
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _current(folder: Path, source_sha256: str, derivation: Derivation) -> Path | None:
    """The cached output if the manifest and the file on disk both prove it is the right one."""
    manifest = read_manifest(folder)
    if manifest is None:
        return None
    output = folder / derivation.output_name
    if (
        manifest.get("source_sha256") != source_sha256
        or manifest.get("recipe") != derivation.recipe
        or manifest.get("output") != derivation.output_name
        or not output.is_file()
    ):
        return None
    if sha256_of(output) != manifest.get("output_sha256"):
        log.warning("cached model %s does not match its manifest checksum; rebuilding it", output)
        return None
    return output


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    with lock_path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):
        descriptor = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def derive(source: Path, derivation: Derivation, *, source_sha256: str | None = None, root: Path | None = None) -> Path:
    """The derived file for ``source``: from the cache when current, built (once, under a lock) when not."""
    digest = source_sha256 or sha256_of(source)
    base = models_dir(root)
    folder = base / f"{digest}-{derivation.recipe}"
    cached = _current(folder, digest, derivation)
    if cached is not None:
        return cached
    try:
        base.mkdir(parents=True, exist_ok=True)
        lock = base / f"{folder.name}.lock"
        with _exclusive(lock):
            cached = _current(folder, digest, derivation)  # another process may have built it meanwhile
            if cached is not None:
                return cached
            return _build(source, digest, derivation, folder)
    except OSError as exc:
        raise ModelError(
            f"cannot write derived models to {base}: {exc.strerror or exc}; make the folder writable for this "
            "user or point OCRD_CACHE_DIR at a writable folder"
        ) from exc


def _build(source: Path, digest: str, derivation: Derivation, folder: Path) -> Path:
    scratch = folder.with_name(f".{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    try:
        started = time.perf_counter()
        output = scratch / derivation.output_name
        details = derivation.build(source, output)
        if not output.is_file():
            raise ModelError(f"building {derivation.recipe} from {source} wrote no {derivation.output_name}")
        manifest = {
            "recipe": derivation.recipe,
            "source": str(source),
            "source_sha256": digest,
            "output": derivation.output_name,
            "output_sha256": sha256_of(output),
            "output_bytes": output.stat().st_size,
            "build_seconds": round(time.perf_counter() - started, 2),
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "onnxruntime": _onnxruntime_version(),
            "details": details,
        }
        (scratch / MANIFEST).write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        for path in scratch.iterdir():
            with path.open("rb") as handle:
                os.fsync(handle.fileno())
        if folder.exists():  # stale or damaged: readers only trust a folder whose manifest checks out
            shutil.rmtree(folder)
        os.replace(scratch, folder)
        _fsync_dir(folder.parent)
        _remove_superseded(folder, manifest)
        log.info("derived %s from %s in %.1f s", folder / derivation.output_name, source, manifest["build_seconds"])
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return folder / derivation.output_name


def _recipe_family(recipe: str) -> str:
    return recipe.rsplit("-v", 1)[0]  # "int8-pw-v2" -> "int8-pw"


def _remove_superseded(current: Path, manifest: dict[str, Any]) -> None:
    """Drop folders derived from the same source path by an older recipe or from an older source file.

    A session that already loaded such a file keeps working: onnxruntime reads the model at load time.
    """
    family = _recipe_family(manifest["recipe"])
    for sibling in current.parent.iterdir():
        if sibling == current or not sibling.is_dir() or sibling.name.startswith("."):
            continue
        other = read_manifest(sibling)
        if other and other.get("source") == manifest["source"] and _recipe_family(str(other.get("recipe"))) == family:
            shutil.rmtree(sibling, ignore_errors=True)
            with contextlib.suppress(OSError):
                sibling.with_name(f"{sibling.name}.lock").unlink()
            log.info("removed superseded derived models %s", sibling)


def _onnxruntime_version() -> str:
    import onnxruntime

    return str(onnxruntime.__version__)


# -- recipes ---------------------------------------------------------------------------------


def _fp32_builder(source: Path, target: Path) -> dict[str, Any]:
    from ocrd.engine.quantize import optimize_fp32

    return {"folded_steps": optimize_fp32(source, target)}


def fp32_derivation() -> Derivation:
    from ocrd.engine.quantize import FP32_RECIPE

    return Derivation(FP32_RECIPE, "model.fp32.onnx", _fp32_builder)


def int8_derivation(
    dictionary: Path, *, min_channels: int = 240, matmul: bool = False, check_lines: int = 160
) -> Derivation:
    """INT8 recognizer: built from the exact FP32 rewrite, with the accuracy check recorded.

    ``min_channels`` and ``matmul`` say which layers are quantized (``quantize.Int8Recipe``); the
    named packs carry the values measured for their recognizer (``ocrd.packs``).
    """
    from ocrd.engine.quantize import Int8Recipe, check_accuracy, optimize_fp32, quantize_int8

    recipe = Int8Recipe(min_channels=min_channels, quantize_matmul=matmul)

    def build(source: Path, target: Path) -> dict[str, Any]:
        fp32 = target.with_name("reference.fp32.onnx")
        optimize_fp32(source, fp32)
        quantized = quantize_int8(fp32, target, dictionary, recipe)
        details: dict[str, Any] = {
            "quantized_nodes": quantized,
            "dictionary": str(dictionary),
            "min_channels": min_channels,
            "matmul": matmul,
        }
        if check_lines:
            details["accuracy_check"] = check_accuracy(fp32, target, dictionary, lines=check_lines).to_dict()
        fp32.unlink()
        return details

    return Derivation(recipe.name, "rec.int8.onnx", build)


def pack_int8_derivation(pack: ModelPack, *, check_lines: int = 160) -> Derivation:
    """The INT8 recipe measured for this pack's recognizer (the default layers for a model folder)."""
    return int8_derivation(
        pack.dictionary, min_channels=pack.int8_min_channels, matmul=pack.int8_matmul, check_lines=check_lines
    )


def derive_pack(pack: ModelPack, precision: str, *, verified: bool = False, root: Path | None = None) -> ModelPack:
    """``pack`` with detection and recognition replaced by their derived files for ``precision``.

    fp32: the exact rewrite of both (same results, less time); if the cache cannot be written the
    shipped files are used as they are. int8: the same detector and an INT8 recognizer; failing to
    build it is an error. The orientation classifier and the dictionary stay as shipped.
    """
    if precision not in MODEL_PRECISIONS:
        raise UsageError(f"unknown model precision {precision!r}; choose one of: {', '.join(MODEL_PRECISIONS)}")
    try:
        return build_derived_pack(pack, precision, verified=verified, root=root)
    except ModelError as exc:
        if precision != "fp32":
            raise
        log.warning("using the shipped FP32 models unoptimized: %s", exc)
        return pack


def build_derived_pack(pack: ModelPack, precision: str, *, verified: bool, root: Path | None) -> ModelPack:
    def derived(role: str, derivation: Derivation) -> ModelFile:
        entry = pack.files[role]
        # A verified pack's files were just proven to match their published checksums: no need to hash twice.
        digest = entry.expected_sha256 if verified else None
        return replace(
            entry, path=derive(entry.path, derivation, source_sha256=digest, root=root), expected_sha256=None
        )

    files = dict(pack.files)
    fp32 = fp32_derivation()
    files["det"] = derived("det", fp32)
    files["rec"] = derived("rec", fp32 if precision == "fp32" else pack_int8_derivation(pack))
    name = pack.name if precision == "fp32" else f"{pack.name}-{precision}"
    return ModelPack(name, files)


def prepare_models(
    models: str | Path | None, precisions: tuple[str, ...], *, root: Path | None = None
) -> list[dict[str, Any]]:
    """Build (or confirm) every derived file ``precisions`` need: what ``ocrd models quantize`` runs.

    One row per derived file: role, precision, recipe, path, sha256, whether it was built now, and
    the manifest's details (for INT8 the accuracy check against the FP32 model).
    """
    pack = load_pack(models)
    rows = []
    for precision in precisions:
        derived = build_derived_pack(pack, precision, verified=True, root=root)
        for role in ("det", "rec"):
            path = derived.files[role].path
            manifest = read_manifest(path.parent) or {}
            rows.append(
                {
                    "role": role,
                    "precision": precision,
                    "recipe": manifest.get("recipe"),
                    "path": str(path),
                    "sha256": manifest.get("output_sha256"),
                    "source_sha256": manifest.get("source_sha256"),
                    "created": manifest.get("created"),
                    "details": manifest.get("details", {}),
                }
            )
    return rows
