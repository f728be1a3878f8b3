"""The recognizer on lines longer than one network input: read in overlapping pieces, joined."""

from __future__ import annotations

import random

import numpy as np
import pymupdf
import pytest

from ocrd.config import EngineSettings
from ocrd.engine.charsets import KANA
from ocrd.engine.pipeline import OcrPipeline
from ocrd.engine.recognize import Recognizer, frame_labels
from tests.textmatch import similarity, squash

COMMON = "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子说产种面而方后"


def line_image(text: str, size: float = 12, dpi: int = 200) -> np.ndarray:
    """One line of ``text`` drawn with the built-in CJK font, cropped to the ink plus a small margin
    (as the detector's boxes crop a line), as a BGR array."""
    document = pymupdf.open()
    width = size * (len(text) + 2)
    page = document.new_page(width=width, height=size * 2)
    page.insert_text((size, size * 1.4), text, fontname="china-s", fontsize=size)
    pixmap = page.get_pixmap(dpi=dpi)
    image = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width, pixmap.n)[:, :, :3]
    rows, cols = np.nonzero(image.min(axis=2) < 128)
    margin = 4
    crop = image[rows.min() - margin : rows.max() + margin + 1, cols.min() - margin : cols.max() + margin + 1]
    return np.ascontiguousarray(crop[:, :, ::-1])


def random_line(seed: int, length: int) -> str:
    generator = random.Random(seed)
    return "".join(generator.choice(COMMON) for _ in range(length))


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return OcrPipeline(EngineSettings(threads=2)).recognizer


def test_a_line_longer_than_one_network_input_is_read_whole(recognizer: Recognizer) -> None:
    """320 characters at 12 pt: ~13,000 px at the network's height, read in many pieces."""
    text = random_line(11, 320)
    crop = line_image(text)
    assert recognizer.target_width(crop) > 5 * recognizer.max_piece  # six pieces or more
    read = recognizer.recognize([crop])[0]
    assert similarity(text, read.text) > 0.98, read.text
    # Nothing is doubled or dropped where pieces meet.
    assert abs(len(squash(read.text)) - len(text)) <= 2, read.text
    assert read.confidence > 0.9


def test_reading_in_pieces_gives_the_text_of_reading_whole(recognizer: Recognizer) -> None:
    """A line that fits one input, read whole and then in ~10-character pieces: same text."""
    lines = [random_line(seed, 36) for seed in range(4)]
    crops = [line_image(text) for text in lines]
    whole = [r.text for r in recognizer.recognize(crops)]
    max_piece = recognizer.max_piece
    try:
        recognizer.max_piece = 480
        pieces = [r.text for r in recognizer.recognize(crops)]
    finally:
        recognizer.max_piece = max_piece
    for text, one, joined in zip(lines, whole, pieces, strict=True):
        assert similarity(text, one) > 0.95, one
        # Joints may tip a look-alike (一 or a dash) but never lose or repeat a character.
        assert len(squash(joined)) == len(squash(one)), (one, joined)
        assert similarity(one, joined) > 0.95, (one, joined)


def test_lines_read_in_parallel_lanes_give_the_text_of_one_lane(recognizer: Recognizer) -> None:
    """With two threads, lines are read two at a time on single-threaded sessions: same results."""
    single = OcrPipeline(EngineSettings(threads=1)).recognizer
    assert recognizer.lanes == 2 and single.lanes == 1
    lines = [
        random_line(seed, length) for seed, length in zip(range(20, 28), (3, 80, 12, 45, 7, 30, 60, 20), strict=True)
    ]
    crops = [line_image(text) for text in lines]
    in_lanes = recognizer.recognize(crops)
    one_lane = single.recognize(crops)
    assert [r.text for r in in_lanes] == [r.text for r in one_lane]
    for text, read in zip(lines, in_lanes, strict=True):
        assert similarity(text, read.text) > 0.95, read.text


def test_masked_labels_equal_an_argmax_over_the_masked_scores() -> None:
    """Only frames whose best class is refused are searched again: the labels must not change."""
    rng = np.random.default_rng(4)
    probs = rng.dirichlet(np.full(400, 0.05), size=300).astype(np.float32)
    mask = rng.random(400) < 0.3
    mask[0] = True  # the blank
    best, best_prob = frame_labels(probs, mask)
    expected = np.where(mask[None, :], probs, 0.0).argmax(axis=1)
    np.testing.assert_array_equal(best, expected)
    np.testing.assert_array_equal(best_prob, probs[np.arange(300), expected])
    assert mask[best].all()


def _rendered_line(text: str) -> np.ndarray:
    document = pymupdf.open()
    page = document.new_page(width=400, height=60)
    page.insert_text((10, 40), text, fontname="china-s", fontsize=20)
    pixmap = page.get_pixmap(dpi=150)
    pixels = np.frombuffer(pixmap.samples, np.uint8).reshape(pixmap.height, pixmap.width, pixmap.n)[:, :, :3]
    return np.ascontiguousarray(pixels[:, :, ::-1])


def test_chinese_characters_shaped_like_kana_are_read_as_chinese() -> None:
    """PP-OCRv6's dictionary holds Japanese kana; unmasked it read these three as エロカ."""
    pipeline = OcrPipeline(EngineSettings(pack="ppocrv6-small", threads=1))
    text = "".join(line.text for line in pipeline.read_image(_rendered_line("工口力加")).lines)
    assert "工口力" in text, text
    assert not KANA.intersection(text), text
    # Asked for kana explicitly (an allow-list), the recognizer may still output them.
    assert KANA.intersection(pipeline.recognizer.charset[i] for i in np.flatnonzero(pipeline.mask_for(None, "エロカ")))
