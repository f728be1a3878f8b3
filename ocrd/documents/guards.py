"""The limit checks, with messages that say what was too big, the limit, and the setting."""

from __future__ import annotations

from ocrd.config import Limits
from ocrd.errors import LimitExceededError


def format_bytes(size: int) -> str:
    if size < 1024 * 1024:
        return f"{size:,} bytes"
    return f"{size / (1024 * 1024):.1f} MB"


def format_pixels(pixels: int) -> str:
    if pixels >= 10_000_000:
        return f"{pixels / 1_000_000:.0f} Mpx"
    if pixels >= 1_000_000:
        return f"{pixels / 1_000_000:.1f} Mpx"
    return f"{pixels:,} px"


def check_bytes(size: int, limits: Limits, name: str) -> None:
    if size > limits.max_bytes:
        raise LimitExceededError(
            f"file is {format_bytes(size)}, above the limit of {format_bytes(limits.max_bytes)} "
            "(limits.max_bytes); split the document or raise the limit",
            path=name,
        )


def check_pages(count: int, limits: Limits, name: str) -> None:
    if count > limits.max_pages:
        raise LimitExceededError(
            f"document has {count:,} pages, above the limit of {limits.max_pages:,} "
            "(limits.max_pages); split the document or raise the limit",
            path=name,
        )


def check_pixels(width: int, height: int, limits: Limits, name: str, *, what: str) -> None:
    """Refuse a page before it is decoded or rendered; ``what`` names it ("image", "page 3 at 200 dpi")."""
    pixels = width * height
    if pixels > limits.max_pixels:
        raise LimitExceededError(
            f"{what} is {width}x{height} = {format_pixels(pixels)}, above the limit of "
            f"{format_pixels(limits.max_pixels)} (limits.max_pixels); "
            "reduce the resolution or raise the limit",
            path=name,
        )


def check_readable_dpi(
    width: int, height: int, fitted_dpi: int, limits: Limits, name: str, *, what: str, min_dpi: int
) -> None:
    """Refuse a page that fits ``limits.max_pixels`` only below ``min_dpi``, where text is unreadable."""
    if fitted_dpi < min_dpi:
        raise LimitExceededError(
            f"{what} is {width}x{height} = {format_pixels(width * height)}, above the limit of "
            f"{format_pixels(limits.max_pixels)} (limits.max_pixels), and would fit only below {min_dpi} dpi, "
            "where text is too small to read; raise the limit or split the page",
            path=name,
        )
