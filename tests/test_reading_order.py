"""Reading order on real pages: columns under a header, a table's rows, an invoice's blocks."""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pymupdf
import pytest

from ocrd.engine.pipeline import OcrPipeline
from ocrd.evaluation.distance import levenshtein
from ocrd.evaluation.normalise import normalise
from ocrd.result import Document, Line
from tests.paths import EVAL_DEV_PDF, EVAL_ROOT

LINN = EVAL_ROOT / "ocrmypdf" / "linn.pdf"
FIELDS_DEV = EVAL_ROOT / "fields_dev"
INVOICES = ["inv2xl-01_p1.png", "fphezi-01_p1.png"]


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: OcrPipeline) -> OcrPipeline:
    return shared_pipeline  # OcrPipeline(EngineSettings()), loaded once per session


def _height(line: Line) -> float:
    return float(np.ptp(np.array(line.box)[:, 1]))


def _width(line: Line) -> float:
    return float(np.ptp(np.array(line.box)[:, 0]))


def _text_units(text: str) -> float:
    """Roughly how many character widths the text takes: a Chinese character is square, a Latin one half."""
    return sum(1.0 if unicodedata.east_asian_width(c) in ("W", "F") else 0.5 for c in text if not c.isspace())


def _fields_label(image: str) -> dict[str, str]:
    for row in (FIELDS_DEV / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        data = json.loads(row)
        if data["image"] == image:
            return data["fields"]
    raise AssertionError(f"{image} is not in fields_dev/labels.jsonl")


def test_two_columns_under_a_full_width_header_are_read_column_by_column(pipeline: OcrPipeline) -> None:
    # linn.pdf holds one 300-dpi scan (OCRmyPDF's linn.png); its gutter is narrower than a line box is
    # tall, which is where the columns used to be read across, line by line.
    with pymupdf.open(LINN) as document:
        xref = document[0].get_images()[0][0]
        png = document.extract_image(xref)["image"]
    image = pymupdf.Pixmap(png)
    pixels = np.frombuffer(image.samples, dtype=np.uint8).reshape(image.height, image.width, image.n)
    bgr = np.ascontiguousarray(np.repeat(pixels[:, :, :1], 3, axis=2))
    lines = pipeline.read_image(bgr).lines
    reference = normalise((LINN.parent / "linn.txt").read_text(encoding="utf-8"), lang="en", match="exact")
    read = normalise("\n".join(line.text for line in lines), lang="en", match="exact", drop_whitespace=False)
    similarity = 1 - levenshtein(reference, read) / max(len(reference), len(read))
    assert similarity >= 0.95, "\n".join(line.text for line in lines)


def test_each_trip_of_a_table_is_one_line_with_its_amount_in_order(read_in_place: Callable[[Path], Document]) -> None:
    lines = [line.text for line in read_in_place(EVAL_DEV_PDF / "didi_trip_receipt_p1.png").lines]
    amounts = [
        "41.59",
        "44.79",
        "40.35",
        "35.87",
        "39.73",
        "40.97",
        "37.19",
        "47.17",
        "41.90",
        "42.52",
        "36.54",
        "42.21",
    ]
    positions = []
    for number, amount in enumerate(amounts, start=1):
        # A trip's row starts with its number and ends with its amount, on one line.
        row = [i for i, text in enumerate(lines) if re.match(rf"{number}\D", text) and amount in text]
        assert row, f"trip {number} ({amount}) is not one line: {lines}"
        assert "深圳市" in lines[row[0]] and "地铁站" in lines[row[0]]
        positions.append(row[0])
    assert positions == sorted(positions)


@pytest.mark.parametrize("image", INVOICES)
def test_an_invoices_blocks_come_out_line_by_line(read_in_place: Callable[[Path], Document], image: str) -> None:
    lines = read_in_place(FIELDS_DEV / image).lines
    across = [line for line in lines if _width(line) > _height(line)]
    median = float(np.median([_height(line) for line in across]))
    for line in across:
        # A tall line must be one line of large type (a title): its characters are about as wide
        # as the box is tall. Several printed lines stacked in one box are far too many for its width.
        if _height(line) > 2.5 * median:
            assert _width(line) >= 0.3 * _height(line) * _text_units(line.text), f"{line.text!r} is several lines"
    label = _fields_label(image)
    buyer = [i for i, line in enumerate(lines) if label["buyer_tax_id"] in line.text.replace(" ", "")]
    seller = [i for i, line in enumerate(lines) if label["seller_tax_id"] in line.text.replace(" ", "")]
    assert len(buyer) == 1 and len(seller) == 1 and buyer != seller, [line.text for line in lines]
    assert buyer[0] < seller[0]
