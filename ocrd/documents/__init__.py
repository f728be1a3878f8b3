"""Document loading: images and PDFs in, one ``PageImage`` per page out.

Formats are recognised by content, never by file name: JPEG, PNG, BMP, WebP, TIFF
(every page) and PDF (every page; a real text layer is passed through as lines
instead of pixels). Every refusal is an ``ocrd.errors`` error naming the file.

Module map: ``loader`` (entry points) -> ``source`` (bytes, sizes, OS errors),
``sniff`` (format), ``images`` + ``pixels`` (raster decoding), ``pdf`` + ``textlayer``
(PDF rendering and the text-layer rule), ``guards`` (limit checks and their messages).
"""

from .loader import DEFAULT_DPI, count_pages, iter_pages, iter_pages_from_bytes
from .page import PageImage
from .sniff import SUPPORTED_FORMATS, sniff_format

__all__ = [
    "DEFAULT_DPI",
    "SUPPORTED_FORMATS",
    "PageImage",
    "count_pages",
    "iter_pages",
    "iter_pages_from_bytes",
    "sniff_format",
]
