"""Cut a text line out of a page along its (possibly rotated) quadrilateral."""

from __future__ import annotations

import cv2
import numpy as np

# A box this much taller than wide is vertical text: turn it so it reads left to right.
VERTICAL_ASPECT = 1.5


def crop_quad(image: np.ndarray, quad: np.ndarray) -> np.ndarray:
    quad = quad.astype(np.float32)
    width = round(max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2])))
    height = round(max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2])))
    width, height = max(width, 1), max(height, 1)
    target = np.array([[0, 0], [width, 0], [width, height], [0, height]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(quad, target)
    crop = cv2.warpPerspective(image, matrix, (width, height), flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REPLICATE)
    if height >= width * VERTICAL_ASPECT:
        crop = np.ascontiguousarray(np.rot90(crop))
    return crop
