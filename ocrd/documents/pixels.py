"""Turn a decoded Pillow image of any pixel mode into the engine's BGR uint8 array.

Three decisions live here:

* Deep images (16-bit, 32-bit, float) are scaled by the bit depth the data actually
  uses, not the container's: scanners often store 12-bit data in 16-bit files, which
  divided by 257 would come out nearly black.
* Transparent areas are filled with white, like paper, unless the visible content is
  itself light (white text on a transparent background): then white would erase the
  text, so a black background keeps the contrast. The choice follows the alpha-weighted
  mean brightness of the visible pixels.
* EXIF orientation is applied to the final array, so every format gets it the same way.
"""

from __future__ import annotations

import cv2
import numpy as np
from PIL import Image

from ocrd.errors import UnsupportedFormatError

WHITE = (255, 255, 255)
BLACK = (0, 0, 0)
# Visible content this bright (0-255 luminance, alpha-weighted mean) would vanish on white.
LIGHT_CONTENT_LUMINANCE = 160
# The background decision only needs a sample of the pixels.
_BACKGROUND_SAMPLE_PIXELS = 1_000_000

_DEEP_MODES = ("I;16", "I;16L", "I;16B", "I;16N", "I", "F")
_ALPHA_MODES = ("RGBA", "RGBa", "LA", "La", "PA")
# Full-scale values of the integer depths image data commonly has (8, 12, 16, 32 bit).
_INTEGER_FULL_SCALES = (255, 4095, 65535, 2**32 - 1)

EXIF_ORIENTATION_TAG = 0x0112


def to_bgr(image: Image.Image, *, name: str) -> np.ndarray:
    """A contiguous HxWx3 uint8 BGR copy of a loaded Pillow image of any mode."""
    if image.mode in _DEEP_MODES:
        gray = deep_to_uint8(np.asarray(image))
        return cv2.cvtColor(gray, cv2.COLOR_GRAY2BGR)
    if image.mode == "La":  # Pillow converts premultiplied gray to nothing else
        image = _unpremultiply_gray(image)
    if image.mode in _ALPHA_MODES or (image.mode in ("P", "L", "RGB", "1") and "transparency" in image.info):
        return _flatten_alpha(image.convert("RGBA"))
    if image.mode == "L":
        return cv2.cvtColor(np.asarray(image), cv2.COLOR_GRAY2BGR)
    try:
        rgb = image if image.mode == "RGB" else image.convert("RGB")
    except ValueError as err:  # e.g. CIE L*a*b* TIFFs, which Pillow cannot turn into RGB
        raise UnsupportedFormatError(
            f"pixel mode {image.mode} is not supported ({err}); save the image as RGB or grayscale",
            path=name,
        ) from err
    return cv2.cvtColor(np.asarray(rgb), cv2.COLOR_RGB2BGR)


def deep_to_uint8(values: np.ndarray) -> np.ndarray:
    """Scale a 2-D array of more than 8 bits to uint8, by the depth the data uses."""
    if values.size == 0:
        return np.zeros(values.shape, np.uint8)
    low, high = float(values.min()), float(values.max())
    if np.issubdtype(values.dtype, np.floating) and low >= 0.0 and high <= 1.0:
        scale_low, scale_high = 0.0, 1.0  # normalised float data
    elif low >= 0:
        scale_low, scale_high = 0.0, next((s for s in _INTEGER_FULL_SCALES if high <= s), high)
    else:
        scale_low, scale_high = low, high  # signed or odd data: stretch what is there
    if scale_high <= scale_low:
        return np.full(values.shape, 255 if high > 0 else 0, np.uint8)
    scaled = (values.astype(np.float32) - scale_low) * (255.0 / (scale_high - scale_low))
    return np.clip(scaled + 0.5, 0, 255).astype(np.uint8)


def choose_background(rgba: np.ndarray) -> tuple[int, int, int]:
    """White, unless the visible (alpha-weighted) content is light enough to vanish on white."""
    height, width = rgba.shape[:2]
    step = max(1, int((height * width / _BACKGROUND_SAMPLE_PIXELS) ** 0.5))
    sample = rgba[::step, ::step].astype(np.float32)
    alpha = sample[..., 3] / 255.0
    weight = float(alpha.sum())
    if weight == 0.0:
        return WHITE
    luminance = sample[..., 0] * 0.299 + sample[..., 1] * 0.587 + sample[..., 2] * 0.114
    mean = float((luminance * alpha).sum()) / weight
    return BLACK if mean >= LIGHT_CONTENT_LUMINANCE else WHITE


def _flatten_alpha(rgba_image: Image.Image) -> np.ndarray:
    rgba = np.asarray(rgba_image)
    if rgba[..., 3].min() == 255:
        return cv2.cvtColor(rgba, cv2.COLOR_RGBA2BGR)
    background = Image.new("RGBA", rgba_image.size, (*choose_background(rgba), 255))
    flattened = Image.alpha_composite(background, rgba_image).convert("RGB")
    return cv2.cvtColor(np.asarray(flattened), cv2.COLOR_RGB2BGR)


def _unpremultiply_gray(image: Image.Image) -> Image.Image:
    values = np.asarray(image).astype(np.float32)
    gray, alpha = values[..., 0], values[..., 1]
    safe_alpha = np.maximum(alpha, 1.0)
    straight = np.where(alpha > 0, np.minimum(255.0, gray * 255.0 / safe_alpha), 0.0)
    return Image.fromarray(np.dstack([straight + 0.5, alpha]).astype(np.uint8), "LA")


def exif_orientation(image: Image.Image) -> int:
    """The EXIF orientation (1-8) of a loaded image; 1 when absent or unreadable."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION_TAG, 1)
    except Exception:  # metadata is advisory: broken EXIF must not fail a readable image
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def apply_orientation(pixels: np.ndarray, orientation: int) -> np.ndarray:
    """Turn stored pixels upright as EXIF orientation 1-8 says (the same transforms viewers apply)."""
    if orientation == 2:
        return cv2.flip(pixels, 1)
    if orientation == 3:
        return cv2.rotate(pixels, cv2.ROTATE_180)
    if orientation == 4:
        return cv2.flip(pixels, 0)
    if orientation == 5:
        return np.ascontiguousarray(cv2.transpose(pixels))
    if orientation == 6:
        return cv2.rotate(pixels, cv2.ROTATE_90_CLOCKWISE)
    if orientation == 7:
        return cv2.flip(cv2.transpose(pixels), -1)
    if orientation == 8:
        return cv2.rotate(pixels, cv2.ROTATE_90_COUNTERCLOCKWISE)
    return pixels
