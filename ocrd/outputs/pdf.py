"""The searchable PDF: the original pages, plus the recognised text as an invisible layer.

``write_searchable_pdf`` takes the input file and its ``Document`` (the result of reading
it) and writes one PDF: for an image, a page per image (per TIFF frame) showing it; for a
PDF, the original document with a text layer on the pages that were OCR'd. Copy, search
and "select text" in any viewer then find the recognised characters where they are on
the page. ``check_pdf_input`` refuses, before any OCR, PDFs that a rewrite would harm.

The same input and result always give the same bytes: dates come from the input (its
own dates, else the file's modification time) and the file identifier from its content,
never from the clock or chance. See docs/pdf.md for the options and the cost.
"""

from __future__ import annotations

import hashlib
import os
import sys
from datetime import UTC, datetime
from pathlib import Path

import pymupdf

import ocrd
from ocrd.checksums import sha256_of
from ocrd.config import Limits
from ocrd.documents.pdf import open_pdf
from ocrd.documents.sniff import HEAD_BYTES, sniff_format
from ocrd.documents.source import source_from_path
from ocrd.errors import InternalError, SourceChangedError, TransientError
from ocrd.result import Document, Page

from . import pdfa as pdfa_parts
from .pdf_font import RESOURCE_NAME, GlyphFont, new_stream, raw_stream
from .pdf_images import ImageObject, image_objects
from .pdf_input import PdfTextLayer
from .pdf_refusals import check_open_pdf, check_pdf_input, is_pdf
from .pdf_text import pixels_to_pdf, text_operators

__all__ = ["check_pdf_input", "write_searchable_pdf"]

PRODUCER = f"ocrd {ocrd.__version__}"
_IMAGE_RESOURCE = "OcrdImage"
_INFO_KEYS = ("title", "author", "subject", "keywords", "creator", "producer", "creationDate", "modDate", "trapped")


def write_searchable_pdf(
    source: Path, document: Document, target: Path, *, pdfa: bool = False, title: str | None = None
) -> None:
    """Write the searchable PDF of ``source`` (read as ``document``) to ``target`` and fsync it.

    ``pdfa`` makes a PDF/A-2b file (image inputs only: see ``check_pdf_input``); ``title``
    replaces the title taken from the input. The caller picks ``target`` (a temporary
    name it renames into place): this function only writes it.
    """
    source, target = Path(source), Path(target)
    if document.sha256 is not None and sha256_of(source) != document.sha256:
        raise SourceChangedError(
            "the file changed after it was read: its result no longer describes it; read it again",
            path=source.name,
        )
    when = datetime.fromtimestamp(source.stat().st_mtime, UTC).replace(microsecond=0)
    font = GlyphFont()
    from_pdf = is_pdf(source)
    doc = _pdf_with_text(source, document, font, pdfa=pdfa) if from_pdf else _pdf_from_images(source, document, font)
    try:
        if not (from_pdf and pdfa_parts.declares_pdfa(doc)):
            # A PDF/A input's information must keep matching its XMP, so it is left as it is.
            _set_info(doc, title, _name_title(source, document), when, from_image=not from_pdf)
        _set_identifier(doc, document, source)
        if pdfa:
            pdfa_parts.make_pdfa(doc, when)
        try:
            doc.save(target, garbage=1, deflate=False, no_new_id=True)
        except Exception as err:  # MuPDF reports a full disk or a missing folder as a plain RuntimeError
            raise TransientError(
                f"its searchable PDF could not be written to {target}: {err}; check the free space and "
                "permissions there",
                path=source.name,
            ) from err
    finally:
        doc.close()
    _fsync(target)


def _pdf_with_text(source: Path, document: Document, font: GlyphFont, *, pdfa: bool) -> pymupdf.Document:
    size = source.stat().st_size
    # The input was read already under the caller's limits; these only have to let it through.
    limits = Limits(max_bytes=max(size, 1), max_pages=sys.maxsize, max_pixels=sys.maxsize)
    doc = open_pdf(source_from_path(source, limits), limits)
    try:
        check_open_pdf(doc, source.name, pdfa=pdfa, path=source)
        font_xref = doc.get_new_xref()
        layer = PdfTextLayer(doc, font, font_xref)
        for result in document.pages:
            _check_index(result, doc.page_count, source)
            layer.add(doc[result.index], result)
        _finish_font(doc, font, font_xref)
    except BaseException:
        doc.close()
        raise
    return doc


