"""Document loading on real files: every format, pixel mode and refusal, checked by content."""

from __future__ import annotations

import io
import re
import struct
import tomllib
import tracemalloc
import warnings
from pathlib import Path

import cv2
import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageOps

from ocrd import samples
from ocrd.config import DEFAULT_PATTERNS, Limits
from ocrd.documents import (
    SUPPORTED_FORMATS,
    SUPPORTED_SUFFIXES,
    PageImage,
    count_pages,
    is_supported,
    iter_pages,
    iter_pages_from_bytes,
    sniff_format,
    unsupported_reason,
)
from ocrd.documents.pixels import choose_background, deep_to_uint8, to_bgr
from ocrd.documents.textlayer import TextLayerFacts, decide
from ocrd.errors import (
    CorruptFileError,
    EmptyFileError,
    EncryptedDocumentError,
    InputError,
    LimitExceededError,
    UnsupportedFormatError,
    UsageError,
)
from tests.builders import (
    QUADRANT_COLOURS,
    blank_pdf_bytes,
    encode,
    png_declaring_size,
    quadrant_image,
    tiff_bytes,
)
from tests.paths import REPO


def load(path: Path, **options) -> list[PageImage]:
    return list(iter_pages(path, **options))


def load_one(path: Path, **options) -> PageImage:
    pages = load(path, **options)
    assert len(pages) == 1
    return pages[0]


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def bgr(rgb: tuple[int, int, int]) -> list[int]:
    return list(rgb[::-1])


def assert_engine_image(page: PageImage) -> None:
    """What the engine relies on: BGR uint8 HxWx3, contiguous, matching width/height."""
    assert page.image is not None and page.text_lines is None
    assert page.image.dtype == np.uint8 and page.image.ndim == 3 and page.image.shape[2] == 3
    assert page.image.flags["C_CONTIGUOUS"]
    assert page.image.shape[:2] == (page.height, page.width)


def text_pdf(path: Path, lines: list[tuple[str, float, float, float]], *, size=(400, 300), render_mode=0) -> Path:
    """A one-page PDF with real text: (text, x, baseline y, font size) in points."""
    document = pymupdf.open()
    page = document.new_page(width=size[0], height=size[1])
    placed = [samples.PlacedLine(text, x, y, font_size) for text, x, y, font_size in lines]
    samples.draw_lines(page, placed, render_mode=render_mode)
    document.save(path)
    return path


# -- formats, recognised by content -------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "data"),
    [
        ("jpeg", encode(quadrant_image(), "JPEG")),
        ("png", encode(quadrant_image(), "PNG")),
        ("bmp", encode(quadrant_image(), "BMP")),
        ("webp", encode(quadrant_image(), "WEBP", lossless=True)),
        ("tiff", encode(quadrant_image(), "TIFF")),
        ("tiff", b"MM\x00*" + bytes(12)),  # big-endian TIFF
        ("gif", encode(quadrant_image(), "GIF")),
        ("gif", b"GIF87a" + bytes(10)),
        ("pdf", blank_pdf_bytes(1)),
        ("pdf", b"\r\n\r\n%PDF-1.4\n"),  # junk before the header is allowed
        (None, b"hello, this is text"),
        (None, b"GIF8 is a text file starting with GIF8"),
        (None, b"BM is a text file starting with BM"),
        (None, b""),
    ],
)
def test_sniff_format_reads_the_signature(fmt: str | None, data: bytes) -> None:
    assert sniff_format(data[:1024]) == fmt


@pytest.mark.parametrize(
    ("fmt", "options", "lossless"),
    [
        ("JPEG", {"quality": 95}, False),
        ("PNG", {}, True),
        ("BMP", {}, True),
        ("WEBP", {"lossless": True}, True),
        ("TIFF", {"compression": "tiff_lzw"}, True),
        ("GIF", {}, True),  # four colours fit its palette exactly
    ],
)
def test_every_image_format_loads_as_bgr(tmp_path: Path, fmt: str, options: dict, lossless: bool) -> None:
    original = quadrant_image(64, 48)
    page = load_one(write(tmp_path / f"page.{fmt.lower()}", encode(original, fmt, **options)))
    assert_engine_image(page)
    assert (page.index, page.width, page.height) == (0, 64, 48)
    if lossless:
        assert np.array_equal(page.image, cv2.cvtColor(np.asarray(original), cv2.COLOR_RGB2BGR))
    centres = [(12, 16), (12, 48), (36, 16), (36, 48)]  # (row, column) of each quadrant
    for (row, column), colour in zip(centres, QUADRANT_COLOURS, strict=True):
        assert page.image[row, column].tolist() == pytest.approx(bgr(colour), abs=0 if lossless else 12)


def test_the_file_name_extension_is_ignored(tmp_path: Path) -> None:
    png_named_pdf = write(tmp_path / "scan.pdf", encode(quadrant_image(), "PNG"))
    assert load_one(png_named_pdf).image is not None
    pdf_named_png = write(tmp_path / "report.png", blank_pdf_bytes(2))
    assert len(load(pdf_named_png)) == 2


