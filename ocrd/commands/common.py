"""What several subcommands share: turning an OcrdError into an exit, parsing option values."""

from __future__ import annotations

import typer

from ocrd.config import PREPROCESS_STEPS
from ocrd.errors import OcrdError, UsageError
from ocrd.packs import PACKS


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


def models_settings(value: str | None) -> dict[str, str]:
    """``--models``: a named pack (``ocrd models`` lists them) or a model folder, as engine settings."""
    if not value:
        return {}
    return {"pack": value} if value in PACKS else {"model_dir": value}
