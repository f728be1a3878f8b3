"""The files the engine reads: a pack's derived models at the precision this CPU should run.

``derived`` builds and caches FP32 rewrites and INT8 recognizers; ``precision`` knows what the
CPU can do; this module puts them together for ``precision = "auto"``, and says why.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from pathlib import Path

from ocrd.config import PRECISIONS
from ocrd.engine import precision as cpu_precision
from ocrd.engine.derived import build_derived_pack, derive_pack, models_dir, pack_int8_derivation, read_manifest
from ocrd.engine.models import ModelPack, load_pack, sha256_of
from ocrd.errors import ModelError, UsageError

log = logging.getLogger("ocrd.engine.engine_pack")


def load_engine_pack(models: str | Path | None, precision: str | None, *, verify: bool = True) -> ModelPack:
    """The pack the engine reads (a pack name, a model folder, or the default pack for None).

    With ``precision`` (auto, fp32, int8) detection and recognition come from the cache of derived
    models, built there first if needed, and the pack says which precision runs and why; with
    None, the shipped files.
    """
    pack = load_pack(models, verify=verify)
    if precision is None:
        return pack
    if precision not in PRECISIONS:
        raise UsageError(f"unknown model precision {precision!r}; choose one of: {', '.join(PRECISIONS)}")
    choice = cpu_precision.choose(precision)
    if precision == "auto" and choice.precision == "int8":
        reason = _auto_int8(pack, choice, verified=verify)
        if isinstance(reason, ModelPack):
            return reason
        return replace(derive_pack(pack, "fp32", verified=verify), precision="fp32", precision_reason=reason)
    derived = derive_pack(pack, choice.precision, verified=verify)
    return replace(derived, precision=choice.precision, precision_reason=choice.reason)


def _auto_int8(pack: ModelPack, choice: cpu_precision.PrecisionChoice, *, verified: bool) -> ModelPack | str:
    """The INT8 pack if it builds and passed its accuracy check; otherwise why FP32 runs instead."""
    try:
        int8 = build_derived_pack(pack, "int8", verified=verified, root=None)
    except ModelError as exc:
        log.warning("running FP32: the INT8 recognizer could not be built: %s", exc)
        return f"{choice.reason}, but the INT8 recognizer could not be built ({exc})"
    manifest = read_manifest(int8.rec.parent) or {}
    passed, words = cpu_precision.check_passes(manifest.get("details", {}).get("accuracy_check"))
    if not passed:
        log.warning("running FP32: %s", words)
        return f"{choice.reason}, but {words}"
    return replace(int8, precision="int8", precision_reason=f"{choice.reason}; {words}")


def planned_precision(pack: ModelPack, requested: str, *, root: Path | None = None) -> tuple[str, str]:
    """The precision ``requested`` runs on this CPU and why, without building anything."""
    choice = cpu_precision.choose(requested)
    if requested != "auto" or choice.precision != "int8":
        return choice.precision, choice.reason
    digest = pack.files["rec"].expected_sha256 or sha256_of(pack.rec)
    manifest = read_manifest(models_dir(root) / f"{digest}-{pack_int8_derivation(pack).recipe}")
    if manifest is None:
        return "int8", (
            f"{choice.reason}; the INT8 recognizer is built and checked when the engine first starts "
            "(or now: ocrd models quantize), and FP32 runs if it fails its check"
        )
    passed, words = cpu_precision.check_passes(manifest.get("details", {}).get("accuracy_check"))
    return ("int8", f"{choice.reason}; {words}") if passed else ("fp32", f"{choice.reason}, but {words}")
