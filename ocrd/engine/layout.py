"""Reading order: from recognized boxes to lines of text in the order people read them.

1. Undo the page's skew for ordering purposes (boxes are rotated by the median text
   angle, so a slightly rotated scan still has horizontal rows).
2. Recursive XY-cut: a region is split at its widest blank gap, horizontal or vertical,
   measured in line heights. A vertical cut is only taken between columns of running text
   or left of a vertical label heading a block (see ``columns``), so a form's labels and
   values and a table's cells stay on one line per row.
3. Inside a region that cannot be cut, boxes are grouped into visual rows (see ``rows``),
   sorted left to right, and each row becomes one line of text.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from dataclasses import dataclass

import numpy as np

from ocrd.engine.boxes import TextBox
from ocrd.engine.columns import label_cut, looks_like_columns
from ocrd.engine.rows import group_rows

__all__ = ["OrderedLine", "TextBox", "join_texts", "order_lines"]

# Minimum blank gap, in median line heights, for a vertical (column) cut. A gutter is about one em,
# and detector boxes are taller than the letters (at 300 dpi linn's gutter is 0.9 box heights), so
# the gap alone says little: ``looks_like_columns`` decides.
MIN_COLUMN_GAP = 0.6


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


def _split(boxes: list[TextBox], line_height: float) -> list[list[TextBox]] | None:
    best: tuple[float, list[list[TextBox]]] | None = None
    y_gaps = _gaps([(b.y0, b.y1) for b in boxes])
    widest = max((end - start for start, end in y_gaps), default=0.0)
    block = label_cut(boxes, line_height, widest)
    if block:
        return block
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
        if looks_like_columns(left, right, end - start, line_height):
            best = (width, [left, right])
    return best[1] if best else None


def _order(boxes: list[TextBox], line_height: float, depth: int = 0) -> list[list[TextBox]]:
    if len(boxes) > 1 and depth < 64:
        parts = _split(boxes, line_height)
        if parts:
            return [row for part in parts for row in _order(part, line_height, depth + 1)]
    return group_rows(boxes, line_height)


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
