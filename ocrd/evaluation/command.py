"""What ``ocrd eval SET_DIR [--json] [--worst N]`` does, minus the typer wiring (cli.py).

A text set is scored on the engine's text; a fields set (its items carry ``fields``) on what the
fields stage made of each image.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path

from ocrd.config import EngineSettings
from ocrd.evaluation.bars import bars_for, check_bars
from ocrd.evaluation.dataset import is_fields_set
from ocrd.evaluation.fields_bars import check_fields_bars, fields_bars_for
from ocrd.evaluation.fields_report import format_fields_report
from ocrd.evaluation.fields_scoring import FieldsReader, run_fields_eval
from ocrd.evaluation.fields_summary import FieldsReport
from ocrd.evaluation.report import format_bar_results, format_report
from ocrd.evaluation.scoring import Prefetch, Recogniser, run_eval


@dataclass
class EvalOutcome:
    output: str  # what to print
    bar_failures: list[str]  # empty when the set has no bars or all are met


def engine_recogniser(settings: EngineSettings | None = None) -> Recogniser:
    """The real engine as a recogniser: one pipeline (models loaded once) for the whole set."""
    from ocrd.engine.pipeline import OcrPipeline  # the engine loads models: only when evaluating it

    pipeline = OcrPipeline(settings or EngineSettings())
    return lambda path: pipeline.run_path(path, source=path.name).to_text()


def with_fields(settings: EngineSettings) -> EngineSettings:
    """The settings with the fields stage classifying every document, as a fields set needs."""
    return dataclasses.replace(settings, fields=dataclasses.replace(settings.fields, mode="auto"))


def engine_fields_reader(settings: EngineSettings | None = None) -> FieldsReader:
    """The real engine with its fields stage on, as a fields reader (models loaded once)."""
    from ocrd.engine.pipeline import OcrPipeline  # the engine loads models: only when evaluating it

    pipeline = OcrPipeline(with_fields(settings or EngineSettings()))
    return lambda path: pipeline.run_path(path, source=path.name).fields


def eval_command(
    set_dir: Path,
    *,
    as_json: bool = False,
    worst: int = 5,
    recognise: Recogniser | None = None,
    read_fields: FieldsReader | None = None,
    prefetch: Prefetch | None = None,
) -> EvalOutcome:
    """Run the set through the engine (or ``recognise`` / ``read_fields``), score it, and check the
    set's bars if it has any. ``prefetch``: see ocrd.evaluation.scoring.Prefetch.

    Missed bars are reported in the output; whether they change the exit code is the CLI's choice.
    """
    if is_fields_set(Path(set_dir)):
        return _fields_outcome(Path(set_dir), as_json, read_fields or engine_fields_reader(), prefetch)
    report = run_eval(Path(set_dir), recognise or engine_recogniser(), prefetch=prefetch)
    bars = bars_for(set_dir)
    failures = check_bars(report, bars) if bars else []
    set_name = Path(set_dir).resolve().name
    if as_json:
        data = report.to_dict()
        data["bars"] = None if bars is None else {"set": set_name, "failures": failures}
        data["worst"] = {kind: [score.image for score in report.worst(kind, worst)] for kind in ("line", "page")}
        return EvalOutcome(json.dumps(data, ensure_ascii=False, indent=2), failures)
    text = format_report(report, worst=worst)
    if bars is not None:
        text += "\n\n" + format_bar_results(set_name, failures)
    return EvalOutcome(text, failures)


def _fields_outcome(set_dir: Path, as_json: bool, read_fields: FieldsReader, prefetch: Prefetch | None) -> EvalOutcome:
    report = FieldsReport.of(run_fields_eval(set_dir, read_fields, prefetch=prefetch))
    bars = fields_bars_for(set_dir)
    failures = check_fields_bars(report, bars) if bars else []
    set_name = set_dir.resolve().name
    if as_json:
        data = report.to_dict()
        data["bars"] = None if bars is None else {"set": set_name, "failures": failures}
        return EvalOutcome(json.dumps(data, ensure_ascii=False, indent=2), failures)
    text = format_fields_report(report)
    if bars is not None:
        text += "\n\n" + format_bar_results(set_name, failures)
    return EvalOutcome(text, failures)