def test_a_text_file_named_jpg_is_refused_as_unsupported(tmp_path: Path) -> None:
    path = write(tmp_path / "photo.jpg", "发票 invoice total 1,234.50\n".encode())
    with pytest.raises(UnsupportedFormatError) as caught:
        load(path)
    message = str(caught.value)
    assert str(path) in message
    assert "plain text" in message and "JPG, PNG, TIFF, BMP, WebP, GIF, PDF" in message
    assert "extension is ignored" in message


@pytest.mark.parametrize(
    ("data", "described"),
    [
        (b"\x00\x00\x00\x18ftypheic" + bytes(40), "HEIC"),
        (b"PK\x03\x04" + bytes(40), "ZIP container"),
        (bytes(range(256)), "unknown format"),
    ],
)
def test_unsupported_content_is_described(tmp_path: Path, data: bytes, described: str) -> None:
    with pytest.raises(UnsupportedFormatError, match=described):
        load(write(tmp_path / "upload.bin", data))


def test_supported_is_judged_by_name_or_content() -> None:
    png = encode(quadrant_image(), "PNG")
    assert is_supported("scan.PNG", b"")  # named like an image: reading it will say what is wrong
    assert is_supported("scan.dat", png)  # an image whatever its name
    assert not is_supported("notes.docx", b"PK\x03\x04" + bytes(40))
    assert not is_supported("data.xyz", b"")
    assert unsupported_reason(b"PK\x03\x04" + bytes(40)) == (
        "not a supported type: a ZIP container (DOCX, XLSX, OFD e-invoice or similar; export it as PDF); "
        "supported: JPG, PNG, TIFF, BMP, WebP, GIF, PDF"
    )
    assert unsupported_reason(b"") == (
        "not a supported type: an empty file (0 bytes); supported: JPG, PNG, TIFF, BMP, WebP, GIF, PDF"
    )
    assert "gif" in SUPPORTED_FORMATS


def test_the_daemon_takes_every_supported_suffix_by_default() -> None:
    suffixes = {suffix.lstrip("*") for suffix in DEFAULT_PATTERNS}
    assert suffixes == set(SUPPORTED_SUFFIXES)
    shipped = tomllib.loads((REPO / "config" / "ocrd.toml").read_text(encoding="utf-8"))
    assert tuple(shipped["inbox_defaults"]["patterns"]) == DEFAULT_PATTERNS


# -- pixel modes --------------------------------------------------------------------------


def _ink_on_paper(mode: str) -> Image.Image:
    """A 40x30 white page with a black 10x10 square at (10..20, 5..15), in ``mode``."""
    image = Image.new("L", (40, 30), 255)
    image.paste(0, (10, 5, 20, 15))
    if mode == "1":
        return image.convert("1")
    if mode == "P":
        return image.convert("RGB").convert("P", palette=Image.Palette.ADAPTIVE, colors=4)
    if mode == "CMYK":
        return image.convert("RGB").convert("CMYK")
    if mode in ("RGB", "L"):
        return image.convert(mode)
    raise AssertionError(mode)


@pytest.mark.parametrize(
    ("mode", "fmt"),
    [("1", "PNG"), ("1", "TIFF"), ("L", "PNG"), ("P", "PNG"), ("P", "BMP"), ("CMYK", "TIFF"), ("CMYK", "JPEG")],
)
def test_pixel_modes_become_black_ink_on_white(tmp_path: Path, mode: str, fmt: str) -> None:
    source = _ink_on_paper(mode)
    assert source.mode == mode
    page = load_one(write(tmp_path / f"ink.{fmt.lower()}", encode(source, fmt)))
    assert_engine_image(page)
    tolerance = 20 if fmt == "JPEG" else 0
    assert page.image[10, 15].max() <= tolerance  # the square
    assert page.image[25, 35].min() >= 255 - tolerance  # the paper


@pytest.mark.parametrize(
    ("values", "fmt"),
    [
        (np.array([[0, 65535]], np.uint16), "PNG"),  # true 16-bit
        (np.array([[0, 65535]], np.uint16), "TIFF"),
        (np.array([[0, 4095]], np.uint16), "TIFF"),  # 12-bit scanner data in a 16-bit file
        (np.array([[0, 255]], np.uint16), "PNG"),  # 8-bit data in a 16-bit file
    ],
)
def test_16_bit_images_are_scaled_by_the_depth_the_data_uses(tmp_path: Path, values: np.ndarray, fmt: str) -> None:
    pixels = np.repeat(np.repeat(values, 8, axis=0), 8, axis=1)
    image = Image.fromarray(pixels)
    assert image.mode.startswith("I;16")
    page = load_one(write(tmp_path / f"deep.{fmt.lower()}", encode(image, fmt)))
    assert_engine_image(page)
    assert page.image[0, 0].tolist() == [0, 0, 0]
    assert page.image[0, -1].tolist() == [255, 255, 255]


def test_32_bit_and_float_images_are_scaled_to_8_bit(tmp_path: Path) -> None:
    integers = Image.fromarray(np.array([[0, 30000], [60000, 65535]], np.int32), "I")
    page = load_one(write(tmp_path / "int32.tiff", encode(integers, "TIFF")))
    assert page.image[:, :, 0].tolist() == [[0, 117], [233, 255]]
    floats = Image.fromarray(np.array([[0.0, 0.5], [1.0, 0.25]], np.float32), "F")
    page = load_one(write(tmp_path / "float.tiff", encode(floats, "TIFF")))
    assert page.image[:, :, 0].tolist() == [[0, 128], [255, 64]]
    assert deep_to_uint8(np.array([[-5.0, 5.0]])).tolist() == [[0, 255]]  # odd ranges are stretched
    assert deep_to_uint8(np.full((1, 2), 7, np.int32)).tolist() == [[7, 7]]  # 8-bit data stays as it is
    assert deep_to_uint8(np.full((1, 2), -3.0)).tolist() == [[0, 0]]


