"""Small builders for test inputs that the sample generators do not cover: crafted headers,
page-tree-only PDFs, per-page TIFF tags. Everything is real file content, built in memory."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, TiffImagePlugin

# Four distinct colours (RGB), one per quadrant, so every flip and rotation gives a different image.
QUADRANT_COLOURS = ((230, 30, 30), (30, 30, 230), (20, 20, 20), (30, 200, 30))


def quadrant_image(width: int = 60, height: int = 40) -> Image.Image:
    """An RGB image whose quadrants (top-left, top-right, bottom-left, bottom-right) differ."""
    pixels = np.zeros((height, width, 3), np.uint8)
    half_h, half_w = height // 2, width // 2
    pixels[:half_h, :half_w] = QUADRANT_COLOURS[0]
    pixels[:half_h, half_w:] = QUADRANT_COLOURS[1]
    pixels[half_h:, :half_w] = QUADRANT_COLOURS[2]
    pixels[half_h:, half_w:] = QUADRANT_COLOURS[3]
    return Image.fromarray(pixels, "RGB")


def encode(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def png_declaring_size(width: int, height: int) -> bytes:
    """A valid-looking PNG of a few dozen bytes whose header declares ``width`` x ``height``
    grayscale pixels: a decompression bomb as far as any header check can tell. Its image
    data holds a single row, so decoding it would fail as truncated, not as too large."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    # An unfinished zlib stream: the decoder would ask for the missing rows and fail. (A
    # finished short stream would not fail: Pillow fills the missing rows with black.)
    stream = zlib.compressobj()
    one_row = stream.compress(b"\x00" * (width + 1)) + stream.flush(zlib.Z_SYNC_FLUSH)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", one_row) + chunk(b"IEND", b"")


def blank_pdf_bytes(page_count: int, width: float = 595, height: float = 842) -> bytes:
    """A well-formed PDF with ``page_count`` empty pages, written directly (milliseconds for
    10,000 pages; PyMuPDF's new_page takes about a millisecond per page)."""
    kids = " ".join(f"{number} 0 R" for number in range(3, page_count + 3))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
    ]
    page = f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {width} {height}] >>".encode()
    objects.extend([page] * page_count)
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref_at = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    out += f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref_at}\n%%EOF\n".encode()
    return bytes(out)


def tiff_bytes(frames: list[Image.Image], orientations: list[int] | None = None) -> bytes:
    """A multi-page TIFF, each page with its own mode and (optionally) its own Orientation tag."""
    buffer = io.BytesIO()
    with TiffImagePlugin.AppendingTiffWriter(buffer) as writer:
        for index, frame in enumerate(frames):
            tags = TiffImagePlugin.ImageFileDirectory_v2()
            if orientations is not None:
                tags[274] = orientations[index]
            frame.save(writer, "TIFF", tiffinfo=tags, compression="tiff_deflate" if frame.mode != "1" else None)
            writer.newFrame()
    return buffer.getvalue()
