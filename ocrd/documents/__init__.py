"""Document loading: images and PDFs in, one ``PageImage`` per page out.

Formats are recognised by content, never by file name: JPEG, PNG, TIFF (every page),
BMP, WebP, GIF (the first frame) and PDF (every page; a real text layer is passed through
as lines instead of pixels). Every refusal is an ``ocrd.errors`` error naming the file.

Module map: ``loader`` (entry points) -> ``source`` (bytes, sizes, OS errors),
``sniff`` (format by content; the supported list is ``ocrd.formats``), ``images`` + ``pixels``
(raster decoding), ``pdf`` + ``textlayer`` (PDF rendering and the text-layer rule),
``guards`` (limit checks and their messages).
"""

from __future__ import annotations

from typing import Any

from ocrd.formats import SUPPORTED_FOR_HUMANS, SUPPORTED_FORMATS, SUPPORTED_SUFFIXES, has_supported_suffix

from .sniff import is_supported, sniff_format, unsupported_reason

# The loaders bring PyMuPDF, OpenCV and numpy (about a second to import): they are imported when
# first used, so a command or a module that only sniffs formats does not pay for them.
_LAZY = {
    "DEFAULT_DPI": "loader",
    "count_pages": "loader",
    "iter_pages": "loader",
    "iter_pages_from_bytes": "loader",
    "PageImage": "page",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


__all__ = [
    "DEFAULT_DPI",
    "SUPPORTED_FORMATS",
    "SUPPORTED_FOR_HUMANS",
    "SUPPORTED_SUFFIXES",
    "PageImage",
    "count_pages",
    "has_supported_suffix",
    "is_supported",
    "iter_pages",
    "iter_pages_from_bytes",
    "sniff_format",
    "unsupported_reason",
]
