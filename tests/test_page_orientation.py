"""Pages that arrive turned are read upright with their boxes on the page as it arrived; huge PDF pages
are rendered at the dpi that fits the pixel limit.

Turned copies are made here from eval pages read in place; cardinal.pdf and poster.pdf are
OCRmyPDF's test files (../shared/eval/ocrmypdf). OCRmyPDF's hugemono.pdf is not in the shared
set: an equivalent huge page is written with PyMuPDF.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pymupdf
import pytest

from ocrd.config import FieldsSettings, Limits
from ocrd.documents import iter_pages
from ocrd.documents.pdf import MIN_READABLE_DPI, fitting_dpi
from ocrd.engine.page_orientation import SAMPLE_LINES, from_turned, to_turned, turn_image
from ocrd.engine.pipeline import OcrPipeline, PageReading
from ocrd.errors import LimitExceededError
from ocrd.evaluation.distance import levenshtein
from ocrd.result import Page
from tests.paths import EVAL_DEV, EVAL_DEV_PDF, EVAL_ROOT

OCRMYPDF = EVAL_ROOT / "ocrmypdf"
# An invoice, a book page and English text.
TURNED_PAGES = ("dksky_vat_einvoice_p1.png", "elegantpaper_cn_p1.png", "fake_memo_en_p1.png")
# dev photos with several lines, and line crops; rapidocr_text_cls.jpg is left out: it is itself upside down.
UPRIGHT_PHOTOS = (
    "paddleocr_tipc_web_test.jpg",
    "tessjs_testocr.png",
    "easyocr_chinese.jpg",
    "cnocr_multi-line_en_black.png",
    "cnocr_multi-line_cn1.png",
    "hwcn_00000.jpg",
)


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: OcrPipeline) -> OcrPipeline:
    return shared_pipeline  # OcrPipeline(EngineSettings()), loaded once per session


def _text(reading: PageReading | Page) -> str:
    return "\n".join(line.text for line in reading.lines)


def _recall(reference: str, text: str) -> float:
    want, got = Counter(reference.replace("\n", "")), Counter(text.replace("\n", ""))
    return sum((want & got).values()) / max(sum(want.values()), 1)


def _cer(reference: str, text: str) -> float:
    return levenshtein(reference, text) / max(len(reference), 1)


def _centre(box: list[list[float]]) -> np.ndarray:
    return np.asarray(box, dtype=np.float64).mean(axis=0)


@pytest.mark.parametrize("rotation", [0, 90, 180, 270])
def test_points_map_to_the_turned_image_and_back_exactly(rotation: int) -> None:
    height, width = 5, 8
    image = np.zeros((height, width), np.uint8)
    points = np.array([[0, 0], [7, 0], [7, 4], [0, 4], [3, 1], [6, 2]], dtype=np.float32)
    for value, (x, y) in enumerate(points.astype(int), start=1):
        image[y, x] = value
    turned = turn_image(image, rotation)
    moved = to_turned(points, rotation, width, height)
    for value, (x, y) in enumerate(moved.astype(int), start=1):
        assert turned[y, x] == value  # the pixel went where the point went
    np.testing.assert_array_equal(from_turned(moved, rotation, width, height), points)


# cv2 turns the page as it arrives; the rotation that reads it is the opposite turn.
ARRIVALS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


@pytest.mark.parametrize("name", TURNED_PAGES)
def test_turned_copies_read_like_the_upright_page(
    pipeline: OcrPipeline,
    read_image_in_place: Callable[[Path], PageReading],
    name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    upright_image = cv2.imread(str(EVAL_DEV_PDF / name))
    height, width = upright_image.shape[:2]
    upright = read_image_in_place(EVAL_DEV_PDF / name)  # pipeline.read_image(upright_image), once per session
    assert upright.rotation == 0
    reference = _text(upright)
    longest = max(upright.lines, key=lambda line: len(line.text))
    recognize = pipeline.recognizer.recognize
    batches: list[int] = []

    def counted(crops, *args, **kwargs):
        batches.append(len(crops))
        return recognize(crops, *args, **kwargs)

    monkeypatch.setattr(pipeline.recognizer, "recognize", counted)
    for rotation, code in ARRIVALS.items():
        arrived = cv2.rotate(upright_image, code)
        batches.clear()
        reading = pipeline.read_image(arrived)
        assert reading.rotation == rotation, name
        if len(upright.lines) > SAMPLE_LINES:
            # The page's lines are read once, on the upright page: batches larger than the
            # suspect test's samples are full readings (lines re-read both ways are fewer).
            assert len([size for size in batches if size > SAMPLE_LINES]) == 1, (name, rotation, batches)
        text = _text(reading)
        assert _recall(reference, text) >= _recall(reference, reference) - 0.01
        assert _cer(reference, text) <= 0.02, (name, rotation)
        # The same line, found on the page as it arrived, is where that line is on the turned copy.
        line = next(line for line in reading.lines if line.text == longest.text)
        expected = to_turned(_centre(longest.box)[None], -rotation, width, height)[0]
        assert np.abs(_centre(line.box) - expected).max() < 10, (name, rotation)
        # Corners keep the text's order: the box's first corner is where the line starts.
        start = to_turned(np.asarray(longest.box[0])[None], -rotation, width, height)[0]
        assert np.abs(np.asarray(line.box[0]) - start).max() < 10


def test_cardinal_pdf_reads_upright_on_every_page(pipeline: OcrPipeline) -> None:
    # Fields off: this is about the pages, and a second pass per page for codes would only cost time.
    document = pipeline.run_pages(iter_pages(OCRMYPDF / "cardinal.pdf"), fields=FieldsSettings(mode="off"))
    # The pages are linn.pdf turned a further quarter clockwise each time.
    assert [page.rotation for page in document.pages] == [0, 270, 180, 90]
    reference = document.pages[0].text
    assert "The LinnSequencer" in reference
    for page in document.pages[1:]:
        assert _cer(reference, page.text) <= 0.02
        assert page.dpi == 200
        for line in page.lines:  # boxes lie on the page as it arrived
            box = np.asarray(line.box)
            assert box[:, 0].max() <= page.width and box[:, 1].max() <= page.height
    round_trip = Page.from_dict(document.pages[1].to_dict())
    assert (round_trip.rotation, round_trip.dpi) == (270, 200)
    assert Page.from_dict({"index": 0, "width": 1, "height": 1}).rotation == 0


def test_upright_pages_are_not_turned(read_image_in_place: Callable[[Path], PageReading]) -> None:
    paths = sorted(EVAL_DEV_PDF.glob("*.png")) + [EVAL_DEV / name for name in UPRIGHT_PHOTOS]
    # pipeline.read_image(cv2.imread(path)), shared with the tests above that read the same pages upright
    turned = {path.name: reading.rotation for path in paths if (reading := read_image_in_place(path)).rotation}
    assert turned == {}


def test_a_page_too_large_for_the_limit_is_read_at_a_lower_dpi(pipeline: OcrPipeline, tmp_path: Path) -> None:
    # Like OCRmyPDF's hugemono.pdf: a page of 90 x 120 inches with large print.
    path = tmp_path / "huge.pdf"
    with pymupdf.open() as document:
        page = document.new_page(width=90 * 72, height=120 * 72)
        for row, words in enumerate(("HUGE PAGE OF TEXT", "READ AT A LOWER DPI", "STILL LEGIBLE")):
            page.insert_text((400, 900 + row * 900), words, fontsize=400)
        document.save(path)
    limits = Limits(max_pixels=40_000_000)  # 18000 x 24000 at 200 dpi would be 432 Mpx
    pages = list(iter_pages(path, limits=limits, force_ocr=True))
    assert pages[0].dpi == 60 and pages[0].width * pages[0].height <= limits.max_pixels
    document = pipeline.run_pages(iter(pages), fields=FieldsSettings(mode="off"))
    assert document.pages[0].dpi == 60
    assert document.pages[0].width == pages[0].width
    assert "STILL LEGIBLE" in document.pages[0].text.replace("\n", " ")


def test_poster_fits_the_default_limit_and_is_refused_below_a_readable_dpi() -> None:
    with pymupdf.open(OCRMYPDF / "poster.pdf") as document:
        box = document[0].rect  # 250 x 500 inches: 5,000 Mpx at 200 dpi
        # Under 400 Mpx and under what MuPDF allocates for one pixmap (1 GiB).
        assert fitting_dpi(box, 200, Limits(), "poster.pdf", "page 1") == 53
    with pytest.raises(LimitExceededError, match=f"would fit only below {MIN_READABLE_DPI} dpi"):
        list(iter_pages(OCRMYPDF / "poster.pdf", limits=Limits(max_pixels=100_000_000)))
