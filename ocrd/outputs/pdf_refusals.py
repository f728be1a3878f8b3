"""PDF inputs that must not get a text layer: refused before OCR, from the file's structure alone.

Adding a text layer rewrites the file. For most PDFs that changes nothing a reader can
see, but for two kinds it destroys something the sender put there on purpose:

* a digitally signed (or certified, or "Reader extended") PDF: its signature covers
  the exact bytes, so any rewrite makes every viewer report it as broken or tampered with;
* an encrypted PDF, even one that opens without a password: writing it out again would
  drop its encryption and permissions, handing out an unprotected copy.

Both are refused with ``PdfOutputRefusedError`` subclasses; the JSON and text results of
such a file are unaffected. So is a PDF/A request for a PDF input (see ``docs/pdf.md``).
"""

from __future__ import annotations

import mmap
from pathlib import Path

import pymupdf

from ocrd.documents.sniff import HEAD_BYTES, sniff_format
from ocrd.errors import CorruptFileError, PdfaInputError, ProtectedPdfError, SignedPdfError

# Signature fields are found by walking the field tree; this bounds a malicious one.
_MAX_FIELDS = 100_000
# The file is refused as a whole (nothing is written for it), so the advice is how to read it anyway.
_WHAT_TO_DO = (
    'to read its text, put it in an inbox whose outputs leave out "pdf" '
    "(or read it with ocrd ocr without --outputs pdf); the original is unchanged"
)


def is_pdf(source: Path) -> bool:
    with source.open("rb") as stream:
        return sniff_format(stream.read(HEAD_BYTES)) == "pdf"


def check_pdf_input(source: Path, *, pdfa: bool = False) -> None:
    """Raise when ``source`` is a PDF that cannot get a text layer without harm; images always pass.

    Cheap enough to call before OCR: it reads the PDF's cross-reference table and a few
    dictionaries, never a page's content.
    """
    source = Path(source)
    if not is_pdf(source):
        return
    try:
        doc = pymupdf.open(source, filetype="pdf")
    except Exception as err:  # MuPDF reports unreadable files as FileDataError or RuntimeError
        raise CorruptFileError(
            f"PDF cannot be opened ({err}); the file is damaged or incomplete", path=source.name
        ) from err
    with doc:
        check_open_pdf(doc, source.name, pdfa=pdfa, path=source)


def check_open_pdf(doc: pymupdf.Document, name: str, *, pdfa: bool = False, path: Path | None = None) -> None:
    if doc.xref_get_key(-1, "Encrypt")[0] != "null" or doc.metadata.get("encryption"):
        raise ProtectedPdfError(
            "PDF is encrypted; adding a text layer means writing it anew, which would drop its "
            f"protection and permissions, so no searchable copy is made. {_WHAT_TO_DO}",
            path=name,
        )
    why = signature_found(doc) or (_signature_bytes(path) if path is not None else "")
    if why:
        raise SignedPdfError(
            f"PDF is digitally signed ({why}); adding a text layer would break its signature. {_WHAT_TO_DO}",
            path=name,
        )
    if pdfa:
        raise PdfaInputError(
            "PDF/A output is made from images only: turning an arbitrary PDF into PDF/A means "
            "rewriting its fonts, colours and transparency, and the PDF output never changes a "
            "PDF's content. Turn 'pdfa' off for such files, or convert the PDF to PDF/A first "
            "(for example with Ghostscript) and submit that",
            path=name,
        )


def signature_found(doc: pymupdf.Document) -> str:
    """Why the document counts as signed (empty when not): SigFlags, a certification, a signature field."""
    catalog = doc.pdf_catalog()
    kind, flags = doc.xref_get_key(catalog, "AcroForm/SigFlags")
    if kind == "int" and int(flags) != 0:
        return "its form says it holds signatures"
    for key in ("Perms/DocMDP", "Perms/UR3", "Perms/UR"):
        if doc.xref_get_key(catalog, key)[0] != "null":
            return "it is certified or carries usage rights"
    if _has_signature_field(doc, catalog):
        return "it has a signature field"
    return ""


def _signature_bytes(path: Path) -> str:
    """A signature dictionary anywhere in the file, found by its /ByteRange.

    A signature covers the file's bytes except its own /Contents, so its dictionary always
    stands uncompressed in the file (never inside an object stream): a byte search finds it
    even when no field refers to it any more, at the cost of reading the file once.
    """
    if path.stat().st_size == 0:
        return ""
    with path.open("rb") as stream, mmap.mmap(stream.fileno(), 0, access=mmap.ACCESS_READ) as data:
        return "it contains a signature dictionary" if data.find(b"/ByteRange") >= 0 else ""


def _has_signature_field(doc: pymupdf.Document, catalog: int) -> bool:
    kind, value = doc.xref_get_key(catalog, "AcroForm/Fields")
    if kind != "array":
        return False
    pending = _refs(value)
    seen: set[int] = set()
    while pending and len(seen) < _MAX_FIELDS:
        xref = pending.pop()
        if xref in seen or not 0 < xref < doc.xref_length():
            continue
        seen.add(xref)
        if doc.xref_get_key(xref, "FT") == ("name", "/Sig"):
            return True
        kind, kids = doc.xref_get_key(xref, "Kids")
        if kind == "array":
            pending.extend(_refs(kids))
    return False


def _refs(array: str) -> list[int]:
    """Object numbers of the indirect references in a PDF array as PyMuPDF prints it ("[4 0 R 7 0 R]")."""
    tokens = array.strip("[]").split()
    return [int(tokens[i]) for i in range(len(tokens) - 2) if tokens[i + 2] == "R" and tokens[i].isdigit()]
