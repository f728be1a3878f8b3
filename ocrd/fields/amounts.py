"""Amounts as printed on invoices ("¥1,234.50", "￥265.49", "２６５.４９", "-12.00") and their one stored form."""

from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_UP, Decimal

FEN = Decimal("0.01")

# At most 15 integer digits: far beyond any invoice (a special VAT invoice's ceiling is 10^9 yuan), and
# short enough that a 20-digit invoice number or check code is never mistaken for an amount.
_AMOUNT = re.compile(
    r"(?P<sign>-?)(?:¥|RMB)?(?P<sign_after>-?)"
    r"(?P<integer>\d{1,3}(?:,\d{3})+|\d{1,15})"
    r"(?:\.(?P<fraction>\d+))?"
)
# Minus signs NFKC leaves alone: U+2212 from typeset PDFs, dashes from OCR.
_MINUS = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})


def quantise(value: Decimal) -> Decimal:
    """To the fen, rounding half up (四舍五入, as the tax system rounds); never a negative zero."""
    if not value.is_finite():
        raise ValueError(f"not a finite amount: {value}")
    rounded = value.quantize(FEN, rounding=ROUND_HALF_UP)
    return abs(rounded) if rounded.is_zero() else rounded


def parse_amount(text: str) -> Decimal | None:
    """The amount a printed string shows, to the fen, or None when it is not an amount.

    Full-width forms (digits, ￥, comma, point, minus) are read through NFKC; spaces anywhere are
    ignored because OCR and text layers split "¥ 1 234.50"; thousands separators must group by three.
    """
    compact = "".join(unicodedata.normalize("NFKC", text).translate(_MINUS).split())
    match = _AMOUNT.fullmatch(compact)
    if match is None or (match["sign"] and match["sign_after"]):
        return None
    digits = match["integer"].replace(",", "") + "." + (match["fraction"] or "0")
    value = Decimal(digits)
    if match["sign"] or match["sign_after"]:
        value = -value
    return quantise(value)


def format_amount(value: Decimal) -> str:
    """The canonical stored form: two decimals, no separators, "-" for negatives ("1234.50", "-12.00")."""
    return f"{quantise(value):f}"
