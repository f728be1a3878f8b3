"""PDF/A-2b for searchable PDFs made from images: the parts ocrd adds, and a check of what it can check.

A PDF made from an image by ``ocrd.outputs.pdf`` already avoids what PDF/A forbids
(transparency, unembedded fonts, .notdef glyphs, LZW, encryption, external content). For
the claim it needs in addition:

* an output intent whose profile says what the device colours (DeviceRGB, DeviceGray)
  mean: sRGB, as built by LittleCMS through Pillow, which ocrd already depends on, so no
  profile file has to be shipped or found on the system;
* XMP metadata declaring part 2, conformance B, and agreeing with the document
  information dictionary (title, producer, creator, dates);
* a file identifier (written for every PDF by ``ocrd.outputs.pdf``).

``pdfa_problems`` re-reads a written file for the rules this module can check itself. It
is not a validator: docs/pdf.md says what only a real one (veraPDF) could confirm.
"""

from __future__ import annotations

import re
from datetime import datetime
from xml.sax.saxutils import escape

import pymupdf
from PIL import ImageCms

from .pdf_font import new_stream

OUTPUT_CONDITION = "sRGB IEC61966-2.1"
# ISO 19005-2, 6.2.3: an output intent profile is a display, printer, scanner or colour space
# profile of major version 4 or lower.
_PROFILE_CLASSES = (b"mntr", b"prtr", b"scnr", b"spac")
_MAX_PROFILE_MAJOR = 4


def srgb_profile() -> bytes:
    profile = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    if profile[12:16] not in _PROFILE_CLASSES or profile[8] > _MAX_PROFILE_MAJOR or profile[16:20] != b"RGB ":
        raise RuntimeError(f"LittleCMS's sRGB profile is not usable for PDF/A (header {profile[8:20]!r})")
    return profile


def make_pdfa(doc: pymupdf.Document, when: datetime) -> None:
    """Add the output intent and the XMP metadata; the document information must be set already."""
    profile = new_stream(doc, srgb_profile())
    doc.xref_set_key(profile, "N", "3")
    intent = doc.get_new_xref()
    doc.update_object(
        intent,
        f"<</Type/OutputIntent/S/GTS_PDFA1/OutputConditionIdentifier({OUTPUT_CONDITION})"
        f"/Info({OUTPUT_CONDITION})/DestOutputProfile {profile} 0 R>>",
    )
    doc.xref_set_key(doc.pdf_catalog(), "OutputIntents", f"[{intent} 0 R]")
    doc.set_xml_metadata(xmp_packet(doc.metadata or {}, when))


def declares_pdfa(doc: pymupdf.Document) -> bool:
    """Whether the document's XMP metadata claims PDF/A conformance (any part)."""
    return re.search(r"pdfaid:part\s*(>|=)", doc.get_xml_metadata() or "") is not None


def xmp_packet(info: dict[str, str], when: datetime) -> str:
    """XMP for PDF/A-2b, each value the same as the information dictionary's."""

    def date(value: str | None) -> str:
        return xmp_date(value) or when.strftime("%Y-%m-%dT%H:%M:%S+00:00")

    title = escape(info.get("title") or "")
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        '<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '<rdf:Description rdf:about=""'
        ' xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:xmp="http://ns.adobe.com/xap/1.0/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/"'
        ' xmlns:pdfaid="http://www.aiim.org/pdfa/ns/id/">\n'
        "<dc:format>application/pdf</dc:format>\n"
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{title}</rdf:li></rdf:Alt></dc:title>\n'
        f"<xmp:CreateDate>{date(info.get('creationDate'))}</xmp:CreateDate>\n"
        f"<xmp:ModifyDate>{date(info.get('modDate'))}</xmp:ModifyDate>\n"
        f"<xmp:MetadataDate>{date(info.get('modDate'))}</xmp:MetadataDate>\n"
        f"<xmp:CreatorTool>{escape(info.get('creator') or '')}</xmp:CreatorTool>\n"
        f"<pdf:Producer>{escape(info.get('producer') or '')}</pdf:Producer>\n"
        "<pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n"
        "</rdf:Description>\n</rdf:RDF>\n</x:xmpmeta>\n" + " " * 1024 + '\n<?xpacket end="w"?>'
        # Room to edit the metadata in place, as the XMP specification suggests.
    )


