"""Chinese capital amounts (大写金额), read strictly and written the way the tax system prints them.

What this relies on, besides the invoices in the evaluation set:

- 《支付结算办法》附件《正确填写票据和结算凭证的基本规定》 (and the same rules in 《会计基础工作规范》):
  整/正 after 元 (it may be left off after 角, never written after 分); a zero inside a number is
  written 零, one 零 for a run of zeros; where the 万 or 元 digit is zero but the next one is not,
  the 零 may be written or left off (壹仟陆佰捌拾元零叁角贰分 or …元叁角贰分; 壹拾万柒仟 or 壹拾万零柒仟);
  a zero 角 before a non-zero 分 needs a 零 after 元 (叁佰贰拾伍元零肆分); 貳 陸 億 萬 圓 are accepted.
- The printed invoices: 圆 on current invoices, 元 on older electronic ones (toll invoices of 2018);
  壹拾 is always written out (壹拾柒圆…); ⓧ叁仟伍佰伍拾圆零柒角整 and 壹佰元零贰角伍分 show that the tax
  system writes the 零 after 圆 when the 元 digit is zero; most invoices write 整 after a final 角,
  some older ones (伍拾叁圆肆角, 2019) leave it off.
- The ⊗ (ⓧ in some text layers) printed before the words is a start mark, so nothing can be written
  in front of the amount: the blue (positive) invoices of the evaluation set all print it. It is not a sign. Red-letter (negative)
  invoices print （负数） before the words: ⊗（负数）壹万肆仟圆整 beside ¥-14000.00.
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise

from ocrd.fields.amounts import FEN, quantise

DIGITS = "零壹贰叁肆伍陆柒捌玖"
_PLACE_UNITS = {"拾": 1, "佰": 2, "仟": 3}
_SECTION_UNITS = {"万": 4, "亿": 8}
_SECTION_NAMES = {4: "万", 8: "亿"}
_LIMIT = 10**12  # 亿 is the largest section unit read or written; 万亿 does not occur on invoices

_TRADITIONAL = str.maketrans({"貳": "贰", "陸": "陆", "億": "亿", "萬": "万", "圓": "圆"})
# A start mark as printed (⊗), as some PDF text layers encode it (ⓧ, Ⓧ), or as OCR reads it (×).
_START_MARKS = "⊗ⓧⓍ×"
_NEGATIVE_MARKS = ("（负数）", "(负数)", "（负）", "(负)", "负数", "负")
# What follows 圆/元: [零 or 零角] [d角] [d分] [整/正]; which combinations are allowed is decided below.
_FRACTION = re.compile(
    r"(?P<zero>零角?)?(?:(?P<jiao>[壹贰叁肆伍陆柒捌玖])角)?(?:(?P<fen>[壹贰叁肆伍陆柒捌玖])分)?(?P<whole>[整正])?"
)


def parse_capitals(text: str) -> Decimal | None:
    """The amount written in capitals, or None when the text is not a well-formed capital amount.

    Strict about structure: every digit has its unit, units descend, a 零 stands for skipped zeros
    (and is required where the rules require it), so a misread is reported, not turned into an amount;
    伍仟壹佰肆拾捌圆肆贰分 (a digit with no unit) is rejected, not guessed at. Spaces are ignored.
    """
    body = "".join(text.split()).translate(_TRADITIONAL).lstrip(_START_MARKS)
    negative = False
    for mark in _NEGATIVE_MARKS:
        if body.startswith(mark):
            body, negative = body[len(mark) :], True
            break
    yuan_at = [index for index, char in enumerate(body) if char in "圆元"]
    if len(yuan_at) > 1:
        return None
    if yuan_at:
        integer_text, fraction_text = body[: yuan_at[0]], body[yuan_at[0] + 1 :]
        integer = 0 if integer_text == "零" else _parse_integer(integer_text)
        if integer is None:
            return None
        fen = _parse_fraction(fraction_text, integer)
    else:
        integer, fen = 0, _parse_fraction(body, None)
    if fen is None:
        return None
    value = Decimal(integer) + Decimal(fen) * FEN
    return quantise(-value if negative else value)


def _parse_integer(text: str) -> int | None:
    """The yuan part: digit–unit terms with 万/亿 section units, 零 where zeros are skipped."""
    terms: list[tuple[int, int, bool]] = []  # (digit, place, a 零 came before it)
    section_start = 0  # index in terms where the current 万/亿 section begins
    last_section = _LIMIT  # the last section unit seen, so sections descend: 亿 before 万
    zero_pending = False
    index = 0
    while index < len(text):
        char = text[index]
        if char == "零":
            if zero_pending or not terms:
                return None  # 零零, or a number starting with 零
            zero_pending = True
            index += 1
            continue
        if char in _SECTION_UNITS:
            shift = _SECTION_UNITS[char]
            if zero_pending or section_start == len(terms) or shift >= last_section:
                return None  # 零万, a bare 万, or 万 before 亿
            terms[section_start:] = [(digit, place + shift, zero) for digit, place, zero in terms[section_start:]]
            section_start, last_section = len(terms), shift
            index += 1
            continue
        if char in DIGITS:
            digit = DIGITS.index(char)
            unit = text[index + 1] if index + 1 < len(text) else ""
            place = _PLACE_UNITS.get(unit, 0)
            index += 2 if unit in _PLACE_UNITS else 1
        elif char == "拾" and not terms and not zero_pending:
            digit, place = 1, 1  # a leading 拾 stands for 壹拾 (拾元整)
            index += 1
        else:
            return None
        terms.append((digit, place, zero_pending))
        zero_pending = False
    if not terms or zero_pending:
        return None
    for (_, higher, _), (_, lower, zero) in pairwise(terms):
        if lower >= higher:
            return None  # units out of order: 壹佰贰仟, 伍叁
        skipped = higher - lower - 1
        if zero and not skipped:
            return None  # a 零 that stands for nothing: 壹佰零贰拾
        if skipped and not zero and not _zero_optional(higher, lower):
            return None  # zeros inside a section must be written: 壹佰伍 is not 105
    return sum(digit * 10**place for digit, place, _ in terms)


def _zero_optional(higher: int, lower: int) -> bool:
    """A 零 may be left off when only the trailing zeros of one section are skipped and the next
    section starts at its 仟 (壹拾万柒仟); a whole zero section or a zero 仟 needs it (壹亿零壹仟, 壹万零伍佰)."""
    return lower % 4 == 3 and higher // 4 == lower // 4 + 1


def _parse_fraction(text: str, integer: int | None) -> int | None:
    """角 and 分 as a number of fen; integer is the yuan amount, None when the words have no 圆/元."""
    match = _FRACTION.fullmatch(text)
    if match is None:
        return None
    zero, jiao, fen, whole = match["zero"], match["jiao"], match["fen"], match["whole"]
    if whole and fen:
        return None  # nothing follows 分
    if integer is None:
        if zero or not (jiao or fen):
            return None  # 角/分 alone: 伍角, 伍分; a bare 整 is no amount
    elif zero == "零角":
        if jiao or not fen:
            return None  # 零角 only stands for the zero 角 before a 分
    elif zero:
        zero_yuan_digit = integer > 0 and integer % 10 == 0
        if not ((jiao and zero_yuan_digit) or (fen and not jiao)):
            return None  # a 零 here must stand for a zero 元 or 角 digit
    elif fen and not jiao and integer > 0:
        return None  # 叁佰贰拾伍元肆分: the zero 角 must be written (零肆分)
    return 10 * (DIGITS.index(jiao) if jiao else 0) + (DIGITS.index(fen) if fen else 0)


def render_capitals(value: Decimal, yuan: str = "圆") -> str:
    """The capitals the tax system prints for an amount: 叁佰圆整, 壹佰肆拾伍圆壹角捌分, 叁拾捌圆零叁分,
    壹万零伍佰圆整, 壹佰圆零贰角伍分, （负数）叁佰圆整 for red-letter invoices (the ⊗ start mark is
    part of the form, not of the amount, so it is not rendered)."""
    if yuan not in ("圆", "元"):
        raise ValueError(f"yuan must be 圆 or 元, not {yuan!r}")
    if quantise(value) != value:
        raise ValueError(f"an amount in capitals has at most two decimals: {value}")
    fen_total = int(abs(value) / FEN)
    integer, jiao, fen = fen_total // 100, fen_total // 10 % 10, fen_total % 10
    if integer >= _LIMIT:
        raise ValueError(f"amount too large for capitals: {value}")
    words = "（负数）" if value < 0 else ""
    if integer or not (jiao or fen):
        words += (_render_integer(integer) if integer else "零") + yuan
    if jiao:
        words += ("零" if integer and integer % 10 == 0 else "") + DIGITS[jiao] + "角"
    elif fen and integer:
        words += "零"
    if fen:
        words += DIGITS[fen] + "分"
    else:
        words += "整"
    return words


def _render_integer(integer: int) -> str:
    """The yuan part with one 零 per run of skipped zeros, left off only where _zero_optional allows."""
    words = ""
    previous: int | None = None  # place of the last non-zero digit written
    for place in range(len(str(integer)) - 1, -1, -1):
        digit = integer // 10**place % 10
        if digit:
            if previous is not None and previous - place > 1 and not _zero_optional(previous, place):
                words += "零"
            words += DIGITS[digit] + {0: "", 1: "拾", 2: "佰", 3: "仟"}[place % 4]
            previous = place
        if place in _SECTION_NAMES and integer // 10**place % 10**4:
            words += _SECTION_NAMES[place]
    return words
