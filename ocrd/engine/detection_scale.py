"""At which network input size to detect again, when the first pass saw text too small or too large.

The detector was trained on text a few dozen pixels high at its network input. Most pages read as
well at a 960-pixel input as at twice that (measured on the eval sets) for a quarter of the cost;
two kinds of page do not, and get a second pass at a size chosen from the first pass's boxes.
Heights and pitches here are in network-input pixels.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ocrd.engine.detect import DetectedBox, line_pitch

# Text shorter than this at the network's scale is detected again at a finer scale ...
SMALL_TEXT_HEIGHT = 8
# ... so that it becomes about this tall (5-pt print on an A4 scan: 7 px at 960, read at 12).
FINE_TEXT_HEIGHT = 12
# ... but never with a network input larger than this (memory and time stay bounded).
MAX_DETECTION_SIDE = 2560
# Lines closer together than this (centre to centre) also get the finer look, so that they end
# up this far apart. Box heights depend on the detector: PP-OCRv6 draws the same 5-pt line 10 px
# tall where PP-OCRv5 draws it 7, and at 960 px it merged 4 of 24 such lines 9 px apart into
# their neighbours; the distance between lines is the page's own.
SMALL_LINE_PITCH = 10
FINE_LINE_PITCH = 16
# A finer pass must enlarge the input by more than this to be worth its cost.
MIN_FINER_GAIN = 1.2
# Text taller than this is re-detected at a smaller scale ...
LARGE_TEXT_HEIGHT = 72
# ... chosen so that text ends up about this tall.
COMFORTABLE_TEXT_HEIGHT = 32
# Below this the network input is too small to show any text.
MIN_DETECTION_SIDE = 128


def _network_scale(long_side: int, max_side: int) -> float:
    return min(1.0, max_side / long_side)


def finer_side(boxes: Sequence[DetectedBox], long_side: int, max_side: int) -> int | None:
    """The larger network input for a page of small print or tightly packed lines, else None.

    ``boxes`` are the first pass's at ``max_side``; ``long_side`` is the page's own (padded) size.
    The finer pass never goes past the page's own resolution.
    """
    if not boxes:
        return None
    scale = _network_scale(long_side, max_side)
    median = max(float(np.median([np.ptp(b.quad[:, 1]) for b in boxes])) * scale, 1.0)
    pitch = line_pitch(list(boxes)) * scale
    if (median >= SMALL_TEXT_HEIGHT and pitch >= SMALL_LINE_PITCH) or scale >= 1.0:
        return None
    enlarge = max(FINE_TEXT_HEIGHT / median, FINE_LINE_PITCH / pitch if pitch < SMALL_LINE_PITCH else 0.0)
    finer = min(long_side, MAX_DETECTION_SIDE, int(long_side * scale * enlarge))
    return finer if finer > max_side * MIN_FINER_GAIN else None


def smaller_side(box_heights: Sequence[float], long_side: int, max_side: int) -> int | None:
    """A smaller network input that brings over-large text back to the size the detector knows.

    Letters hundreds of pixels tall (a poster, a sign, a zoomed screenshot) fall apart into
    strokes. When the read boxes (their heights in page pixels) are huge, or there are none,
    one more try at a smaller scale settles it.
    """
    scale = _network_scale(long_side, max_side)
    if box_heights:
        median = float(np.median(box_heights)) * scale
        if median <= LARGE_TEXT_HEIGHT:
            return None
        target = int(long_side * scale * COMFORTABLE_TEXT_HEIGHT / median)
    else:
        target = int(long_side * scale / 2)
    return target if target >= MIN_DETECTION_SIDE else None
