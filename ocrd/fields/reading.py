"""A value found on the page: the text matched, where, and how sure the recognizer was."""

from __future__ import annotations

from dataclasses import dataclass, field

from ocrd.fields.geometry import PlacedLine
from ocrd.result import Quad


@dataclass
class Reading:
    raw: str  # the characters as recognised
    line: PlacedLine
    start: int  # character range of ``raw`` in the line's text
    end: int
    changes: list[str] = field(default_factory=list)

    @property
    def confidence(self) -> float:
        return float(self.line.confidence_of(self.start, self.end))

    @property
    def page(self) -> int:
        return self.line.page

    @property
    def box(self) -> Quad:
        return self.line.span_box(self.start, self.end)

    @property
    def centre_x(self) -> float:
        return self.line.span_centre_x(self.start, self.end)
