"""The header fields of a Chinese VAT invoice, found by their printed labels.

Each field is searched as "label, then its value" inside one recognised line first (the value
usually follows the label: "发票号码：47502662"), then in the lines to the right of the label on
its row and just below it. Patterns run on width-folded text ("：" is ":"), which keeps every
character at its index, so a match maps back to its place in the line.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ocrd.fields.geometry import PlacedLine, below, right_of
from ocrd.fields.normalise import fold_width
from ocrd.fields.reading import Reading

_COLON = r"\s*[:;]?\s*"
# The value patterns allow the look-alike letters the normaliser turns into digits.
_DIGITISH = "0-9OoIlDQSBZ"
CODE = re.compile(r"发\s*票\s*代\s*码" + _COLON + f"([{_DIGITISH}]{{10,12}})(?![0-9])")
NUMBER = re.compile(r"发\s*票\s*号\s*码" + _COLON + f"([{_DIGITISH}]{{8,20}})(?![0-9])")
# Paper invoices print the number as "No 02738402" (№ or No.) and the code without a label.
NUMBER_NO = re.compile(r"(?:N[oO0]|№)\.?\s*[:;]?\s*(\d{8})(?!\d)")
BARE_CODE = re.compile(r"^\s*(\d{10}|\d{12})\s*$")
DATE = re.compile(
    r"开\s*票\s*日\s*期" + _COLON + r"(\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日?|\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{8})"
)
# 校验码 is printed in groups of five: "08795 32740 22546 84486".
CHECK_CODE = re.compile(r"校\s*验\s*码" + _COLON + f"((?:[{_DIGITISH}]\\s?){{20}})")
MACHINE = re.compile(r"机\s*器\s*编\s*号" + _COLON + f"([{_DIGITISH}]{{12}})(?![0-9])")
TAX_ID = re.compile(r"(?:纳\s*税\s*人\s*识\s*别\s*号|统一社会信用代码)" + _COLON + r"([0-9A-Za-z]{15,20})")
# A party's name runs to the next label, a space or the end of the line.
_NAME_END = r"(?=统一社会信用代码|纳税人识别号|地\s*址|开户行|电\s*话|销售方|购买方|密码区|\s|$)"
NAME = re.compile(r"(?<![目务物])名\s*称" + _COLON + r"([^\s:]+?)" + _NAME_END)
# A merged block can separate the two characters of a vertical 名/称 label ("名地址、电话：…称：X").
NAME_SPLIT = re.compile(r"(?<![名目务物\s])称" + _COLON + r"([^\s:]+?)" + _NAME_END)
BUYER_MARK = re.compile(r"购\s*买\s*方|购\s*方")
SELLER_MARK = re.compile(r"销\s*售\s*方|销\s*方")
YEN_AMOUNT = re.compile(r"¥\s*(-?\d[\d,]*\.\d{2})(?!\d)")
AMOUNT = re.compile(r"-?\d[\d,]*\.\d{2}(?!\d)")
TOTAL_ROW = re.compile(r"(?<!税)合\s*计(?!\s*\()")
TOTAL_SMALL = re.compile(r"小\s*写\s*\)?" + _COLON + r"¥?\s*(-?[\d,]+\.\d{2})")
TOTAL_SMALL_LABEL = re.compile(r"小\s*写")
CAPITAL_CHARS = "零壹贰叁肆伍陆柒捌玖拾佰仟万亿圆元角分整正貳陸億萬圓"
# ⊗ (read as ⓧ or ×) is the start mark printed before the capitals, not a sign; a red
# (negative) invoice prints (负数) after it.
START_MARK = "⊗ⓧⓍ×"
_WORDS_VALUE = rf"([{START_MARK}]?\s*(?:\(\s*负数?\s*\)\s*)?[{CAPITAL_CHARS}][{CAPITAL_CHARS}\s]*)"
# Only "大写" is required of the label: its first character is the one most often misread (份, 介).
WORDS = re.compile(r"大\s*写\s*\)?" + _COLON + _WORDS_VALUE)
WORDS_ONLY = re.compile(_WORDS_VALUE)


def folded(line: PlacedLine) -> str:
    return fold_width(line.text)


def first_match(pattern: re.Pattern[str], lines: list[PlacedLine]) -> Reading | None:
    """The first line (reading order) in which ``pattern`` matches; group 1 is the value."""
    for line in lines:
        match = pattern.search(folded(line))
        if match:
            return Reading(match.group(1), line, match.start(1), match.end(1))
    return None


def all_matches(pattern: re.Pattern[str], lines: list[PlacedLine]) -> Iterator[tuple[Reading, re.Match[str]]]:
    for line in lines:
        for match in pattern.finditer(folded(line)):
            yield Reading(match.group(1), line, match.start(1), match.end(1)), match


def party_of(
    reading: Reading, match_start: int, page_width: float, table_top: float | None, *, side_by_side: bool
) -> str:
    """ "buyer" or "seller" for a name or tax ID.

    A 购买方/销售方 mark before the value in the same line decides (the nearest one wins: the
    fully digital form reads "购买方信息 ... 名称：A 销售方信息 ... 名称：B" as one line when the
    two blocks are side by side). Without one, the place decides: on coded forms the seller's
    block is under the item table (the buyer's above it, whatever the x); on the fully digital
    form (``side_by_side``) the seller is the right half.
    """
    before = folded(reading.line)[:match_start]
    buyer = [m.end() for m in BUYER_MARK.finditer(before)]
    seller = [m.end() for m in SELLER_MARK.finditer(before)]
    if buyer or seller:
        return "buyer" if max(buyer, default=-1) > max(seller, default=-1) else "seller"
    if table_top is not None and reading.line.top > table_top:
        return "seller"
    if not side_by_side and table_top is not None:
        return "buyer"
    return "buyer" if reading.centre_x < page_width / 2 else "seller"


def amounts_right_of(label: PlacedLine, label_end: int, lines: list[PlacedLine]) -> list[Reading]:
    """Amounts after a label in its line, then in the lines to its right on the same row."""
    found = [
        Reading(m.group(0), label, label_end + m.start(), label_end + m.end())
        for m in AMOUNT.finditer(folded(label)[label_end:])
    ]
    for line in right_of(label, lines):
        found += [Reading(m.group(0), line, m.start(), m.end()) for m in AMOUNT.finditer(folded(line))]
    return found


def words_near(label: PlacedLine, label_end: int, lines: list[PlacedLine]) -> Reading | None:
    """Capitals after the 价税合计（大写） label: in its line, else in a line to its right."""
    for line, offset in [(label, label_end), *((item, 0) for item in right_of(label, lines))]:
        match = WORDS_ONLY.search(folded(line), offset)
        if match:
            return Reading(match.group(0), line, match.start(), match.end())
    return None


def value_next_to(
    label_pattern: re.Pattern[str], value_pattern: re.Pattern[str], lines: list[PlacedLine]
) -> Reading | None:
    """A value printed apart from its label: in a line right of it on its row, or just below."""
    for line in lines:
        if not label_pattern.search(folded(line)):
            continue
        for candidate in [*right_of(line, lines), *below(line, lines)]:
            match = value_pattern.search(folded(candidate))
            if match:
                return Reading(match.group(0), candidate, match.start(), match.end())
    return None