def _text_on_transparent(ink: tuple[int, int, int]) -> Image.Image:
    """Coloured 'text' (a bar) on a fully transparent background whose hidden colour is grey."""
    image = Image.new("RGBA", (40, 20), (200, 200, 200, 0))
    image.paste((*ink, 255), (5, 5, 35, 15))
    return image


@pytest.mark.parametrize(
    ("ink", "background"),
    [((0, 0, 0), 255), ((30, 30, 120), 255), ((255, 255, 255), 0), ((250, 240, 200), 0)],
)
def test_transparency_is_flattened_on_a_background_that_keeps_the_text_readable(
    tmp_path: Path, ink: tuple[int, int, int], background: int
) -> None:
    page = load_one(write(tmp_path / "logo.png", encode(_text_on_transparent(ink), "PNG")))
    assert_engine_image(page)
    assert page.image[10, 20].tolist() == bgr(ink)
    assert page.image[1, 1].tolist() == [background] * 3


@pytest.mark.parametrize("mode", ["LA", "PA", "La", "RGBa"])
def test_every_alpha_mode_is_flattened(mode: str) -> None:
    rgba = _text_on_transparent((0, 0, 0))
    image = rgba.convert("LA" if mode in ("LA", "La") else "RGBA" if mode == "RGBa" else "PA")
    if mode in ("La", "RGBa"):  # premultiplied alpha, as TIFFs with associated alpha decode
        image = image.convert(mode) if mode == "RGBa" else Image.frombytes("La", image.size, image.tobytes())
    assert image.mode == mode
    pixels = to_bgr(image, name="x.png")
    assert pixels[10, 20].max() < 40 and pixels[1, 1].min() > 215


def test_palette_and_colour_key_transparency_is_flattened(tmp_path: Path) -> None:
    palette = _ink_on_paper("L").convert("P")
    palette.info["transparency"] = 255  # the paper colour's index is transparent
    page = load_one(write(tmp_path / "palette.png", encode(palette, "PNG", transparency=255)))
    assert page.image[10, 15].tolist() == [0, 0, 0] and page.image[25, 35].tolist() == [255, 255, 255]
    keyed = Image.new("RGB", (20, 20), (0, 255, 0))
    keyed.paste((0, 0, 0), (5, 5, 15, 15))
    page = load_one(write(tmp_path / "keyed.png", encode(keyed, "PNG", transparency=(0, 255, 0))))
    assert page.image[1, 1].tolist() == [255, 255, 255] and page.image[10, 10].tolist() == [0, 0, 0]


def test_half_transparent_ink_is_blended_and_opaque_alpha_is_dropped() -> None:
    half = Image.new("RGBA", (10, 10), (0, 0, 0, 128))
    assert to_bgr(half, name="x")[0, 0].tolist() == [127, 127, 127]
    opaque = Image.new("RGBA", (10, 10), (10, 20, 30, 255))
    assert to_bgr(opaque, name="x")[0, 0].tolist() == [30, 20, 10]
    fully_transparent = np.zeros((4, 4, 4), np.uint8)
    assert choose_background(fully_transparent) == (255, 255, 255)


def test_eval_transparent_images_keep_their_text_visible(eval_dev_dir: Path) -> None:
    black = load_one(eval_dev_dir / "rapidocr_black_font_color_transparent.png")
    white = load_one(eval_dev_dir / "rapidocr_white_font_color_transparent.png")
    for page in (black, white):
        assert_engine_image(page)
        assert (page.width, page.height) == (1890, 503)
    source = np.asarray(Image.open(eval_dev_dir / "rapidocr_black_font_color_transparent.png"))
    text = source[..., 3] > 0
    # Black text lands on white paper; white text on black, never white on white.
    assert black.image[~text].min() == 255 and black.image[text].max() == 0
    assert white.image[~text].max() == 0 and white.image[text].min() == 255


# -- EXIF orientation ---------------------------------------------------------------------


def test_eval_exif_orientation_is_applied(eval_dev_dir: Path) -> None:
    path = eval_dev_dir / "rapidocr_img_exif_orientation.jpg"
    stored = Image.open(path)
    assert stored.getexif()[0x0112] == 3  # stored upside down
    page = load_one(path)
    stored_bgr = cv2.cvtColor(np.asarray(stored.convert("RGB")), cv2.COLOR_RGB2BGR)
    assert np.array_equal(page.image, np.rot90(stored_bgr, 2))
    # Exactly what Pillow's exif_transpose gives, which is what image viewers show.
    upright = cv2.cvtColor(np.asarray(ImageOps.exif_transpose(Image.open(path)).convert("RGB")), cv2.COLOR_RGB2BGR)
    assert np.array_equal(page.image, upright)


