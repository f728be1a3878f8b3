"""A recognized text box as the reading-order stage sees it, and the shapes that matter to it."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# A box more than this many median line heights tall is not one line of body text: a title in a
# larger font, or a label printed vertically. It never makes the row it sits in taller.
TALL_LINE = 2.0
# A tall box at least this many times taller than wide holds characters stacked one under the
# other: a vertical label such as 购买方 or 密码区 on an invoice, heading the block to its right.
VERTICAL_ASPECT = 2.0


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

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def middle(self) -> float:
        return (self.y0 + self.y1) / 2


def is_tall(box: TextBox, line_height: float) -> bool:
    return box.height > TALL_LINE * line_height


def is_vertical_label(box: TextBox, line_height: float) -> bool:
    return is_tall(box, line_height) and box.height >= VERTICAL_ASPECT * box.width
