"""Finding and decoding QR codes in page pixels.

zxing-cpp decodes when it is installed; OpenCV's ArUco-based QR detector is the fallback.
bench/qr.py chose that order: on the fields_dev invoices zxing-cpp read every clean and every
degraded page in ~5 ms a page; OpenCV's best detector missed 2 of the 20 degraded pages and took
~80 ms. Only when the first attempt finds nothing are the retries tried (2x for small modules,
then an unsharp mask for blur), so a page with a readable code costs one decoder call, and a page
without one ~25 ms (A4 at 200 dpi).

Every failure (odd shapes and types, a decoder error) reads as "no code": the QR code is a
second source of an invoice's fields, never a reason for a page to fail.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from types import ModuleType

import cv2
import numpy as np

Quad = list[list[float]]
Found = list[tuple[str, np.ndarray]]  # text and its (4, 2) corners, in the pixels the decoder was given

# Larger pages are scaled down to this many pixels first: an A4 page at 300 dpi (8.7 Mpx) is read
# as it is. Decoding time grows with the pixels (a blank 8000x6000 page: ~125 ms; at this bound
# ~17 ms), and the modules stay wide: a 2 cm invoice code (33 modules) on A4 at 600 dpi keeps ~7 px.
MAX_PIXELS = 10_000_000
# A QR code has at least 21 modules a side: anything narrower cannot hold one.
MIN_SIDE = 21
UPSCALE = 2.0
# The unsharp mask: how wide a blur it undoes and how strongly.
SHARPEN_SIGMA = 2.0
SHARPEN_AMOUNT = 1.5


@dataclass
class Code:
    text: str
    box: Quad  # four [x, y] corners in the image's pixels, clockwise from the top left
    symbology: str = "qr"


def read_codes(image: np.ndarray, *, retries: bool = True) -> list[Code]:
    """The QR codes in a page image (BGR, BGRA or gray), top to bottom; [] when there is none.

    ``retries=False`` makes one decoder call only: the retries cost two to three times the first
    call on a page without a code, which a caller may spend only where a code is expected.
    """
    gray = _to_gray(image)
    if gray is None:
        return []
    gray, scale = _bounded(gray)
    zxingcpp = _zxing()
    # Retries only with zxing-cpp: an OpenCV call costs ~80 ms, so its retries would cost several
    # times the fields stage's budget on every page that has no code.
    for attempt, factor in _attempts(gray, retries=retries and zxingcpp is not None):
        found = _decode_opencv(attempt) if zxingcpp is None else _decode_zxing(zxingcpp, attempt)
        if found:
            return _codes(found, scale * factor)
    return []


def decoder_name() -> str:
    """Which decoder read_codes uses here: "zxing-cpp" or "opencv" (bench and logs say it)."""
    return "zxing-cpp" if _zxing() is not None else "opencv"


# --- input ------------------------------------------------------------------------------------------


def _to_gray(image: object) -> np.ndarray | None:
    """8-bit single-channel pixels, or None for anything that cannot hold a code."""
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3) or image.size == 0:
        return None
    if image.ndim == 3 and image.shape[2] not in (1, 3, 4):
        return None
    if min(image.shape[:2]) < MIN_SIDE or not _is_real(image.dtype):
        return None
    pixels = image if image.dtype == np.uint8 else _to_uint8(image)
    if pixels.ndim == 3:
        if pixels.shape[2] == 1:
            pixels = pixels[:, :, 0]
        else:
            code = cv2.COLOR_BGR2GRAY if pixels.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
            pixels = cv2.cvtColor(pixels, code)
    return np.ascontiguousarray(pixels)


def _is_real(dtype: np.dtype) -> bool:
    return dtype == np.bool_ or np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)


def _to_uint8(image: np.ndarray) -> np.ndarray:
    """Other depths (16-bit scans, floats, masks) stretched to 0..255: a code needs contrast, not units."""
    values = np.nan_to_num(image.astype(np.float32), nan=0.0, posinf=0.0, neginf=0.0)
    low, high = float(values.min()), float(values.max())
    if high <= low:
        return np.zeros(image.shape, np.uint8)
    return ((values - low) * (255.0 / (high - low))).astype(np.uint8)


def _bounded(gray: np.ndarray) -> tuple[np.ndarray, float]:
    """The pixels scaled down to at most MAX_PIXELS, and the factor to map points back."""
    height, width = gray.shape
    if height * width <= MAX_PIXELS:
        return gray, 1.0
    scale = math.sqrt(MAX_PIXELS / (height * width))
    size = (max(MIN_SIDE, int(width * scale)), max(MIN_SIDE, int(height * scale)))
    return cv2.resize(gray, size, interpolation=cv2.INTER_AREA), scale


def _attempts(gray: np.ndarray, *, retries: bool) -> Iterator[tuple[np.ndarray, float]]:
    """The pixels to try in turn, each with its scale; each retry is made only if the one before failed."""
    yield gray, 1.0
    if not retries:
        return
    # Small modules (a low-dpi scan) gain from 2x; large pages have modules wide enough already.
    if gray.size * UPSCALE * UPSCALE <= MAX_PIXELS:
        yield cv2.resize(gray, None, fx=UPSCALE, fy=UPSCALE, interpolation=cv2.INTER_CUBIC), UPSCALE
    blurred = cv2.GaussianBlur(gray, (0, 0), SHARPEN_SIGMA)
    yield cv2.addWeighted(gray, 1.0 + SHARPEN_AMOUNT, blurred, -SHARPEN_AMOUNT, 0.0), 1.0


# --- decoders ---------------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _zxing() -> ModuleType | None:
    """zxing-cpp if installed: imported on first use, so ocrd imports without it."""
    try:
        import zxingcpp
    except ImportError:
        return None
    return zxingcpp


def _decode_zxing(zxingcpp: ModuleType, gray: np.ndarray) -> Found:
    try:
        # Plain: the payload's own bytes as text (HRI would reformat GS1 content).
        results = zxingcpp.read_barcodes(gray, formats=zxingcpp.BarcodeFormat.QRCode, text_mode=zxingcpp.TextMode.Plain)
    except MemoryError:
        raise
    except Exception:  # a decoder error on strange pixels means no code, never a failed page
        return []
    found: Found = []
    for result in results:
        if not result.valid or not result.text:
            continue
        position = result.position
        corners = [position.top_left, position.top_right, position.bottom_right, position.bottom_left]
        found.append((result.text, np.array([[point.x, point.y] for point in corners], dtype=np.float64)))
    return found


def _decode_opencv(gray: np.ndarray) -> Found:
    # A detector per call: OpenCV's detectors keep state and pages may be read from several threads.
    detector = cv2.QRCodeDetectorAruco()
    try:
        ok, texts, points, _ = detector.detectAndDecodeMulti(gray)
    except MemoryError:
        raise
    except Exception:  # cv2.error on odd pixels: no code
        return []
    if not ok or points is None:
        return []
    corners = np.asarray(points, dtype=np.float64).reshape(-1, 4, 2)
    return [(text, quad) for text, quad in zip(texts, corners, strict=False) if text]


# --- output -----------------------------------------------------------------------------------------


def _codes(found: Found, scale: float) -> list[Code]:
    codes = [Code(text, _clockwise_from_top_left(corners / scale)) for text, corners in found]
    return sorted(codes, key=lambda code: (min(y for _, y in code.box), min(x for x, _ in code.box)))


def _clockwise_from_top_left(corners: np.ndarray) -> Quad:
    """Corners in image order: decoders give them in the symbol's own order, which turns with the code."""
    x, y = corners[:, 0], corners[:, 1]
    # With y pointing down, a positive shoelace sum is clockwise on screen; a mirrored code is not.
    if float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)) < 0:
        corners = corners[::-1]
    start = int(np.argmin(corners.sum(axis=1)))
    ordered = np.roll(corners, -start, axis=0)
    return [[float(px), float(py)] for px, py in ordered]
