"""The one font of the text layer: Droid Sans Fallback (PyMuPDF's built-in "cjk"), embedded as a subset.

The font dictionaries are written here rather than by PyMuPDF's ``insert_font`` plus
``subset_fonts`` because ``subset_fonts`` subsets every font of the pages it is given: on a
PDF input that would rewrite the input's own fonts, which may be shared with pages whose
text must stay byte for byte as it was. So the glyphs the text layer uses are collected
while the pages are written, the font program is cut down to them in a scratch document
(MuPDF keeps the glyph numbers, so the content streams stay valid), and the Type0 font,
its widths and its ToUnicode map are written once, for those glyphs only.

Codes in the content streams are glyph ids (Identity-H), two bytes each; the ToUnicode map
is what makes copy and search give back the recognised characters.
"""

from __future__ import annotations

import hashlib
import zlib
from functools import cache

import pymupdf

RESOURCE_NAME = "OcrdText"
_BASE_NAME = "DroidSansFallback"
# A glyph this font lacks would be drawn as .notdef (glyph 0), which has no Unicode meaning
# (search could never find it) and which PDF/A forbids: such characters are left out.
_NOTDEF = 0


@cache
def _font() -> pymupdf.Font:
    return pymupdf.Font("cjk")


class GlyphFont:
    """Turns text into glyph codes and remembers which glyphs (and characters) were used."""

    def __init__(self) -> None:
        self.font = _font()
        self.ascender = self.font.ascender
        self.descender = self.font.descender
        self._unicode_of: dict[int, str] = {}  # glyph id -> the first character drawn with it
        self._advance_of: dict[int, float] = {}  # glyph id -> advance width at size 1

    @property
    def used(self) -> bool:
        return bool(self._unicode_of)

    def encode(self, text: str) -> tuple[str, float]:
        """Hex glyph codes for ``text`` and its natural width at font size 1 (characters without a glyph dropped)."""
        codes = []
        width = 0.0
        for char in text:
            gid = self.font.has_glyph(ord(char))
            if gid == _NOTDEF:
                continue
            if gid not in self._unicode_of:
                self._unicode_of[gid] = char
                self._advance_of[gid] = self.font.glyph_advance(ord(char))
            codes.append(f"{gid:04x}")
            width += self._advance_of[gid]
        return "".join(codes), width

    def write(self, doc: pymupdf.Document, font_xref: int) -> None:
        """Write the Type0 font into ``font_xref`` (reserved by the caller, referenced by the pages)."""
        gids = sorted(self._unicode_of)
        name = f"{_subset_tag(gids)}+{_BASE_NAME}"
        program = _subset_program(self.font, gids)
        file_xref = _new_stream(doc, f"<</Length1 {len(program)}>>", program)
        scale = 1000.0
        box = self.font.bbox
        descriptor = doc.get_new_xref()
        doc.update_object(
            descriptor,
            f"<</Type/FontDescriptor/FontName/{name}/Flags 4"
            f"/FontBBox[{' '.join(number(v * scale) for v in (box.x0, box.y0, box.x1, box.y1))}]/ItalicAngle 0"
            f"/Ascent {number(self.ascender * scale)}/Descent {number(self.descender * scale)}"
            f"/CapHeight {number(self.ascender * scale)}/StemV 80/FontFile2 {file_xref} 0 R>>",
        )
        widths = " ".join(f"{gid}[{number(self._advance_of[gid] * scale)}]" for gid in gids)
        cid_font = doc.get_new_xref()
        doc.update_object(
            cid_font,
            f"<</Type/Font/Subtype/CIDFontType2/BaseFont/{name}"
            "/CIDSystemInfo<</Registry(Adobe)/Ordering(Identity)/Supplement 0>>"
            f"/FontDescriptor {descriptor} 0 R/CIDToGIDMap/Identity/DW 1000/W[{widths}]>>",
        )
        to_unicode = _new_stream(doc, "<<>>", _to_unicode_cmap(self._unicode_of).encode("ascii"))
        doc.update_object(
            font_xref,
            f"<</Type/Font/Subtype/Type0/BaseFont/{name}/Encoding/Identity-H"
            f"/DescendantFonts[{cid_font} 0 R]/ToUnicode {to_unicode} 0 R>>",
        )


def _subset_program(font: pymupdf.Font, gids: list[int]) -> bytes:
    """The font program with only ``gids`` left (glyph numbering kept), cut by MuPDF in a scratch document."""
    scratch = pymupdf.open()
    try:
        page = scratch.new_page()
        font_xref = page.insert_font(fontname="F", fontbuffer=font.buffer)
        codes = "".join(f"{gid:04x}" for gid in gids)
        contents = _new_stream(scratch, "<<>>", f"BT /F 1 Tf <{codes}> Tj ET".encode("ascii"))
        scratch.xref_set_key(page.xref, "Contents", f"{contents} 0 R")
        scratch.subset_fonts()
        descendant = _ref(scratch.xref_get_key(font_xref, "DescendantFonts")[1].strip("[]"))
        descriptor = _ref(scratch.xref_get_key(descendant, "FontDescriptor")[1])
        return scratch.xref_stream(_ref(scratch.xref_get_key(descriptor, "FontFile2")[1]))
    finally:
        scratch.close()


def _to_unicode_cmap(unicode_of: dict[int, str]) -> str:
    entries = [f"<{gid:04x}> <{char.encode('utf-16-be').hex()}>" for gid, char in sorted(unicode_of.items())]
    # A bfchar block holds at most 100 entries (PDF 32000-1, 9.10.3).
    blocks = [entries[start : start + 100] for start in range(0, len(entries), 100)]
    body = "".join(f"{len(block)} beginbfchar\n" + "\n".join(block) + "\nendbfchar\n" for block in blocks)
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    )


def _subset_tag(gids: list[int]) -> str:
    # Six capitals naming the subset (PDF 32000-1, 9.6.4); from the glyphs, so the same
    # text gives the same file.
    digest = hashlib.sha256(",".join(map(str, gids)).encode("ascii")).digest()
    return "".join(chr(ord("A") + byte % 26) for byte in digest[:6])


def _new_stream(doc: pymupdf.Document, dictionary: str, data: bytes) -> int:
    return raw_stream(doc, dictionary, zlib.compress(data, 9), {"Filter": "/FlateDecode"})


def new_stream(doc: pymupdf.Document, data: bytes) -> int:
    """A new Flate-compressed stream object holding ``data``."""
    return _new_stream(doc, "<<>>", data)


def raw_stream(doc: pymupdf.Document, dictionary: str, encoded: bytes, keys: dict[str, str]) -> int:
    """A new stream object of already encoded bytes; ``keys`` (the filter and its parameters) are
    set after the data because PyMuPDF's update_stream drops them."""
    xref = doc.get_new_xref()
    doc.update_object(xref, dictionary)
    doc.update_stream(xref, encoded, compress=False)
    for key, value in keys.items():
        doc.xref_set_key(xref, key, value)
    return xref


def _ref(value: str) -> int:
    return int(value.split()[0])


def number(value: float, places: int = 3) -> str:
    """A PDF number: fixed point (PDF has no exponents), no trailing zeros."""
    text = f"{value:.{places}f}".rstrip("0").rstrip(".")
    return "0" if text in ("", "-0") else text
