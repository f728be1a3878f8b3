"""Place recognised lines on a PDF page as invisible text, each exactly over its box.

The operators are written here (``BT /F size Tf 3 Tr scale Tz a b c d e f Tm <codes> Tj ET``)
rather than through PyMuPDF's TextWriter: TextWriter applies one transformation to all
the text it writes, so a line that needs its own rotation and horizontal scaling would
cost a content stream of its own, and its font handling embeds the whole font.

Geometry: a line box is four corners in the page's pixels, as the engine saw the page.
They are mapped to PDF user space through the page's own transformation (MuPDF's page
matrix: /Rotate, the crop box offset and /UserUnit are all in it) scaled by the page's
size in points over its size in pixels. The text then runs along the box's top edge, the
font size makes ascender to descender fill the box's height and horizontal scaling makes
the line as wide as the box, so selecting, searching and highlighting in a viewer cover
the words the reader sees.

Render mode 3 draws nothing; it is how PDF says "text that is only there to be found".
Fill opacity 0 would hide the text in viewers too, but it is transparency, which PDF/A-1
forbids and which makes every viewer blend the page: it is not used.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable

import pymupdf

from ocrd.result import Line, LinePart

from .pdf_font import GlyphFont, number

# Boxes thinner than this (in points) are noise: nothing a reader could select.
_MIN_SIDE_POINTS = 0.5
# CJK ideographs, radicals, kana, CJK punctuation and full-width forms: no spaces between them.
_CJK = "[\u2e80-\u9fff\uf900-\ufaff\uff00-\uffef\u3000-\u303f]"
_CJK_SPACE = re.compile(f"(?<={_CJK})\\s+(?={_CJK})")
_WHITESPACE = re.compile(r"\s+")


def page_matrix(page: pymupdf.Page) -> pymupdf.Matrix:
    """MuPDF's page matrix: PDF user space to the page as shown (points, top-left origin)."""
    pdf_page = pymupdf.mupdf.pdf_page_from_fz_page(page.this)
    mediabox = pymupdf.mupdf.FzRect()
    matrix = pymupdf.mupdf.FzMatrix()
    pymupdf.mupdf.pdf_page_transform(pdf_page, mediabox, matrix)
    return pymupdf.Matrix(matrix.a, matrix.b, matrix.c, matrix.d, matrix.e, matrix.f)


def pixels_to_pdf(page: pymupdf.Page, width: int, height: int) -> pymupdf.Matrix:
    """Page pixels (of a ``width`` x ``height`` view of the page) to PDF user space."""
    shown = page.rect
    return pymupdf.Matrix(shown.width / width, shown.height / height) * ~page_matrix(page)


def layer_text(text: str) -> str:
    """The text as it goes into the layer: one space between words, none between CJK characters."""
    text = _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()
    return _CJK_SPACE.sub("", text)


def text_operators(lines: Iterable[Line], to_pdf: pymupdf.Matrix, font: GlyphFont, resource: str) -> bytes:
    """A content stream drawing ``lines`` invisibly; empty when no line has anything to draw."""
    parts = []
    for line in lines:
        # A line joined from pieces far apart (table cells) is placed piece by piece: spread over
        # the whole row, its characters would sit in the gaps between the cells.
        for piece in line.parts or [line]:
            placed = _line_operators(piece, to_pdf, font, resource)
            if placed:
                parts.append(placed)
    if not parts:
        return b""
    # q/Q: nothing here may leak into what a later content stream draws.
    return ("q\nBT\n3 Tr\n" + "".join(parts) + "ET\nQ\n").encode("ascii")


def _line_operators(line: Line | LinePart, to_pdf: pymupdf.Matrix, font: GlyphFont, resource: str) -> str:
    text = layer_text(line.text)
    if not text:
        return ""
    top_left, top_right, bottom_right, bottom_left = (pymupdf.Point(x, y) * to_pdf for x, y in line.box)
    along = top_right - top_left
    width = math.hypot(along.x, along.y)
    if width < _MIN_SIDE_POINTS:
        return ""
    unit = pymupdf.Point(along.x / width, along.y / width)
    up = pymupdf.Point(-unit.y, unit.x)  # a quarter turn anticlockwise: "up" in PDF's y-up space
    height = (_dot(up, top_left - bottom_left) + _dot(up, top_right - bottom_right)) / 2
    if height < 0:  # a mirroring page matrix: up is the other way
        up, height = pymupdf.Point(-up.x, -up.y), -height
    if height < _MIN_SIDE_POINTS:
        return ""
    codes, natural = font.encode(text)
    if not codes or natural <= 0:
        return ""
    size = height / (font.ascender - font.descender)
    origin = top_left - up * (font.ascender * size)  # the baseline, ascender below the top edge
    stretch = 100.0 * width / (natural * size)
    # Direction to 5 places (a 0.00001 turn is 0.005 pt at the end of an A4-wide line), positions to 0.001 pt.
    turn = " ".join(number(v, 5) for v in (unit.x, unit.y, up.x, up.y))
    return (
        f"/{resource} {number(size)} Tf {number(stretch)} Tz {turn} {number(origin.x)} {number(origin.y)} Tm "
        f"<{codes}> Tj\n"
    )


def _dot(a: pymupdf.Point, b: pymupdf.Point) -> float:
    return a.x * b.x + a.y * b.y
