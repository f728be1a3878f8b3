"""What several subcommands share: turning an OcrdError into an exit, parsing option values."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocrd.config import PRECISIONS, PREPROCESS_STEPS
from ocrd.errors import OcrdError, UsageError
from ocrd.packs import DEFAULT_PACK, PACKS

# The --models and --precision options of every command that reads with the engine.
ModelsOption = Annotated[
    str | None,
    typer.Option(
        metavar="NAME|DIR",
        help=f"A named model pack ({', '.join(PACKS)}; default {DEFAULT_PACK}) or a model folder "
        "(det.onnx, rec.onnx, dict.txt, optionally cls.onnx).",
    ),
]
PrecisionOption = Annotated[
    str,
    typer.Option(
        metavar="|".join(PRECISIONS),
        help="Model precision: auto runs INT8 where the CPU has int8 dot-product instructions, FP32 elsewhere.",
    ),
]


def fail(error: OcrdError) -> typer.Exit:
    """Say what went wrong on stderr; the exit to raise carries the error's exit code."""
    typer.echo(f"ocrd: {error}", err=True)
    return typer.Exit(error.exit_code)


def parse_steps(value: str | None) -> tuple[str, ...]:
    """``--preprocess grayscale,deskew`` as a tuple of known step names."""
    if not value:
        return ()
    steps = tuple(step.strip() for step in value.split(",") if step.strip())
    unknown = [s for s in steps if s not in PREPROCESS_STEPS]
    if unknown:
        raise UsageError(
            f"--preprocess: unknown step(s) {', '.join(unknown)}; choose from {', '.join(PREPROCESS_STEPS)}"
        )
    return steps


def models_settings(value: str | None, *, precision: str | None = None) -> dict[str, str]:
    """``--models`` (a named pack or an existing model folder) and ``--precision`` as engine settings."""
    settings: dict[str, str] = {}
    if precision is not None:
        if precision not in PRECISIONS:
            raise UsageError(f"--precision must be one of {', '.join(PRECISIONS)}, not {precision!r}")
        settings["precision"] = precision
    if not value:
        return settings
    if value in PACKS:
        return {**settings, "pack": value}
    if not Path(value).is_dir():
        raise UsageError(f"--models {value!r} is neither a named pack ({', '.join(PACKS)}) nor a model folder")
    return {**settings, "model_dir": value}
