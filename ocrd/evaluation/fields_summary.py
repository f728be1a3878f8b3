"""The figures of a fields evaluation, each over all documents and split into clean and degraded.

Every figure is a count out of a number of documents (a ``Tally``), and ``Split`` holds it for the
three groups with the gap between clean and degraded in percentage points (clean minus degraded:
positive when the scan-like copies do worse). Per field: accuracy over the documents whose label
has the field, and extras over those whose label has none. Per document: key fields right, header
fields right, line items right, needs review, and missed reviews (wrong documents not marked
needs_review). Wrong values marked valid are listed one by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd.evaluation.fields_scoring import (
    HEADER_SCORED,
    KEY_FIELDS,
    SCORED_FIELDS,
    DocumentScore,
    FieldScore,
    FieldsRun,
)

GROUPS = ("all", "clean", "degraded")
DOCUMENT_FIGURES = ("key_fields", "header", "line_items", "needs_review", "missed_reviews")


@dataclass(frozen=True)
class Tally:
    count: int
    of: int

    @property
    def rate(self) -> float | None:
        """None when there is nothing to measure."""
        return self.count / self.of if self.of else None

    def to_dict(self) -> dict[str, Any]:
        rate = self.rate
        return {"count": self.count, "of": self.of, "rate": None if rate is None else round(rate, 4)}


@dataclass(frozen=True)
class Split:
    all: Tally
    clean: Tally
    degraded: Tally

    @property
    def gap_points(self) -> float | None:
        """Clean minus degraded, in percentage points; None when either group has nothing to measure."""
        clean, degraded = self.clean.rate, self.degraded.rate
        return None if clean is None or degraded is None else (clean - degraded) * 100

    def to_dict(self) -> dict[str, Any]:
        gap = self.gap_points
        return {
            **{group: getattr(self, group).to_dict() for group in GROUPS},
            "gap_points": None if gap is None else round(gap, 2),
        }


def split(
    documents: list[DocumentScore],
    hit: Callable[[DocumentScore], bool],
    among: Callable[[DocumentScore], bool] = lambda _: True,
) -> Split:
    """How many of the documents ``among`` selects are a ``hit``, per group."""

    def tally(selected: list[DocumentScore]) -> Tally:
        counted = [doc for doc in selected if among(doc)]
        return Tally(sum(1 for doc in counted if hit(doc)), len(counted))

    return Split(
        all=tally(documents),
        clean=tally([doc for doc in documents if not doc.degraded]),
        degraded=tally([doc for doc in documents if doc.degraded]),
    )


@dataclass
class FieldRow:
    field: str
    accuracy: Split  # right, over documents whose label has the field
    extras: Split  # a value given, over documents whose label has none


@dataclass
class FieldsReport:
    """The figures of one run over a fields set (see the module docstring)."""

    set_dir: Path
    documents: list[DocumentScore]
    read_seconds: float = 0.0
    rows: list[FieldRow] = field(init=False)
    figures: dict[str, Split] = field(init=False)

    def __post_init__(self) -> None:
        docs = self.documents
        self.rows = [
            FieldRow(
                name,
                accuracy=split(docs, lambda d, n=name: d.fields[n].right, lambda d, n=name: d.fields[n].scored),
                extras=split(docs, lambda d, n=name: d.fields[n].extra, lambda d, n=name: not d.fields[n].scored),
            )
            for name in SCORED_FIELDS
        ]
        self.figures = {
            "key_fields": split(docs, lambda d: d.all_right(KEY_FIELDS)),
            "header": split(docs, lambda d: d.all_right(HEADER_SCORED)),
            "line_items": split(docs, lambda d: d.fields["line_items"].right, lambda d: d.fields["line_items"].scored),
            "needs_review": split(docs, lambda d: d.needs_review),
            "missed_reviews": split(docs, lambda d: not d.needs_review, lambda d: d.wrong),
        }

    @classmethod
    def of(cls, run: FieldsRun) -> FieldsReport:
        return cls(set_dir=run.set_dir, documents=run.documents, read_seconds=run.read_seconds)

    def row(self, name: str) -> FieldRow:
        return next(row for row in self.rows if row.field == name)

    @property
    def wrong_values(self) -> list[tuple[DocumentScore, FieldScore]]:
        """Every field that is not right (wrong, missing or extra), document by document."""
        return [(doc, score) for doc in self.documents for score in doc.wrong_values]

    @property
    def wrong_valid(self) -> list[tuple[DocumentScore, FieldScore]]:
        return [(doc, score) for doc, score in self.wrong_values if score.wrong_valid]

    def wrong_valid_counts(self) -> dict[str, int]:
        listed = self.wrong_valid
        return {
            "all": len(listed),
            "clean": sum(1 for doc, _ in listed if not doc.degraded),
            "degraded": sum(1 for doc, _ in listed if doc.degraded),
        }

    @property
    def errors(self) -> list[DocumentScore]:
        return [doc for doc in self.documents if doc.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": str(self.set_dir),
            "type": "fields",
            "documents": {
                "all": len(self.documents),
                "clean": sum(1 for doc in self.documents if not doc.degraded),
                "degraded": sum(1 for doc in self.documents if doc.degraded),
            },
            "read_seconds": round(self.read_seconds, 2),
            "fields": [
                {"field": row.field, "accuracy": row.accuracy.to_dict(), "extras": row.extras.to_dict()}
                for row in self.rows
            ],
            "figures": {name: figure.to_dict() for name, figure in self.figures.items()},
            "wrong_valid": {
                **self.wrong_valid_counts(),
                "values": [_wrong_value(doc, score) for doc, score in self.wrong_valid],
            },
            "wrong_values": [_wrong_value(doc, score) for doc, score in self.wrong_values],
            "errors": [{"doc_id": doc.doc_id, "image": doc.image, "error": doc.error} for doc in self.errors],
        }


def _wrong_value(doc: DocumentScore, score: FieldScore) -> dict[str, Any]:
    return {
        "doc_id": doc.doc_id,
        "image": doc.image,
        "degraded": doc.degraded,
        "field": score.field,
        "expected": score.expected,
        "got": score.got,
        "valid": score.valid,
        "extra": score.extra,
        "needs_review": doc.needs_review,
    }
