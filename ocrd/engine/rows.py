"""Visual rows: boxes side by side on one text line become one line of the result.

A box joins the row above it when its middle lies inside that row's band and it overlaps the
band by half the smaller height (so a box hanging half a line below, such as a seal's text
beside a date, starts a row of its own). The band is
the median top and bottom of the row's members, not their union: with the union, one tall box
(a vertical label beside a block, a title in a big font) stretched the row over every line
beside it, and a whole invoice block came out as one line with one box 140 px tall. Tall boxes
(``is_tall``) therefore never join a row: each is a row of its own, placed by its top, so a
vertical label is read before the block it heads and a title before the lines beside it.
"""

from __future__ import annotations

import numpy as np

from ocrd.engine.boxes import TextBox, is_tall

# Share of the smaller of (box, row band) heights two boxes must overlap by to share a row.
ROW_OVERLAP = 0.5
# Boxes further apart than this many line heights on one row are separate cells of a table or
# a form, not words of one line.
CELL_GAP = 1.0


def _band(row: list[TextBox]) -> tuple[float, float]:
    return float(np.median([b.y0 for b in row])), float(np.median([b.y1 for b in row]))


def group_rows(boxes: list[TextBox], line_height: float) -> list[list[TextBox]]:
    """Rows top to bottom, each sorted left to right."""
    rows: list[list[TextBox]] = []
    singles: list[list[TextBox]] = []
    for box in sorted(boxes, key=lambda b: b.middle):
        if is_tall(box, line_height):
            singles.append([box])
            continue
        if rows:
            top, bottom = _band(rows[-1])
            overlap = min(bottom, box.y1) - max(top, box.y0)
            if top <= box.middle <= bottom and overlap >= ROW_OVERLAP * min(box.height, bottom - top):
                rows[-1].append(box)
                continue
        rows.append([box])
    keyed = [(float(np.median([b.middle for b in row])), row) for row in rows]
    keyed += [(row[0].y0, row) for row in singles]
    keyed.sort(key=lambda item: item[0])
    return [sorted(row, key=lambda b: b.x0) for _, row in keyed]


def cell_count(row: list[TextBox], line_height: float) -> int:
    """How many cells a row has: runs of boxes separated by gaps wider than CELL_GAP lines."""
    cells = 1
    reach = row[0].x1
    for box in row[1:]:
        if box.x0 - reach > CELL_GAP * line_height:
            cells += 1
        reach = max(reach, box.x1)
    return cells
