"""What the loader hands to the engine: one page at a time."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ocrd.result import Line


@dataclass
class PageImage:
    """One page of a document, either as pixels to OCR or as lines from a PDF text layer.

    ``width``/``height`` are the page size in pixels as the engine sees it (for a PDF
    page: the size it renders to at the requested dpi), so line boxes from a text layer
    and from OCR are in the same coordinates.
    """

    index: int  # 0-based page index within the document
    width: int
    height: int
    image: np.ndarray | None  # BGR uint8, HxWx3, C-contiguous; None when text_lines is used
    text_lines: list[Line] | None = None  # from a PDF text layer, reading order, confidence 1.0
    # For a text-layer page: renders it (BGR, same size) while its document is open, for
    # callers that need its pixels anyway (the QR code of an invoice PDF).
    render: Callable[[], np.ndarray] | None = None
    dpi: int | None = None  # a PDF page's rendering resolution (below the requested one for a huge page)

    @property
    def from_text_layer(self) -> bool:
        return self.text_lines is not None
