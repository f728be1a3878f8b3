"""Scoring the fields stage against a fields set: one document's values against its true values.

Comparison is exact on a comparable form, and deliberately nothing more lenient: all whitespace is
removed (how the engine spaced "91421200 052621669E" is typesetting), and amounts are compared as
numbers to the cent, so a label's "300.00" equals a reading of "300". Anything else, a wrong
character, a full-width bracket for a half-width one, "¥300.00" for "300.00", is a wrong value: the
figures must say what a finance team would find in its ledger.

A value the invoice does not print (``None`` in the label) is not scored for accuracy; a value the
stage produced there anyway is a wrong *extra*, counted apart. Line items are one value per
document: right when there are as many items as labelled and each matches, in order, on name,
amount, tax rate and tax. The aggregation over documents is in ``fields_summary``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from ocrd.errors import InputError
from ocrd.evaluation.dataset import FieldsItem, load_fields_set
from ocrd.fields.model import HEADER_FIELDS, Fields

FieldsReader = Callable[[Path], Fields | None]

# Header fields are "kind through total_in_words"; line items are scored as one more field.
HEADER_SCORED = ("kind", *HEADER_FIELDS)
SCORED_FIELDS = (*HEADER_SCORED, "line_items")
# What a ledger is keyed on; a fully digital invoice has no code, and then none must be given.
KEY_FIELDS = ("invoice_code", "invoice_number", "issue_date", "total")
# Fields the stage can prove right (a check character, an arithmetic or QR cross-check): a wrong
# value it calls valid goes into the books unseen, so these are the ones counted as "wrong but valid".
CHECKED_FIELDS = (
    "buyer_tax_id",
    "seller_tax_id",
    "amount_pretax",
    "tax",
    "total",
    "total_in_words",
    "invoice_code",
    "invoice_number",
    "issue_date",
    "check_code",
)
AMOUNT_FIELDS = ("amount_pretax", "tax", "total")
ITEM_KEYS = ("name", "amount", "tax_rate", "tax")
ITEM_AMOUNTS = ("amount", "tax")
_CENT = Decimal("0.01")


def comparable(value: Any, *, amount: bool = False) -> str | None:
    """The form a value is compared in; None for no value (absent, or only whitespace)."""
    if value is None:
        return None
    text = "".join(str(value).split())
    if not text:
        return None
    if amount:
        try:
            number = Decimal(text)
            # Only a whole number of cents is an amount: "300.001" stays as read, and wrong.
            if number.is_finite() and number == number.quantize(_CENT):
                return f"{number.quantize(_CENT):f}"
        except InvalidOperation:
            pass  # "¥300.00" and the like: compared as text, so wrong
    return text


def comparable_items(value: Any) -> list[dict[str, str | None]] | None:
    """Line items reduced to the keys that are scored; None when there are none."""
    if not isinstance(value, list) or not value:
        return None
    return [
        {key: comparable(item.get(key), amount=key in ITEM_AMOUNTS) for key in ITEM_KEYS}
        if isinstance(item, dict)
        else dict.fromkeys(ITEM_KEYS)
        for item in value
    ]


def comparable_field(name: str, value: Any) -> Any:
    if name == "line_items":
        return comparable_items(value)
    return comparable(value, amount=name in AMOUNT_FIELDS)


@dataclass
class FieldScore:
    """One field of one document; ``expected`` and ``got`` are in comparable form (None: no value)."""

    field: str
    expected: Any
    got: Any
    valid: bool | None = None  # the stage's own verdict on the value it gave

    @property
    def scored(self) -> bool:
        """Counts for accuracy: the invoice prints this field."""
        return self.expected is not None

    @property
    def right(self) -> bool:
        return self.expected == self.got

    @property
    def extra(self) -> bool:
        """A value given where the invoice prints none."""
        return self.expected is None and self.got is not None

    @property
    def wrong_valid(self) -> bool:
        return not self.right and self.valid is True and self.field in CHECKED_FIELDS


@dataclass
class DocumentScore:
    """How the fields of one image compare with its labels."""

    doc_id: str
    image: str
    degraded: bool
    needs_review: bool  # False when the stage gave no fields at all: nobody was asked to look
    fields: dict[str, FieldScore]
    error: str | None = None  # the engine refused the file; scored as no fields
    seconds: float | None = None  # informational, never a bar

    def all_right(self, names: tuple[str, ...]) -> bool:
        """Every one of these fields right, counting an extra as wrong."""
        return all(self.fields[name].right for name in names)

    @property
    def wrong(self) -> bool:
        return not self.all_right(SCORED_FIELDS)

    @property
    def wrong_values(self) -> list[FieldScore]:
        return [score for score in self.fields.values() if not score.right]


def score_document(item: FieldsItem, fields: Fields | None) -> DocumentScore:
    """Compare what the fields stage gave for one image (None: nothing) with the item's labels."""
    scores = {"kind": FieldScore("kind", item.kind, None if fields is None else fields.kind)}
    for name in SCORED_FIELDS[1:]:
        given = None if fields is None else fields.values.get(name)
        scores[name] = FieldScore(
            field=name,
            expected=comparable_field(name, item.fields.get(name)),
            got=None if given is None else comparable_field(name, given.value),
            valid=None if given is None else given.valid,
        )
    return DocumentScore(
        doc_id=item.doc_id,
        image=item.name,
        degraded=item.degraded,
        needs_review=fields is not None and fields.needs_review,
        fields=scores,
    )


@dataclass
class FieldsRun:
    """Every document of a fields set, scored; ``fields_summary.FieldsReport`` aggregates it."""

    set_dir: Path
    documents: list[DocumentScore] = field(default_factory=list)
    read_seconds: float = 0.0


def run_fields_eval(
    set_dir: Path, read_fields: FieldsReader, *, prefetch: Callable[[list[Path]], dict[Path, float]] | None = None
) -> FieldsRun:
    """Read every image of the set with ``read_fields`` and score it.

    A file the engine refuses (``InputError``) is scored as no fields with the error recorded, so
    one bad item shows up in the report instead of hiding all the others.
    """
    run = FieldsRun(set_dir=Path(set_dir))
    items = load_fields_set(Path(set_dir))
    read_seconds = prefetch([item.image for item in items]) if prefetch is not None else {}  # as in run_eval
    for item in items:
        started = time.perf_counter()
        error = None
        try:
            fields = read_fields(item.image)
        except InputError as exc:
            fields, error = None, str(exc)
        seconds = read_seconds.get(item.image, time.perf_counter() - started)
        run.read_seconds += seconds
        score = score_document(item, fields)
        score.error, score.seconds = error, seconds
        run.documents.append(score)
    return run
