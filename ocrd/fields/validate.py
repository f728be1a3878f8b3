"""Checks on an invoice's values, the QR code as a second source, and the reasons to review.

A value is confirmed (``valid`` true) only by something independent of the characters it was
read from: the tax ID's check character, amounts that add up, the capitals agreeing with the
figure, the QR code. Disagreement is never resolved silently: the printed value stays, the
check fails, and the document is marked for review with what disagreed.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

from ocrd.fields import checks
from ocrd.fields.amounts import parse_amount
from ocrd.fields.model import Check, Fields, FieldValue
from ocrd.fields.qr import InvoiceQr

# Below this recognizer confidence a value is shown to a person even when nothing failed.
REVIEW_CONFIDENCE = 0.85
QR_CONFIDENCE = 0.99  # the QR code is error-corrected: what it says is what was encoded
# What every invoice of a kind prints; a missing one is a reason to review.
REQUIRED = ("invoice_number", "issue_date", "buyer_name", "seller_name", "seller_tax_id", "total")
REQUIRED_CODED = ("invoice_code",)


def _confirming(check: Check) -> Check:
    return replace(check, confirms=True)


def _amount(fields: Fields, name: str) -> Decimal | None:
    value = fields.value_of(name)
    return parse_amount(value) if isinstance(value, str) else None


def _add(fields: Fields, name: str, check: Check) -> None:
    item = fields.values.get(name)
    if item is not None:
        item.checks.append(check)


def _structure(fields: Fields) -> None:
    kind = fields.kind
    date = fields.value_of("issue_date")
    if (code := fields.value_of("invoice_code")) is not None:
        _add(fields, "invoice_code", checks.check_invoice_code(code))
    if (number := fields.value_of("invoice_number")) is not None:
        for check in checks.check_invoice_number(number, kind, date):
            _add(fields, "invoice_number", check)
    if date is not None:
        _add(fields, "issue_date", checks.check_date(date))
    if (check_code := fields.value_of("check_code")) is not None:
        _add(fields, "check_code", checks.check_check_code(check_code))
    for party in ("buyer", "seller"):
        tax_id = fields.value_of(f"{party}_tax_id")
        if tax_id is None:
            continue
        check = checks.check_uscc(tax_id)
        # Only the 18-character code has a check character; a passed structure check on an
        # older 15/17/20-character ID confirms nothing.
        _add(fields, f"{party}_tax_id", _confirming(check) if check.passed and len(tax_id) == 18 else check)


def _arithmetic(fields: Fields) -> None:
    pretax, tax, total = (_amount(fields, name) for name in ("amount_pretax", "tax", "total"))
    if pretax is not None and tax is not None and total is not None:
        check = _confirming(checks.check_sum(pretax, tax, total))
        for name in ("amount_pretax", "tax", "total"):
            _add(fields, name, check)
    words = fields.value_of("total_in_words")
    if words is not None and total is not None:
        check = _confirming(checks.check_total_in_words(words, total))
        _add(fields, "total_in_words", check)
        _add(fields, "total", check)
    items = fields.value_of("line_items")
    if items:
        # The sums can refute the rows but not confirm them: they say nothing of the names.
        for check in checks.check_line_items(items, pretax, tax):
            _add(fields, "line_items", check)


def merge_qr(fields: Fields, qr: InvoiceQr) -> None:
    """The QR code's values beside the printed ones: agreement confirms, disagreement fails."""
    for name, qr_value in qr.fields().items():
        item = fields.values.get(name)
        if item is None:
            fields.values[name] = FieldValue(
                qr_value,
                QR_CONFIDENCE,
                [Check("qr_only", True, "not read from the print; taken from the QR code", "warning")],
                source="qr",
            )
            continue
        same = _same(name, item.value, qr_value)
        message = f"printed {item.value}, QR code {qr_value}"
        item.checks.append(Check("qr_agrees", same, message + (": agree" if same else ": differ"), confirms=True))
        if same:
            item.source = "both"
            item.confidence = max(item.confidence, QR_CONFIDENCE)


def _same(name: str, printed: object, encoded: str) -> bool:
    if name in ("amount_pretax", "tax", "total"):
        return isinstance(printed, str) and parse_amount(printed) == parse_amount(encoded)
    return printed == encoded


def review_reasons(fields: Fields, coded: bool) -> list[str]:
    reasons: list[str] = []
    for name in (*REQUIRED, *(REQUIRED_CODED if coded else ())):
        if name not in fields.values:
            reasons.append(f"{name}: not found on the invoice")
    for name, item in fields.values.items():
        for check in item.checks:
            if not check.passed:
                reasons.append(f"{name}: {check.message or check.name}")
            elif check.name == "qr_only":
                reasons.append(f"{name}: {check.message}")
        if item.confidence < REVIEW_CONFIDENCE:
            reasons.append(f"{name}: read with low confidence ({item.confidence:.2f})")
        if item.changes:
            reasons.append(f"{name}: characters corrected ({', '.join(item.changes)})")
    return list(dict.fromkeys(reasons))  # one check shared by several fields is listed once per field


def validate(fields: Fields, qr: InvoiceQr | None) -> None:
    """Add every check to ``fields`` and set its review reasons (in place)."""
    if qr is not None:
        merge_qr(fields, qr)
    _structure(fields)
    _arithmetic(fields)
    fields.reasons = review_reasons(fields, coded=fields.kind != "fully_digital")
