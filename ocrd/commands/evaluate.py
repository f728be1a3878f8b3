"""``ocrd eval``: accuracy on a labelled set, scored by ocrd.evaluation with the real engine."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from ocrd import evaluation
from ocrd.commands.common import ModelsOption, PrecisionOption, fail, models_settings, parse_steps
from ocrd.config import PREPROCESS_STEPS, EngineSettings
from ocrd.errors import OcrdError
from ocrd.fields.model import Fields
from ocrd.result import Document


def eval_command(
    set_dir: Annotated[Path, typer.Argument(metavar="SET_DIR", help="Folder with labels.jsonl and its images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    worst: Annotated[int, typer.Option(metavar="N", help="How many of the worst items to list.")] = 5,
    threads: Annotated[int, typer.Option(metavar="N", help="Inference threads (0: all cores).")] = 0,
    preprocess: Annotated[
        str | None,
        typer.Option(metavar="STEP,...", help=f"Preprocessing steps, comma-separated: {', '.join(PREPROCESS_STEPS)}."),
    ] = None,
    models: ModelsOption = None,
    precision: PrecisionOption = "auto",
    check: Annotated[bool, typer.Option(help="Exit 1 when the set has accuracy bars and one is missed.")] = False,
    report: Annotated[
        Path | None, typer.Option(metavar="FILE", help="Also write the JSON report to this file.")
    ] = None,
) -> None:
    """Measure accuracy on a labelled set (CER, exact lines, bag-of-characters recall/precision),
    or, for a set whose items carry field labels, the invoice fields the engine extracts."""
    from ocrd.engine.pipeline import OcrPipeline  # loads onnxruntime: only when there is work

    try:
        settings = _settings(models, precision, threads, preprocess)
        if evaluation.is_fields_set(set_dir):
            settings = evaluation.with_fields(settings)
        pipeline = OcrPipeline(settings)
        read = _cached(lambda path: pipeline.run_path(path, source=path.name))

        def recognise(path: Path) -> str:
            return read(path).to_text()

        def read_fields(path: Path) -> Fields | None:
            return read(path).fields

        outcome = evaluation.eval_command(
            set_dir, as_json=as_json, worst=worst, recognise=recognise, read_fields=read_fields
        )
        if report is not None:
            json_outcome = evaluation.eval_command(
                set_dir, as_json=True, worst=worst, recognise=recognise, read_fields=read_fields
            )
            report.write_text(_with_engine(json_outcome.output, pipeline.engine_info), encoding="utf-8")
    except OcrdError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(_with_engine(outcome.output, pipeline.engine_info))
    else:
        # First, so a saved report always says which models produced its figures.
        typer.echo(
            f"models: {pipeline.pack.name}, precision {pipeline.pack.precision} ({pipeline.pack.precision_reason})"
        )
        typer.echo(outcome.output)
    if check and outcome.bar_failures:
        raise typer.Exit(1)


def _settings(models: str | None, precision: str, threads: int, preprocess: str | None) -> EngineSettings:
    steps = parse_steps(preprocess)
    return EngineSettings(**models_settings(models, precision=precision), threads=threads, preprocess=steps)


def _with_engine(report_json: str, engine: dict[str, str]) -> str:
    """The JSON report with the engine that read the set (models, precision) added."""
    data = {"engine": engine, **json.loads(report_json)}
    return json.dumps(data, ensure_ascii=False, indent=2)


def _cached(recognise: Callable[[Path], Document]) -> Callable[[Path], Document]:
    """The same reader, remembering answers, so a second report does not run the engine again."""
    seen: dict[Path, Document] = {}

    def cached(path: Path) -> Document:
        if path not in seen:
            seen[path] = recognise(path)
        return seen[path]

    return cached
