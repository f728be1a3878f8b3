"""Which kind of document a page is, from its printed title (and the QR code's type when read).

Titles are matched on the characters that tell the kinds apart rather than on the whole title,
because the title is printed large and often stamped over or split: "电子发票（通发票）" with
普 lost is still the fully digital form. The number's length settles what the title leaves
open: the fully digital invoice has a 20-digit number and no invoice code.
"""

from __future__ import annotations

import re

from ocrd.fields.normalise import fold_width

_ELECTRONIC_SPECIAL = re.compile(r"电\s*子\s*专\s*用\s*发\s*票")
_ELECTRONIC_NORMAL = re.compile(r"电\s*子\s*普\s*通\s*发\s*票")
_SPECIAL = re.compile(r"专\s*用\s*发\s*票")
_NORMAL = re.compile(r"普\s*通\s*发\s*票")
# 电子发票（普通发票）/ 电子发票（增值税专用发票）: the bracket is what sets them apart.
_FULLY_DIGITAL = re.compile(r"电\s*子\s*发\s*票\s*\(")
_VAT = re.compile(r"增\s*值\s*税")
_INVOICE = re.compile(r"发\s*票")
_TWENTY_DIGIT_NUMBER = re.compile(r"发\s*票\s*号\s*码\s*[:;]?\s*\d{20}(?!\d)")
_CODE_LABEL = re.compile(r"发\s*票\s*代\s*码")


def kind_from_text(text: str) -> str:
    """One of ocrd.fields.model.KINDS for a page's text (all lines, reading order)."""
    text = fold_width(text)
    if _FULLY_DIGITAL.search(text) or (_TWENTY_DIGIT_NUMBER.search(text) and not _CODE_LABEL.search(text)):
        return "fully_digital"
    if _ELECTRONIC_SPECIAL.search(text):
        return "vat_electronic_special"
    if _ELECTRONIC_NORMAL.search(text):
        return "vat_electronic_normal"
    if not _INVOICE.search(text):
        return "other"
    if _SPECIAL.search(text) and _VAT.search(text):
        return "vat_special"
    if _NORMAL.search(text) and (_VAT.search(text) or _CODE_LABEL.search(text)):
        return "vat_normal"
    return "other"


_FAMILIES = {
    "vat_special": "special",
    "vat_electronic_special": "special",
    "vat_normal": "normal",
    "vat_electronic_normal": "normal",
    "fully_digital": "fully_digital",
}


def compatible(printed: str, encoded: str) -> bool:
    """Whether a title's kind can be the QR code's: a title whose 电子 is hidden under a stamp
    reads as the paper kind of the same family, which is not a disagreement."""
    return printed == encoded or _FAMILIES.get(printed) == _FAMILIES.get(encoded)
