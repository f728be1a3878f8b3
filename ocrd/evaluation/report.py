"""The readable form of an evaluation report (the JSON form is ``EvalReport.to_dict``)."""

from __future__ import annotations

from ocrd.evaluation.dataset import KINDS
from ocrd.evaluation.scoring import EvalReport, ItemScore

_COLUMNS = ("kind", "lang", "items", "full", "CER", "CER mean", "exact", "bag rec", "bag prec")
_WORST_BY = {"line": "CER", "page": "weaker of bag recall and precision"}
_SNIPPET_CHARS = 60


def format_report(report: EvalReport, worst: int = 5) -> str:
    """A table by kind and language, then the ``worst`` weakest items of each kind.

    "-" marks a figure with nothing to measure (e.g. precision of a group of partial pages).
    """
    rows = [
        (
            group.kind,
            group.lang,
            str(group.items),
            str(group.full_items),
            _figure(group.cer),
            _figure(group.cer_mean),
            _figure(group.exact_accuracy),
            _figure(group.bag_recall),
            _figure(group.bag_precision),
        )
        for group in report.groups
    ]
    widths = [max(len(row[i]) for row in [_COLUMNS, *rows]) for i in range(len(_COLUMNS))]
    lines = [
        f"{report.set_dir}: {len(report.items)} items, recognition {report.recognise_seconds:.1f} s",
        "CER and exact on full-coverage items; bag recall on all, bag precision on full-coverage ones.",
        "",
        _table_row(_COLUMNS, widths),
    ]
    lines += [_table_row(row, widths) for row in rows]

    for kind in KINDS:
        worst_items = report.worst(kind, worst)
        if worst_items:
            lines += ["", f"worst {kind} items (by {_WORST_BY[kind]}):"]
            lines += [_worst_line(score) for score in worst_items]
    if report.errors:
        lines += ["", "items the engine refused (scored as empty):"]
        lines += [f"  {score.image}: {score.error}" for score in report.errors]
    return "\n".join(lines)


def format_bar_results(set_name: str, failures: list[str]) -> str:
    if not failures:
        return f"bars for {set_name}: all met"
    return "\n".join([f"bars for {set_name}: {len(failures)} missed", *(f"  {f}" for f in failures)])


def _worst_line(score: ItemScore) -> str:
    precision = score.bag_precision
    figures = (
        f"CER {score.cer:.3f}  rec {score.bag_recall:.3f}  prec {'-' if precision is None else f'{precision:.3f}'}"
    )
    return (
        f"  {score.image} [{score.lang}, {score.match}, {score.coverage}]  {figures}\n"
        f"      want: {_snippet(score.reference)}\n"
        f"      got:  {_snippet(score.predicted)}"
    )


def _snippet(text: str) -> str:
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "…"


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _table_row(cells: tuple[str, ...], widths: list[int]) -> str:
    first, second, *numbers = cells
    return "  ".join(
        [first.ljust(widths[0]), second.ljust(widths[1])]
        + [cell.rjust(width) for cell, width in zip(numbers, widths[2:], strict=True)]
    ).rstrip()
