"""Decide whether a PDF page's text layer can stand in for OCR, and read it as lines.

A text layer is exact and costs milliseconds, so it is used whenever it says what the
page shows. When in doubt the page is rendered and OCR'd instead: that is always
complete, only slower. The rule, in order:

1. No non-whitespace text: render (a scan, or a blank page).
2. More than MAX_GARBAGE_SHARE of the characters are garbage: U+FFFD, private-use,
   unassigned or control characters, or any text in a composite font that has an
   Identity encoding and no ToUnicode map. The PDF gives such text no Unicode meaning
   (PDF 32000-1, 9.10.2); extraction turns glyph numbers into random-looking letters,
   so it is treated as unreadable and the page is rendered.
3. Raster images cover at least SCAN_IMAGE_COVERAGE of the page: the page is a scan, so
   visible text on it is only part of what the page says (a stamped page number, a
   typed-in form field): render. Except when the text is mostly invisible (render
   mode 3): that is another OCR tool's layer over the scan (OCRmyPDF, a scanner's
   "searchable PDF", Acrobat), made for exactly this page. It is used as is, like
   OCRmyPDF itself treats such pages as done: the result then matches what search and
   copy show in the user's PDF viewer, costs no OCR time, and ``force_ocr`` is the way
   to OCR the page again when that layer is poor.
4. Otherwise: use the text layer.

Invisible text on a page that is mostly visible text is left out: nobody sees it, so it
is not what the page says (it is usually hidden metadata or tracking text).
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np
import pymupdf

from ocrd.result import Line

MAX_GARBAGE_SHARE = 0.25
SCAN_IMAGE_COVERAGE = 0.5
OCR_LAYER_INVISIBLE_SHARE = 0.5

# Ligatures and whitespace as written, characters clipped to the page; not
# TEXT_PRESERVE_IMAGES (would copy every image's bytes) and not
# TEXT_CID_FOR_UNKNOWN_UNICODE (would hide unmappable glyphs, which rule 2 must see).
_EXTRACT_FLAGS = pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_MEDIABOX_CLIP
_GARBAGE_CATEGORIES = {"Co", "Cn", "Cs", "Cc"}
_COVERAGE_CELL_POINTS = 4.0  # grid resolution for the union of image rectangles


@dataclass(frozen=True)
class TextLayerFacts:
    characters: int  # non-whitespace characters in the layer
    invisible: int  # of which are drawn invisibly (render mode 3)
    garbage: int  # of which cannot be real text
    image_coverage: float  # share of the page area covered by raster images, 0-1


@dataclass(frozen=True)
class TextLayerDecision:
    use: bool
    reason: str  # for the debug log: why the page is or is not rendered


def decide(facts: TextLayerFacts) -> TextLayerDecision:
    if facts.characters == 0:
        return TextLayerDecision(False, "no text layer")
    garbage_share = facts.garbage / facts.characters
    if garbage_share > MAX_GARBAGE_SHARE:
        return TextLayerDecision(False, f"{garbage_share:.0%} of the text layer is unmappable glyphs")
    if facts.image_coverage >= SCAN_IMAGE_COVERAGE:
        if facts.invisible / facts.characters >= OCR_LAYER_INVISIBLE_SHARE:
            return TextLayerDecision(True, "invisible OCR layer over a scanned image")
        return TextLayerDecision(
            False, f"images cover {facts.image_coverage:.0%} of the page; its visible text is partial"
        )
    return TextLayerDecision(True, "text layer")


def is_garbage(char: str) -> bool:
    return unicodedata.category(char) in _GARBAGE_CATEGORIES or char == "\ufffd"


def read_text_layer(page: pymupdf.Page, zoom: float, width: int, height: int) -> tuple[list[Line], TextLayerDecision]:
    """The page's text lines in reading order, boxes in pixels of a ``width``x``height`` render.

    Returns the lines and the decision; the lines are only meant to be used if it says so.
    """
    content = page.get_text("dict", flags=_EXTRACT_FLAGS, sort=True)
    text_lines = [line for block in content["blocks"] if block.get("type") == 0 for line in block["lines"]]
    facts = TextLayerFacts(
        *_count_characters(text_lines, unmapped_font_names(page)), image_coverage=image_coverage(page)
    )
    decision = decide(facts)
    if not decision.use:
        return [], decision
    keep_invisible = facts.invisible / facts.characters >= OCR_LAYER_INVISIBLE_SHARE
    # Text extraction reports unrotated page coordinates; the render is rotated.
    to_pixels = page.rotation_matrix * pymupdf.Matrix(zoom, zoom)
    page_box = pymupdf.Rect(0, 0, width, height)
    lines = []
    for line in text_lines:
        spans = [span for span in line["spans"] if keep_invisible or span["alpha"] != 0]
        text = "".join(span["text"] for span in spans).strip()
        if not text:
            continue
        bbox = pymupdf.Rect(spans[0]["bbox"])
        for span in spans[1:]:
            bbox |= pymupdf.Rect(span["bbox"])
        box = (bbox * to_pixels) & page_box
        corners = [[box.x0, box.y0], [box.x1, box.y0], [box.x1, box.y1], [box.x0, box.y1]]
        lines.append(Line(text=text, confidence=1.0, box=corners))
    if not lines:
        return [], TextLayerDecision(False, "text layer has only hidden text")
    return lines, decision


def _count_characters(text_lines: list[dict], unmapped_fonts: tuple[str, ...]) -> tuple[int, int, int]:
    characters = invisible = garbage = 0
    for line in text_lines:
        for span in line["spans"]:
            chars = [char for char in span["text"] if not char.isspace()]
            characters += len(chars)
            if span["alpha"] == 0:
                invisible += len(chars)
            if span["font"] and any(name.startswith(span["font"]) for name in unmapped_fonts):
                garbage += len(chars)
            else:
                garbage += sum(1 for char in chars if is_garbage(char))
    return characters, invisible, garbage


def unmapped_font_names(page: pymupdf.Page) -> tuple[str, ...]:
    """Fonts on the page whose text has no Unicode meaning: Type0, Identity-encoded, no ToUnicode."""
    names = []
    for xref, _ext, font_type, base_font, _ref, encoding, *_ in page.get_fonts():
        if font_type != "Type0" or not encoding.startswith("Identity") or xref <= 0:
            continue
        if page.parent.xref_get_key(xref, "ToUnicode")[0] == "null":
            # Span font names are the base font without the subset tag and may be cut short.
            names.append(base_font.split("+", 1)[-1])
    return tuple(names)


def image_coverage(page: pymupdf.Page) -> float:
    """Share of the page covered by raster images (their union, clipped to the page)."""
    width, height = page.rect.width, page.rect.height
    if page.rotation % 180 == 90:  # image boxes, like text, are in unrotated coordinates
        width, height = height, width
    if width <= 0 or height <= 0:
        return 0.0
    cell = _COVERAGE_CELL_POINTS
    grid = np.zeros((max(1, int(np.ceil(height / cell))), max(1, int(np.ceil(width / cell)))), bool)
    for info in page.get_image_info():
        box = pymupdf.Rect(info["bbox"]) & pymupdf.Rect(0, 0, width, height)
        if box.is_empty:
            continue
        grid[
            int(box.y0 // cell) : int(np.ceil(box.y1 / cell)),
            int(box.x0 // cell) : int(np.ceil(box.x1 / cell)),
        ] = True
    return float(grid.mean())
