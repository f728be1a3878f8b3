"""Raster images (JPEG, PNG, BMP, WebP, TIFF, GIF) through Pillow, strictly.

The order of operations is the defence: the declared size is read from the header
(Pillow's ``Image.open`` decodes nothing) and checked against ``limits.max_pixels``
for every frame before the first pixel is decoded. Decoding then runs with truncated
data treated as an error, so a half-transferred scan fails loudly instead of coming
out as an image with a grey lower half.

A TIFF is a document of pages: every frame is read. A GIF is read as one page, its first
frame: the frames after it are an animation of that page, not more pages.
"""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Iterator

import numpy as np
from PIL import Image, ImageFile

from ocrd.config import Limits
from ocrd.errors import CorruptFileError, LimitExceededError, OcrdError

from .guards import check_pages, check_pixels
from .page import PageImage
from .pixels import apply_orientation, exif_orientation, to_bgr
from .source import Source

# A truncated file must raise, not decode into a silently grey half page.
ImageFile.LOAD_TRUNCATED_IMAGES = False
# limits.max_pixels replaces Pillow's process-wide bomb limit, which is both lower than
# ours (89 Mpx warns, 179 Mpx refuses: A0 scans are bigger) and not configurable per call.
# If something re-enables it, its error is still mapped below.
Image.MAX_IMAGE_PIXELS = None

# Which Pillow decoders may read each sniffed format: never let Pillow pick another.
_PILLOW_FORMATS = {
    "jpeg": ("JPEG", "MPO"),  # MPO: phone pictures with an embedded second image; we use the first
    "png": ("PNG",),
    "bmp": ("BMP",),
    "webp": ("WEBP",),
    "tiff": ("TIFF",),
    "gif": ("GIF",),
}


def iter_image_pages(source: Source, fmt: str, limits: Limits) -> Iterator[PageImage]:
    """Pages of a raster image: every frame of a TIFF, the first frame otherwise (GIF: of an animation)."""
    image = _open(source.read_all(limits), fmt, source.name)
    with image:
        sizes = _frame_sizes(image, fmt, limits, source.name)
        for index, (width, height) in enumerate(sizes):
            what = "image" if len(sizes) == 1 else f"page {index + 1}"
            check_pixels(width, height, limits, source.name, what=what)
        if len(sizes) > 1:
            for index in range(len(sizes)):
                pixels = _decode_frame(image, index, fmt, source.name)
                height, width = pixels.shape[:2]
                yield PageImage(index=index, width=width, height=height, image=pixels)
            return
        pixels = _decode_frame(image, 0, fmt, source.name)
    # One frame: Pillow's decoded copy is let go before the page is read, not after it (12 MB
    # less at a worker's peak for an A4 page at 200 dpi). Leaving "with" only closes the file.
    image.close()
    yield PageImage(index=0, width=pixels.shape[1], height=pixels.shape[0], image=pixels)


def count_image_pages(source: Source, fmt: str, limits: Limits) -> int:
    image = _open(source.read_all(limits), fmt, source.name)
    with image:
        return len(_frame_sizes(image, fmt, limits, source.name))


def _open(data: bytes, fmt: str, name: str) -> Image.Image:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            return Image.open(io.BytesIO(data), formats=_PILLOW_FORMATS[fmt])
    except Image.DecompressionBombError as err:
        raise LimitExceededError(
            f"image is too large to decode safely ({err}); raise limits.max_pixels", path=name
        ) from err
    except MemoryError:
        raise
    except Exception as err:  # Pillow reports bad headers with many exception types
        raise _corrupt(fmt, "its header cannot be read", err, name) from err


def _frame_sizes(image: Image.Image, fmt: str, limits: Limits, name: str) -> list[tuple[int, int]]:
    """Declared (width, height) of every page, from headers only; refuses too many pages."""
    if fmt != "tiff":
        return [image.size]
    try:
        count = image.n_frames
        check_pages(count, limits, name)
        sizes = []
        for index in range(count):
            image.seek(index)
            sizes.append(image.size)
        image.seek(0)
    except (MemoryError, OcrdError):
        raise
    except Exception as err:  # Pillow reports bad page directories with many exception types
        raise _corrupt(fmt, "its page directory cannot be read", err, name) from err
    return sizes


def _decode_frame(image: Image.Image, index: int, fmt: str, name: str) -> np.ndarray:
    where = "" if index == 0 and fmt != "tiff" else f" (page {index + 1})"
    try:
        image.seek(index)
        image.load()
        orientation = exif_orientation(image)
        pixels = to_bgr(image, name=name)
    except (MemoryError, OcrdError):
        raise
    except Exception as err:  # decoders signal bad data with OSError, SyntaxError, ValueError, ...
        raise _corrupt(fmt, f"its pixel data cannot be decoded{where}", err, name) from err
    return apply_orientation(pixels, orientation)


def _corrupt(fmt: str, what: str, err: BaseException, name: str) -> CorruptFileError:
    # Pillow names the stream it was given ("<_io.BytesIO object at 0x...>"): noise to a user,
    # and it made the same file's message differ between two readings.
    detail = re.sub(r"\s*<[\w.]+ object at 0x[0-9a-f]+>", "", str(err)).strip() or type(err).__name__
    return CorruptFileError(
        f"file looks like {fmt.upper()} but {what}: {detail}; the file is damaged or incomplete",
        path=name,
    )
