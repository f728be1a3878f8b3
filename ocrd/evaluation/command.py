"""What ``ocrd eval SET_DIR [--json] [--worst N]`` does, minus the typer wiring (cli.py)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ocrd.config import EngineSettings
from ocrd.evaluation.bars import bars_for, check_bars
from ocrd.evaluation.report import format_bar_results, format_report
from ocrd.evaluation.scoring import Recogniser, run_eval


@dataclass
class EvalOutcome:
    output: str  # what to print
    bar_failures: list[str]  # empty when the set has no bars or all are met


def engine_recogniser(settings: EngineSettings | None = None) -> Recogniser:
    """The real engine as a recogniser: one pipeline (models loaded once) for the whole set."""
    from ocrd.engine.pipeline import OcrPipeline  # the engine loads models: only when evaluating it

    pipeline = OcrPipeline(settings or EngineSettings())
    return lambda path: pipeline.run_path(path, source=path.name).to_text()


def eval_command(
    set_dir: Path, *, as_json: bool = False, worst: int = 5, recognise: Recogniser | None = None
) -> EvalOutcome:
    """Run the set through the engine (or ``recognise``), score it, and check the set's bars if it has any.

    Missed bars are reported in the output; whether they change the exit code is the CLI's choice.
    """
    report = run_eval(Path(set_dir), recognise or engine_recogniser())
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
