"""``ocrd eval``: measuring the OCR engine's accuracy on a labelled set.

dataset (labels.jsonl -> EvalItem) -> normalise -> scoring (distance, bag of characters, groups)
-> report (table / JSON) and bars (the limits CI enforces). The engine comes in as a plain
``recognise(path) -> text`` callable, so everything here is testable without it.

A fields set (labels.jsonl -> FieldsItem) goes dataset -> fields_scoring (each document's values)
-> fields_summary (figures, clean against degraded) -> fields_report and fields_bars; the engine
comes in as ``read_fields(path) -> Fields | None``.
"""

from ocrd.evaluation.bars import BARS_BY_SET_NAME, DEV_BARS, DEV_PDF_BARS, Bars, bars_for, check_bars
from ocrd.evaluation.command import EvalOutcome, engine_fields_reader, engine_recogniser, eval_command, with_fields
from ocrd.evaluation.dataset import EvalItem, FieldsItem, is_fields_set, load_eval_set, load_fields_set
from ocrd.evaluation.distance import levenshtein
from ocrd.evaluation.fields_bars import FIELDS_BARS, FieldsBars, check_fields_bars, fields_bars_for
from ocrd.evaluation.fields_report import fields_markdown, format_fields_report
from ocrd.evaluation.fields_scoring import DocumentScore, FieldScore, FieldsReader, run_fields_eval, score_document
from ocrd.evaluation.fields_summary import FieldsReport, Split, Tally
from ocrd.evaluation.normalise import drops_whitespace, is_mostly_chinese, normalise
from ocrd.evaluation.report import format_bar_results, format_report
from ocrd.evaluation.scoring import EvalReport, GroupStats, ItemScore, Recogniser, run_eval, score_item

__all__ = [
    "BARS_BY_SET_NAME",
    "DEV_BARS",
    "DEV_PDF_BARS",
    "FIELDS_BARS",
    "Bars",
    "DocumentScore",
    "EvalItem",
    "EvalOutcome",
    "EvalReport",
    "FieldScore",
    "FieldsBars",
    "FieldsItem",
    "FieldsReader",
    "FieldsReport",
    "GroupStats",
    "ItemScore",
    "Recogniser",
    "Split",
    "Tally",
    "bars_for",
    "check_bars",
    "check_fields_bars",
    "drops_whitespace",
    "engine_fields_reader",
    "engine_recogniser",
    "eval_command",
    "fields_bars_for",
    "fields_markdown",
    "format_bar_results",
    "format_fields_report",
    "format_report",
    "is_fields_set",
    "is_mostly_chinese",
    "levenshtein",
    "load_eval_set",
    "load_fields_set",
    "normalise",
    "run_eval",
    "run_fields_eval",
    "score_document",
    "score_item",
    "with_fields",
]