@pytest.mark.parametrize("orientation", range(1, 9))
@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_all_eight_exif_orientations_match_what_viewers_show(tmp_path: Path, orientation: int, fmt: str) -> None:
    exif = Image.Exif()
    exif[0x0112] = orientation
    options = {"lossless": True} if fmt == "WEBP" else {}
    path = write(tmp_path / f"oriented.{fmt.lower()}", encode(quadrant_image(60, 40), fmt, exif=exif, **options))
    page = load_one(path)
    viewer = ImageOps.exif_transpose(Image.open(path)).convert("RGB")
    assert (page.width, page.height) == viewer.size
    assert np.array_equal(page.image, cv2.cvtColor(np.asarray(viewer), cv2.COLOR_RGB2BGR))
    if orientation in (5, 6, 7, 8):
        assert (page.width, page.height) == (40, 60)


# -- multi-page TIFF ----------------------------------------------------------------------


def test_every_tiff_page_is_loaded_in_order_whatever_its_mode(tmp_path: Path) -> None:
    frames = [
        Image.new("1", (100, 50), 1),
        Image.new("L", (110, 50), 80),
        Image.new("RGB", (120, 50), (200, 10, 10)),
        Image.new("I;16", (130, 50), 65535),
    ]
    path = write(tmp_path / "fax.tif", tiff_bytes(frames))
    assert count_pages(path, Limits()) == 4
    pages = load(path)
    assert [page.index for page in pages] == [0, 1, 2, 3]
    assert [page.width for page in pages] == [100, 110, 120, 130]
    assert [page.image[0, 0].tolist() for page in pages] == [[255] * 3, [80] * 3, [10, 10, 200], [255] * 3]


def test_each_tiff_page_has_its_own_orientation(tmp_path: Path) -> None:
    frames = [quadrant_image(60, 40) for _ in range(3)]
    pages = load(write(tmp_path / "turned.tiff", tiff_bytes(frames, orientations=[1, 6, 3])))
    upright = cv2.cvtColor(np.asarray(frames[0]), cv2.COLOR_RGB2BGR)
    assert np.array_equal(pages[0].image, upright)
    assert np.array_equal(pages[1].image, cv2.rotate(upright, cv2.ROTATE_90_CLOCKWISE))
    assert np.array_equal(pages[2].image, cv2.rotate(upright, cv2.ROTATE_180))


def test_sample_multipage_tiff_pages_come_in_order(tmp_path: Path) -> None:
    sample = samples.make_multipage_tiff(tmp_path / "scan.tiff", 3)
    pages = load(sample.path)
    reference = Image.open(sample.path)
    for index, page in enumerate(pages):
        reference.seek(index)
        assert page.index == index
        assert np.array_equal(page.image[:, :, 0], np.asarray(reference.convert("L")))
    assert sample.pages[2][:2] == ["第 3 页", "Page 3 of 3"]


# -- GIF: the first frame ------------------------------------------------------------------


def _animated_gif(frames: list[Image.Image]) -> bytes:
    buffer = io.BytesIO()
    frames[0].save(buffer, "GIF", save_all=True, append_images=frames[1:], duration=200, loop=0)
    return buffer.getvalue()


def gif_declaring_size(width: int, height: int) -> bytes:
    """A GIF of a few dozen bytes whose screen and frame declare ``width`` x ``height`` pixels,
    with image data for almost none of them: decoding it would fail as truncated."""
    screen = struct.pack("<HHBBB", width, height, 0x80, 0, 0) + b"\x00\x00\x00\xff\xff\xff"
    frame = b"\x2c" + struct.pack("<HHHHB", 0, 0, width, height, 0) + b"\x02" + b"\x02\x4c\x01\x00"
    return b"GIF89a" + screen + frame + b"\x3b"


def test_an_animated_gif_is_one_page_its_first_frame(tmp_path: Path) -> None:
    first = _ink_on_paper("L")
    second = Image.new("L", first.size, 0)
    path = write(tmp_path / "animated.gif", _animated_gif([first, second]))
    assert Image.open(path).n_frames == 2
    assert count_pages(path, Limits()) == 1
    page = load_one(path)
    assert_engine_image(page)
    assert page.index == 0 and (page.width, page.height) == first.size
    assert np.array_equal(page.image, cv2.cvtColor(np.asarray(first), cv2.COLOR_GRAY2BGR))


def test_transparent_gif_pixels_become_white_paper(tmp_path: Path) -> None:
    image = Image.new("P", (30, 20), 0)
    image.putpalette([255, 0, 0] + [0, 0, 0] * 255)  # index 0: transparent (hidden colour red), 1: black ink
    image.paste(1, (5, 5, 25, 15))
    page = load_one(write(tmp_path / "logo.gif", encode(image, "GIF", transparency=0)))
    assert_engine_image(page)
    assert page.image[1, 1].tolist() == [255, 255, 255]
    assert page.image[10, 15].tolist() == [0, 0, 0]


def test_gif_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.gif", gif_declaring_size(30_000, 30_000))
    assert path.stat().st_size < 100
    with pytest.raises(LimitExceededError, match=r"image is 30000x30000 = 900 Mpx, above the limit of 400 Mpx"):
        load(path)
    with pytest.raises(CorruptFileError, match="file looks like GIF but its pixel data cannot be decoded"):
        load(write(tmp_path / "small_bomb.gif", gif_declaring_size(300, 300)))


# -- PDF: text layer, rendering, force_ocr --------------------------------------------------


