"""The line-item table of a VAT invoice: name, quantity, unit price, amount, tax rate, tax.

Rows lie between the table's header (项目名称 … 税额) and its 合计 row. A row is recognised
by its tail, which every form prints the same way: amount, rate, tax ("265.49 13% 34.51").
Item names wrap inside their column, so a line in the name column without such a tail
continues the name above it. Where the name column ends is read off the header: its next
column (规格型号, or 车牌号 on toll invoices) starts there.
"""

from __future__ import annotations

import re
from typing import Any

from ocrd.fields.geometry import PlacedLine, rows
from ocrd.fields.normalise import fold_width

_AMOUNT = r"-?\d[\d,]*\.\d{2}"
_RATE = r"\d{1,2}(?:\.\d+)?%|免税|不征税|\*{3}"
_TAIL = re.compile(rf"({_AMOUNT})\s*({_RATE})\s*({_AMOUNT}|\*{{3}})\s*$")
_QUANTITY_PRICE = re.compile(r"(\d+(?:\.\d+)?)\s+(\d+(?:\.\d+)?)\s*$")
_HEADER = re.compile(r"项\s*目\s*名\s*称|货物或应税劳务")
_NEXT_COLUMN = re.compile(r"规\s*格\s*型\s*号|车\s*牌\s*号|单\s*位|数\s*量|单\s*价|金\s*额")
_QUANTITY_HEADER = re.compile(r"数\s*量|单\s*价")
_TOTAL_ROW = re.compile(r"(?<!税)合\s*计")
_TOKEN = re.compile(r"\S+")
_SPILLED_NUMBER = re.compile(r"\d+\.\d{3,}")


def _header(lines: list[PlacedLine]) -> tuple[PlacedLine, float] | None:
    """The table's header line and the x where the name column ends."""
    for line in lines:
        text = fold_width(line.text)
        match = _HEADER.search(text)
        if match is None:
            continue
        following = _NEXT_COLUMN.search(text, match.end())
        name_end = line.span_box(following.start(), following.end())[0][0] if following else line.right
        return line, name_end
    return None


def _below_header(line: PlacedLine, header: PlacedLine) -> bool:
    """Below the header row: a slightly turned scan makes boxes taller, so the first item row's
    middle can sit above the header's bottom edge; past the header's lower half is enough."""
    return line is not header and line.middle > (header.middle + header.bottom) / 2


def _table_bottom(lines: list[PlacedLine], header: PlacedLine) -> float:
    for line in lines:
        if line.top > header.bottom and _TOTAL_ROW.search(fold_width(line.text)):
            return line.top
    return max(line.bottom for line in lines) + 1


def _name_part(line: PlacedLine, text_end: int, name_end: float) -> str:
    """The tokens of ``line`` before ``text_end`` whose middle lies in the name column."""
    tokens = _TOKEN.finditer(line.text[:text_end])
    # A token belongs to the name when it starts in the name column (its end may run past the
    # column's label: names are left-aligned and wider than their heading).
    kept = "".join(m.group(0) for m in tokens if line.span_box(m.start(), m.end())[0][0] < name_end)
    # A quantity or unit price from the next columns can be read into the name's line; prices
    # carry many decimals (7.1592455), which item names do not.
    return _SPILLED_NUMBER.sub("", kept)


def _cell(value: str) -> str:
    return value.replace(",", "")


def _fragment_owner(fragment: PlacedLine, anchors: list[PlacedLine]) -> int:
    """The item a name fragment belongs to: the row it overlaps, else the nearest row above it."""
    for index, anchor in enumerate(anchors):
        if min(anchor.bottom, fragment.bottom) - max(anchor.top, fragment.top) > 0.5 * (fragment.bottom - fragment.top):
            return index
    above = [index for index, anchor in enumerate(anchors) if anchor.top <= fragment.top]
    return above[-1] if above else 0


def _item(anchor: PlacedLine, name_end: float, has_quantity: bool) -> dict[str, Any]:
    text = fold_width(anchor.text)
    tail = _TAIL.search(text)
    assert tail is not None
    head = text[: tail.start()].rstrip()
    item: dict[str, Any] = {"name": "", "quantity": None, "unit_price": None}
    quantity = _QUANTITY_PRICE.search(head)
    # Toll invoices have no 数量/单价 columns: the numbers there are the trip's dates.
    if has_quantity and quantity and anchor.span_centre_x(quantity.start(), quantity.end()) > name_end:
        item["quantity"], item["unit_price"] = quantity.group(1), quantity.group(2)
        head = head[: quantity.start()]
    item["name"] = _name_part(anchor, len(head), name_end)
    amount, rate, tax = tail.groups()
    item |= {"amount": _cell(amount), "tax_rate": rate, "tax": None if tax == "***" else _cell(tax)}
    return item


def read_line_items(lines: list[PlacedLine]) -> list[dict[str, Any]]:
    """The table's rows as recognised; if no row has its amounts in one line, the joined rows
    (a PDF text layer gives every cell as a line of its own)."""
    return _read_items(lines) or _read_items(rows(lines))


def _read_items(lines: list[PlacedLine]) -> list[dict[str, Any]]:
    found = _header(lines)
    if found is None:
        return []
    header, name_end = found
    has_quantity = bool(_QUANTITY_HEADER.search(fold_width(header.text)))
    bottom = _table_bottom(lines, header)
    region = sorted(
        (line for line in lines if line.page == header.page and _below_header(line, header) and line.middle < bottom),
        key=lambda line: (line.top, line.left),
    )
    anchors = [line for line in region if _TAIL.search(fold_width(line.text))]
    if not anchors:
        return []
    pieces: list[list[tuple[float, str]]] = [[] for _ in anchors]
    for line in region:
        if line in anchors or line.left >= name_end:
            continue
        end = len(line.text)
        part = _name_part(line, end, name_end)
        if part and not re.fullmatch(r"[\d.,]+", part):
            pieces[_fragment_owner(line, anchors)].append((line.top, part))
    items = []
    for anchor, extra in zip(anchors, pieces, strict=True):
        item = _item(anchor, name_end, has_quantity)
        parts = [(anchor.top, item["name"]), *extra] if item["name"] else extra
        item["name"] = "".join(text for _, text in sorted(parts, key=lambda part: part[0]))
        items.append(item)
    return items
