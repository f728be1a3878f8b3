"""Document loading: images and PDFs in, one ``PageImage`` per page out.

Formats are recognised by content, never by file name: JPEG, PNG, TIFF (every page),
BMP, WebP, GIF (the first frame) and PDF (every page; a real text layer is passed through
as lines instead of pixels). Every refusal is an ``ocrd.errors`` error naming the file.

Module map: ``loader`` (entry points) -> ``source`` (bytes, sizes, OS errors),
``sniff`` (format by content; the supported list is ``ocrd.formats``), ``images`` + ``pixels``
(raster decoding), ``pdf`` + ``textlayer`` (PDF rendering and the text-layer rule),
``guards`` (limit checks and their messages).
"""

from ocrd.formats import SUPPORTED_FOR_HUMANS, SUPPORTED_FORMATS, SUPPORTED_SUFFIXES, has_supported_suffix

from .loader import DEFAULT_DPI, count_pages, iter_pages, iter_pages_from_bytes
from .page import PageImage
from .sniff import is_supported, sniff_format, unsupported_reason

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
