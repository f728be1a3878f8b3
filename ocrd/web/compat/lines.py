"""A result's lines and fields in the plain terms every vendor shape is built from."""

from __future__ import annotations

from dataclasses import dataclass

from ocrd.result import Document


@dataclass(frozen=True)
class PlainLine:
    text: str
    confidence: float  # 0..1
    points: list[list[int]]  # four corners, clockwise from top left, in page pixels
    page: int  # 0-based
    page_width: int
    page_height: int

    @property
    def rect(self) -> tuple[int, int, int, int]:
        """x, y, width, height of the box around the points."""
        xs = [x for x, _ in self.points]
        ys = [y for _, y in self.points]
        return min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)


def plain_lines(document: Document) -> list[PlainLine]:
    """Every line in reading order, page after page."""
    return [
        PlainLine(
            text=line.text,
            confidence=float(line.confidence),
            points=[[round(x), round(y)] for x, y in line.box],
            page=page.index,
            page_width=page.width,
            page_height=page.height,
        )
        for page in document.pages
        for line in page.lines
    ]


def full_text(document: Document) -> str:
    return "\n".join(line.text for line in plain_lines(document))


def field_values(document: Document) -> dict[str, str]:
    """The invoice fields read (names as in ocrd.fields.model.HEADER_FIELDS), as text; empty without fields."""
    fields = document.fields
    if fields is None:
        return {}
    values: dict[str, str] = {}
    for name, item in fields.values.items():
        if item.value is None or isinstance(item.value, list | dict):
            continue
        values[name] = str(item.value)
    return values


def invoice_kind(document: Document) -> str | None:
    return None if document.fields is None else document.fields.kind
