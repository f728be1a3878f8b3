"""PDF documents through PyMuPDF: text layer passthrough where it is real, else render at dpi.

Everything that can be refused cheaply is refused before the first page is rendered:
a password, the page count (read from the page tree, so a 10,000-page file is refused
in milliseconds) and the rendered size of every page. A page too large for ``limits.max_pixels``
at the requested dpi (a poster, a drawing) is rendered at the highest dpi that fits, down to
MIN_READABLE_DPI; its ``PageImage.dpi`` says which.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import cv2
import numpy as np
import pymupdf

from ocrd.config import Limits
from ocrd.errors import CorruptFileError, EncryptedDocumentError, OcrdError

from .guards import check_pages, check_readable_dpi
from .page import PageImage
from .source import Source
from .textlayer import read_text_layer

log = logging.getLogger(__name__)

POINTS_PER_INCH = 72
# Below this, body text (10-pt: 7 px tall at 50 dpi) is too small to read: such a page is refused.
MIN_READABLE_DPI = 50
# MuPDF refuses to allocate a pixmap of about 1 GiB or more ("Overly large image": 14000x28000 RGB
# was refused, 13250x26500 rendered), whatever limits.max_pixels allows.
MUPDF_MAX_PIXMAP_BYTES = 2**30
# Readers look for "%%EOF" this far from the end (writers may append a few bytes after it).
_EOF_SEARCH_BYTES = 1024


def iter_pdf_pages(source: Source, limits: Limits, *, dpi: int, force_ocr: bool) -> Iterator[PageImage]:
    document = open_pdf(source, limits)
    with document:
        for index in range(document.page_count):
            fitting_dpi(_page_box(document, index, source.name), dpi, limits, source.name, f"page {index + 1}")
        for index in range(document.page_count):
            yield _load_page(document, index, dpi, source.name, limits, force_ocr=force_ocr)


def count_pdf_pages(source: Source, limits: Limits) -> int:
    with open_pdf(source, limits) as document:
        return document.page_count


def open_pdf(source: Source, limits: Limits) -> pymupdf.Document:
    """Open, refuse passwords and page counts above the limit; the caller closes the document."""
    try:
        if source.path is not None:
            document = pymupdf.open(source.path, filetype="pdf")
        else:
            document = pymupdf.open(stream=source.data, filetype="pdf")
    except MemoryError:
        raise
    except Exception as err:  # MuPDF reports unreadable files as FileDataError or RuntimeError
        raise CorruptFileError(
            f"PDF cannot be opened ({err}); the file is damaged or incomplete", path=source.name
        ) from err
    try:
        if document.needs_pass:
            raise EncryptedDocumentError(
                "PDF is protected by a password; save a copy without the password and submit that",
                path=source.name,
            )
        if document.is_repaired and b"%%EOF" not in source.tail(_EOF_SEARCH_BYTES):
            # MuPDF rebuilt a PDF that also lacks its end marker: it was cut off (still being
            # copied, or an interrupted transfer). Its pages would render partly blank.
            raise CorruptFileError(
                "PDF is incomplete: it ends before its end-of-file marker; "
                "submit the complete file (was it still being copied?)",
                path=source.name,
            )
        try:
            count = document.page_count
        except Exception as err:
            raise CorruptFileError(
                f"PDF page tree cannot be read: {err}; the file is damaged", path=source.name
            ) from err
        if count == 0:
            raise CorruptFileError("PDF has no pages; the file is damaged or empty", path=source.name)
        check_pages(count, limits, source.name)
    except BaseException:
        document.close()
        raise
    return document


def render_size(box: pymupdf.Rect, zoom: float) -> tuple[int, int]:
    """Pixel size MuPDF renders ``box`` to at ``zoom`` (it rounds the scaled box outwards)."""
    pixels = (box * pymupdf.Matrix(zoom, zoom)).irect
    return pixels.width, pixels.height


def fitting_dpi(box: pymupdf.Rect, dpi: int, limits: Limits, name: str, what: str) -> int:
    """``dpi``, or the highest dpi below it at which ``box`` renders within ``limits.max_pixels``.

    Refuses (LimitExceededError) when even that is below MIN_READABLE_DPI.
    """
    budget = min(limits.max_pixels, MUPDF_MAX_PIXMAP_BYTES // 3 - 1)
    width, height = render_size(box, dpi / POINTS_PER_INCH)
    if width * height <= budget:
        return dpi
    # Area grows with the square of the dpi; MuPDF's outward rounding can add a pixel per side,
    # so step down from the estimate until the rendering really fits.
    fitted = int(dpi * (budget / (width * height)) ** 0.5)
    while fitted >= MIN_READABLE_DPI:
        fitted_width, fitted_height = render_size(box, fitted / POINTS_PER_INCH)
        if fitted_width * fitted_height <= budget:
            break
        fitted -= 1
    check_readable_dpi(width, height, fitted, limits, name, what=f"{what} at {dpi} dpi", min_dpi=MIN_READABLE_DPI)
    return fitted


def _page_box(document: pymupdf.Document, index: int, name: str) -> pymupdf.Rect:
    # The crop box without loading the page; rotation swaps the sides but not the area.
    try:
        return document.page_cropbox(index)
    except Exception as err:
        raise CorruptFileError(f"page {index + 1} of the PDF cannot be read: {err}", path=name) from err


def _load_page(
    document: pymupdf.Document, index: int, dpi: int, name: str, limits: Limits, *, force_ocr: bool
) -> PageImage:
    try:
        page = document.load_page(index)
        # Again on the loaded page: its visible box can differ from the crop box checked up front.
        requested = dpi
        dpi = fitting_dpi(page.rect, requested, limits, name, f"page {index + 1}")
        if dpi != requested:
            log.info("%s page %d is rendered at %d dpi to fit limits.max_pixels", name, index + 1, dpi)
        zoom = dpi / POINTS_PER_INCH
        width, height = render_size(page.rect, zoom)
        if not force_ocr:
            lines, decision = read_text_layer(page, zoom, width, height)
            log.debug("%s page %d: %s", name, index + 1, decision.reason)
            if decision.use:
                return PageImage(
                    index=index,
                    width=width,
                    height=height,
                    image=None,
                    text_lines=lines,
                    render=lambda: _render(page, zoom),
                    dpi=dpi,
                )
        pixels = _render(page, zoom)
    except (MemoryError, OcrdError):
        raise
    except Exception as err:  # a damaged content stream, font or image inside the page
        raise CorruptFileError(
            f"page {index + 1} of the PDF cannot be read: {err}; the file is damaged", path=name
        ) from err
    return PageImage(index=index, width=pixels.shape[1], height=pixels.shape[0], image=pixels, dpi=dpi)


def _render(page: pymupdf.Page, zoom: float) -> np.ndarray:
    pixmap = page.get_pixmap(matrix=pymupdf.Matrix(zoom, zoom), colorspace=pymupdf.csRGB, alpha=False)
    return _pixmap_to_bgr(pixmap)


def _pixmap_to_bgr(pixmap: pymupdf.Pixmap) -> np.ndarray:
    rows = np.frombuffer(pixmap.samples_mv, dtype=np.uint8).reshape(pixmap.height, pixmap.stride)
    rgb = rows[:, : pixmap.width * 3].reshape(pixmap.height, pixmap.width, 3)
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
