"""Sample documents the project generates itself, each with its ground-truth text.

Tests, benchmarks and the README quick start need realistic Chinese + English documents
without shipping any: these are drawn with PyMuPDF's built-in CJK font ("china-s",
Droid Sans Fallback), so no font file has to exist on disk. Every generator returns a
``SampleDocument`` with the lines each page shows, in reading order, so recognised
text can be checked against it.

Text is at least 12 pt and images are rendered at 200 dpi (about 33 px per line),
comfortably readable by OCR. Everything is deterministic: the same call writes the
same pixels.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pymupdf
from PIL import Image, ImageFilter

CJK_FONT = "china-s"
RENDER_DPI = 200
# A Chinese VAT invoice is printed on 240 x 140 mm paper.
INVOICE_SIZE = (240 / 25.4 * 72, 140 / 25.4 * 72)
A5 = (pymupdf.paper_rect("a5").width, pymupdf.paper_rect("a5").height)
MARGIN = 40.0
BODY_SIZE = 12.0
TITLE_SIZE = 20.0
LINE_GAP = 1.8  # baseline distance as a multiple of the font size
TITLE_EXTRA_GAP = 0.6

INVOICE_TITLE = "增值税普通发票"
INVOICE_BODY = (
    "发票代码: 044031900111",
    "发票号码: 12345678",
    "开票日期: 2024年03月15日",
    "购买方名称: 上海示例科技有限公司",
    "纳税人识别号: 91310000MA1FL4XX2K",
    "货物名称: 办公用品 Office Supplies",
    "数量: 10 单价: 123.45",
    "金额 ¥1,234.50",
    "税率 3% 税额 ¥37.04",
    "价税合计 ¥1,271.54",
    "销售方名称: 北京示例贸易有限公司",
    "Invoice No. 12345678 Total CNY 1,271.54",
)


@dataclass(frozen=True)
class SampleDocument:
    path: Path
    pages: list[list[str]]  # the lines each page shows, in reading order

    @property
    def lines(self) -> list[str]:
        return [line for page in self.pages for line in page]

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@dataclass(frozen=True)
class PlacedLine:
    """A line of text and where it was drawn: baseline start and size in PDF points."""

    text: str
    x: float
    y: float
    size: float


def invoice_lines() -> list[str]:
    return [INVOICE_TITLE, *INVOICE_BODY]


def page_number_lines(number: int, count: int) -> list[str]:
    """The lines of page ``number`` (1-based) of a multi-page sample: the page says where it belongs."""
    return [f"第 {number} 页", f"Page {number} of {count}", f"合同编号 HT-2024-{number:03d} 第{number}条"]


# -- drawing ------------------------------------------------------------------------------


def layout_lines(lines: list[str], *, first_size: float = BODY_SIZE, size: float = BODY_SIZE) -> list[PlacedLine]:
    """Top-to-bottom placement of ``lines`` from the top-left margin; the first may be a title."""
    placed = []
    y = MARGIN
    for index, text in enumerate(lines):
        line_size = first_size if index == 0 else size
        y += line_size * LINE_GAP
        if index == 1 and first_size != size:
            y += first_size * TITLE_EXTRA_GAP  # room under a title (for the invoice's rule)
        placed.append(PlacedLine(text, MARGIN, y, line_size))
    return placed


def draw_lines(page: pymupdf.Page, placed: list[PlacedLine], *, render_mode: int = 0) -> None:
    """Write real text (a text layer) with the built-in CJK font; render_mode 3 writes it invisibly."""
    font = pymupdf.Font(CJK_FONT)
    writer = pymupdf.TextWriter(page.rect)
    for line in placed:
        writer.append((line.x, line.y), line.text, font=font, fontsize=line.size)
    writer.write_text(page, render_mode=render_mode)


def text_page_pdf(lines: list[str], size: tuple[float, float], *, title: bool = False) -> pymupdf.Document:
    """A one-page PDF showing ``lines`` as real text."""
    document = pymupdf.open()
    page = document.new_page(width=size[0], height=size[1])
    placed = layout_lines(lines, first_size=TITLE_SIZE if title else BODY_SIZE)
    if title:
        _draw_invoice_frame(page, placed)
    draw_lines(page, placed)
    return document


def _draw_invoice_frame(page: pymupdf.Page, placed: list[PlacedLine]) -> None:
    # A frame and a rule under the title, as printed invoices have; vector lines, no text.
    inset = MARGIN / 2
    frame = pymupdf.Rect(inset, inset, page.rect.width - inset, page.rect.height - inset)
    page.draw_rect(frame, color=(0.6, 0.3, 0.2), width=1.2)
    rule_y = placed[0].y + placed[0].size * 0.5
    page.draw_line((frame.x0, rule_y), (frame.x1, rule_y), color=(0.6, 0.3, 0.2), width=0.8)


def render_page(page: pymupdf.Page, dpi: int = RENDER_DPI) -> Image.Image:
    pixmap = page.get_pixmap(dpi=dpi, colorspace=pymupdf.csRGB, alpha=False)
    return Image.frombytes("RGB", (pixmap.width, pixmap.height), pixmap.samples)


def scan_effect(image: Image.Image, *, angle: float = 1.5, seed: int = 7) -> Image.Image:
    """Make a clean render look scanned: greyish paper, a slight tilt, blur and sensor noise."""
    gray = image.convert("L").rotate(angle, resample=Image.Resampling.BICUBIC, fillcolor=255)
    gray = gray.filter(ImageFilter.GaussianBlur(0.6))
    pixels = np.asarray(gray, dtype=np.float32) * (235 / 255) + 12
    pixels += np.random.default_rng(seed).normal(0.0, 6.0, pixels.shape)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8), "L")


def _save_pdf(document: pymupdf.Document, path: Path) -> None:
    document.subset_fonts()  # keep only the glyphs used: 10 KB instead of the 3.5 MB font
    document.save(path, garbage=3, deflate=True)
    document.close()


def _image_pdf(images: list[Image.Image], page_size: tuple[float, float], *, jpeg: bool) -> pymupdf.Document:
    """A PDF whose pages are only these images, as a scanner writes it (no text layer)."""
    document = pymupdf.open()
    for image in images:
        page = document.new_page(width=page_size[0], height=page_size[1])
        buffer = io.BytesIO()
        if jpeg:
            image.save(buffer, "JPEG", quality=80)
        else:
            image.save(buffer, "PNG")
        page.insert_image(page.rect, stream=buffer.getvalue())
    return document


# -- sample documents ---------------------------------------------------------------------


def make_sample_page_png(path: str | Path, lines: list[str], *, dpi: int = RENDER_DPI) -> SampleDocument:
    """A clean PNG page showing ``lines``, sized to fit them."""
    path = Path(path)
    font = pymupdf.Font(CJK_FONT)
    width = max(font.text_length(line, fontsize=BODY_SIZE) for line in lines) + 2 * MARGIN
    height = 2 * MARGIN + len(lines) * BODY_SIZE * LINE_GAP
    document = text_page_pdf(lines, (width, height))
    render_page(document[0], dpi).save(path, "PNG")
    document.close()
    return SampleDocument(path, [list(lines)])


def make_invoice_like_pdf(path: str | Path, text_layer: bool = True) -> SampleDocument:
    """A Chinese VAT-invoice-like page; with ``text_layer=False`` it is an image-only PDF (render it)."""
    path = Path(path)
    document = text_page_pdf(invoice_lines(), INVOICE_SIZE, title=True)
    if not text_layer:
        image = render_page(document[0])
        document.close()
        document = _image_pdf([image], INVOICE_SIZE, jpeg=False)
    _save_pdf(document, path)
    return SampleDocument(path, [invoice_lines()])


def make_scanned_invoice_jpg(path: str | Path, *, angle: float = 1.5, seed: int = 7) -> SampleDocument:
    """The invoice as a phone or flatbed scan: tilted a few degrees, noisy, JPEG at 200 dpi."""
    path = Path(path)
    document = text_page_pdf(invoice_lines(), INVOICE_SIZE, title=True)
    scan_effect(render_page(document[0]), angle=angle, seed=seed).save(path, "JPEG", quality=80, dpi=(200, 200))
    document.close()
    return SampleDocument(path, [invoice_lines()])


def make_scanned_invoice_pdf(
    path: str | Path, *, ocr_layer: bool = False, angle: float = 1.5, seed: int = 7
) -> SampleDocument:
    """The scanned invoice in a PDF, as a scanner writes it.

    ``ocr_layer=True`` adds what OCRmyPDF or a scanner's "searchable PDF" adds: the text,
    drawn invisibly (render mode 3) over the scan.
    """
    path = Path(path)
    source = text_page_pdf(invoice_lines(), INVOICE_SIZE, title=True)
    scan = scan_effect(render_page(source[0]), angle=angle, seed=seed)
    source.close()
    document = _image_pdf([scan], INVOICE_SIZE, jpeg=True)
    if ocr_layer:
        draw_lines(document[0], layout_lines(invoice_lines(), first_size=TITLE_SIZE), render_mode=3)
    _save_pdf(document, path)
    return SampleDocument(path, [invoice_lines()])


def make_multipage_pdf(path: str | Path, page_count: int = 3, *, text_layer: bool = False) -> SampleDocument:
    """A multi-page A5 document; every page shows its number ("第 3 页", "Page 3 of 5")."""
    path = Path(path)
    pages = [page_number_lines(number, page_count) for number in range(1, page_count + 1)]
    if text_layer:
        document = pymupdf.open()
        for lines in pages:
            draw_lines(document.new_page(width=A5[0], height=A5[1]), layout_lines(lines))
    else:
        images = []
        for lines in pages:
            with text_page_pdf(lines, A5) as page_source:
                images.append(render_page(page_source[0]).convert("L"))
        document = _image_pdf(images, A5, jpeg=False)
    _save_pdf(document, path)
    return SampleDocument(path, pages)


def make_multipage_tiff(path: str | Path, page_count: int = 3, *, dpi: int = RENDER_DPI) -> SampleDocument:
    """A multi-page TIFF, as a document scanner writes it; every page shows its number."""
    path = Path(path)
    pages = [page_number_lines(number, page_count) for number in range(1, page_count + 1)]
    images = []
    for lines in pages:
        with text_page_pdf(lines, A5) as page_source:
            images.append(render_page(page_source[0], dpi).convert("L"))
    images[0].save(path, "TIFF", save_all=True, append_images=images[1:], compression="tiff_deflate", dpi=(dpi, dpi))
    return SampleDocument(path, pages)


def write_sample_documents(folder: str | Path) -> list[SampleDocument]:
    """A small, varied set: born-digital and scanned invoices, a multi-page PDF and TIFF, a PNG."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [
        make_invoice_like_pdf(folder / "invoice_text_layer.pdf", text_layer=True),
        make_scanned_invoice_jpg(folder / "invoice_scan.jpg"),
        make_scanned_invoice_pdf(folder / "invoice_scan.pdf"),
        make_multipage_pdf(folder / "contract_3_pages.pdf", 3),
        make_multipage_tiff(folder / "contract_2_pages.tiff", 2),
        make_sample_page_png(folder / "hello.png", ["你好,世界", "Hello, world 2024"]),
    ]


def write_sample_set(folder: str | Path) -> list[Path]:
    """Write the sample documents into ``folder`` (created if needed); returns their paths."""
    return [sample.path for sample in write_sample_documents(folder)]


def main(argv: list[str] | None = None) -> int:
    """``python -m ocrd.samples FOLDER``: write the sample set, print each file and its first line."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m ocrd.samples FOLDER", file=sys.stderr)
        return 2
    for sample in write_sample_documents(args[0]):
        print(f"{sample.path}\t{len(sample.pages)} page(s)\t{sample.lines[0]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
