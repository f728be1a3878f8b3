"""PDF inputs: the original document, with an invisible text layer added to its OCR'd pages only.

Nothing of the original page changes: its content streams, images, fonts, text and
annotations stay as they are. The page dictionary gains one font resource and its
/Contents array two things: the original content wrapped in q/Q (so a graphics state the
original leaves behind cannot shift the text layer) and the text layer after it.

Pages read from their own text layer get nothing: their text is already there, and
adding it again would double every search hit. For the same reason an OCR'd page that
already carries some real text (a scan with a typed-in page number or form field, or a
page OCR'd again with force_ocr) gets only the lines that are not over such text.
"""

from __future__ import annotations

import pymupdf

from ocrd.documents.textlayer import is_garbage, unmapped_font_names
from ocrd.result import Line, Page

from .pdf_font import RESOURCE_NAME, GlyphFont, new_stream
from .pdf_text import pixels_to_pdf, text_operators

# A line this much covered by text the page already has is left out of the layer.
_COVERED_SHARE = 0.5


class PdfTextLayer:
    """Adds text layers to the pages of an open PDF; shares the font and the q/Q streams."""

    def __init__(self, doc: pymupdf.Document, font: GlyphFont, font_xref: int) -> None:
        self.doc = doc
        self.font = font
        self.font_xref = font_xref
        self._save: int | None = None
        self._restore: int | None = None

    def add(self, page: pymupdf.Page, result: Page) -> int:
        """Add ``result``'s lines to ``page``; returns how many lines went in."""
        if result.source != "ocr" or not result.lines or result.width <= 0 or result.height <= 0:
            return 0
        lines = lines_not_over_text(page, result)
        resource = self._free_font_name(page)
        contents = text_operators(lines, pixels_to_pdf(page, result.width, result.height), self.font, resource)
        if not contents:
            return 0
        self._add_font_resource(page, resource)
        if self._save is None:
            self._save, self._restore = new_stream(self.doc, b"q\n"), new_stream(self.doc, b"Q\n")
        layer = new_stream(self.doc, contents)
        streams = [self._save, *page.get_contents(), self._restore, layer]
        self.doc.xref_set_key(page.xref, "Contents", "[" + " ".join(f"{xref} 0 R" for xref in streams) + "]")
        return len(lines)

    def _free_font_name(self, page: pymupdf.Page) -> str:
        """A font resource name the page does not use for another font (another tool's, by chance)."""
        name, number = RESOURCE_NAME, 0
        ours = ("xref", f"{self.font_xref} 0 R")
        while self.doc.xref_get_key(page.xref, f"Resources/Font/{name}") not in (("null", "null"), ours):
            number += 1
            name = f"{RESOURCE_NAME}{number}"
        return name

    def _add_font_resource(self, page: pymupdf.Page, name: str) -> None:
        doc = self.doc
        if doc.xref_get_key(page.xref, "Resources")[0] == "null":
            # Inherited from the page tree: a Font entry written on the page would hide the rest.
            doc.xref_set_key(page.xref, "Resources", _inherited(doc, page.xref, "Resources") or "<<>>")
        if doc.xref_get_key(page.xref, "Resources/Font")[0] == "null":
            doc.xref_set_key(*_direct(doc, page.xref, "Resources/Font"), "<<>>")
        doc.xref_set_key(*_direct(doc, page.xref, f"Resources/Font/{name}"), f"{self.font_xref} 0 R")


def _direct(doc: pymupdf.Document, xref: int, path: str) -> tuple[int, str]:
    """The object and key path that reach ``path`` of ``xref`` without passing an indirect reference
    (resources are often shared objects; PyMuPDF writes a key path only within one object)."""
    *parents, last = path.split("/")
    within: list[str] = []
    for part in parents:
        kind, value = doc.xref_get_key(xref, "/".join([*within, part]))
        if kind == "xref":
            xref, within = int(value.split()[0]), []
        else:
            within.append(part)
    return xref, "/".join([*within, last])


def _inherited(doc: pymupdf.Document, xref: int, key: str) -> str | None:
    seen = set()
    while xref and xref not in seen:
        seen.add(xref)
        kind, parent = doc.xref_get_key(xref, "Parent")
        if kind != "xref":
            return None
        xref = int(parent.split()[0])
        kind, value = doc.xref_get_key(xref, key)
        if kind != "null":
            return value
    return None


def lines_not_over_text(page: pymupdf.Page, result: Page) -> list[Line]:
    """``result``'s lines, less those lying mostly over real text the page already has."""
    existing = existing_text_boxes(page)
    if not existing:
        return list(result.lines)
    scale_x, scale_y = page.rect.width / result.width, page.rect.height / result.height
    kept = []
    for line in result.lines:
        box = pymupdf.Rect(
            min(x for x, _ in line.box) * scale_x,
            min(y for _, y in line.box) * scale_y,
            max(x for x, _ in line.box) * scale_x,
            max(y for _, y in line.box) * scale_y,
        )
        area = box.width * box.height
        covered = sum((box & other).get_area() for other in existing if box.intersects(other))
        if area <= 0 or covered / area < _COVERED_SHARE:
            kept.append(line)
    return kept


def existing_text_boxes(page: pymupdf.Page) -> list[pymupdf.Rect]:
    """Boxes (points, the page as shown) of text spans that search can already find.

    Garbage (glyphs with no Unicode meaning) does not count: that text is why the page
    was OCR'd, and the OCR layer is what makes it searchable.
    """
    unmapped = unmapped_font_names(page)
    boxes = []
    for block in page.get_text("dict", flags=pymupdf.TEXT_MEDIABOX_CLIP)["blocks"]:
        for line in block.get("lines", ()):
            for span in line["spans"]:
                chars = [char for char in span["text"] if not char.isspace()]
                if not chars or any(name.startswith(span["font"]) for name in unmapped if span["font"]):
                    continue
                if sum(map(is_garbage, chars)) * 2 > len(chars):
                    continue
                # Extraction reports the page unrotated; line boxes are on the page as shown.
                boxes.append(pymupdf.Rect(span["bbox"]) * page.rotation_matrix)
    return boxes
