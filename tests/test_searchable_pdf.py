"""The searchable PDF writer, checked with the tools people open such files with: poppler and qpdf.

Every test reads real pages with the real engine and looks at the written file from the
outside: pdftotext must give back the recognised text and put it where the line boxes
are, pdffonts must see the font embedded, qpdf must find the file sound.
"""

from __future__ import annotations

import io
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import numpy as np
import pymupdf
import pytest
from PIL import Image

from ocrd import samples
from ocrd.documents import iter_pages
from ocrd.engine.pipeline import OcrPipeline
from ocrd.errors import PdfaInputError, ProtectedPdfError, SignedPdfError, SourceChangedError
from ocrd.outputs.pdf import check_pdf_input, write_searchable_pdf
from ocrd.outputs.pdfa import pdfa_problems
from ocrd.result import Document
from tests.builders import blank_pdf_bytes
from tests.paths import EVAL_DEV_PDF, EVAL_ROOT

OCRMYPDF = EVAL_ROOT / "ocrmypdf"
FONT_TAG = re.compile(r"^[A-Z]{6}\+DroidSansFallback")
# How far (points) a word's box may reach past its line's box: poppler measures glyphs
# from the font's ascent and descent, the engine from the ink.
TOLERANCE_POINTS = 2.0

_read_cache: dict[Path, Document] = {}


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: OcrPipeline) -> OcrPipeline:
    return shared_pipeline  # OcrPipeline(EngineSettings()), loaded once per session


def read(pipeline: OcrPipeline, path: Path) -> Document:
    """OCR ``path`` once per test module (a page costs seconds)."""
    if path not in _read_cache:
        _read_cache[path] = pipeline.run_path(path)
    return _read_cache[path]


def tool(*command: str | Path) -> str:
    done = subprocess.run([str(part) for part in command], capture_output=True, text=True, check=True)
    return done.stdout


def page_count(path: Path) -> int:
    return int(re.search(r"^Pages:\s+(\d+)", tool("pdfinfo", path), re.M).group(1))


def page_sizes(path: Path) -> list[tuple[float, float]]:
    """Each page's size as pdfinfo shows it (rotation applied), in points."""
    info = tool("pdfinfo", "-f", "1", "-l", str(page_count(path)), path)
    sizes = re.findall(r"^Page\s+\d+ size:\s+([\d.]+) x ([\d.]+) pts", info, re.M)
    rotations = [int(r) for r in re.findall(r"^Page\s+\d+ rot:\s+(\d+)", info, re.M)]
    return [
        (float(h), float(w)) if rot % 180 else (float(w), float(h))
        for (w, h), rot in zip(sizes, rotations, strict=True)
    ]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


def character_recall(document: Document, extracted: str) -> float:
    wanted = Counter(squash("".join(line.text for line in document.lines)))
    found = Counter(squash(extracted))
    return sum(min(count, found[char]) for char, count in wanted.items()) / max(1, sum(wanted.values()))


def words_with_boxes(path: Path, page: int) -> list[tuple[str, pymupdf.Rect]]:
    xml = tool("pdftotext", "-cropbox", "-bbox", "-f", str(page), "-l", str(page), path, "-")
    pattern = r'<word xMin="([-\d.]+)" yMin="([-\d.]+)" xMax="([-\d.]+)" yMax="([-\d.]+)">([^<]*)</word>'
    return [(text, pymupdf.Rect(*map(float, box))) for *box, text in re.findall(pattern, xml)]


def share_of_words_on_their_lines(pdf: Path, document: Document, shown: list[tuple[float, float]]) -> float:
    """Share of the words pdftotext finds that lie inside a recognised line box (mapped to points)
    whose text contains them."""
    placed = total = 0
    for result, (width, height) in zip(document.pages, shown, strict=True):
        if result.source != "ocr":
            continue
        scale_x, scale_y = width / result.width, height / result.height
        boxes = []
        for line in result.lines:
            xs, ys = [x * scale_x for x, _ in line.box], [y * scale_y for _, y in line.box]
            margin = TOLERANCE_POINTS
            box = pymupdf.Rect(min(xs) - margin, min(ys) - margin, max(xs) + margin, max(ys) + margin)
            boxes.append((squash(line.text), box))
        for text, word_box in words_with_boxes(pdf, result.index + 1):
            total += 1
            placed += any(text in line_text and box.contains(word_box) for line_text, box in boxes)
    return placed / max(1, total)


