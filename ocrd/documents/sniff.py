"""Recognise a document's format from its first bytes; file names are never trusted."""

from __future__ import annotations

import os
import string

from ocrd.formats import SUPPORTED_FOR_HUMANS, SUPPORTED_FORMATS, has_supported_suffix

__all__ = [
    "HEAD_BYTES",
    "SUPPORTED_FORMATS",
    "SUPPORTED_FOR_HUMANS",
    "describe_unsupported",
    "is_supported",
    "sniff_format",
    "unsupported_reason",
]

# Enough for every signature below; PDF allows junk before "%PDF-" and readers
# accept it within the first 1 KiB, so that is what we read.
HEAD_BYTES = 1024

_TIFF_MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")  # classic and BigTIFF, both byte orders
# Sizes of the BMP info headers that exist (OS/2 1.x through BITMAPV5HEADER): "BM" alone
# is too weak a signature, a text file may start with those two letters.
_BMP_INFO_HEADER_SIZES = {12, 16, 40, 52, 56, 64, 108, 124}


def sniff_format(head: bytes) -> str | None:
    """The format of content starting with ``head``: one of SUPPORTED_FORMATS, or None."""
    if head.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head[:4] in _TIFF_MAGICS:
        return "tiff"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "webp"
    if head[:2] == b"BM" and int.from_bytes(head[14:18], "little") in _BMP_INFO_HEADER_SIZES:
        return "bmp"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if b"%PDF-" in head[:HEAD_BYTES]:
        return "pdf"
    return None


def describe_unsupported(head: bytes) -> str:
    """A short guess at what an unsupported file is, so the user knows what to convert."""
    if not head:
        return "an empty file (0 bytes)"
    if head.startswith(b"PK\x03\x04"):
        return "a ZIP container (DOCX, XLSX, OFD e-invoice or similar; export it as PDF)"
    if head[4:12] in (b"ftypheic", b"ftypheix", b"ftypmif1", b"ftyphevc"):
        return "a HEIC/HEIF photo (save it as JPEG)"
    if head.startswith((b"\x00\x00\x00\x0cjP  ", b"\xff\x4f\xff\x51")):
        return "a JPEG 2000 image"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "an old Microsoft Office document (DOC/XLS; export it as PDF)"
    if _looks_like_text(head):
        return "plain text, not an image or PDF"
    return "data of an unknown format"


def is_supported(name: str | os.PathLike[str], head: bytes) -> bool:
    """Worth reading: the name has a supported extension, or the content is a supported format.

    A file named like an image is read even when its content turns out to be something else,
    so the reader reports what is wrong with it instead of passing it over.
    """
    return has_supported_suffix(name) or sniff_format(head) is not None


def unsupported_reason(head: bytes) -> str:
    """Why content that ``sniff_format`` does not recognise is not read, and what is."""
    return f"not a supported type: {describe_unsupported(head)}; supported: {SUPPORTED_FOR_HUMANS}"


def _looks_like_text(head: bytes) -> bool:
    try:
        text = head.decode("utf-8")
    except UnicodeDecodeError:
        # The head may end in the middle of a multi-byte character.
        try:
            text = head[:-3].decode("utf-8")
        except UnicodeDecodeError:
            return False
    allowed_controls = set(string.whitespace)
    return all(ch.isprintable() or ch in allowed_controls for ch in text)
