"""The readable form of a fields report (the JSON form is ``FieldsReport.to_dict``).

Rates are shown as percentages, gaps in points (clean minus degraded); "-" marks a figure with
nothing to measure. The markdown table for the docs is built from the JSON form, so it can be
written from a saved report without running the engine again.
"""

from __future__ import annotations

from typing import Any

from ocrd.evaluation.fields_scoring import DocumentScore, FieldScore
from ocrd.evaluation.fields_summary import FieldsReport, Split

_FIELD_COLUMNS = ("field", "docs", "right", "all", "clean", "degraded", "gap", "extras")
_DOC_COLUMNS = ("documents", "count", "all", "clean", "degraded", "gap")
_DOC_LABELS = {
    "key_fields": "key fields right",
    "header": "header fields right",
    "line_items": "line items right",
    "needs_review": "needs review",
    "missed_reviews": "missed reviews",
}
_SNIPPET_CHARS = 60
# A run where the stage reads nothing lists every field of every document: enough to see the
# pattern; the JSON report has them all.
_WRONG_LISTED_MAX = 200


def format_fields_report(report: FieldsReport) -> str:
    counts = report.to_dict()["documents"]
    lines = [
        f"{report.set_dir}: {counts['all']} documents ({counts['clean']} clean, {counts['degraded']} degraded), "
        f"read in {report.read_seconds:.1f} s",
        "Exact match without spaces, amounts to the cent; accuracy over the documents whose label has the field,",
        "extras: values given where the invoice prints none. Gap: clean minus degraded, in points.",
        "",
    ]
    field_rows = [
        (
            row.field,
            str(row.accuracy.all.of),
            str(row.accuracy.all.count),
            *_split_cells(row.accuracy),
            f"{row.extras.all.count}/{row.extras.all.of}" if row.extras.all.of else "-",
        )
        for row in report.rows
    ]
    lines += _table(_FIELD_COLUMNS, field_rows)
    doc_rows = [
        (_DOC_LABELS[name], f"{figure.all.count}/{figure.all.of}", *_split_cells(figure))
        for name, figure in report.figures.items()
    ]
    lines += ["", *_table(_DOC_COLUMNS, doc_rows)]
    lines.append("key fields: invoice_code (where printed), invoice_number, issue_date, total; missed reviews:")
    lines.append("wrong documents not marked needs_review.")

    wrong_valid = report.wrong_valid
    counts_valid = report.wrong_valid_counts()
    lines += [
        "",
        f"wrong values marked valid: {counts_valid['all']} "
        f"({counts_valid['clean']} clean, {counts_valid['degraded']} degraded)",
    ]
    lines += [_wrong_line(doc, score) for doc, score in wrong_valid]
    wrong = report.wrong_values
    if wrong:
        lines += ["", f"wrong values ({len(wrong)}; want / got / valid):"]
        lines += [_wrong_line(doc, score) for doc, score in wrong[:_WRONG_LISTED_MAX]]
        if len(wrong) > _WRONG_LISTED_MAX:
            lines.append(f"  ... {len(wrong) - _WRONG_LISTED_MAX} more in the JSON report (--json, --report)")
    if report.errors:
        lines += ["", "documents the engine refused (scored as no fields):"]
        lines += [f"  {doc.image}: {doc.error}" for doc in report.errors]
    return "\n".join(lines)


def fields_markdown(data: dict[str, Any]) -> str:
    """The per-field and per-document table of a JSON fields report, for the docs."""
    lines = [
        "| field | documents | all | clean | degraded | gap (points) | extras |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in data["fields"]:
        accuracy, extras = row["accuracy"], row["extras"]
        extra_cell = f"{extras['all']['count']}/{extras['all']['of']}" if extras["all"]["of"] else "-"
        lines.append(f"| `{row['field']}` | {accuracy['all']['of']} | {_split_markdown(accuracy)} | {extra_cell} |")
    for name, figure in data["figures"].items():
        lines.append(f"| {_DOC_LABELS[name]} | {figure['all']['of']} | {_split_markdown(figure)} | |")
    wrong_valid = data["wrong_valid"]
    lines.append(
        f"| wrong values marked valid | {data['documents']['all']} | {wrong_valid['all']} | {wrong_valid['clean']} "
        f"| {wrong_valid['degraded']} | | |"
    )
    return "\n".join(lines)


def _split_markdown(figure: dict[str, Any]) -> str:
    cells = [_percent(figure[group]["rate"]) for group in ("all", "clean", "degraded")]
    return " | ".join([*cells, _points(figure["gap_points"])])


def _split_cells(figure: Split) -> tuple[str, str, str, str]:
    return (
        _percent(figure.all.rate),
        _percent(figure.clean.rate),
        _percent(figure.degraded.rate),
        _points(figure.gap_points),
    )


def _wrong_line(doc: DocumentScore, score: FieldScore) -> str:
    copy = "degraded" if doc.degraded else "clean"
    if isinstance(score.expected, list) and isinstance(score.got, list):
        want, got = _items_difference(score.expected, score.got)
    else:
        want, got = _shown(score.expected), _shown(score.got)
    return f"  {doc.doc_id} [{copy}] {score.field}: {want} / {got} / {'-' if score.valid is None else str(score.valid).lower()}"


def _items_difference(expected: list[dict[str, Any]], got: list[dict[str, Any]]) -> tuple[str, str]:
    """The first line item that differs, numbered from 1, rather than two long lists cut short."""
    for number, (want, have) in enumerate(zip(expected, got, strict=False), start=1):
        if want != have:
            return f"item {number} {_shown([want])}", _shown([have])
    return _items(len(expected)), _items(len(got))


def _items(count: int) -> str:
    return "1 item" if count == 1 else f"{count} items"


def _shown(value: Any) -> str:
    """A value as the report shows it: line items as name|amount|rate|tax; "(none)" for no value."""
    if value is None:
        return "(none)"
    if isinstance(value, list):
        text = "; ".join("|".join("" if part is None else part for part in item.values()) for item in value)
    else:
        text = str(value)
    return text if len(text) <= _SNIPPET_CHARS else text[:_SNIPPET_CHARS] + "…"


def _percent(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:.1%}"


def _points(gap: float | None) -> str:
    return "-" if gap is None else f"{gap:+.1f}"


def _table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in [columns, *rows]) for i in range(len(columns))]

    def line(cells: tuple[str, ...]) -> str:
        first, *numbers = cells
        return "  ".join(
            [first.ljust(widths[0]), *(cell.rjust(width) for cell, width in zip(numbers, widths[1:], strict=True))]
        ).rstrip()

    return [line(columns), *(line(row) for row in rows)]