def assert_searchable(source: Path, document: Document, pdf: Path) -> None:
    """The checks every searchable PDF must pass."""
    assert "No syntax or stream encoding errors" in tool("qpdf", "--check", pdf)
    assert page_count(pdf) == len(document.pages)
    recall = character_recall(document, tool("pdftotext", pdf, "-"))
    assert recall >= 0.99, f"only {recall:.3f} of the recognised characters come back from pdftotext"
    fonts = [line.split() for line in tool("pdffonts", pdf).splitlines()[2:]]
    ours = [row for row in fonts if FONT_TAG.match(row[0])]
    assert ours, f"the text layer's font is missing: {fonts}"
    assert all(row[-5:-2] == ["yes", "yes", "yes"] for row in ours), f"not embedded as a subset with Unicode: {ours}"
    sizes = page_sizes(pdf)
    share = share_of_words_on_their_lines(pdf, document, sizes)
    assert share >= 0.95, f"only {share:.2f} of the words lie on their recognised lines"


# -- images ---------------------------------------------------------------------------------------


def test_a_dense_chinese_page_image_becomes_a_searchable_page(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = EVAL_DEV_PDF / "prc_data_security_law_p1.png"
    document = read(pipeline, source)
    assert len(document.lines) > 20
    pdf = tmp_path / "law.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    # The page is as large as the image at its stated resolution (or 200 dpi).
    with Image.open(source) as image:
        dpi = image.info.get("dpi", (200, 200))[0]
        expected = (image.width * 72 / round(dpi), image.height * 72 / round(dpi))
    assert page_sizes(pdf)[0] == pytest.approx(expected, abs=0.01)
    info = tool("pdfinfo", pdf)
    assert re.search(r"^Producer:\s+ocrd \d", info, re.M)
    assert re.search(r"^Title:\s+prc_data_security_law_p1$", info, re.M)
    assert re.search(r"^CreationDate:\s+\S", info, re.M)
    # No spaces between CJK characters: a phrase of the law is found as one string.
    text = tool("pdftotext", pdf, "-")
    assert "数据安全" in text


def test_a_scanned_jpeg_is_embedded_as_it_is(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = EVAL_DEV_PDF / "spm_contract_p1_scan.jpg"
    document = read(pipeline, source)
    pdf = tmp_path / "contract.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    with pymupdf.open(pdf) as doc:
        ((xref, *_),) = doc[0].get_images()
        assert doc.xref_get_key(xref, "Filter") == ("name", "/DCTDecode")
        assert doc.xref_stream_raw(xref) == source.read_bytes()
    # The JPEG plus a text layer: not a re-encoded copy of the image.
    assert pdf.stat().st_size < source.stat().st_size + 40_000


def test_a_multipage_tiff_gives_one_page_per_frame_in_order(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_multipage_tiff(tmp_path / "two.tiff", page_count=2)
    document = read(pipeline, sample.path)
    pdf = tmp_path / "two.pdf"
    write_searchable_pdf(sample.path, document, pdf)
    assert_searchable(sample.path, document, pdf)
    assert page_count(pdf) == 2
    for number in (1, 2):
        page_text = tool("pdftotext", "-f", str(number), "-l", str(number), pdf, "-")
        assert f"Page {number} of 2" in page_text


def test_a_jpeg_with_an_exif_rotation_is_shown_upright_with_its_text_on_it(
    pipeline: OcrPipeline, tmp_path: Path
) -> None:
    sample = samples.make_sample_page_png(tmp_path / "upright.png", ["旋转的照片 Rotated photo", "第二行 Second line"])
    upright = Image.open(sample.path).convert("RGB")
    exif = Image.Exif()
    exif[0x0112] = 6  # "turn 90 degrees clockwise to show": the camera was held sideways
    source = tmp_path / "sideways.jpg"
    upright.transpose(Image.Transpose.ROTATE_90).save(source, "JPEG", quality=92, exif=exif, dpi=(200, 200))
    document = read(pipeline, source)
    assert (document.pages[0].width, document.pages[0].height) == upright.size
    pdf = tmp_path / "sideways.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    width, height = page_sizes(pdf)[0]
    assert (width, height) == pytest.approx((upright.width * 72 / 200, upright.height * 72 / 200), abs=0.01)
    with pymupdf.open(pdf) as doc:
        pixmap = doc[0].get_pixmap(dpi=200, colorspace=pymupdf.csRGB, alpha=False)
    shown = np.asarray(Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples), dtype=np.int16)
    assert shown.shape[:2] == (upright.height, upright.width)
    assert np.abs(shown - np.asarray(upright, dtype=np.int16)).mean() < 4  # JPEG noise only


@pytest.mark.parametrize("fmt", ["BMP", "WEBP", "PNG-transparent", "TIFF-16bit"])
def test_every_image_format_shows_the_pixels_the_engine_read(pipeline: OcrPipeline, tmp_path: Path, fmt: str) -> None:
    sample = samples.make_sample_page_png(tmp_path / "page.png", ["格式测试 Format test 2024"])
    gray = Image.open(sample.path).convert("L")
    source = tmp_path / f"page.{fmt.lower()}"
    if fmt == "PNG-transparent":  # black ink on nothing: the engine puts it on white paper
        ink = Image.new("RGBA", gray.size, (0, 0, 0, 0))
        ink.putalpha(Image.eval(gray, lambda value: 255 - value))
        ink.save(source, "PNG", dpi=(200, 200))
    elif fmt == "TIFF-16bit":  # 12-bit data in a 16-bit file, as scanners write it
        Image.fromarray((np.asarray(gray, dtype=np.uint16) * 16).astype(np.uint16)).save(source, "TIFF", dpi=(200, 200))
    else:
        gray.convert("RGB").save(source, fmt, dpi=(200, 200), **({"lossless": True} if fmt == "WEBP" else {}))
    document = read(pipeline, source)
    pdf = tmp_path / "page.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    (engine_view,) = [page.image for page in iter_pages(source)]
    with pymupdf.open(pdf) as doc:
        pixmap = doc[0].get_pixmap(dpi=200, colorspace=pymupdf.csRGB, alpha=False)
    shown = np.asarray(Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples), dtype=np.int16)
    assert np.abs(shown - engine_view[..., ::-1].astype(np.int16)).mean() < 1  # lossless: the same pixels


def test_a_blank_page_gives_a_valid_pdf_without_text(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = tmp_path / "blank.png"
    Image.new("L", (800, 600), 255).save(source)
    document = read(pipeline, source)
    assert document.lines == []
    pdf = tmp_path / "blank.pdf"
    write_searchable_pdf(source, document, pdf)
    assert "No syntax or stream encoding errors" in tool("qpdf", "--check", pdf)
    assert page_count(pdf) == 1
    assert tool("pdftotext", pdf, "-").strip() == ""
    assert len(tool("pdffonts", pdf).splitlines()) == 2  # the header only: no font was needed


def test_the_same_input_gives_the_same_bytes(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = EVAL_DEV_PDF / "prc_data_security_law_p1.png"
    document = read(pipeline, source)
    write_searchable_pdf(source, document, tmp_path / "one.pdf")
    write_searchable_pdf(source, document, tmp_path / "two.pdf", title=None)
    assert (tmp_path / "one.pdf").read_bytes() == (tmp_path / "two.pdf").read_bytes()


def test_pdfa_output_has_what_pdfa_2b_asks_for(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = EVAL_DEV_PDF / "prc_data_security_law_p1.png"
    document = read(pipeline, source)
    pdf = tmp_path / "law-a.pdf"
    write_searchable_pdf(source, document, pdf, pdfa=True, title="数据安全法 <第一页>")
    assert_searchable(source, document, pdf)
    with pymupdf.open(pdf) as doc:
        assert pdfa_problems(doc) == []
        xmp = doc.get_xml_metadata()
        assert "数据安全法 &lt;第一页&gt;" in xmp
        assert doc.metadata["title"] == "数据安全法 <第一页>"
    assert re.search(r"^Metadata Stream:\s+yes", tool("pdfinfo", pdf), re.M)
    # The same file without pdfa is not claimed as PDF/A.
    write_searchable_pdf(source, document, tmp_path / "law.pdf")
    with pymupdf.open(tmp_path / "law.pdf") as doc:
        assert "pdfaid" not in doc.get_xml_metadata()


def test_a_pdfa_input_keeps_its_claim_and_its_metadata(pipeline: OcrPipeline, tmp_path: Path) -> None:
    """A PDF/A scan (here: ocrd's own, made without text) gets a text layer that keeps it PDF/A."""
    page = samples.make_sample_page_png(tmp_path / "archived.png", ["存档的扫描件 Archived scan"])
    source = tmp_path / "archived.pdf"
    write_searchable_pdf(page.path, Document(source="archived.png"), source, pdfa=True)
    document = read(pipeline, source)
    assert document.pages[0].source == "ocr"
    pdf = tmp_path / "archived-searchable.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    with pymupdf.open(source) as before, pymupdf.open(pdf) as after:
        assert after.get_xml_metadata() == before.get_xml_metadata()
        assert after.metadata == before.metadata
        assert pdfa_problems(after) == []


def test_a_changed_input_is_not_given_an_old_result(pipeline: OcrPipeline, tmp_path: Path) -> None:
    original = EVAL_DEV_PDF / "prc_data_security_law_p1.png"
    document = read(pipeline, original)
    changed = tmp_path / "prc_data_security_law_p1.png"
    shutil.copyfile(original, changed)
    with changed.open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(SourceChangedError, match="changed after it was read"):
        write_searchable_pdf(changed, document, tmp_path / "out.pdf")


# -- PDFs -----------------------------------------------------------------------------------------


def test_pdf_pages_keep_their_size_and_get_text_where_it_is_shown(pipeline: OcrPipeline, tmp_path: Path) -> None:
    """A turned page (/Rotate 90), a page cut by an offset crop box and a page whose scan lies on its side."""
    source = tmp_path / "geometry.pdf"
    with pymupdf.open(OCRMYPDF / "linn.pdf") as linn, pymupdf.open(OCRMYPDF / "cardinal.pdf") as cardinal:
        doc = pymupdf.open()
        doc.insert_pdf(linn)
        doc.insert_pdf(linn)
        doc.insert_pdf(cardinal, from_page=1, to_page=1)
        doc[0].set_rotation(90)
        doc[1].set_cropbox(pymupdf.Rect(30, 50, 560, 700))
        doc.save(source)
        doc.close()
    document = read(pipeline, source)
    assert [page.source for page in document.pages] == ["ocr"] * 3
    pdf = tmp_path / "geometry-searchable.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    assert page_sizes(pdf) == page_sizes(source)
    with pymupdf.open(source) as before, pymupdf.open(pdf) as after:
        assert [page.rotation for page in after] == [page.rotation for page in before] == [90, 0, 0]
        assert after[1].cropbox == before[1].cropbox
        # The scan itself is untouched: the same image object, byte for byte.
        for index in range(3):
            ((old, *_),) = before[index].get_images()
            ((new, *_),) = after[index].get_images()
            assert after.xref_stream_raw(new) == before.xref_stream_raw(old)


def test_a_pdf_text_layer_is_kept_byte_for_byte_and_only_scanned_pages_get_text(
    pipeline: OcrPipeline, tmp_path: Path
) -> None:
    scanned_lines = ["扫描的第二页", "Scanned second page 2024"]
    source = tmp_path / "mixed.pdf"
    doc = samples.text_page_pdf(["真正的文字层 第一页", "A real text layer, page one"], samples.A5)
    with samples.text_page_pdf(scanned_lines, samples.A5) as scan_source:
        buffer = io.BytesIO()
        samples.render_page(scan_source[0]).convert("L").save(buffer, "PNG")
    page = doc.new_page(width=samples.A5[0], height=samples.A5[1])
    page.insert_image(page.rect, stream=buffer.getvalue())
    doc.subset_fonts()
    doc.save(source, garbage=3, deflate=True)
    doc.close()
    document = read(pipeline, source)
    assert [page.source for page in document.pages] == ["text-layer", "ocr"]
    pdf = tmp_path / "mixed-searchable.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    assert tool("pdftotext", "-f", "1", "-l", "1", pdf, "-") == tool("pdftotext", "-f", "1", "-l", "1", source, "-")
    assert "扫描的第二页" in tool("pdftotext", "-f", "2", "-l", "2", pdf, "-")
    assert not [row for row in tool("pdffonts", "-f", "1", "-l", "1", pdf).splitlines() if FONT_TAG.match(row)]
    assert [row for row in tool("pdffonts", "-f", "2", "-l", "2", pdf).splitlines() if FONT_TAG.match(row)]


def test_a_page_inheriting_its_resources_keeps_them(pipeline: OcrPipeline, tmp_path: Path) -> None:
    """Resources held by the page tree (shared by its pages) stay reachable once the font is added."""
    source = tmp_path / "inherited.pdf"
    with samples.text_page_pdf(["继承的资源 Inherited resources"], samples.A5) as text_source:
        buffer = io.BytesIO()
        samples.render_page(text_source[0]).convert("L").save(buffer, "PNG")
    doc = pymupdf.open()
    page = doc.new_page(width=samples.A5[0], height=samples.A5[1])
    page.insert_image(page.rect, stream=buffer.getvalue())
    resources = doc.xref_get_key(page.xref, "Resources")[1]
    parent = int(doc.xref_get_key(page.xref, "Parent")[1].split()[0])
    doc.xref_set_key(parent, "Resources", resources)
    doc.xref_set_key(page.xref, "Resources", "null")
    doc.save(source)
    doc.close()
    document = read(pipeline, source)
    pdf = tmp_path / "inherited-searchable.pdf"
    write_searchable_pdf(source, document, pdf)
    assert_searchable(source, document, pdf)
    with pymupdf.open(source) as before, pymupdf.open(pdf) as after:
        assert after[0].get_images() and after[0].get_pixmap(dpi=50).samples == before[0].get_pixmap(dpi=50).samples


def test_a_text_only_pdf_comes_out_with_the_same_text(pipeline: OcrPipeline, tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "born-digital.pdf", page_count=2, text_layer=True)
    document = read(pipeline, sample.path)
    assert {page.source for page in document.pages} == {"text-layer"}
    pdf = tmp_path / "born-digital-searchable.pdf"
    write_searchable_pdf(sample.path, document, pdf)
    assert "No syntax or stream encoding errors" in tool("qpdf", "--check", pdf)
    assert tool("pdftotext", pdf, "-") == tool("pdftotext", sample.path, "-")
    assert page_sizes(pdf) == page_sizes(sample.path)
    assert not [row for row in tool("pdffonts", pdf).splitlines() if FONT_TAG.match(row)]


def test_blank_pdf_pages_stay_a_valid_pdf(pipeline: OcrPipeline, tmp_path: Path) -> None:
    source = tmp_path / "blank.pdf"
    source.write_bytes(blank_pdf_bytes(2))
    document = read(pipeline, source)
    assert document.lines == [] and len(document.pages) == 2
    pdf = tmp_path / "blank-searchable.pdf"
    write_searchable_pdf(source, document, pdf)
    assert "No syntax or stream encoding errors" in tool("qpdf", "--check", pdf)
    assert page_sizes(pdf) == page_sizes(source)
    # A result with no pages at all (nothing was read) still gives the document's pages.
    write_searchable_pdf(source, Document(source="blank.pdf"), tmp_path / "none.pdf")
    assert page_count(tmp_path / "none.pdf") == 2


# -- refusals -------------------------------------------------------------------------------------


def encrypted_pdf(path: Path) -> Path:
    """Opens without a password (no user password), but is encrypted with owner permissions."""
    doc = samples.text_page_pdf(["受保护的文件"], samples.A5)
    doc.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, owner_pw="owner", permissions=pymupdf.PDF_PERM_PRINT)
    doc.close()
    return path


def signed_looking_pdf(path: Path) -> Path:
    """An AcroForm with /SigFlags 3 and a signature field holding a /Sig dictionary, as signing tools write."""
    doc = samples.text_page_pdf(["已签名的合同"], samples.A5)
    page = doc[0]
    signature = doc.get_new_xref()
    doc.update_object(
        signature, "<</Type/Sig/Filter/Adobe.PPKLite/SubFilter/adbe.pkcs7.detached/ByteRange[0 0 0 0]/Contents<00>>>"
    )
    field = doc.get_new_xref()
    doc.update_object(
        field,
        f"<</FT/Sig/T(Signature1)/V {signature} 0 R/Type/Annot/Subtype/Widget/Rect[0 0 0 0]/F 132/P {page.xref} 0 R>>",
    )
    doc.xref_set_key(page.xref, "Annots", f"[{field} 0 R]")
    doc.xref_set_key(doc.pdf_catalog(), "AcroForm", f"<</Fields[{field} 0 R]/SigFlags 3>>")
    doc.save(path)
    doc.close()
    return path


def test_an_encrypted_pdf_is_refused_even_without_a_password(tmp_path: Path) -> None:
    source = encrypted_pdf(tmp_path / "protected.pdf")
    assert "Encrypted:       yes" in tool("pdfinfo", source)
    with pytest.raises(ProtectedPdfError, match=r"encrypted.*drop its protection") as caught:
        check_pdf_input(source)
    assert str(caught.value).startswith("protected.pdf: ")
    with pytest.raises(ProtectedPdfError):
        write_searchable_pdf(source, Document(source="protected.pdf"), tmp_path / "out.pdf")
    assert not (tmp_path / "out.pdf").exists()


def test_a_signed_pdf_is_refused(tmp_path: Path) -> None:
    source = signed_looking_pdf(tmp_path / "signed.pdf")
    with pytest.raises(SignedPdfError, match=r'digitally signed.*break its signature.*leave out "pdf"'):
        check_pdf_input(source)
    # A signature field alone (no SigFlags) is enough.
    with pymupdf.open(source) as doc:
        doc.xref_set_key(doc.pdf_catalog(), "AcroForm/SigFlags", "null")
        doc.save(tmp_path / "field-only.pdf")
    with pytest.raises(SignedPdfError, match="signature field"):
        check_pdf_input(tmp_path / "field-only.pdf")
    # So is a signature dictionary that no field refers to any more.
    with pymupdf.open(source) as doc:
        doc.xref_set_key(doc.pdf_catalog(), "AcroForm", "null")
        doc.xref_set_key(doc[0].xref, "Annots", "null")
        doc.save(tmp_path / "orphan.pdf")
    with pytest.raises(SignedPdfError, match="signature dictionary"):
        check_pdf_input(tmp_path / "orphan.pdf")
    with pytest.raises(SignedPdfError):
        write_searchable_pdf(source, Document(source="signed.pdf"), tmp_path / "out.pdf")


def test_plain_inputs_pass_the_check_and_pdfa_of_a_pdf_is_refused(tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "plain.pdf", page_count=1, text_layer=True)
    check_pdf_input(sample.path)
    check_pdf_input(EVAL_DEV_PDF / "spm_contract_p1_scan.jpg")
    check_pdf_input(EVAL_DEV_PDF / "spm_contract_p1_scan.jpg", pdfa=True)
    with pytest.raises(PdfaInputError, match="PDF/A output is made from images only"):
        check_pdf_input(sample.path, pdfa=True)
