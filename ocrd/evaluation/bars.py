"""The accuracy bars CI enforces, and the check of a report against them.

Bars apply to the overall group of a kind (all languages together) of one set. A bar whose group
has nothing to measure (no line items, or only partial pages for precision) fails: a bar that
cannot be checked must not pass silently.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ocrd.evaluation.scoring import EvalReport, GroupStats


@dataclass(frozen=True)
class Bars:
    """Limits a report must meet; None = not checked for this set."""

    line_cer_max: float | None = None
    line_exact_min: float | None = None
    page_recall_min: float | None = None
    page_precision_min: float | None = None


DEV_BARS = Bars(line_cer_max=0.15, line_exact_min=0.35, page_recall_min=0.97, page_precision_min=0.97)
DEV_PDF_BARS = Bars(page_recall_min=0.99, page_precision_min=0.99)
BARS_BY_SET_NAME = {"dev": DEV_BARS, "dev_pdf": DEV_PDF_BARS}


def bars_for(set_dir: Path) -> Bars | None:
    """The bars of a known set, recognised by its folder name (dev, dev_pdf); None for other sets."""
    return BARS_BY_SET_NAME.get(Path(set_dir).resolve().name)


def check_bars(report: EvalReport, bars: Bars) -> list[str]:
    """One human-readable line per bar the report misses; empty when all pass."""
    checks = (
        ("line", "CER", "cer", bars.line_cer_max, "max"),
        ("line", "exact-line accuracy", "exact_accuracy", bars.line_exact_min, "min"),
        ("page", "bag recall", "bag_recall", bars.page_recall_min, "min"),
        ("page", "bag precision", "bag_precision", bars.page_precision_min, "min"),
    )
    failures = []
    for kind, label, attribute, bar, direction in checks:
        if bar is None:
            continue
        group = report.group(kind)
        value = getattr(group, attribute) if group else None
        if value is None:
            failures.append(f"{kind} {label}: nothing to measure in {report.set_dir} ({_counts(group)})")
        elif direction == "max" and value > bar:
            failures.append(f"{kind} {label} {value:.4f} is above the bar {bar} ({_counts(group)})")
        elif direction == "min" and value < bar:
            failures.append(f"{kind} {label} {value:.4f} is below the bar {bar} ({_counts(group)})")
    return failures


def _counts(group: GroupStats | None) -> str:
    if group is None:
        return "no items of this kind"
    return f"{group.items} items, {group.full_items} with full coverage"
