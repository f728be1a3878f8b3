"""Checking searchable PDFs as a viewer reads them (poppler's pdftotext and pdfinfo), and a signed input."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pymupdf

from tests.daemon_support import image_pdf_bytes, normalize


def poppler(tool: str, path: Path) -> str:
    assert shutil.which(tool), f"{tool} not found: install the Debian package poppler-utils"
    args = [tool, "-enc", "UTF-8", str(path), "-"] if tool == "pdftotext" else [tool, str(path)]
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def page_count(path: Path) -> int:
    for line in poppler("pdfinfo", path).splitlines():
        if line.startswith("Pages:"):
            return int(line.split()[1])
    raise AssertionError(f"pdfinfo printed no page count for {path}")


def assert_searchable(pdf: Path, lines: list[str], pages: int) -> None:
    text = normalize(poppler("pdftotext", pdf))
    for line in lines:
        assert normalize(line) in text, f"{pdf.name}: {line!r} not in its text layer: {text!r}"
    assert page_count(pdf) == pages


def signed_pdf_bytes(lines: list[str]) -> bytes:
    """A scanned PDF whose form holds a signature field, as a signing tool leaves it (/SigFlags 3)."""
    document = pymupdf.open(stream=image_pdf_bytes([lines]), filetype="pdf")
    field = document.get_new_xref()
    document.update_object(field, "<</FT/Sig/T(Signature1)/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/F 132>>")
    document.xref_set_key(document.pdf_catalog(), "AcroForm", f"<</Fields[{field} 0 R]/SigFlags 3>>")
    data = document.tobytes()
    document.close()
    return data
