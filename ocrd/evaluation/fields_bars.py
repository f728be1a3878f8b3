"""The targets of the fields stage, and the check of a fields report against them.

Like the text bars (``bars``), they belong to known sets, recognised by folder name, and a bar
with nothing to measure fails rather than passing silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ocrd.evaluation.fields_scoring import KEY_FIELDS
from ocrd.evaluation.fields_summary import FieldsReport, Split


@dataclass(frozen=True)
class FieldsBars:
    key_field_min: float = 0.98  # each of KEY_FIELDS exact on this share of the documents printing it
    header_min: float = 0.90  # documents with every header field (kind through total_in_words) exact
    wrong_valid_max: int = 0  # wrong values the stage calls valid: they reach the books unseen
    # Degraded copies may be this many points below clean on each figure above, no more.
    degraded_gap_max_points: float = 3.0


FIELDS_BARS = FieldsBars()
FIELDS_BARS_BY_SET_NAME = {"fields_dev": FIELDS_BARS}


def fields_bars_for(set_dir: Path) -> FieldsBars | None:
    """The bars of a known fields set (fields_dev); None for other sets."""
    return FIELDS_BARS_BY_SET_NAME.get(Path(set_dir).resolve().name)


def check_fields_bars(report: FieldsReport, bars: FieldsBars) -> list[str]:
    """One human-readable line per bar the report misses; empty when all pass."""
    measured = [(f"{name} exact", report.row(name).accuracy, bars.key_field_min) for name in KEY_FIELDS]
    measured.append(("all header fields exact", report.figures["header"], bars.header_min))
    failures = []
    for label, figure, bar in measured:
        failures += _rate_failures(label, figure, bar)
        failures += _gap_failures(label, figure, bars.degraded_gap_max_points)
    wrong_valid = report.wrong_valid_counts()["all"]
    if wrong_valid > bars.wrong_valid_max:
        failures.append(f"wrong values marked valid: {wrong_valid}, the bar is {bars.wrong_valid_max}")
    return failures


def _rate_failures(label: str, figure: Split, bar: float) -> list[str]:
    rate = figure.all.rate
    if rate is None:
        return [f"{label}: nothing to measure (no document prints it)"]
    if rate < bar:
        return [f"{label} {rate:.1%} is below the bar {bar:.0%} ({figure.all.count} of {figure.all.of} documents)"]
    return []


def _gap_failures(label: str, figure: Split, max_points: float) -> list[str]:
    gap = figure.gap_points
    if gap is None:
        return [f"{label}: degraded against clean: nothing to measure (a group has no documents)"]
    if gap > max_points:
        return [
            f"{label}: degraded {figure.degraded.rate:.1%} is {gap:.1f} points below clean "
            f"{figure.clean.rate:.1%}, the bar is {max_points:g}"
        ]
    return []
