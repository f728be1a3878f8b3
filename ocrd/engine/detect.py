"""Text detection: a DB (differentiable binarization) model and its post-processing.

The model returns a per-pixel text probability map. Post-processing turns it into
quadrilaterals: threshold the map, take each connected region's minimum-area
rectangle, drop regions whose mean probability is low, grow ("unclip") the
rectangle by the shrink ratio the model was trained with, and map it back to
the original image's pixels.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

import cv2
import numpy as np
import pyclipper

from ocrd.engine.session import open_session

# ImageNet statistics, applied to BGR input as PaddleOCR's training pipeline does.
_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32) * 255.0
_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32) * 255.0


@dataclass(frozen=True)
class DetectionSettings:
    max_side: int = 960  # long side of the network input; bigger pages are scaled down (see pipeline)
    min_side: int = 64  # short side floor: small images are scaled up so text is not lost
    threshold: float = 0.3  # probability above which a pixel is "text"
    box_threshold: float = 0.6  # mean probability a box needs to be kept
    unclip_ratio: float = 1.5
    min_box_side: float = 3.0  # in network-input pixels
    max_candidates: int = 3000


@dataclass
class DetectedBox:
    quad: np.ndarray  # (4, 2) float32, clockwise from top-left, original image pixels
    score: float


def _input_size(height: int, width: int, settings: DetectionSettings) -> tuple[int, int]:
    scale = 1.0
    if max(height, width) > settings.max_side:
        scale = settings.max_side / max(height, width)
    if min(height, width) * scale < settings.min_side:
        scale = settings.min_side / min(height, width)
    # The network downsamples by 32: sizes must be multiples of it.
    new_h = max(32, round(height * scale / 32) * 32)
    new_w = max(32, round(width * scale / 32) * 32)
    return new_h, new_w


def order_corners(points: np.ndarray) -> np.ndarray:
    """Top-left, top-right, bottom-right, bottom-left for a 4-point box."""
    points = points[np.argsort(points[:, 0])]
    left, right = points[:2], points[2:]
    top_left, bottom_left = left[np.argsort(left[:, 1])]
    top_right, bottom_right = right[np.argsort(right[:, 1])]
    return np.array([top_left, top_right, bottom_right, bottom_left], dtype=np.float32)


def _region_score(prob: np.ndarray, contour: np.ndarray) -> float:
    """Mean probability inside the contour, computed on its bounding window only."""
    h, w = prob.shape
    x0, y0 = np.clip(contour.min(axis=0).astype(int), 0, [w - 1, h - 1])
    x1, y1 = np.clip(np.ceil(contour.max(axis=0)).astype(int), 0, [w - 1, h - 1])
    mask = np.zeros((y1 - y0 + 1, x1 - x0 + 1), dtype=np.uint8)
    cv2.fillPoly(mask, [(contour - [x0, y0]).astype(np.int32).reshape(-1, 1, 2)], 1)
    return float(cv2.mean(prob[y0 : y1 + 1, x0 : x1 + 1], mask)[0])


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray | None:
    area = cv2.contourArea(box)
    perimeter = cv2.arcLength(box, True)
    if perimeter == 0:
        return None
    distance = area * ratio / perimeter
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box.astype(np.int64).tolist(), pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    grown = offset.Execute(distance)
    if len(grown) != 1:
        return None
    return np.array(grown[0], dtype=np.float32)


def boxes_from_probability(
    prob: np.ndarray, settings: DetectionSettings, scale_x: float, scale_y: float, width: int, height: int
) -> list[DetectedBox]:
    bitmap = (prob > settings.threshold).astype(np.uint8)
    contours, _ = cv2.findContours(bitmap, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    boxes = []
    for contour in contours[: settings.max_candidates]:
        points = contour.reshape(-1, 2).astype(np.float32)
        if len(points) < 4:
            continue
        rect = cv2.minAreaRect(points)
        if min(rect[1]) < settings.min_box_side:
            continue
        score = _region_score(prob, points)
        if score < settings.box_threshold:
            continue
        grown = _unclip(cv2.boxPoints(rect), settings.unclip_ratio)
        if grown is None:
            continue
        rect = cv2.minAreaRect(grown)
        if min(rect[1]) < settings.min_box_side + 2:
            continue
        quad = order_corners(cv2.boxPoints(rect))
        quad[:, 0] = np.clip(quad[:, 0] * scale_x, 0, width - 1)
        quad[:, 1] = np.clip(quad[:, 1] * scale_y, 0, height - 1)
        boxes.append(DetectedBox(quad, score))
    return boxes


class Detector:
    def __init__(self, model_path: Path, threads: int, settings: DetectionSettings | None = None) -> None:
        self.session = open_session(model_path, threads)
        self.input_name = self.session.get_inputs()[0].name
        self.settings = settings or DetectionSettings()

    def probability_map(self, image: np.ndarray, max_side: int | None = None) -> tuple[np.ndarray, float, float]:
        height, width = image.shape[:2]
        settings = self.settings if max_side is None else replace(self.settings, max_side=max_side)
        new_h, new_w = _input_size(height, width, settings)
        resized = cv2.resize(image, (new_w, new_h), interpolation=cv2.INTER_LINEAR)
        tensor = ((resized.astype(np.float32) - _MEAN) / _STD).transpose(2, 0, 1)[None]
        prob = self.session.run(None, {self.input_name: np.ascontiguousarray(tensor)})[0][0, 0]
        return prob, width / new_w, height / new_h

    def detect(self, image: np.ndarray, max_side: int | None = None) -> list[DetectedBox]:
        """Boxes in ``image`` pixels; ``max_side`` overrides the network input size for this call."""
        prob, scale_x, scale_y = self.probability_map(image, max_side)
        height, width = image.shape[:2]
        return boxes_from_probability(prob, self.settings, scale_x, scale_y, width, height)


def line_pitch(boxes: list[DetectedBox]) -> float:
    """Median distance from a line's centre to the next line's below it in the same column, in
    image pixels (infinite with no such pairs)."""
    if len(boxes) < 2:
        return math.inf
    left = np.array([b.quad[:, 0].min() for b in boxes])
    right = np.array([b.quad[:, 0].max() for b in boxes])
    middle = np.array([b.quad[:, 1].mean() for b in boxes])
    distances = []
    for i in range(len(boxes)):
        overlap = np.minimum(right, right[i]) - np.maximum(left, left[i])
        narrower = np.minimum(right - left, right[i] - left[i])
        below = (middle > middle[i]) & (overlap > 0.5 * narrower)
        if below.any():
            distances.append(float((middle[below] - middle[i]).min()))
    return float(np.median(distances)) if distances else math.inf
