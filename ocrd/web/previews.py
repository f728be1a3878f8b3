"""Page images for the upload page: page N of an uploaded file, small enough for a browser.

The browser cannot show TIFF or PDF pages, and its EXIF handling is not guaranteed to match
the engine's; rendering every preview here, through the same document loader for raster
images, puts the line boxes exactly where the engine saw the text. Previews are bounded in
size (longest side) and rendered a few at a time in threads.
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pymupdf

from ocrd.config import Limits
from ocrd.documents import iter_pages_from_bytes, sniff_format
from ocrd.documents.pdf import open_pdf
from ocrd.documents.sniff import HEAD_BYTES
from ocrd.documents.source import Source
from ocrd.errors import CorruptFileError, InputError

MAX_SIDE = 1600  # pixels on the longest side: sharp on a laptop screen, a few hundred KB as JPEG
JPEG_QUALITY = 85
POINTS_PER_INCH = 72
MAX_PDF_DPI = 200  # the engine's default render resolution; previews never need more


def render_preview(path: Path, index: int, limits: Limits, name: str) -> bytes:
    """Page ``index`` (0-based) of the file at ``path`` as JPEG bytes; ``name`` is used in errors."""
    with path.open("rb") as handle:
        fmt = sniff_format(handle.read(HEAD_BYTES))
    if fmt == "pdf":
        return _pdf_page(path, index, limits, name)
    if fmt is None:
        raise InputError("not an image or PDF", path=name)
    # Read as bytes under the client's name, so messages never show the server's folder.
    for page in iter_pages_from_bytes(path.read_bytes(), name, limits=limits):
        if page.index == index and page.image is not None:
            return _encode(_shrink(page.image))
    raise InputError(f"has no page {index + 1}", path=name)


def _pdf_page(path: Path, index: int, limits: Limits, name: str) -> bytes:
    document = open_pdf(Source(name=name, size=path.stat().st_size, path=path), limits)
    with document:
        if not 0 <= index < document.page_count:
            raise InputError(f"has no page {index + 1}", path=name)
        page = document[index]
        rect = page.rect  # after /Rotate, as the engine renders it
        longest = max(rect.width, rect.height, 1.0)
        zoom = min(MAX_SIDE / longest, MAX_PDF_DPI / POINTS_PER_INCH)
        try:
            pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), alpha=False, colorspace=pymupdf.csRGB)
        except Exception as exc:  # MuPDF reports broken content streams as RuntimeError and friends
            raise CorruptFileError(f"page {index + 1} cannot be rendered ({exc})", path=name) from exc
        rows = np.frombuffer(pixmap.samples_mv, np.uint8).reshape(pixmap.height, pixmap.stride)
        rgb = rows[:, : pixmap.width * 3].reshape(pixmap.height, pixmap.width, 3)
        return _encode(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))


def _shrink(image: np.ndarray) -> np.ndarray:
    height, width = image.shape[:2]
    scale = MAX_SIDE / max(height, width)
    if scale >= 1:
        return image
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(image, size, interpolation=cv2.INTER_AREA)


def _encode(image: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
    if not ok:
        raise InputError("the page preview could not be encoded")
    return data.tobytes()
