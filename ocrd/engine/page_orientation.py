"""Pages that arrive turned by a quarter, half or three-quarter turn: which way is up, and the way back.

How the turn is found (chosen by measurement on rotated copies of dev_pdf and dev, see
bench/orientation.py and docs/engine.md "Page orientation"):

* **Sideways (90 / 270)** from the shape of the boxes the first detection pass found anyway:
  on an upright page almost all elongated boxes are wide (share of tall ones, weighted by
  length: 0.00-0.03 on every dev_pdf page), on a page turned a quarter they are tall (0.99-1.00).
  Only then is the page turned and detected again.
* **Which quarter**: the line orientation classifier's votes on the tall boxes' crops (the crop
  is turned a quarter counter-clockwise to be read, so the text is upright or upside down).
* **Upside down (180)**: the classifier's votes the pipeline computes for every line anyway. It
  is reliable on short lines and weak on long ones (a page of long English lines turned 180
  got only 29 % of its length flagged), so it only nominates: when at least SUSPECT_SHARE of the
  page's line length is flagged, a sample of the longest lines is read both ways and the
  recognizer's confidence decides. Upright pages flagged less than that (all but a few) pay
  nothing. The decision comes before the page's lines are read, so a page found upside down
  is read once, turned.

Rotations are clockwise degrees, the turn that was applied to the page as it arrived so that
it could be read. Points are pixel coordinates (x right, y down) with pixel centres on integers,
as detection boxes are; ``width``/``height`` are always those of the page as it arrived.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocrd.engine.crop import crop_quad

if TYPE_CHECKING:
    from ocrd.engine.detect import DetectedBox
    from ocrd.engine.orientation import OrientationClassifier

ROTATIONS = (0, 90, 180, 270)
# A box at least this much longer than wide has a direction; squarer boxes (a lone character,
# a stamp, a logo) say nothing about which way the page is turned.
ELONGATED_ASPECT = 2.0
# The page is sideways when tall boxes make up more than this share of the elongated boxes' length ...
SIDEWAYS_SHARE = 0.5
# ... and there are at least this many elongated boxes (a single tall box is a vertical label).
MIN_ELONGATED_BOXES = 3
# Upside-down votes on at least this share of the line length make the page a suspect for 180.
# Upright dev_pdf pages: at most 0.06; pages turned 180: 0.29-0.98.
SUSPECT_SHARE = 0.15
# How many of the longest lines are read both ways to settle a suspect.
SAMPLE_LINES = 12

_CV2_CODES = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}


def turn_image(image: np.ndarray, rotation: int) -> np.ndarray:
    """The image turned clockwise by ``rotation`` degrees (a multiple of 90)."""
    rotation %= 360
    if rotation == 0:
        return image
    return np.ascontiguousarray(cv2.rotate(image, _CV2_CODES[rotation]))


def to_turned(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Where points of the page as it arrived (``width`` x ``height``) land once it is turned."""
    x, y = points[..., 0], points[..., 1]
    rotation %= 360
    if rotation == 90:
        turned = (height - 1 - y, x)
    elif rotation == 180:
        turned = (width - 1 - x, height - 1 - y)
    elif rotation == 270:
        turned = (y, width - 1 - x)
    else:
        turned = (x, y)
    return np.stack(turned, axis=-1).astype(points.dtype)


def from_turned(points: np.ndarray, rotation: int, width: int, height: int) -> np.ndarray:
    """Points of the turned page back on the page as it arrived (``width`` x ``height``)."""
    x, y = points[..., 0], points[..., 1]
    rotation %= 360
    if rotation == 90:
        back = (y, height - 1 - x)
    elif rotation == 180:
        back = (width - 1 - x, height - 1 - y)
    elif rotation == 270:
        back = (width - 1 - y, x)
    else:
        back = (x, y)
    return np.stack(back, axis=-1).astype(points.dtype)


def _sides(quad: np.ndarray) -> tuple[float, float]:
    """Length along the text (top edge) and across it (left edge) of a corner-ordered quad."""
    along = max(float(np.linalg.norm(quad[0] - quad[1])), float(np.linalg.norm(quad[3] - quad[2])))
    across = max(float(np.linalg.norm(quad[0] - quad[3])), float(np.linalg.norm(quad[1] - quad[2])))
    return along, across


def tall_share(quads: Sequence[np.ndarray]) -> tuple[float, int]:
    """Share of the elongated boxes' total length that is in tall boxes, and how many are elongated."""
    tall = wide = 0.0
    count = 0
    for quad in quads:
        along, across = _sides(quad)
        if max(along, across) < ELONGATED_ASPECT * max(min(along, across), 1.0):
            continue
        count += 1
        if across > along:
            tall += across
        else:
            wide += along
    return (tall / (tall + wide) if count else 0.0), count


def looks_sideways(quads: Sequence[np.ndarray]) -> bool:
    share, count = tall_share(quads)
    return count >= MIN_ELONGATED_BOXES and share > SIDEWAYS_SHARE


def tall_quads(quads: Sequence[np.ndarray]) -> list[np.ndarray]:
    """The elongated tall boxes: the lines of a sideways page."""
    chosen = []
    for quad in quads:
        along, across = _sides(quad)
        if across >= ELONGATED_ASPECT * max(along, 1.0):
            chosen.append(quad)
    return chosen


def flagged_share(crops: Sequence[np.ndarray], flags: Sequence[bool]) -> float:
    """Share of the lines' length (crop aspect: roughly their characters) voted upside down."""
    lengths = [c.shape[1] / max(c.shape[0], 1) for c in crops]
    total = sum(lengths)
    return sum(n for n, flag in zip(lengths, flags, strict=True) if flag) / total if total else 0.0


def sideways_rotation(crops: Sequence[np.ndarray], flags: Sequence[bool]) -> int:
    """The turn that makes a sideways page upright, from the votes on its tall lines' crops.

    Those crops were turned a quarter counter-clockwise to be read (ocrd.engine.crop): text that
    runs top to bottom comes out upright, and the page needs the same quarter, 270 clockwise;
    text running bottom to top comes out upside down and the page needs 90.
    """
    return 90 if flagged_share(crops, flags) > 0.5 else 270


def turned_reads_better(
    crops: Sequence[np.ndarray], score_lines: Callable[[list[np.ndarray]], float], sample: int = SAMPLE_LINES
) -> bool:
    """Whether the longest lines are read more confidently upside down than as they are.

    ``score_lines`` recognises crops and sums confidence times characters over them.
    """
    longest = sorted(crops, key=lambda c: c.shape[1] / max(c.shape[0], 1), reverse=True)[:sample]
    if not longest:
        return False
    turned = [np.ascontiguousarray(c[::-1, ::-1]) for c in longest]
    return score_lines(turned) > score_lines(list(longest))


def sideways_turn(padded: np.ndarray, boxes: Sequence[DetectedBox], classifier: OrientationClassifier) -> int:
    """0 for a page whose lines run across it, else the quarter turn (90 or 270) that makes it upright."""
    quads = [box.quad for box in boxes]
    if not looks_sideways(quads):
        return 0
    crops = [crop_quad(padded, quad) for quad in tall_quads(quads)]
    return sideways_rotation(crops, classifier.upside_down(crops))


def upside_down(
    crops: Sequence[np.ndarray], flags: Sequence[bool], score_lines: Callable[[list[np.ndarray]], float]
) -> bool:
    """Whether a page read as it is would read better turned 180: the votes nominate, the recognizer decides."""
    if flagged_share(crops, flags) < SUSPECT_SHARE:
        return False
    return turned_reads_better(crops, score_lines)
