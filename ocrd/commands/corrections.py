"""``ocrd corrections export DIR``: what people corrected, as an eval set and a training set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from ocrd.commands.common import fail
from ocrd.commands.help import HelpfulTyper
from ocrd.config_loader import load_config
from ocrd.errors import OcrdError

corrections_app = HelpfulTyper(
    name="corrections", help="Corrections people made to results: export them as data sets.", no_args_is_help=True
)


@corrections_app.command("export")
def export_command(
    target: Annotated[Path, typer.Argument(metavar="DIR", help="New or empty folder for the sets.")],
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="TOML configuration of the daemon (finds its data folder)."),
    ] = None,
) -> None:
    """Write the corrected lines as an `ocrd eval` set (DIR/labels.jsonl + line crops), PaddleOCR
    recognition labels (DIR/rec_gt.txt) and the corrected pages (DIR/pages/labels.jsonl)."""
    # Imported here: the export cuts crops with the document loaders (PyMuPDF, OpenCV), which every
    # other ocrd command (even --version) would otherwise pay for at start.
    from ocrd.results.export import export
    from ocrd.results.store import folder_of

    try:
        settings = load_config(config)
        folder = folder_of(settings.daemon.data_dir)
        summary = export(folder, target, settings.engine.limits)
    except OcrdError as error:
        raise fail(error) from None
    typer.echo(
        f"exported {summary.lines} corrected line(s) and {summary.pages} page(s) of {summary.results} result(s) "
        f"to {target}"
        + (f"; {summary.skipped} result(s) skipped: their originals are no longer kept" if summary.skipped else "")
    )
    if summary.lines:
        typer.echo(f"score the current models on them: ocrd eval {target}")
