"""The entry points: check the input, sniff its format, hand it to the image or PDF reader."""

from __future__ import annotations

import os
from collections.abc import Iterator

from ocrd.config import Limits
from ocrd.errors import UnsupportedFormatError, UsageError

from .images import count_image_pages, iter_image_pages
from .page import PageImage
from .pdf import count_pdf_pages, iter_pdf_pages
from .sniff import HEAD_BYTES, SUPPORTED_FOR_HUMANS, describe_unsupported, sniff_format
from .source import Source, source_from_bytes, source_from_path

DEFAULT_DPI = 200
MIN_DPI, MAX_DPI = 36, 1200


def iter_pages(
    path: str | os.PathLike[str],
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe to share
    dpi: int = DEFAULT_DPI,
    force_ocr: bool = False,
) -> Iterator[PageImage]:
    """The pages of an image or PDF file, one at a time, in order.

    Lazy: one page is decoded or rendered per step, so a 500-page PDF never holds 500
    pages in memory. All checks that need no decoding (size, format, password, page
    count, pixel size of every page) run when iteration starts, before the first page
    is produced. Failures are ``ocrd.errors.InputError`` subclasses (or TransientError
    for I/O trouble) whose message names the file.
    """
    _check_dpi(dpi)
    return _iter_source(lambda: source_from_path(path, limits), limits, dpi, force_ocr)


def iter_pages_from_bytes(
    data: bytes,
    name: str,
    *,
    limits: Limits = Limits(),  # noqa: B008 - frozen dataclass, safe to share
    dpi: int = DEFAULT_DPI,
    force_ocr: bool = False,
) -> Iterator[PageImage]:
    """Like ``iter_pages`` for content already in memory (an upload); ``name`` is used in messages."""
    _check_dpi(dpi)
    return _iter_source(lambda: source_from_bytes(data, name, limits), limits, dpi, force_ocr)


def count_pages(path: str | os.PathLike[str], limits: Limits = Limits()) -> int:  # noqa: B008
    """Number of pages, from headers only, after the same cheap checks ``iter_pages`` makes.

    Raises the same errors for empty, oversized, unsupported, encrypted files and for
    more pages than ``limits.max_pages``.
    """
    source = source_from_path(path, limits)
    fmt = _sniff(source)
    if fmt == "pdf":
        return count_pdf_pages(source, limits)
    return count_image_pages(source, fmt, limits)


def _iter_source(open_source, limits: Limits, dpi: int, force_ocr: bool) -> Iterator[PageImage]:
    # A generator, so nothing is opened until the caller starts iterating and the
    # document is closed when the caller stops (or the generator is collected).
    source = open_source()
    fmt = _sniff(source)
    if fmt == "pdf":
        yield from iter_pdf_pages(source, limits, dpi=dpi, force_ocr=force_ocr)
    else:
        yield from iter_image_pages(source, fmt, limits)


def _sniff(source: Source) -> str:
    head = source.head(HEAD_BYTES)
    fmt = sniff_format(head)
    if fmt is None:
        raise UnsupportedFormatError(
            f"not a supported document: the content is {describe_unsupported(head)}. "
            f"Supported are {SUPPORTED_FOR_HUMANS}, recognised by their content "
            "(the file name extension is ignored)",
            path=source.name,
        )
    return fmt


def _check_dpi(dpi: int) -> None:
    if not MIN_DPI <= dpi <= MAX_DPI:
        raise UsageError(f"dpi must be between {MIN_DPI} and {MAX_DPI}, got {dpi}")
