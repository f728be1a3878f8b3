"""Header fields of a VAT invoice from its recognised lines: values as read, normalised."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ocrd.fields import header as h
from ocrd.fields.geometry import PlacedLine, rows
from ocrd.fields.model import HEADER_FIELDS as HEADER_NAMES
from ocrd.fields.normalise import capitals_text, company_name, digits_only, tax_id
from ocrd.fields.reading import Reading

TABLE_HEADER = re.compile(r"项\s*目\s*名\s*称|货物或应税劳务|规\s*格\s*型\s*号")


@dataclass
class Found:
    """A field's normalised value and the reading it came from."""

    value: str
    reading: Reading
    changes: list[str] = field(default_factory=list)


def _digits(reading: Reading | None) -> Found | None:
    if reading is None:
        return None
    value, changes = digits_only(reading.raw)
    return Found(value, reading, changes)


def _date(reading: Reading | None) -> Found | None:
    if reading is None:
        return None
    digits = re.findall(r"\d+", reading.raw)
    if len(digits) == 1 and len(digits[0]) == 8:
        digits = [digits[0][:4], digits[0][4:6], digits[0][6:]]
    if len(digits) != 3:
        return None
    year, month, day = (int(part) for part in digits)
    return Found(f"{year:04d}-{month:02d}-{day:02d}", reading)


def _amount(reading: Reading | None) -> Found | None:
    if reading is None:
        return None
    text = reading.raw.replace(",", "").replace(" ", "")
    return Found(text if "." in text else f"{text}.00", reading)


def _table_top(lines: list[PlacedLine]) -> float | None:
    for line in lines:
        if TABLE_HEADER.search(h.folded(line)):
            return line.top
    return None


def _parties(lines: list[PlacedLine], page_width: float, side_by_side: bool) -> dict[str, Found]:
    table_top = _table_top(lines)
    found: dict[str, Found] = {}
    for pattern, suffix in ((h.NAME, "name"), (h.NAME_SPLIT, "name"), (h.TAX_ID, "tax_id")):
        for reading, match in h.all_matches(pattern, lines):
            party = h.party_of(reading, match.start(), page_width, table_top, side_by_side=side_by_side)
            key = f"{party}_{suffix}"
            if key in found:
                continue
            if suffix == "tax_id":
                value, changes = tax_id(reading.raw)
            else:
                value, changes = company_name(reading.line.text[reading.start : reading.end]), []
            found[key] = Found(value, reading, changes)
    return found


def _totals(lines: list[PlacedLine]) -> dict[str, Found]:
    found: dict[str, Found] = {}
    for line in lines:
        text = h.folded(line)
        match = h.TOTAL_ROW.search(text)
        if match is None or "价" in text[max(0, match.start() - 3) : match.start()]:
            continue
        amounts = h.amounts_right_of(line, match.end(), lines)
        if amounts:
            found["amount_pretax"] = _amount(amounts[0])  # type: ignore[assignment]
            if len(amounts) > 1:
                found["tax"] = _amount(amounts[1])  # type: ignore[assignment]
            break
    if "amount_pretax" not in found:
        found |= _totals_without_label(lines)
    total = h.first_match(h.TOTAL_SMALL, lines) or h.value_next_to(h.TOTAL_SMALL_LABEL, h.AMOUNT, lines)
    if total is not None:
        found["total"] = _amount(total)  # type: ignore[assignment]
    words = h.first_match(h.WORDS, lines)
    if words is None:
        for line in lines:
            match = re.search(r"价\s*税\s*合\s*计", h.folded(line))
            if match:
                words = h.words_near(line, match.end(), lines)
                break
    if words is not None:
        found["total_in_words"] = Found(capitals_text(words.raw), words)
    return found


def _totals_without_label(lines: list[PlacedLine]) -> dict[str, Found]:
    """The 合计 row when its label was not read: the first line of two ¥ amounts, not the 小写 one."""
    for line in lines:
        text = h.folded(line)
        if h.TOTAL_SMALL_LABEL.search(text):
            continue
        amounts = [m for m in h.YEN_AMOUNT.finditer(text)]
        if len(amounts) >= 2:
            first, second = (Reading(m.group(1), line, m.start(1), m.end(1)) for m in amounts[:2])
            return {"amount_pretax": _amount(first), "tax": _amount(second)}  # type: ignore[dict-item]
    return {}


def _bare_code(lines: list[PlacedLine]) -> Reading | None:
    """A paper invoice's code: a line of only 10 or 12 digits above the buyer's block."""
    top = _table_top(lines)
    for line in lines:
        if top is not None and line.top >= top:
            continue
        match = h.BARE_CODE.match(h.folded(line))
        if match:
            return Reading(match.group(1), line, match.start(1), match.end(1))
    return None


def read_header(lines: list[PlacedLine], page_width: float, *, side_by_side: bool = False) -> dict[str, Found]:
    """Every header field found on one page, by name (absent when not found).

    The lines as recognised first; what is missing then from the page's rows, where a label
    and its value printed (or recognised) as separate lines are joined again.
    """
    found = _read_header(lines, page_width, side_by_side)
    missing = [name for name in HEADER_NAMES if name not in found]
    if missing:
        again = _read_header(rows(lines), page_width, side_by_side)
        found |= {name: again[name] for name in missing if name in again}
    return found


def _read_header(lines: list[PlacedLine], page_width: float, side_by_side: bool) -> dict[str, Found]:
    found: dict[str, Found | None] = {
        "invoice_code": _digits(h.first_match(h.CODE, lines)),
        "invoice_number": _digits(h.first_match(h.NUMBER, lines)),
        "issue_date": _date(h.first_match(h.DATE, lines)),
        "check_code": _digits(h.first_match(h.CHECK_CODE, lines)),
        "machine_number": _digits(h.first_match(h.MACHINE, lines)),
    }
    if found["invoice_number"] is None:
        found["invoice_number"] = _digits(h.first_match(h.NUMBER_NO, lines))
    if found["invoice_code"] is None:
        found["invoice_code"] = _digits(_bare_code(lines))
    found |= _parties(lines, page_width, side_by_side)
    found |= _totals(lines)
    return {name: item for name, item in found.items() if item is not None}
