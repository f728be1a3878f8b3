"""``ocrd eval``: measuring the OCR engine's accuracy on a labelled set.

dataset (labels.jsonl -> EvalItem) -> normalise -> scoring (distance, bag of characters, groups)
-> report (table / JSON) and bars (the limits CI enforces). The engine comes in as a plain
``recognise(path) -> text`` callable, so everything here is testable without it.
"""

from ocrd.evaluation.bars import BARS_BY_SET_NAME, DEV_BARS, DEV_PDF_BARS, Bars, bars_for, check_bars
from ocrd.evaluation.command import EvalOutcome, engine_recogniser, eval_command
from ocrd.evaluation.dataset import EvalItem, load_eval_set
from ocrd.evaluation.distance import levenshtein
from ocrd.evaluation.normalise import drops_whitespace, is_mostly_chinese, normalise
from ocrd.evaluation.report import format_bar_results, format_report
from ocrd.evaluation.scoring import EvalReport, GroupStats, ItemScore, Recogniser, run_eval, score_item

__all__ = [
    "BARS_BY_SET_NAME",
    "DEV_BARS",
    "DEV_PDF_BARS",
    "Bars",
    "EvalItem",
    "EvalOutcome",
    "EvalReport",
    "GroupStats",
    "ItemScore",
    "Recogniser",
    "bars_for",
    "check_bars",
    "drops_whitespace",
    "engine_recogniser",
    "eval_command",
    "format_bar_results",
    "format_report",
    "is_mostly_chinese",
    "levenshtein",
    "load_eval_set",
    "normalise",
    "run_eval",
    "score_item",
]