def _pdf_from_images(source: Path, document: Document, font: GlyphFont) -> pymupdf.Document:
    with source.open("rb") as stream:
        fmt = sniff_format(stream.read(HEAD_BYTES))
    if fmt is None:
        raise InternalError(f"{source.name} is neither an image nor a PDF, yet it has a result")
    results = {page.index: page for page in document.pages}
    largest = max((page.width * page.height for page in document.pages), default=0)
    doc = pymupdf.open()
    # MuPDF starts a new document with an /Info inside its catalog; the real one goes in the trailer.
    doc.xref_set_key(doc.pdf_catalog(), "Info", "null")
    try:
        font_xref = doc.get_new_xref()
        count = 0
        for index, image in enumerate(image_objects(source, fmt, largest)):
            _image_page(doc, image, results.get(index), font, font_xref)
            count += 1
        for result in document.pages:
            _check_index(result, count, source)
        _finish_font(doc, font, font_xref)
    except BaseException:
        doc.close()
        raise
    return doc


def _image_page(
    doc: pymupdf.Document, image: ImageObject, result: Page | None, font: GlyphFont, font_xref: int
) -> None:
    width = image.width * 72.0 / image.dpi[0]
    height = image.height * 72.0 / image.dpi[1]
    page = doc.new_page(width=width, height=height)
    picture = raw_stream(doc, image.dictionary, image.data, image.filters)
    contents = f"q {width:.4f} 0 0 {height:.4f} 0 0 cm /{_IMAGE_RESOURCE} Do Q\n".encode("ascii")
    text = b""
    if result is not None and result.width > 0 and result.height > 0:
        text = text_operators(result.lines, pixels_to_pdf(page, result.width, result.height), font, RESOURCE_NAME)
    fonts = f"/Font<</{RESOURCE_NAME} {font_xref} 0 R>>" if text else ""
    doc.xref_set_key(page.xref, "Resources", f"<</XObject<</{_IMAGE_RESOURCE} {picture} 0 R>>{fonts}>>")
    contents += text
    doc.xref_set_key(page.xref, "Contents", f"{new_stream(doc, contents)} 0 R")


def _finish_font(doc: pymupdf.Document, font: GlyphFont, font_xref: int) -> None:
    if font.used:
        font.write(doc, font_xref)
    else:  # no text anywhere (blank pages, or nothing recognised): a harmless empty slot
        doc.update_object(font_xref, "null")


def _check_index(result: Page, count: int, source: Path) -> None:
    if not 0 <= result.index < count:
        raise InternalError(
            f"the result has a page {result.index + 1} but {source.name} has {count}; the result is not of this file"
        )


def _name_title(source: Path, document: Document) -> str:
    # The result knows the name the file was submitted under; ``source`` may be a work copy.
    return Path(document.source).stem if document.source else source.stem


def _set_info(doc: pymupdf.Document, title: str | None, name_title: str, when: datetime, *, from_image: bool) -> None:
    """The document information: a PDF input keeps its own title and dates; the rest is ours."""
    stamp = pdf_date(when)
    info = {key: value for key, value in (doc.metadata or {}).items() if key in _INFO_KEYS and value}
    info["producer"] = PRODUCER
    info["modDate"] = stamp
    info.setdefault("creationDate", stamp)
    if from_image:
        info["creator"] = PRODUCER
    if title is not None:
        info["title"] = title
    else:
        info.setdefault("title", name_title)
    doc.set_metadata(info)


def pdf_date(when: datetime) -> str:
    return when.strftime("D:%Y%m%d%H%M%S+00'00'")


def _set_identifier(doc: pymupdf.Document, document: Document, source: Path) -> None:
    """The trailer /ID: the input's first part kept (it names the document), the second from this content."""
    digest = hashlib.md5(usedforsecurity=False)
    digest.update((document.sha256 or sha256_of(source)).encode("ascii"))
    digest.update(PRODUCER.encode("ascii"))
    digest.update(document.to_text().encode("utf-8", "surrogatepass"))
    this = digest.hexdigest().upper()
    first = this
    kind, value = doc.xref_get_key(-1, "ID")
    if kind == "array" and value.startswith("[<"):
        first = value[2:].split(">", 1)[0] or this
    doc.xref_set_key(-1, "ID", f"[<{first}><{this}>]")


def _fsync(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)