def test_pdf_text_layer_is_passed_through_as_lines(tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=True)
    page = load_one(sample.path)
    assert page.image is None and page.text_lines is not None
    assert [line.text for line in page.text_lines] == samples.invoice_lines()
    assert {line.confidence for line in page.text_lines} == {1.0}
    width, height = (round(side * 200 / 72) for side in samples.INVOICE_SIZE)
    assert (page.width, page.height) == pytest.approx((width, height), abs=1)


def test_force_ocr_renders_a_text_page_at_the_same_size(tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=True)
    text_page = load_one(sample.path)
    rendered = load_one(sample.path, force_ocr=True)
    assert_engine_image(rendered)
    assert (rendered.width, rendered.height) == (text_page.width, text_page.height)
    assert rendered.image.min() < 50  # the text is drawn


def test_image_only_pdf_is_rendered_at_the_requested_dpi(tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "scan.pdf", text_layer=False)
    for dpi in (100, 200):
        page = load_one(sample.path, dpi=dpi)
        assert_engine_image(page)
        expected = (round(samples.INVOICE_SIZE[0] * dpi / 72), round(samples.INVOICE_SIZE[1] * dpi / 72))
        assert (page.width, page.height) == pytest.approx(expected, abs=1)


@pytest.mark.parametrize("variant", ["plain", "rotated", "cropped"])
def test_text_layer_boxes_are_in_render_pixels(tmp_path: Path, variant: str) -> None:
    path = text_pdf(tmp_path / "box.pdf", [("发票代码 Box 123", 60, 120, 20)])
    if variant != "plain":
        document = pymupdf.open(path)
        if variant == "rotated":
            document[0].set_rotation(90)
        else:
            document[0].set_cropbox(pymupdf.Rect(30, 40, 380, 280))
        document.save(tmp_path / "changed.pdf")
        path = tmp_path / "changed.pdf"
    dpi = 150
    scale = dpi / 72
    text_page = load_one(path, dpi=dpi)
    [line] = text_page.text_lines
    assert line.text == "发票代码 Box 123"
    (x0, y0), (x1, y1) = line.box[0], line.box[2]
    assert line.box == [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]
    if variant == "plain":
        # Inserted at x = 60 pt with its baseline at y = 120 pt, 20 pt high.
        assert x0 == pytest.approx(60 * scale, abs=1)
        assert y0 < 120 * scale < y1
        assert y1 - y0 == pytest.approx(20 * scale, rel=0.35)
    # Wherever the text ends up, the box encloses its ink in the render at the same dpi.
    rendered = load_one(path, dpi=dpi, force_ocr=True)
    assert (rendered.width, rendered.height) == (text_page.width, text_page.height)
    ys, xs = np.nonzero(rendered.image.min(axis=2) < 128)
    assert x0 - 2 <= xs.min() and xs.max() <= x1 + 2
    assert y0 - 2 <= ys.min() and ys.max() <= y1 + 2
    if variant == "rotated":
        assert y1 - y0 > x1 - x0  # the line runs down the turned page


def test_text_layer_lines_come_in_reading_order(tmp_path: Path) -> None:
    # Written bottom line first: the content stream order is not the reading order.
    path = text_pdf(
        tmp_path / "order.pdf",
        [("第三行 third", 40, 200, 14), ("第一行 first", 40, 80, 14), ("第二行 second", 40, 140, 14)],
    )
    page = load_one(path)
    assert [line.text for line in page.text_lines] == ["第一行 first", "第二行 second", "第三行 third"]


def test_multipage_pdf_text_layer_pages_keep_their_order(tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "contract.pdf", 4, text_layer=True)
    pages = load(sample.path)
    assert [page.index for page in pages] == [0, 1, 2, 3]
    assert [[line.text for line in page.text_lines] for page in pages] == sample.pages
    assert pages[2].text_lines[0].text == "第 3 页"


