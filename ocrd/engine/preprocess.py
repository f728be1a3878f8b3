"""Classic OCR clean-up steps, each a pure function: BGR uint8 image in, BGR uint8 image out.

They are options, off by default: measured on the eval sets (see README), the
neural detector and recognizer were trained on natural, colourful, noisy images and
most classic steps remove information they use. Deskew is the exception that can
matter for strongly rotated scans, and it reports the rotation it applied so boxes
can be mapped back to the original page.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import cv2
import numpy as np

from ocrd.config import PREPROCESS_STEPS
from ocrd.errors import UsageError


def _gray(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image


def _bgr(gray: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)


def to_grayscale(image: np.ndarray) -> np.ndarray:
    return _bgr(_gray(image))


def enhance_contrast(image: np.ndarray) -> np.ndarray:
    """CLAHE on the lightness channel: lifts faint print without blowing out the paper."""
    lab = cv2.cvtColor(image, cv2.COLOR_BGR2LAB)
    clahe = cv2.createCLAHE(clipLimit=2.0, tileGridSize=(8, 8))
    lab[:, :, 0] = clahe.apply(lab[:, :, 0])
    return cv2.cvtColor(lab, cv2.COLOR_LAB2BGR)


def denoise(image: np.ndarray) -> np.ndarray:
    """Median filter: removes salt-and-pepper scan noise, keeps stroke edges."""
    return cv2.medianBlur(image, 3)


def binarize(image: np.ndarray) -> np.ndarray:
    """Adaptive (local mean) threshold: survives uneven lighting that a global threshold does not."""
    gray = _gray(image)
    block = max(15, (min(gray.shape[:2]) // 40) | 1)
    return _bgr(cv2.adaptiveThreshold(gray, 255, cv2.ADAPTIVE_THRESH_GAUSSIAN_C, cv2.THRESH_BINARY, block, 15))


def estimate_skew(image: np.ndarray, max_angle: float = 15.0) -> float:
    """Dominant text angle in degrees (positive: text rises to the right), from ink row profiles.

    Tries angles in two passes (coarse, then fine) and keeps the one whose horizontal
    projection of ink is the most peaked: rows of text line up with pixel rows then.
    """
    gray = _gray(image)
    scale = min(1.0, 1000.0 / max(gray.shape))
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else gray
    ink = cv2.threshold(small, 0, 255, cv2.THRESH_BINARY_INV | cv2.THRESH_OTSU)[1]
    if cv2.countNonZero(ink) < 50:
        return 0.0
    center = (small.shape[1] / 2, small.shape[0] / 2)

    def sharpness(angle: float) -> float:
        matrix = cv2.getRotationMatrix2D(center, angle, 1.0)
        rotated = cv2.warpAffine(ink, matrix, (small.shape[1], small.shape[0]), flags=cv2.INTER_NEAREST)
        profile = rotated.sum(axis=1, dtype=np.float64)
        return float(np.square(np.diff(profile)).sum())

    coarse = max(np.arange(-max_angle, max_angle + 0.01, 1.0), key=sharpness)
    fine = max(np.arange(coarse - 1.0, coarse + 1.01, 0.1), key=sharpness)
    return float(-fine)


def rotate(image: np.ndarray, degrees: float) -> tuple[np.ndarray, np.ndarray]:
    """Rotate counter-clockwise by ``degrees`` on an enlarged white canvas; returns the 2x3 matrix used."""
    h, w = image.shape[:2]
    matrix = cv2.getRotationMatrix2D((w / 2, h / 2), degrees, 1.0)
    cos, sin = abs(matrix[0, 0]), abs(matrix[0, 1])
    new_w, new_h = int(h * sin + w * cos + 0.5), int(h * cos + w * sin + 0.5)
    matrix[0, 2] += new_w / 2 - w / 2
    matrix[1, 2] += new_h / 2 - h / 2
    rotated = cv2.warpAffine(image, matrix, (new_w, new_h), flags=cv2.INTER_LINEAR, borderValue=(255, 255, 255))
    return rotated, matrix


def deskew(image: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Straighten a rotated scan; returns the image and the 2x3 matrix from original to new pixels."""
    angle = estimate_skew(image)
    if abs(angle) < 0.3:
        return image, np.array([[1, 0, 0], [0, 1, 0]], dtype=np.float64)
    return rotate(image, -angle)


SIMPLE_STEPS: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "grayscale": to_grayscale,
    "contrast": enhance_contrast,
    "denoise": denoise,
    "binarize": binarize,
}


def apply_steps(image: np.ndarray, steps: tuple[str, ...]) -> tuple[np.ndarray, np.ndarray | None]:
    """Run the named steps in order; returns the image and, if it moved pixels, the 2x3 matrix."""
    matrix: np.ndarray | None = None
    for step in steps:
        if step == "deskew":
            image, step_matrix = deskew(image)
            if matrix is None:
                matrix = step_matrix
            else:
                matrix = (np.vstack([step_matrix, [0, 0, 1]]) @ np.vstack([matrix, [0, 0, 1]]))[:2]
        else:
            image = SIMPLE_STEPS[step](image)
    return image, matrix


def check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    """The preprocessing steps, or UsageError naming the unknown ones."""
    unknown = [step for step in steps if step not in PREPROCESS_STEPS]
    if unknown:
        raise UsageError(
            f"unknown preprocessing step(s) {', '.join(unknown)}; choose from {', '.join(PREPROCESS_STEPS)}"
        )
    return tuple(steps)
