"""What ocrd reads: the one list of supported formats, for the loader, the CLI, the daemon and config.

The content decides what a file is (``ocrd.documents.sniff.sniff_format``); names only pick
which files in a folder are worth opening. This module imports nothing heavy, so the daemon's
supervisor process can use it without loading any decoder.
"""

from __future__ import annotations

import os

# The names ``sniff_format`` returns, in the order people see them listed.
SUPPORTED_FORMATS = ("jpeg", "png", "tiff", "bmp", "webp", "gif", "pdf")
# Every page of a TIFF and a PDF is read; of a GIF, the first frame (an animation's later
# frames are not pages of a document).
SUPPORTED_FOR_HUMANS = "JPG, PNG, TIFF, BMP, WebP, GIF, PDF"

# The file name extensions those formats are saved with, lower case (the default inbox patterns).
SUPPORTED_SUFFIXES = (".pdf", ".png", ".jpg", ".jpeg", ".tif", ".tiff", ".bmp", ".webp", ".gif")


def has_supported_suffix(name: str | os.PathLike[str]) -> bool:
    """True when the file name ends in an extension of a supported format (any letter case)."""
    return os.path.splitext(os.fspath(name))[1].lower() in SUPPORTED_SUFFIXES
