"""Reading order: from recognized boxes to lines of text in the order people read them.

1. Undo the page's skew for ordering purposes (boxes are rotated by the median text
   angle, so a slightly rotated scan still has horizontal rows).
2. Recursive XY-cut: a region is split at its widest blank gap, horizontal or vertical,
   measured in line heights. A vertical cut (columns) is only taken when both sides look
   like columns of running text, so a form's labels and values stay on one line.
3. Inside a region that cannot be cut, boxes are grouped into visual rows by vertical
   overlap, sorted left to right, and each row becomes one line of text.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass

import numpy as np

# Minimum blank gap, in median line heights, for a vertical (column) cut.
MIN_COLUMN_GAP = 1.2
# A column side must have at least this many rows of text to count as a column.
MIN_COLUMN_ROWS = 3
# Lines in a column of running text fill most of its width.
MIN_COLUMN_FILL = 0.6
# Each column is at least this share of the region's width ...
MIN_COLUMN_SHARE = 0.25
# ... and the gutter at most this share of the narrower column.
MAX_GUTTER_SHARE = 0.3
ROW_OVERLAP = 0.5


@dataclass
class TextBox:
    quad: np.ndarray  # (4, 2) page pixels
    text: str
    confidence: float
    # axis-aligned extent in the de-skewed frame, filled by order_lines
    x0: float = 0.0
    y0: float = 0.0
    x1: float = 0.0
    y1: float = 0.0

    @property
    def height(self) -> float:
        return self.y1 - self.y0


@dataclass
class OrderedLine:
    text: str
    confidence: float
    quad: np.ndarray
    parts: list[TextBox]


def _median_angle(boxes: list[TextBox]) -> float:
    angles = []
    for box in boxes:
        dx, dy = box.quad[1] - box.quad[0]
        if abs(dx) > 2 * abs(dy):  # only clearly horizontal lines say something about skew
            angles.append(math.atan2(dy, dx))
    return float(np.median(angles)) if angles else 0.0


def _set_extents(boxes: list[TextBox]) -> None:
    angle = _median_angle(boxes)
    cos, sin = math.cos(-angle), math.sin(-angle)
    rotation = np.array([[cos, -sin], [sin, cos]], dtype=np.float64)
    for box in boxes:
        points = box.quad.astype(np.float64) @ rotation.T
        box.x0, box.y0 = points.min(axis=0)
        box.x1, box.y1 = points.max(axis=0)


def _gaps(intervals: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Blank stretches between the union of intervals, as (start, end)."""
    gaps = []
    ordered = sorted(intervals)
    reach = ordered[0][1]
    for start, end in ordered[1:]:
        if start > reach:
            gaps.append((reach, start))
        reach = max(reach, end)
    return gaps


def _rows(boxes: list[TextBox]) -> list[list[TextBox]]:
    rows: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: (b.y0 + b.y1) / 2):
        if rows:
            row = rows[-1]
            top = min(b.y0 for b in row)
            bottom = max(b.y1 for b in row)
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if overlap >= ROW_OVERLAP * min(box.height, bottom - top):
                row.append(box)
                continue
        rows.append([box])
    return [sorted(row, key=lambda b: b.x0) for row in rows]


def _looks_like_column(boxes: list[TextBox]) -> bool:
    rows = _rows(boxes)
    if len(rows) < MIN_COLUMN_ROWS:
        return False
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    widths = [max(b.x1 for b in row) - min(b.x0 for b in row) for row in rows]
    return float(np.median(widths)) >= MIN_COLUMN_FILL * (right - left)


def _looks_like_columns(left: list[TextBox], right: list[TextBox], gap: float) -> bool:
    """Columns of running text: both wide, both filled by their lines, separated by a narrow gutter.

    A form's labels and values also leave a vertical blank, but the label side is
    narrow and the gap between them is wide compared with the columns, so it is kept
    as rows ("名称: 上海…" stays one line).
    """
    if not (_looks_like_column(left) and _looks_like_column(right)):
        return False
    left_width = max(b.x1 for b in left) - min(b.x0 for b in left)
    right_width = max(b.x1 for b in right) - min(b.x0 for b in right)
    total = max(b.x1 for b in right) - min(b.x0 for b in left)
    narrow = min(left_width, right_width)
    return narrow >= MIN_COLUMN_SHARE * total and gap <= MAX_GUTTER_SHARE * narrow


def _split(boxes: list[TextBox], line_height: float) -> list[list[TextBox]] | None:
    best: tuple[float, list[list[TextBox]]] | None = None
    y_gaps = _gaps([(b.y0, b.y1) for b in boxes])
    if y_gaps:
        start, end = max(y_gaps, key=lambda g: g[1] - g[0])
        cut = (start + end) / 2
        parts = [[b for b in boxes if b.y1 <= cut], [b for b in boxes if b.y1 > cut]]
        best = ((end - start) / line_height, parts)
    for start, end in _gaps([(b.x0, b.x1) for b in boxes]):
        width = (end - start) / line_height
        if width < MIN_COLUMN_GAP or (best and width <= best[0]):
            continue
        cut = (start + end) / 2
        left = [b for b in boxes if b.x1 <= cut]
        right = [b for b in boxes if b.x1 > cut]
        if _looks_like_columns(left, right, end - start):
            best = (width, [left, right])
    return best[1] if best else None


def _order(boxes: list[TextBox], line_height: float, depth: int = 0) -> list[list[TextBox]]:
    if len(boxes) > 1 and depth < 64:
        parts = _split(boxes, line_height)
        if parts:
            return [row for part in parts for row in _order(part, line_height, depth + 1)]
    return _rows(boxes)


def _is_cjk(char: str) -> bool:
    return unicodedata.east_asian_width(char) in ("W", "F")


def join_texts(parts: list[TextBox]) -> str:
    text = parts[0].text
    for previous, part in itertools.pairwise(parts):
        if not part.text:
            continue
        gap = part.x0 - previous.x1
        tight = gap < 0.3 * max(previous.height, part.height)
        if text and tight and (_is_cjk(text[-1]) or _is_cjk(part.text[0])):
            text += part.text
        else:
            text += " " + part.text
    return text


def _union_quad(parts: list[TextBox]) -> np.ndarray:
    if len(parts) == 1:
        return parts[0].quad
    first, last = parts[0].quad, parts[-1].quad
    top = min(p.quad[:, 1].min() for p in parts)
    bottom = max(p.quad[:, 1].max() for p in parts)
    left = min(first[0, 0], first[3, 0])
    right = max(last[1, 0], last[2, 0])
    return np.array([[left, top], [right, top], [right, bottom], [left, bottom]], dtype=np.float32)


def order_lines(boxes: list[TextBox]) -> list[OrderedLine]:
    boxes = [b for b in boxes if b.text.strip()]
    if not boxes:
        return []
    _set_extents(boxes)
    line_height = max(1.0, float(np.median([b.height for b in boxes])))
    lines = []
    for row in _order(boxes, line_height):
        characters = sum(len(p.text) for p in row)
        confidence = sum(p.confidence * len(p.text) for p in row) / max(characters, 1)
        lines.append(OrderedLine(join_texts(row), confidence, _union_quad(row), row))
    return lines