def test_multipage_scanned_pdf_is_rendered_page_by_page_in_order(tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "contract.pdf", 3, text_layer=False)
    pages = load(sample.path, dpi=72)
    with pymupdf.open(sample.path) as document:
        for page, pdf_page in zip(pages, document, strict=True):
            pixmap = pdf_page.get_pixmap(dpi=72, alpha=False)
            rgb = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width, 3)
            assert np.array_equal(page.image, cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    assert not np.array_equal(pages[0].image, pages[1].image)


def test_invisible_ocr_layer_over_a_scan_counts_as_text(tmp_path: Path) -> None:
    sample = samples.make_scanned_invoice_pdf(tmp_path / "searchable.pdf", ocr_layer=True)
    page = load_one(sample.path)
    assert [line.text for line in page.text_lines] == samples.invoice_lines()
    assert page.image is None


def test_scan_with_a_partial_visible_text_layer_is_rendered(tmp_path: Path) -> None:
    sample = samples.make_scanned_invoice_pdf(tmp_path / "scan.pdf")
    assert load_one(sample.path).image is not None  # no text at all
    with pymupdf.open(sample.path) as document:
        samples.draw_lines(document[0], [samples.PlacedLine("第 1 页 Page 1", 500, 380, 10)])
        document.save(tmp_path / "stamped.pdf")
    page = load_one(tmp_path / "stamped.pdf")
    assert_engine_image(page)


def test_a_small_picture_on_a_text_page_keeps_the_text_layer(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "logo.pdf", [("公司简介 Company profile", 40, 60, 14)])
    with pymupdf.open(path) as document:
        document[0].insert_image(pymupdf.Rect(300, 200, 380, 280), stream=encode(quadrant_image(), "PNG"))
        document.save(tmp_path / "with_logo.pdf")
    page = load_one(tmp_path / "with_logo.pdf")
    assert [line.text for line in page.text_lines] == ["公司简介 Company profile"]


def test_hidden_text_on_a_visible_page_is_left_out(tmp_path: Path) -> None:
    path = text_pdf(tmp_path / "visible.pdf", [("合同正文 visible body text", 40, 60, 14)])
    with pymupdf.open(path) as document:
        samples.draw_lines(document[0], [samples.PlacedLine("hidden", 40, 120, 14)], render_mode=3)
        document.save(tmp_path / "hidden.pdf")
    page = load_one(tmp_path / "hidden.pdf")
    assert [line.text for line in page.text_lines] == ["合同正文 visible body text"]


def test_garbage_text_layers_fall_back_to_rendering(tmp_path: Path) -> None:
    # Characters the font cannot map come out as control characters.
    unmappable = text_pdf(tmp_path / "pua.pdf", [("\ue000\ue001\ue002\ue003\ue004 ab", 40, 60, 14)])
    assert load_one(unmappable).image is not None
    whitespace_only = text_pdf(tmp_path / "blank.pdf", [("     ", 40, 60, 14)])
    assert load_one(whitespace_only).image is not None
    # A subset CJK font without a ToUnicode map: extraction gives plausible-looking nonsense.
    path = text_pdf(tmp_path / "cjk.pdf", [("增值税普通发票 发票代码 044031900111", 40, 60, 14)])
    with pymupdf.open(path) as document:
        document.subset_fonts()
        for xref in range(1, document.xref_length()):
            if document.xref_get_key(xref, "ToUnicode")[0] != "null":
                document.xref_set_key(xref, "ToUnicode", "null")
        document.save(tmp_path / "no_tounicode.pdf")
        extracted = document[0].get_text()
    assert "发票" not in extracted  # PyMuPDF itself reads nonsense
    assert load_one(tmp_path / "no_tounicode.pdf").image is not None


@pytest.mark.parametrize(
    ("facts", "use"),
    [
        (TextLayerFacts(characters=0, invisible=0, garbage=0, image_coverage=0.0), False),
        (TextLayerFacts(characters=100, invisible=0, garbage=0, image_coverage=0.0), True),
        (TextLayerFacts(characters=100, invisible=0, garbage=30, image_coverage=0.0), False),
        (TextLayerFacts(characters=100, invisible=0, garbage=5, image_coverage=0.2), True),
        (TextLayerFacts(characters=100, invisible=0, garbage=0, image_coverage=0.95), False),
        (TextLayerFacts(characters=100, invisible=90, garbage=0, image_coverage=0.95), True),
        (TextLayerFacts(characters=100, invisible=90, garbage=60, image_coverage=0.95), False),
    ],
)
def test_text_layer_rule(facts: TextLayerFacts, use: bool) -> None:
    decision = decide(facts)
    assert decision.use is use and decision.reason


# -- laziness -----------------------------------------------------------------------------


def test_pages_are_produced_one_at_a_time(tmp_path: Path) -> None:
    path = write(tmp_path / "thirty.pdf", blank_pdf_bytes(30, 300, 400))
    page_bytes = round(300 * 150 / 72) * round(400 * 150 / 72) * 3
    pages = iter_pages(path, dpi=150)
    first = next(pages)  # iteration has started, only one page is rendered
    assert first.index == 0 and first.image.nbytes == pytest.approx(page_bytes, rel=0.01)
    del first
    tracemalloc.start()
    try:
        count = 1
        for page in pages:
            count += 1
            del page
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert count == 30
    # Holding all 30 pages would take 30 x 0.4 MB; one at a time never holds more than a few.
    assert peak < 4 * page_bytes


# -- refusals -----------------------------------------------------------------------------


def test_empty_file_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "empty.jpg", b"")
    with pytest.raises(EmptyFileError, match="file is empty") as caught:
        load(path)
    assert str(path) in str(caught.value)


def test_file_above_max_bytes_is_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "huge.pdf"
    with path.open("wb") as stream:  # sparse: 300 MB of nothing, no disk used, never read
        stream.truncate(300 * 1024 * 1024)
    with pytest.raises(LimitExceededError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: file is 300.0 MB, above the limit of 256.0 MB (limits.max_bytes); "
        "split the document or raise the limit"
    )
    small = write(tmp_path / "small.png", encode(quadrant_image(), "PNG"))
    with pytest.raises(LimitExceededError, match=r"above the limit of 100 bytes \(limits.max_bytes\)"):
        load(small, limits=Limits(max_bytes=100))


def test_ten_thousand_page_pdf_is_refused_from_its_page_count(tmp_path: Path) -> None:
    path = write(tmp_path / "ten_thousand.pdf", blank_pdf_bytes(10_000))
    with pymupdf.open(path) as document:  # a well-formed file, not a broken one
        assert document.page_count == 10_000 and not document.is_repaired
    expected = re.escape("document has 10,000 pages, above the limit of 2,000 (limits.max_pages)")
    with pytest.raises(LimitExceededError, match=expected):
        next(iter_pages(path))
    with pytest.raises(LimitExceededError, match=expected):
        count_pages(path, Limits())
    assert count_pages(path, Limits(max_pages=10_000)) == 10_000


