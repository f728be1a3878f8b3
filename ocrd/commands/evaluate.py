"""``ocrd eval``: accuracy on a labelled set, scored by ocrd.evaluation with the real engine."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ocrd import evaluation
from ocrd.commands.common import fail, parse_steps
from ocrd.config import PREPROCESS_STEPS, EngineSettings
from ocrd.errors import OcrdError


def eval_command(
    set_dir: Annotated[Path, typer.Argument(metavar="SET_DIR", help="Folder with labels.jsonl and its images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    worst: Annotated[int, typer.Option(metavar="N", help="How many of the worst items to list.")] = 5,
    threads: Annotated[int, typer.Option(metavar="N", help="Inference threads (0: all cores).")] = 0,
    preprocess: Annotated[
        str | None,
        typer.Option(metavar="STEP,...", help=f"Preprocessing steps, comma-separated: {', '.join(PREPROCESS_STEPS)}."),
    ] = None,
    check: Annotated[bool, typer.Option(help="Exit 1 when the set has accuracy bars and one is missed.")] = False,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the JSON report to this file.")
    ] = None,
) -> None:
    """Measure accuracy on a labelled set (CER, exact lines, bag-of-characters recall/precision)."""
    try:
        settings = EngineSettings(threads=threads, preprocess=parse_steps(preprocess))
        recogniser = _cached(evaluation.engine_recogniser(settings))
        outcome = evaluation.eval_command(set_dir, as_json=as_json, worst=worst, recognise=recogniser)
        if report is not None:
            json_outcome = evaluation.eval_command(set_dir, as_json=True, worst=worst, recognise=recogniser)
            report.write_text(json_outcome.output, encoding="utf-8")
    except OcrdError as error:
        raise fail(error) from None
    typer.echo(outcome.output)
    if check and outcome.bar_failures:
        raise typer.Exit(1)


def _cached(recognise: Callable[[Path], str]) -> Callable[[Path], str]:
    """The same recogniser, remembering answers, so a second report does not run the engine again."""
    seen: dict[Path, str] = {}

    def cached(path: Path) -> str:
        if path not in seen:
            seen[path] = recognise(path)
        return seen[path]

    return cached
