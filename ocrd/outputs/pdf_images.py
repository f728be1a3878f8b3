"""Image inputs as PDF pages: one page per image (per frame of a TIFF), showing what the engine saw.

Two ways into the PDF, both without loss:

* A JPEG that needs no turning is embedded as it is (DCTDecode): decoding and encoding
  it again would lose quality or, losslessly, make the file several times larger.
* Everything else (PNG, TIFF, BMP, WebP, GIF, a JPEG with an EXIF rotation or in CMYK)
  goes in as the pixels the engine read: decoded by ``ocrd.documents`` itself, so EXIF
  rotation, transparency flattened onto paper and deep images scaled to 8 bits all match
  the line boxes exactly. PDF viewers ignore EXIF, so a rotation has to be in the pixels.
  They are stored PNG-compressed (Flate with PNG predictors, as PDF allows), gray when
  the image has no colour and one bit per pixel when it is pure black and white.

Page size comes from the image's resolution when it states a plausible one; otherwise
200 dpi is assumed, the usual office-scanner setting and the engine's own PDF render
resolution, so such a page comes out near its paper size.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from ocrd.config import Limits
from ocrd.documents import iter_pages
from ocrd.documents.pixels import exif_orientation
from ocrd.errors import CorruptFileError

ASSUMED_DPI = 200.0
# A stated resolution outside this range is a placeholder (0, 1) or an error, not the scan's.
_PLAUSIBLE_DPI = (36.0, 2400.0)
_PILLOW_FORMATS = {
    "jpeg": ("JPEG", "MPO"),
    "png": ("PNG",),
    "bmp": ("BMP",),
    "webp": ("WEBP",),
    "tiff": ("TIFF",),
    "gif": ("GIF",),
}
_TURNED = (5, 6, 7, 8)  # EXIF orientations that swap width and height


@dataclass(frozen=True)
class ImageObject:
    """An image XObject ready to write: its dictionary, its filter keys and its encoded bytes."""

    width: int  # pixels, as shown
    height: int
    dictionary: str
    filters: dict[str, str]  # /Filter and /DecodeParms
    data: bytes
    dpi: tuple[float, float]


def image_objects(source: Path, fmt: str, largest_page: int) -> Iterator[ImageObject]:
    """One ``ImageObject`` per page of the image file, in order; ``largest_page`` bounds decoding (pixels)."""
    data = source.read_bytes()
    try:
        image = Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[fmt])
    except Exception as err:  # Pillow reports bad headers with many exception types
        raise CorruptFileError(f"the image cannot be read again: {err}; was it changed?", path=source.name) from err
    with image:
        frames = [_frame_facts(image, index) for index in range(getattr(image, "n_frames", 1) if fmt == "tiff" else 1)]
        passthrough = fmt == "jpeg" and frames[0][1] == 1 and image.mode in ("L", "RGB")
        size = image.size
    if passthrough:
        yield _jpeg_object(data, size, image_mode="L" if frames[0][2] == "L" else "RGB", dpi=frames[0][0])
        return
    # The decoder may refuse no page the engine already read: the limits are the file's own size.
    limits = Limits(
        max_bytes=max(Limits().max_bytes, len(data)),
        max_pages=max(Limits().max_pages, len(frames)),
        max_pixels=max(Limits().max_pixels, largest_page),
    )
    for (dpi, orientation, _mode), page in zip(frames, iter_pages(source, limits=limits), strict=True):
        assert page.image is not None
        if orientation in _TURNED:
            dpi = (dpi[1], dpi[0])
        yield _pixel_object(page.image, dpi)


def _frame_facts(image: Image.Image, index: int) -> tuple[tuple[float, float], int, str]:
    image.seek(index)
    return _dpi(image.info.get("dpi")), exif_orientation(image), image.mode


def _dpi(stated: object) -> tuple[float, float]:
    if not isinstance(stated, tuple) or len(stated) != 2:
        return ASSUMED_DPI, ASSUMED_DPI
    try:
        x, y = float(stated[0]), float(stated[1])
    except (TypeError, ValueError):
        return ASSUMED_DPI, ASSUMED_DPI
    low, high = _PLAUSIBLE_DPI
    if not (low <= x <= high and low <= y <= high):
        return ASSUMED_DPI, ASSUMED_DPI
    return _as_meant(x), _as_meant(y)


def _as_meant(dpi: float) -> float:
    # PNG stores dots per metre: 300 dpi comes back as 299.9994.
    return float(round(dpi)) if abs(dpi - round(dpi)) < 0.05 else dpi


def _jpeg_object(data: bytes, size: tuple[int, int], *, image_mode: str, dpi: tuple[float, float]) -> ImageObject:
    space = "/DeviceGray" if image_mode == "L" else "/DeviceRGB"
    width, height = size
    dictionary = f"<</Type/XObject/Subtype/Image/Width {width}/Height {height}/ColorSpace{space}/BitsPerComponent 8>>"
    return ImageObject(width, height, dictionary, {"Filter": "/DCTDecode"}, data[: jpeg_end(data)], dpi)


def jpeg_end(data: bytes) -> int:
    """Where the first image of a JPEG file ends: phone pictures (MPO) append more after it."""
    at = 2  # after SOI
    while at + 4 <= len(data):
        if data[at] != 0xFF:
            return len(data)  # not a marker where one must be: keep everything, let the reader cope
        marker = data[at + 1]
        if marker == 0xFF:  # fill byte
            at += 1
            continue
        if marker == 0xD9:
            return at + 2
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:  # markers without a length
            at += 2
            continue
        length = struct.unpack(">H", data[at + 2 : at + 4])[0]
        at += 2 + length
        if marker == 0xDA:  # start of scan: entropy-coded data until the next real marker
            at = _after_scan(data, at)
    return len(data)


def _after_scan(data: bytes, at: int) -> int:
    """Where the entropy-coded data starting at ``at`` ends: at the first 0xFF that is not a
    stuffed zero byte (FF 00) or a restart marker (FF D0-D7)."""
    while True:
        at = data.find(b"\xff", at)
        if at < 0 or at + 1 >= len(data):
            return len(data)
        follower = data[at + 1]
        if follower != 0x00 and not 0xD0 <= follower <= 0xD7:
            return at
        at += 2


def _pixel_object(bgr: np.ndarray, dpi: tuple[float, float]) -> ImageObject:
    height, width = bgr.shape[:2]
    gray = bool(np.array_equal(bgr[..., 0], bgr[..., 1]) and np.array_equal(bgr[..., 1], bgr[..., 2]))
    if gray:
        plane = bgr[..., 0]
        if np.all((plane == 0) | (plane == 255)):
            picture = Image.fromarray(plane).convert("1")  # exact: every pixel is black or white
            colours, bits, space = 1, 1, "/DeviceGray"
        else:
            picture, colours, bits, space = Image.fromarray(plane), 1, 8, "/DeviceGray"
    else:
        picture, colours, bits, space = Image.fromarray(np.ascontiguousarray(bgr[..., ::-1])), 3, 8, "/DeviceRGB"
    dictionary = (
        f"<</Type/XObject/Subtype/Image/Width {width}/Height {height}/ColorSpace{space}/BitsPerComponent {bits}>>"
    )
    filters = {
        "Filter": "/FlateDecode",
        "DecodeParms": f"<</Predictor 15/Colors {colours}/BitsPerComponent {bits}/Columns {width}>>",
    }
    return ImageObject(width, height, dictionary, filters, png_image_data(picture), dpi)


def png_image_data(picture: Image.Image) -> bytes:
    """The zlib stream of ``picture`` as PNG encodes it: rows with PNG filter bytes, which PDF's
    Flate filter reads with predictor 15 (PDF 32000-1, 7.4.4.4)."""
    buffer = io.BytesIO()
    picture.save(buffer, "PNG", compress_level=6)
    png = buffer.getvalue()
    at, chunks = 8, []
    while at + 8 <= len(png):
        length, kind = struct.unpack(">I4s", png[at : at + 8])
        if kind == b"IDAT":
            chunks.append(png[at + 8 : at + 8 + length])
        at += 12 + length
    return b"".join(chunks)
