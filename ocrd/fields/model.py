"""What the fields stage produces: a document's kind and its named, checked values.

This is the one shape of extracted fields: the sidecar JSON, ``ocrd ocr --format json``,
``POST /ocr`` and the job API all carry ``Fields.to_dict()`` under ``"fields"``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Document kinds. The VAT kinds are told apart by the printed title; "fully_digital" is the
# 全电/数电 invoice (电子发票(普通发票) and 电子发票(增值税专用发票)): a 20-digit number, no code.
VAT_KINDS = ("vat_special", "vat_normal", "vat_electronic_special", "vat_electronic_normal", "fully_digital")
KINDS = (*VAT_KINDS, "other")
# What a caller may ask for: a kind, "auto" (classify), or "off" (no fields stage).
FIELD_MODES = ("auto", "off", *KINDS)

# Invoice header fields, in the order people read them (and the ledger's columns).
HEADER_FIELDS = (
    "invoice_code",
    "invoice_number",
    "issue_date",
    "check_code",
    "machine_number",
    "buyer_name",
    "buyer_tax_id",
    "seller_name",
    "seller_tax_id",
    "amount_pretax",
    "tax",
    "total",
    "total_in_words",
)
LINE_ITEM_KEYS = ("name", "quantity", "unit_price", "amount", "tax_rate", "tax")

SOURCES = ("text", "qr", "both", "rule")
SEVERITIES = ("error", "warning")

Quad = list[list[float]]


@dataclass
class Check:
    """One check a value passed or failed. A failed "error" check makes the value invalid;
    a failed "warning" check (e.g. an early tax ID that fails its check character) only
    asks for a look."""

    name: str  # stable identifier, e.g. "uscc_check_character", "sum_pretax_tax_total"
    passed: bool
    message: str = ""  # what was compared, written for the person reviewing
    severity: str = "error"  # one of SEVERITIES
    # True for checks that an independent source confirms the value with (a check character,
    # an arithmetic identity, the QR code); a structure check ("8 digits") only rules values out.
    confirms: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "passed": self.passed,
            "severity": self.severity,
            "confirms": self.confirms,
            "message": self.message,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Check:
        return cls(
            data["name"],
            bool(data["passed"]),
            data.get("message", ""),
            data.get("severity", "error"),
            bool(data.get("confirms", False)),
        )


@dataclass
class FieldValue:
    value: Any  # a string for header fields (amounts as "123.45", dates ISO), a list of dicts for line_items
    confidence: float = 0.0
    checks: list[Check] = field(default_factory=list)
    source: str = "text"  # one of SOURCES
    page: int | None = None
    box: Quad | None = None  # where the value was read, page pixels (None when only the QR had it)
    raw: str | None = None  # the text as read, before normalisation (None when equal to value)
    changes: list[str] = field(default_factory=list)  # normalisations applied, e.g. "O→0"

    @property
    def valid(self) -> bool | None:
        """False when an error-level check failed; True when none failed and at least one
        confirming check passed; None when nothing could confirm the value (e.g. a name, or a
        number whose only check is its length). A wrong value marked True is the one mistake
        a finance team cannot catch, so True needs an independent confirmation."""
        if any(not check.passed and check.severity == "error" for check in self.checks):
            return False
        if any(check.passed and check.confirms for check in self.checks):
            return True
        return None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "value": self.value,
            "confidence": round(float(self.confidence), 4),
            "valid": self.valid,
            "checks": [check.to_dict() for check in self.checks],
            "source": self.source,
            "page": self.page,
            "box": None if self.box is None else [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
        }
        if self.raw is not None:
            data["raw"] = self.raw
        if self.changes:
            data["changes"] = list(self.changes)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FieldValue:
        return cls(
            value=data.get("value"),
            confidence=float(data.get("confidence", 0.0)),
            checks=[Check.from_dict(item) for item in data.get("checks", [])],
            source=data.get("source", "text"),
            page=data.get("page"),
            box=data.get("box"),
            raw=data.get("raw"),
            changes=list(data.get("changes", [])),
        )


@dataclass
class Fields:
    kind: str = "other"  # one of KINDS
    values: dict[str, FieldValue] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)  # why a person should look; empty when none
    pairs: list[dict[str, Any]] = field(default_factory=list)  # generic "label: value" pairs (other documents)
    qr: str | None = None  # the invoice QR code's payload, exactly as decoded

    @property
    def needs_review(self) -> bool:
        return bool(self.reasons)

    def value_of(self, name: str) -> Any:
        item = self.values.get(name)
        return None if item is None else item.value

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "needs_review": self.needs_review,
            "reasons": list(self.reasons),
            "values": {name: item.to_dict() for name, item in self.values.items()},
            "pairs": list(self.pairs),
            "qr": self.qr,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Fields:
        return cls(
            kind=data.get("kind", "other"),
            values={name: FieldValue.from_dict(item) for name, item in data.get("values", {}).items()},
            reasons=list(data.get("reasons", [])),
            pairs=list(data.get("pairs", [])),
            qr=data.get("qr"),
        )
