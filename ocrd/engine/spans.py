"""Cutting a length into overlapping spans: a network input too wide to run at once runs in pieces."""

from __future__ import annotations

import math


def overlapping_spans(length: int, longest: int, overlap: int, step: int) -> list[tuple[int, int]]:
    """(start, end) of overlapping spans covering [0, length) exactly, all of one size.

    One size lets onnxruntime's memory arena reuse a span's blocks for the next. Sizes and starts
    are on the ``step`` grid, except the last span's start when ``length`` is not (it ends at
    ``length``: no invented pixels past the end). No span is longer than ``longest``; neighbours
    share at least ``overlap``.
    """
    if length <= longest:
        return [(0, length)]
    # Rounding starts to the grid can shorten an overlap by up to one step: size for one more.
    margin = overlap + step
    count = math.ceil((length - margin) / (longest - margin))
    size = math.ceil((length + (count - 1) * margin) / count / step) * step
    last = length - size
    starts = [math.floor(i * last / (count - 1) / step) * step for i in range(count - 1)]
    return [(start, start + size) for start in [*starts, last]]