def test_tiff_with_too_many_pages_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "many.tiff", tiff_bytes([Image.new("L", (20, 20), 255)] * 5))
    with pytest.raises(LimitExceededError, match="5 pages, above the limit of 3"):
        load(path, limits=Limits(max_pages=3))


def test_decompression_bomb_is_refused_from_its_header(tmp_path: Path) -> None:
    path = write(tmp_path / "bomb.png", png_declaring_size(30_000, 30_000))
    assert path.stat().st_size < 200
    with pytest.raises(LimitExceededError) as caught:
        load(path)
    assert str(caught.value) == (
        f"{path}: image is 30000x30000 = 900 Mpx, above the limit of 400 Mpx (limits.max_pixels); "
        "reduce the resolution or raise the limit"
    )
    # The pixel data holds one row: had it been decoded, this would be a CorruptFileError.
    with pytest.raises(CorruptFileError):
        load(write(tmp_path / "small_bomb.png", png_declaring_size(300, 300)))


def test_a_too_large_tiff_page_is_refused_before_any_page_is_decoded(tmp_path: Path) -> None:
    frames = [Image.new("L", (100, 100), 255), Image.new("L", (1000, 1000), 255)]
    pages = iter_pages(write(tmp_path / "mixed.tiff", tiff_bytes(frames)), limits=Limits(max_pixels=500_000))
    with pytest.raises(LimitExceededError, match=r"page 2 is 1000x1000 = 1\.0 Mpx, above the limit of 500,000 px"):
        next(pages)


def test_pdf_page_too_large_at_the_dpi_is_rendered_at_a_dpi_that_fits(tmp_path: Path) -> None:
    path = write(tmp_path / "poster.pdf", blank_pdf_bytes(1, 14_400, 14_400))  # 200 x 200 inch
    page = load_one(path, limits=Limits(max_pixels=100_000_000))  # 1600 Mpx at 200 dpi
    assert (page.dpi, page.width) == (50, 10_000)
    with pytest.raises(LimitExceededError, match=r"page 1 at 200 dpi is 40000x40000 = 1600 Mpx, above the limit"):
        next(iter_pages(path, limits=Limits(max_pixels=90_000_000)))  # would need 47 dpi
    assert load_one(path, dpi=36).width == 7200  # 52 Mpx at 36 dpi is within the limit


def test_pillow_bomb_checks_never_leak(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Even if something restores Pillow's own, lower, process-wide limit ...
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)
    image = write(tmp_path / "page.png", encode(Image.new("L", (40, 40), 255), "PNG"))  # 1,600 px: warns
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert load_one(image).width == 40
    big = write(tmp_path / "big.png", encode(Image.new("L", (100, 100), 255), "PNG"))  # 10,000 px: raises
    with pytest.raises(LimitExceededError, match="too large to decode safely"):
        load(big)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "TIFF", "WEBP", "BMP", "GIF"])