def xmp_date(value: str | None) -> str | None:
    """A PDF date (D:YYYYMMDDHHmmSS+HH'mm') as XMP writes it; None when it is not one."""
    found = re.fullmatch(r"D:(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(?:Z|([+-])(\d{2})'?(\d{2})'?)?", value or "")
    if not found:
        return None
    year, month, day, hour, minute, second, sign, zone_h, zone_m = found.groups()
    zone = f"{sign}{zone_h}:{zone_m}" if sign else "Z"
    return f"{year}-{month}-{day}T{hour}:{minute}:{second}{zone}"


def pdfa_problems(doc: pymupdf.Document) -> list[str]:
    """What a written file gets wrong among the PDF/A-2b rules checked here (empty: none found)."""
    problems = []
    catalog = doc.pdf_catalog()
    if doc.xref_get_key(-1, "Encrypt")[0] != "null":
        problems.append("the file is encrypted")
    if doc.xref_get_key(-1, "ID")[0] != "array":
        problems.append("the trailer has no file identifier")
    xmp = doc.get_xml_metadata()
    if "<pdfaid:part>2</pdfaid:part>" not in xmp or "<pdfaid:conformance>B</pdfaid:conformance>" not in xmp:
        problems.append("the XMP metadata does not declare PDF/A-2b")
    info = doc.metadata or {}
    for key, tag in (("producer", "pdf:Producer"), ("creator", "xmp:CreatorTool")):
        if info.get(key) and f"<{tag}>{escape(info[key])}</{tag}>" not in xmp:
            problems.append(f"the XMP {tag} differs from the information dictionary's {key}")
    for key, tag in (("creationDate", "xmp:CreateDate"), ("modDate", "xmp:ModifyDate")):
        if info.get(key) and f"<{tag}>{xmp_date(info[key])}</{tag}>" not in xmp:
            problems.append(f"the XMP {tag} differs from the information dictionary's {key}")
    intents = doc.xref_get_key(catalog, "OutputIntents")
    if intents[0] != "array" or "/DestOutputProfile" not in doc.xref_object(int(intents[1].strip("[]").split()[0])):
        problems.append("there is no PDF/A output intent with a profile")
    for xref in range(1, doc.xref_length()):
        problems.extend(_object_problems(doc, xref))
    return problems


def _object_problems(doc: pymupdf.Document, xref: int) -> list[str]:
    text = doc.xref_object(xref, compressed=True)
    problems = []
    if "/SMask" in text or re.search(r"/(CA|ca) (0?\.\d+|0)\b", text) or "/S/Transparency" in text:
        problems.append(f"object {xref} uses transparency")
    if re.search(r"/BM/(?!Normal|Compatible)", text):
        problems.append(f"object {xref} uses a blend mode")
    if "/Interpolate true" in text:
        problems.append(f"object {xref} asks for image interpolation")
    if "/LZWDecode" in text or "/JavaScript" in text:
        problems.append(f"object {xref} uses LZW or JavaScript")
    if "/Type/FontDescriptor" in text and not re.search(r"/FontFile[23]? ", text):
        problems.append(f"font descriptor {xref} has no embedded font program")
    if re.search(r"/Subtype/(Type1|MMType1|TrueType)\b", text) and "/FontDescriptor" not in text:
        problems.append(f"font {xref} is a standard font that is not embedded")
    if "/Subtype/CIDFontType2" in text and "/CIDToGIDMap" not in text:
        problems.append(f"CID font {xref} has no CIDToGIDMap")
    if "/Type/Metadata" in text and "/Filter" in text:
        problems.append(f"metadata stream {xref} is compressed")
    return problems
