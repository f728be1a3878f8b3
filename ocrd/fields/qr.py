"""The payload of a Chinese VAT invoice's QR code, as the fields stage's second, exact source.

The payload is comma-separated: version, type, invoice code, invoice number, amount, issue date,
check code, a 4-character CRC, and sometimes an empty field after it::

    01,10,042001700112,47502662,140.95,20180323,08795327402254684486,9CAD,    (增值税电子普通发票)
    01,32,,26427000000145889304,300.00,20260108,,670d                         (电子发票(普通发票))

Which amount the code carries depends on the type: the tax-control invoices (专票, 普票 and
their electronic forms) carry the pre-tax amount, the fully digital ones (数电) the total
including tax. Fields a type does not have are empty: 专票 print no check code, 数电 no
invoice code. Anything else read from a QR code (a URL, another country's invoice, a code
that only looks like this one) parses to None.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class InvoiceType:
    title: str  # as printed on the invoice
    kind: str  # one of ocrd.fields.model.KINDS
    amount_field: str | None  # which field the payload's amount is; None where that is not known


# The type codes of the national invoice-checking platform (发票查验), which the QR code repeats.
INVOICE_TYPES: dict[str, InvoiceType] = {
    "01": InvoiceType("增值税专用发票", "vat_special", "amount_pretax"),
    "02": InvoiceType("货物运输业增值税专用发票", "other", "amount_pretax"),  # issued until 2016
    "03": InvoiceType("机动车销售统一发票", "other", "amount_pretax"),  # 不含税价
    "04": InvoiceType("增值税普通发票", "vat_normal", "amount_pretax"),
    "08": InvoiceType("增值税电子专用发票", "vat_electronic_special", "amount_pretax"),
    "10": InvoiceType("增值税电子普通发票", "vat_electronic_normal", "amount_pretax"),
    # A roll invoice prints only a tax-inclusive 合计金额, and no sample says which amount its code
    # holds: the amount is left out rather than guessed.
    "11": InvoiceType("增值税普通发票(卷式)", "vat_normal", None),
    "14": InvoiceType("增值税电子普通发票(通行费)", "vat_electronic_normal", "amount_pretax"),
    "15": InvoiceType("二手车销售统一发票", "other", "total"),  # 车价合计: no tax is shown apart
    "31": InvoiceType("电子发票(增值税专用发票)", "fully_digital", "total"),
    "32": InvoiceType("电子发票(普通发票)", "fully_digital", "total"),
}

AMOUNT_FIELDS = ("amount_pretax", "total")

_TWO_DIGITS = re.compile(r"\d{2}")
_INVOICE_CODE = re.compile(r"\d{10}|\d{12}")  # 10 digits on paper 专票/普票, 12 elsewhere
_INVOICE_NUMBER = re.compile(r"\d{8}|\d{20}")  # 20 digits on fully digital invoices
_CHECK_CODE = re.compile(r"\d{20}")
_AMOUNT = re.compile(r"-?\d{1,12}(\.\d{1,2})?")  # negative on red-letter (credit) invoices
_DATE = re.compile(r"(\d{4})(\d{2})(\d{2})|(\d{4})-(\d{2})-(\d{2})")  # YYYYMMDD; some issuers write YYYY-MM-DD
_CENTS = Decimal("0.01")


@dataclass(frozen=True)
class InvoiceQr:
    version: str
    type_code: str
    kind: str | None  # None for a type code not in INVOICE_TYPES
    invoice_code: str | None
    invoice_number: str
    amount: str  # two decimals, e.g. "124.80"
    amount_field: str | None  # "amount_pretax" or "total"; None when the type does not say
    issue_date: str  # ISO, e.g. "2018-03-23"
    check_code: str | None

    def fields(self) -> dict[str, str]:
        """The header fields the code gives, by ocrd.fields.model.HEADER_FIELDS names; empty ones left out."""
        values = {
            "invoice_code": self.invoice_code,
            "invoice_number": self.invoice_number,
            "issue_date": self.issue_date,
            "check_code": self.check_code,
        }
        if self.amount_field is not None:
            values[self.amount_field] = self.amount
        return {name: value for name, value in values.items() if value is not None}


def parse_invoice_qr(text: str) -> InvoiceQr | None:
    """The invoice the payload describes, or None when it is not an invoice payload."""
    if not isinstance(text, str):
        return None
    parts = [part.strip() for part in text.strip().lstrip("\ufeff").split(",")]
    if len(parts) < 7:
        return None
    version, type_code, invoice_code, invoice_number, amount, issued, check_code = parts[:7]
    if not (_TWO_DIGITS.fullmatch(version) and _TWO_DIGITS.fullmatch(type_code)):
        return None
    if invoice_code and not _INVOICE_CODE.fullmatch(invoice_code):
        return None
    if check_code and not _CHECK_CODE.fullmatch(check_code):
        return None
    if not _INVOICE_NUMBER.fullmatch(invoice_number):
        return None
    normalised_amount = _amount(amount)
    issue_date = _iso_date(issued)
    if normalised_amount is None or issue_date is None:
        return None
    invoice_type = INVOICE_TYPES.get(type_code)
    return InvoiceQr(
        version=version,
        type_code=type_code,
        kind=None if invoice_type is None else invoice_type.kind,
        invoice_code=invoice_code or None,
        invoice_number=invoice_number,
        amount=normalised_amount,
        amount_field=None if invoice_type is None else invoice_type.amount_field,
        issue_date=issue_date,
        check_code=check_code or None,
    )


def _amount(text: str) -> str | None:
    if not _AMOUNT.fullmatch(text):
        return None
    try:
        return str(Decimal(text).quantize(_CENTS))
    except InvalidOperation:
        return None


def _iso_date(text: str) -> str | None:
    match = _DATE.fullmatch(text)
    if match is None:
        return None
    year, month, day = (int(part) for part in match.groups() if part is not None)
    try:
        return date(year, month, day).isoformat()
    except ValueError:  # no such day, e.g. 20230231
        return None
