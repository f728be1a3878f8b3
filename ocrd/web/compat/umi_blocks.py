"""A result as Umi-OCR's text blocks: text, score, box and ``end``, the separator after each block.

Joining every block's text and end (but the last end) gives the text with its layout, so the
end follows ``tbpu.parser``: "\\n" after every line (``*_line``, ``none``), no new lines at all
(``*_none``), or "\\n" only where a paragraph ends (``*_para``). Between two pieces of one
paragraph the separator is a space, except between two CJK characters, after a hyphen and
before punctuation, where it is nothing (how Umi-OCR joins them).

ocrd's lines are already whole visual rows in reading order, columns read one after the other,
so the multi- and single-column parsers differ only in their name here.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from ocrd.result import Document
from ocrd.web.compat.lines import PlainLine, plain_lines
from ocrd.web.compat.umi_options import Area

NEW_LINE = "\n"
LINE_PARSERS = {"multi_line", "single_line", "single_code", "none"}
RUN_PARSERS = {"multi_none", "single_none"}
# Edges this many line heights apart still line up (Umi-OCR's paragraph parser uses the same slack).
ALIGN_SLACK = 1.2
# A blank between two lines taller than this many line heights starts a new paragraph.
PARAGRAPH_GAP = 1.0
_CJK = (
    (0x1100, 0x11FF),  # Hangul Jamo
    (0x3000, 0x303F),  # CJK symbols and punctuation
    (0x3040, 0x30FF),  # Hiragana, Katakana
    (0x3130, 0x318F),  # Hangul compatibility Jamo
    (0x4E00, 0x9FFF),  # CJK unified ideographs
    (0xAC00, 0xD7AF),  # Hangul syllables
    (0xFE30, 0xFE4F),  # CJK compatibility forms
    (0xFF00, 0xFFEF),  # full-width and half-width forms
)


@dataclass(frozen=True)
class Block:
    text: str
    score: float
    box: list[list[int]]
    end: str

    def to_dict(self) -> dict[str, object]:
        return {"text": self.text, "score": round(self.score, 6), "box": self.box, "end": self.end}


def blocks_of(document: Document, parser: str, ignore_areas: tuple[Area, ...] = ()) -> list[Block]:
    """The document's lines as blocks, those wholly inside an ignore area left out."""
    lines = [line for line in plain_lines(document) if line.text.strip() and not _ignored(line, ignore_areas)]
    ends = [_end(line, following, parser) for line, following in zip(lines, [*lines[1:], None], strict=True)]
    return [Block(line.text, line.confidence, line.points, end) for line, end in zip(lines, ends, strict=True)]


def joined_text(blocks: list[Block]) -> str:
    """data.format = "text": every block's text followed by its end, but the last."""
    return "".join(block.text + block.end for block in blocks[:-1]) + (blocks[-1].text if blocks else "")


def mean_score(blocks: list[Block]) -> float:
    return sum(block.score for block in blocks) / len(blocks) if blocks else 0.0


def separator(before: str, after: str) -> str:
    """What goes between the last character of one piece of a paragraph and the first of the next."""
    if _is_cjk(before) and _is_cjk(after):
        return ""
    if before == "-" or unicodedata.category(after).startswith("P"):
        return ""
    return " "


def _end(line: PlainLine, following: PlainLine | None, parser: str) -> str:
    if following is None or following.page != line.page or parser in LINE_PARSERS:
        return NEW_LINE
    if parser in RUN_PARSERS or same_paragraph(line, following):
        return separator(line.text.rstrip()[-1], following.text.lstrip()[0])
    return NEW_LINE


def same_paragraph(line: PlainLine, following: PlainLine) -> bool:
    """Whether ``following`` continues ``line``'s paragraph: just below it, same left edge, and ``line`` full.

    A line that stops short of the next one's right edge ends its paragraph (the last line of a
    paragraph is the short one), and a line beside or above the previous one (the next column)
    starts a new one.
    """
    left, top, width, height = line.rect
    next_left, next_top, next_width, next_height = following.rect
    unit = max(1.0, (height + next_height) / 2)
    gap = next_top - (top + height)
    below = -0.5 * unit <= gap <= PARAGRAPH_GAP * unit
    aligned = abs(next_left - left) <= ALIGN_SLACK * unit
    full = left + width >= next_left + next_width - ALIGN_SLACK * unit
    return below and aligned and full


def _ignored(line: PlainLine, areas: tuple[Area, ...]) -> bool:
    """Umi-OCR drops a block only when the whole of it lies inside an area, not when it overlaps one."""
    left, top, width, height = line.rect
    return any(x1 <= left and y1 <= top and left + width <= x2 and top + height <= y2 for x1, y1, x2, y2 in areas)


def _is_cjk(character: str) -> bool:
    code = ord(character)
    return any(start <= code <= end for start, end in _CJK)
