"""Where a piece of a line is on the page, and which lines share a row.

Recognised lines carry one box for their whole text. A label and its value are often in the same
line ("发票号码：47502662") or in separate lines on one row ("合 计" ... "¥140.95 ¥4.23"), so the
fields stage needs both: the position of a character range inside a line (estimated by spreading
the characters over the box's width, which is close enough to tell left from right half) and
the lines to the right of a label on its row.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ocrd.result import Line, Quad


@dataclass(frozen=True)
class PlacedLine:
    page: int
    order: int  # position in the page's reading order
    line: Line
    # For a row joined from several lines: where each starts in ``line.text``, and the line.
    pieces: tuple[tuple[int, Line], ...] = ()

    @property
    def text(self) -> str:
        return self.line.text

    @property
    def left(self) -> float:
        return min(x for x, _ in self.line.box)

    @property
    def right(self) -> float:
        return max(x for x, _ in self.line.box)

    @property
    def top(self) -> float:
        return min(y for _, y in self.line.box)

    @property
    def bottom(self) -> float:
        return max(y for _, y in self.line.box)

    @property
    def middle(self) -> float:
        return (self.top + self.bottom) / 2

    def _pieces_in(self, start: int, end: int) -> list[tuple[int, Line]]:
        ends = [offset for offset, _ in self.pieces[1:]] + [len(self.text)]
        return [
            (offset, line)
            for (offset, line), stop in zip(self.pieces, ends, strict=True)
            if offset < max(end, start + 1) and stop > start
        ]

    def span_box(self, start: int, end: int) -> Quad:
        """The box of characters ``start:end``, spread evenly over the line's (or piece's) width."""
        if self.pieces:
            boxes = [
                _spread(line, max(0, start - offset), min(len(line.text), end - offset))
                for offset, line in self._pieces_in(start, end)
            ]
            if boxes:
                x0, x1 = min(box[0][0] for box in boxes), max(box[1][0] for box in boxes)
                y0, y1 = min(box[0][1] for box in boxes), max(box[2][1] for box in boxes)
                return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
        return _spread(self.line, start, end)

    def confidence_of(self, start: int, end: int) -> float:
        """The recognizer's confidence for characters ``start:end`` (the least sure piece's)."""
        pieces = self._pieces_in(start, end) if self.pieces else []
        return min((line.confidence for _, line in pieces), default=self.line.confidence)

    def span_centre_x(self, start: int, end: int) -> float:
        box = self.span_box(start, end)
        return (box[0][0] + box[1][0]) / 2


# Printed Chinese characters are about twice as wide as Latin letters, digits and spaces; the
# characters are spread over the box by these widths, not one slot each (on an item row
# "*乙醇汽油*92号车用乙醇 92号 升 37.78 …" the digits would otherwise push the name too far right).
WIDE_CHARACTER = 1.0
NARROW_CHARACTER = 0.55


def _width(char: str) -> float:
    return WIDE_CHARACTER if unicodedata.east_asian_width(char) in ("W", "F") else NARROW_CHARACTER


def placed(page: int, order: int, line: Line) -> PlacedLine:
    """A recognised line with its parts (when it was joined from several) as pieces, so that a
    character's place comes from its own part's box, not from spreading it over the whole row."""
    pieces: list[tuple[int, Line]] = []
    position = 0
    for part in line.parts:
        start = line.text.find(part.text, position)
        if start < 0:  # not the line's own pieces (edited text): fall back to spreading
            return PlacedLine(page, order, line)
        pieces.append((start, Line(part.text, part.confidence, part.box)))
        position = start + len(part.text)
    return PlacedLine(page, order, line, tuple(pieces))


def _spread(line: Line, start: int, end: int) -> Quad:
    xs = [x for x, _ in line.box]
    ys = [y for _, y in line.box]
    left, right, top, bottom = min(xs), max(xs), min(ys), max(ys)
    widths = [_width(char) for char in line.text] or [1.0]
    total = sum(widths)
    end = max(end, start + 1)
    x0 = left + (right - left) * sum(widths[:start]) / total
    x1 = left + (right - left) * min(total, sum(widths[:end])) / total
    return [[x0, top], [x1, top], [x1, bottom], [x0, bottom]]


def rows(lines: list[PlacedLine]) -> list[PlacedLine]:
    """The page's lines joined into rows, left to right, one space between pieces.

    PDF text layers (and recognizers that stop at wide gaps) give "发票号码：" and "01118494"
    as two lines; joined, a label and its value are in one text again, and every character
    still maps back to its own line's box.
    """
    ordered = sorted(lines, key=lambda line: (line.page, line.middle))
    groups: list[list[PlacedLine]] = []
    for line in ordered:
        if groups and same_row(groups[-1][0], line):
            groups[-1].append(line)
        else:
            groups.append([line])
    joined = []
    for order, group in enumerate(groups):
        group.sort(key=lambda line: line.left)
        pieces, texts, offset = [], [], 0
        for line in group:
            own = line.pieces or ((0, line.line),)
            pieces.extend((offset + start, piece) for start, piece in own)
            texts.append(line.text)
            offset += len(line.text) + 1
        text = " ".join(texts)
        box = [
            [min(line.left for line in group), min(line.top for line in group)],
            [max(line.right for line in group), min(line.top for line in group)],
            [max(line.right for line in group), max(line.bottom for line in group)],
            [min(line.left for line in group), max(line.bottom for line in group)],
        ]
        confidence = min(line.line.confidence for line in group)
        joined.append(PlacedLine(group[0].page, order, Line(text, confidence, box), tuple(pieces)))
    return joined


def same_row(a: PlacedLine, b: PlacedLine) -> bool:
    """Whether two lines sit on one row: their vertical extents overlap by half the smaller height."""
    if a.page != b.page:
        return False
    overlap = min(a.bottom, b.bottom) - max(a.top, b.top)
    smaller = min(a.bottom - a.top, b.bottom - b.top)
    return smaller > 0 and overlap >= smaller / 2


def right_of(label: PlacedLine, lines: list[PlacedLine]) -> list[PlacedLine]:
    """Lines on the label's row that start to the right of its left edge, nearest first."""
    found = [line for line in lines if line is not label and same_row(label, line) and line.left > label.left]
    return sorted(found, key=lambda line: line.left)


def below(label: PlacedLine, lines: list[PlacedLine], max_gap_heights: float = 1.5) -> list[PlacedLine]:
    """Lines just under the label that overlap it horizontally, nearest first."""
    height = max(1.0, label.bottom - label.top)
    found = [
        line
        for line in lines
        if line.page == label.page
        and line is not label
        and 0 <= line.top - label.bottom <= max_gap_heights * height
        and min(line.right, label.right) > max(line.left, label.left)
    ]
    return sorted(found, key=lambda line: line.top)
