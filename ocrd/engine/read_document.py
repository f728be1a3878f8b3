"""A document's pages read one after another, their QR codes, then its fields: the Document."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ocrd.config import EngineSettings, FieldsSettings
from ocrd.engine.codes import read_codes
from ocrd.engine.preprocess import check_steps
from ocrd.fields.extract import extract_fields
from ocrd.result import Code, Document, Line, Page

if TYPE_CHECKING:
    from ocrd.documents import PageImage
    from ocrd.engine.pipeline import PageReading

log = logging.getLogger(__name__)

# Text-layer pages rendered to look for QR codes, per document (see page_codes).
MAX_TEXT_PAGES_RENDERED_FOR_CODES = 2
INVOICE_WORD = "发票"  # printed in every title the fields stage reads (增值税…发票, 电子发票)


class PageReader(Protocol):
    settings: EngineSettings

    @property
    def engine_info(self) -> dict[str, str]: ...

    def mask_for(self, lang: str | None, allowlist: str | None) -> np.ndarray | None: ...

    def read_image(
        self,
        image: np.ndarray,
        *,
        lang: str | None = None,
        allowlist: str | None = None,
        preprocess: Sequence[str] | None = None,
    ) -> PageReading: ...


def page_codes(page_image: PageImage, lines: list[Line], rendered_for_codes: int) -> list[Code]:
    """QR codes on the page, when the fields stage wants them.

    Only invoices' codes are used, and a page that is one says so (发票), so only such pages
    get the decoder's retries, and a text-layer page is rendered for its code only then, for
    the first few of a document: a 500-page text PDF must not cost 500 renders. Other OCR'd
    pages get one decoder call: their pixels are there anyway.
    """
    invoice_like = any(INVOICE_WORD in line.text for line in lines)
    image = page_image.image
    if image is None:
        if not invoice_like or page_image.render is None:
            return []
        if rendered_for_codes >= MAX_TEXT_PAGES_RENDERED_FOR_CODES:
            return []
        try:
            image = page_image.render()
        except Exception:  # the text layer was good; a page that fails to render loses only its code
            log.debug("page %d could not be rendered to look for codes", page_image.index + 1, exc_info=True)
            return []
    return [Code(code.text, code.box, code.symbology) for code in read_codes(image, retries=invoice_like)]


def read_pages(
    reader: PageReader,
    pages: Iterable[PageImage],
    *,
    source: str = "",
    sha256: str | None = None,
    fields: FieldsSettings | None = None,
    lang: str | None = None,
    preprocess: Sequence[str] | None = None,
) -> Document:
    """Read every page, then extract fields. ``fields``, ``lang`` and ``preprocess`` (else the
    reader's own settings) change per call: an inbox's rules, language or preprocessing need
    no second copy of the models."""
    if lang is not None:
        reader.mask_for(lang, None)  # an unknown language or step is refused before any page is read
    if preprocess is not None:
        check_steps(preprocess)
    document = Document(source=source, sha256=sha256, engine=reader.engine_info)
    totals: dict[str, float] = {}
    fields = fields or reader.settings.fields
    want_codes = fields.mode != "off" and fields.qr
    rendered_for_codes = 0
    clock = time.perf_counter()
    for page_image in pages:
        totals["load"] = totals.get("load", 0.0) + (time.perf_counter() - clock) * 1000
        if page_image.text_lines is not None:
            page = Page(
                page_image.index,
                page_image.width,
                page_image.height,
                "text-layer",
                page_image.text_lines,
                dpi=page_image.dpi,
            )
        else:
            assert page_image.image is not None
            reading = reader.read_image(page_image.image, lang=lang, preprocess=preprocess)
            for stage, ms in reading.timings_ms.items():
                totals[stage] = totals.get(stage, 0.0) + ms
            page = Page(
                page_image.index,
                page_image.width,
                page_image.height,
                "ocr",
                reading.lines,
                rotation=reading.rotation,
                dpi=page_image.dpi,
            )
        if want_codes:
            started = time.perf_counter()
            page.codes = page_codes(page_image, page.lines, rendered_for_codes)
            rendered_for_codes += page_image.image is None and page_image.render is not None
            totals["codes"] = totals.get("codes", 0.0) + (time.perf_counter() - started) * 1000
        document.pages.append(page)
        clock = time.perf_counter()
    started = time.perf_counter()
    document.fields = extract_fields(document, fields)
    if document.fields is not None:
        totals["fields"] = (time.perf_counter() - started) * 1000
    totals["total"] = sum(totals.values())
    document.timings_ms = totals
    return document
