"""``ocrd eval``: accuracy on a labelled set, scored by ocrd.evaluation with the real engine."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from ocrd import evaluation
from ocrd.commands.common import ModelsOption, PrecisionOption, fail, models_settings, parse_steps
from ocrd.commands.eval_readers import SetReader, threads_per_job
from ocrd.config import PREPROCESS_STEPS, EngineSettings, cpu_count
from ocrd.errors import OcrdError
from ocrd.fields.model import Fields


def eval_command(
    set_dir: Annotated[Path, typer.Argument(metavar="SET_DIR", help="Folder with labels.jsonl and its images.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    worst: Annotated[int, typer.Option(metavar="N", help="How many of the worst items to list.")] = 5,
    threads: Annotated[
        int, typer.Option(metavar="N", help="Inference threads per reading process (0: the cores shared out).")
    ] = 0,
    jobs: Annotated[
        int,
        typer.Option(
            metavar="N",
            min=0,
            help="Files read at once, each process with its own models (about 400 MB each); 0: one per core.",
        ),
    ] = 1,
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
    jobs = jobs or cpu_count()
    try:
        settings = _settings(models, precision, threads_per_job(threads, jobs), preprocess)
        if evaluation.is_fields_set(set_dir):
            settings = evaluation.with_fields(settings)
        with SetReader(settings, jobs) as reader:
            engine = reader.describe()

            def recognise(path: Path) -> str:
                return reader.read(path).to_text()

            def read_fields(path: Path) -> Fields | None:
                return reader.read(path).fields

            readers = {"recognise": recognise, "read_fields": read_fields, "prefetch": reader.prefetch}
            outcome = evaluation.eval_command(set_dir, as_json=as_json, worst=worst, **readers)
            if report is not None:  # the files are read once: the second report is made from the same readings
                json_outcome = evaluation.eval_command(set_dir, as_json=True, worst=worst, **readers)
                report.write_text(_with_engine(json_outcome.output, engine.info), encoding="utf-8")
    except OcrdError as error:
        raise fail(error) from None
    if as_json:
        typer.echo(_with_engine(outcome.output, engine.info))
    else:
        # First, so a saved report always says which models produced its figures.
        typer.echo(f"models: {engine.pack}, precision {engine.precision} ({engine.reason})")
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
