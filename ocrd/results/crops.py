"""Page images rendered as the engine saw them, and line crops cut from them along their boxes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from ocrd.config import Limits
from ocrd.documents import iter_pages
from ocrd.engine.crop import crop_quad

DEFAULT_DPI = 200
MARGIN = 0.3  # of the line's height, added on every side: the detector needs some paper around the text


def page_images(
    original: Path, result: dict[str, Any], wanted: set[int], limits: Limits
) -> Iterator[tuple[int, np.ndarray]]:
    """(index, BGR image at the result's page size) for the wanted pages of the original."""
    pages = result.get("pages", [])
    dpi = next((int(page["dpi"]) for page in pages if page.get("dpi")), DEFAULT_DPI)
    for page in iter_pages(original, limits=limits, dpi=dpi, force_ocr=True):
        if page.index not in wanted or page.index >= len(pages):
            continue
        image = page.image if page.image is not None else page.render() if page.render else None
        if image is None:
            continue
        width, height = int(pages[page.index]["width"]), int(pages[page.index]["height"])
        if image.shape[1] != width or image.shape[0] != height:  # boxes are in the result's page pixels
            image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        yield page.index, image


def line_crop(image: np.ndarray, box: list[list[float]]) -> np.ndarray:
    """The line along its four points (a rotated line comes out level), with a margin around it."""
    quad = np.array(box, dtype=np.float32)
    across = quad[1] - quad[0]
    down = quad[3] - quad[0]
    u = across / max(float(np.linalg.norm(across)), 1e-6)
    v = down / max(float(np.linalg.norm(down)), 1e-6)
    pad = MARGIN * max(float(np.linalg.norm(down)), 1.0)
    grown = np.array(
        [quad[0] - (u + v) * pad, quad[1] + (u - v) * pad, quad[2] + (u + v) * pad, quad[3] + (v - u) * pad],
        dtype=np.float32,
    )
    return crop_quad(image, grown)


def write_png(path: Path, image: np.ndarray) -> None:
    ok, data = cv2.imencode(".png", image)
    if not ok:
        raise ValueError(f"cannot encode {path.name}")
    path.write_bytes(data.tobytes())
