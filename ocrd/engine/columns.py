"""Vertical cuts: when the blank between two groups of boxes separates things read one after the other.

Two kinds of vertical cut are taken; every other vertical blank stays inside rows, so a form's
label and value, or a table's cells, are read across:

- Columns of running text: both sides wide, filled by their lines, a narrow gutter between, and
  each side's rows a single run of words. A table also has wide, filled sides with a blank
  between them, but its rows are several cells apart (序号, 车型, 时间, ... , 金额); cutting it
  read the left half of every row and then the right half, parting each amount from its trip.
- Blocks headed by a vertical label: a label printed top to bottom (购买方, 销售方信息, 密码区)
  spanning the region opens a block to its right, so the buyer's and the seller's blocks side by
  side are read block by block instead of line by line across both.
"""

from __future__ import annotations

import numpy as np

from ocrd.engine.boxes import TextBox, is_vertical_label
from ocrd.engine.rows import cell_count, group_rows

# A column side must have at least this many rows of text to count as a column.
MIN_COLUMN_ROWS = 3
# Lines in a column of running text fill most of its width.
MIN_COLUMN_FILL = 0.6
# Each column is at least this share of the region's width ...
MIN_COLUMN_SHARE = 0.25
# ... and the gutter at most this share of the narrower column.
MAX_GUTTER_SHARE = 0.3
# Rows of running text are one run of words; at most this share of a column's rows may have
# several cells (a heading with a page number, a short table inside the column).
MAX_MULTI_CELL_ROWS = 0.25
# A vertical label opens a block when it spans at least this share of the region's height ...
MIN_LABEL_SPAN = 0.6
# ... and when no horizontal blank in the region is wider than this many line heights (rows
# above or below the block are cut off first).
LABEL_BEFORE_GAP = 1.0


def _looks_like_column(boxes: list[TextBox], line_height: float) -> bool:
    rows = group_rows(boxes, line_height)
    if len(rows) < MIN_COLUMN_ROWS:
        return False
    left = min(b.x0 for b in boxes)
    right = max(b.x1 for b in boxes)
    widths = [max(b.x1 for b in row) - min(b.x0 for b in row) for row in rows]
    if float(np.median(widths)) < MIN_COLUMN_FILL * (right - left):
        return False
    multi = sum(cell_count(row, line_height) > 1 for row in rows)
    return multi <= MAX_MULTI_CELL_ROWS * len(rows)


def looks_like_columns(left: list[TextBox], right: list[TextBox], gap: float, line_height: float) -> bool:
    """Columns of running text: both wide, both filled by their lines, separated by a narrow gutter.

    A form's labels and values also leave a vertical blank, but the label side is narrow and
    the gap between them is wide compared with the columns, so it is kept as rows ("名称: 上海…"
    stays one line).
    """
    if not (_looks_like_column(left, line_height) and _looks_like_column(right, line_height)):
        return False
    left_width = max(b.x1 for b in left) - min(b.x0 for b in left)
    right_width = max(b.x1 for b in right) - min(b.x0 for b in right)
    total = max(b.x1 for b in right) - min(b.x0 for b in left)
    narrow = min(left_width, right_width)
    return narrow >= MIN_COLUMN_SHARE * total and gap <= MAX_GUTTER_SHARE * narrow


def label_cut(boxes: list[TextBox], line_height: float, widest_row_gap: float) -> list[list[TextBox]] | None:
    """Left of the first vertical label that heads a block, when nothing crosses that edge."""
    if widest_row_gap > LABEL_BEFORE_GAP * line_height:
        return None
    top = min(b.y0 for b in boxes)
    bottom = max(b.y1 for b in boxes)
    labels = [b for b in boxes if is_vertical_label(b, line_height) and b.height >= MIN_LABEL_SPAN * (bottom - top)]
    for label in sorted(labels, key=lambda b: b.x0):
        # A box reaching a little past the label's edge (detector margins) still counts as left of it.
        edge = label.x0 + 0.25 * label.width
        left = [b for b in boxes if b.x1 <= edge]
        right = [b for b in boxes if b.x1 > edge]
        if left and all(b.x0 >= label.x0 - 0.25 * label.width for b in right):
            return [left, right]
    return None
