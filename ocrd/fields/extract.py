"""The fields stage: ``extract_fields(document, settings)`` → ``Fields``.

    place lines → find the invoice QR code → classify → read header and line items
    → apply the users' rules → check, cross-check with the QR code → reasons to review

Only the first page that reads as an invoice is taken for its fields: one document is one
invoice (a second invoice in the same PDF is not split out).
"""

from __future__ import annotations

from ocrd.config import FieldsSettings
from ocrd.fields.geometry import PlacedLine, placed
from ocrd.fields.invoice import Found, read_header
from ocrd.fields.items import read_line_items
from ocrd.fields.kinds import compatible, kind_from_text
from ocrd.fields.model import VAT_KINDS, Fields, FieldValue
from ocrd.fields.pairs import label_value_pairs
from ocrd.fields.qr import InvoiceQr, parse_invoice_qr
from ocrd.fields.validate import validate
from ocrd.result import Document, Page

# Each look-alike letter taken for a digit makes a value this much less certain.
CHANGE_PENALTY = 0.9


def _placed(page: Page) -> list[PlacedLine]:
    return [placed(page.index, order, line) for order, line in enumerate(page.lines)]


def _invoice_qr(document: Document) -> tuple[str, InvoiceQr] | None:
    for page in document.pages:
        for code in page.codes:
            parsed = parse_invoice_qr(code.text)
            if parsed is not None:
                return code.text, parsed
    return None


def _field_value(found: Found) -> FieldValue:
    reading = found.reading
    raw = reading.line.text[reading.start : reading.end]
    confidence = reading.confidence * CHANGE_PENALTY ** len(found.changes)
    return FieldValue(
        value=found.value,
        confidence=confidence,
        page=reading.page,
        box=reading.box,
        raw=None if raw == found.value else raw,
        changes=list(found.changes),
    )


def _invoice_page(document: Document, wanted: str | None) -> tuple[Page, str] | None:
    """The first page that reads as an invoice (of the wanted kind, when one was asked for)."""
    for page in document.pages:
        kind = kind_from_text(page.text)
        if kind in VAT_KINDS:
            return page, wanted or kind
    if wanted is not None and document.pages:
        return document.pages[0], wanted
    return None


def _invoice_fields(page: Page, kind: str) -> Fields:
    lines = _placed(page)
    fields = Fields(kind=kind)
    # Only the fully digital form prints buyer and seller side by side.
    for name, found in read_header(lines, page.width, side_by_side=kind == "fully_digital").items():
        fields.values[name] = _field_value(found)
    if kind == "fully_digital":
        # This form has no code, check code or machine number: a match there is another number.
        for name in ("invoice_code", "check_code", "machine_number"):
            fields.values.pop(name, None)
    items = read_line_items(lines)
    if items:
        confidence = min(line.line.confidence for line in lines) if lines else 0.0
        fields.values["line_items"] = FieldValue(items, confidence, page=page.index)
    return fields


def _apply_rules(fields: Fields, document: Document, settings: FieldsSettings) -> None:
    if not settings.rules:
        return
    from ocrd.fields.rules import apply_rules  # only configurations with rules compile them

    pages = [(page.index, page.lines) for page in document.pages]
    fields.values |= apply_rules(settings.rules, fields.kind, pages)


def extract_fields(document: Document, settings: FieldsSettings) -> Fields | None:
    """Fields for ``document``; None when the stage is off."""
    if settings.mode == "off":
        return None
    qr = _invoice_qr(document)
    wanted = None if settings.mode == "auto" else settings.mode
    if wanted is None and qr is not None and qr[1].kind is not None:
        wanted = qr[1].kind
    found = _invoice_page(document, wanted) if wanted != "other" else None
    if found is None:
        fields = Fields(
            kind="other", pairs=[pair for page in document.pages for pair in label_value_pairs(_placed(page))]
        )
        _apply_rules(fields, document, settings)
        fields.reasons = [
            f"{name}: {c.message or c.name}" for name, v in fields.values.items() for c in v.checks if not c.passed
        ]
        return fields
    page, kind = found
    fields = _invoice_fields(page, kind)
    _apply_rules(fields, document, settings)
    if qr is not None:
        fields.qr = qr[0]
    validate(fields, qr[1] if qr is not None else None)
    printed = kind_from_text(page.text)
    if qr is not None and qr[1].kind is not None and printed in VAT_KINDS and not compatible(printed, qr[1].kind):
        fields.reasons.append(f"kind: the title reads as {printed}, the QR code says {qr[1].kind}")
    return fields
