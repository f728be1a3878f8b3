"""The result model: document -> pages -> lines, and its versioned JSON form.

The same JSON is printed by ``ocrd ocr --format json``, written as the daemon's
sidecar and returned by the job API, so there is exactly one schema to document.
"""

from __future__ import annotations

import base64
import json
import os
from dataclasses import dataclass, field
from typing import Any

from ocrd.fields.model import Fields
from ocrd.names import name_bytes, readable

# 2 added pages[].codes and fields; a version-1 document reads as one with neither.
SCHEMA_VERSION = 2
READABLE_SCHEMAS = (1, 2)

Quad = list[list[float]]  # four [x, y] corners, clockwise from top-left, in page pixels


def _rounded(box: Quad) -> Quad:
    return [[round(float(x), 1), round(float(y), 1)] for x, y in box]


@dataclass
class LinePart:
    """One piece of a line joined from several: a table cell, or words printed far apart."""

    text: str
    confidence: float
    box: Quad

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "confidence": round(float(self.confidence), 4), "box": _rounded(self.box)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LinePart:
        return cls(text=data["text"], confidence=float(data["confidence"]), box=data["box"])


@dataclass
class Line:
    text: str
    confidence: float
    box: Quad
    # The pieces in reading order, when the line was joined from several (absent otherwise):
    # their texts, joined by a space where they stood apart, are the line's text.
    parts: list[LinePart] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "text": self.text,
            "confidence": round(float(self.confidence), 4),
            "box": _rounded(self.box),
        }
        if self.parts:
            data["parts"] = [part.to_dict() for part in self.parts]
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Line:
        return cls(
            text=data["text"],
            confidence=float(data["confidence"]),
            box=data["box"],
            parts=[LinePart.from_dict(item) for item in data.get("parts", [])],
        )


@dataclass
class Code:
    """A machine-readable code found on the page (an invoice's QR code)."""

    text: str
    box: Quad
    symbology: str = "qr"

    def to_dict(self) -> dict[str, Any]:
        return {
            "symbology": self.symbology,
            "text": self.text,
            "box": [[round(float(x), 1), round(float(y), 1)] for x, y in self.box],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Code:
        return cls(text=data["text"], box=data["box"], symbology=data.get("symbology", "qr"))


@dataclass
class Page:
    index: int
    width: int
    height: int
    source: str = "ocr"  # "ocr" or "text-layer"
    lines: list[Line] = field(default_factory=list)
    codes: list[Code] = field(default_factory=list)
    # Clockwise degrees (0/90/180/270) the page was turned to be read; boxes stay on the page as it arrived.
    rotation: int = 0
    dpi: int | None = None  # a PDF page's rendering resolution (lowered for huge pages); None for images

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "width": self.width,
            "height": self.height,
            "source": self.source,
            "lines": [line.to_dict() for line in self.lines],
            "codes": [code.to_dict() for code in self.codes],
            "rotation": self.rotation,
            "dpi": self.dpi,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Page:
        return cls(
            index=int(data["index"]),
            width=int(data["width"]),
            height=int(data["height"]),
            source=data.get("source", "ocr"),
            lines=[Line.from_dict(item) for item in data.get("lines", [])],
            codes=[Code.from_dict(item) for item in data.get("codes", [])],
            rotation=int(data.get("rotation", 0)),
            dpi=None if data.get("dpi") is None else int(data["dpi"]),
        )


@dataclass
class Document:
    source: str
    pages: list[Page] = field(default_factory=list)
    sha256: str | None = None
    engine: dict[str, str] = field(default_factory=dict)
    timings_ms: dict[str, float] = field(default_factory=dict)
    fields: Fields | None = None  # None when the fields stage was off
    # Its id in the results index once recorded there (ocrd.results); not part of the result file.
    result_id: str | None = field(default=None, compare=False)

    @property
    def lines(self) -> list[Line]:
        return [line for page in self.pages for line in page.lines]

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"schema": SCHEMA_VERSION, "source": readable(self.source)}
        exact = name_bytes(self.source)
        if exact is not None:  # a name that is not valid text: its exact bytes, base64
            data["source_bytes"] = exact
        return data | {
            "sha256": self.sha256,
            "engine": dict(self.engine),
            "pages": [page.to_dict() for page in self.pages],
            "fields": None if self.fields is None else self.fields.to_dict(),
            "timings_ms": {key: round(value, 1) for key, value in self.timings_ms.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, indent=indent)

    def to_text(self) -> str:
        """Plain text in reading order; pages separated by a form feed, as pdftotext does."""
        return "\f".join(page.text for page in self.pages) + "\n"

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        if data.get("schema") not in READABLE_SCHEMAS:
            raise ValueError(f"unsupported result schema {data.get('schema')!r}")
        exact = data.get("source_bytes")
        return cls(
            source=os.fsdecode(base64.b64decode(exact)) if exact else data["source"],
            pages=[Page.from_dict(item) for item in data["pages"]],
            sha256=data.get("sha256"),
            engine=dict(data.get("engine", {})),
            timings_ms=dict(data.get("timings_ms", {})),
            fields=Fields.from_dict(data["fields"]) if data.get("fields") else None,
        )