def test_truncated_images_are_errors_not_grey_pages(tmp_path: Path, fmt: str) -> None:
    rng = np.random.default_rng(1)
    noisy = Image.fromarray(rng.integers(0, 255, (200, 200, 3), dtype=np.uint8), "RGB")
    data = encode(noisy, fmt)
    path = write(tmp_path / f"cut.{fmt.lower()}", data[: len(data) // 2])
    with pytest.raises(CorruptFileError) as caught:
        load(path)
    assert str(caught.value).startswith(f"{path}: file looks like {fmt}")
    assert "damaged or incomplete" in str(caught.value)


def test_image_with_a_broken_header_is_corrupt(tmp_path: Path) -> None:
    path = write(tmp_path / "broken.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    with pytest.raises(CorruptFileError, match="header cannot be read"):
        load(path)


@pytest.mark.parametrize(
    "data",
    [b"%PDF-1.7\n" + bytes(range(256)) * 8, b"%PDF-1.4\n%%EOF\n"],
    ids=["junk", "no-objects"],
)
def test_corrupt_pdf_is_refused(tmp_path: Path, data: bytes) -> None:
    path = write(tmp_path / "broken.pdf", data)
    with pytest.raises(CorruptFileError, match="damaged") as caught:
        load(path)
    assert str(path) in str(caught.value)


def test_truncated_pdf_is_refused_not_rendered_blank(tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "full.pdf", 2, text_layer=True)
    data = sample.path.read_bytes()
    for cut in (len(data) // 2, len(data) - 10):
        path = write(tmp_path / "cut.pdf", data[:cut])
        with pytest.raises(CorruptFileError, match="PDF is incomplete"):
            load(path)
    # A PDF with a few bytes after its end marker is fine.
    assert len(load(write(tmp_path / "trailing.pdf", data + b"\n\n"))) == 2


def test_password_protected_pdf_is_refused(tmp_path: Path) -> None:
    source = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf")
    with pymupdf.open(source.path) as document:
        document.save(
            tmp_path / "locked.pdf", encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="secret", owner_pw="owner"
        )
        # Only an owner password (restricts printing/editing): opens without asking.
        document.save(
            tmp_path / "restricted.pdf",
            encryption=pymupdf.PDF_ENCRYPT_AES_256,
            owner_pw="owner",
            permissions=pymupdf.PDF_PERM_ACCESSIBILITY,
        )
    with pytest.raises(EncryptedDocumentError, match="protected by a password") as caught:
        load(tmp_path / "locked.pdf")
    assert str(tmp_path / "locked.pdf") in str(caught.value)
    with pytest.raises(EncryptedDocumentError):
        count_pages(tmp_path / "locked.pdf", Limits())
    page = load_one(tmp_path / "restricted.pdf")
    assert [line.text for line in page.text_lines] == samples.invoice_lines()


def test_missing_file_and_folder_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="file not found"):
        load(tmp_path / "nope.pdf")
    with pytest.raises(InputError, match="is a folder"):
        load(tmp_path)


def test_dpi_outside_the_sane_range_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="dpi must be between 36 and 1200"):
        iter_pages(tmp_path / "a.pdf", dpi=5000)


# -- uploads and page counts --------------------------------------------------------------


def test_uploads_load_from_bytes_and_errors_name_the_upload() -> None:
    pages = list(iter_pages_from_bytes(tiff_bytes([Image.new("L", (30, 20), 0)] * 2), "scan.tiff"))
    assert [(page.index, page.width, page.height) for page in pages] == [(0, 30, 20), (1, 30, 20)]
    pdf = list(iter_pages_from_bytes(blank_pdf_bytes(2), "a.pdf", dpi=72))
    assert [(page.width, page.height) for page in pdf] == [(595, 842)] * 2
    with pytest.raises(UnsupportedFormatError, match=r"^upload\.docx: not a supported document"):
        list(iter_pages_from_bytes(b"PK\x03\x04" + bytes(30), "upload.docx"))
    with pytest.raises(EmptyFileError, match=r"^empty\.png: file is empty"):
        list(iter_pages_from_bytes(b"", "empty.png"))
    with pytest.raises(LimitExceededError, match=r"^big\.png: file is 2,000 bytes"):
        list(iter_pages_from_bytes(bytes(2000), "big.png", limits=Limits(max_bytes=1000)))


def test_count_pages_reads_headers_only(tmp_path: Path) -> None:
    assert count_pages(write(tmp_path / "a.png", encode(quadrant_image(), "PNG")), Limits()) == 1
    assert count_pages(write(tmp_path / "b.pdf", blank_pdf_bytes(7)), Limits()) == 7
    assert count_pages(write(tmp_path / "bomb.png", png_declaring_size(30_000, 30_000)), Limits()) == 1


def test_the_sample_set_loads_with_the_expected_pages(tmp_path: Path) -> None:
    written = samples.write_sample_set(tmp_path / "samples")
    assert all(path.is_file() and path.parent == tmp_path / "samples" for path in written)
    by_name = {path.name: load(path) for path in written}
    assert {name: len(pages) for name, pages in by_name.items()} == {
        "invoice_text_layer.pdf": 1,
        "invoice_scan.jpg": 1,
        "invoice_scan.pdf": 1,
        "contract_3_pages.pdf": 3,
        "contract_2_pages.tiff": 2,
        "hello.png": 1,
    }
    assert by_name["invoice_text_layer.pdf"][0].text_lines is not None
    for name, pages in by_name.items():
        if name != "invoice_text_layer.pdf":
            assert all(page.image is not None for page in pages), name
    # Text is at least 11 pt at 200 dpi: a body line is about 30 px tall.
    [line] = [line for line in by_name["invoice_text_layer.pdf"][0].text_lines if line.text.startswith("金额")]
    assert line.box[2][1] - line.box[0][1] >= 11 * 200 / 72


def _decoded_pillow_images() -> list[Image.Image]:
    """Pillow images alive in this process whose decoded pixels are still held."""
    import gc

    held = []
    for obj in gc.get_objects():
        if isinstance(obj, Image.Image):
            try:
                obj.im  # noqa: B018  (raises once the image is closed and its memory released)
            except Exception:  # ValueError when closed; other Pillow versions assert
                continue
            held.append(obj)
    return held


def test_a_single_image_page_is_read_without_pillows_copy_of_its_pixels(eval_pdf_dir: Path) -> None:
    """While a page is read, only its BGR pixels are held, not Pillow's decoded copy too (12 MB for A4)."""
    pages = iter_pages(eval_pdf_dir / "prc_data_security_law_p2.png", limits=Limits())
    page = next(pages)
    assert page.image is not None and page.image.shape[:2] == (2339, 1654)
    assert [image for image in _decoded_pillow_images() if image.size == (1654, 2339)] == []
    assert list(pages) == []


def test_a_multipage_tiff_still_yields_every_page(tmp_path: Path) -> None:
    frames = [Image.new("RGB", (64 + 8 * index, 48), (40 * index, 0, 0)) for index in range(3)]
    path = tmp_path / "three.tiff"
    frames[0].save(path, save_all=True, append_images=frames[1:])
    pages = list(iter_pages(path, limits=Limits()))
    assert [page.image.shape[1] for page in pages] == [64, 72, 80]
    assert [int(page.image[0, 0, 2]) for page in pages] == [0, 40, 80]
