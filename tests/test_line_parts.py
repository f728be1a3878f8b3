"""A line joined from pieces (table cells, words far apart) keeps each piece with its own box."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from ocrd.result import Document, Line, LinePart, Page
from tests.paths import EVAL_DEV_PDF


def _inside(inner: list[list[float]], outer: list[list[float]], slack: float = 2.0) -> bool:
    xs, ys = [x for x, _ in outer], [y for _, y in outer]
    return all(min(xs) - slack <= x <= max(xs) + slack and min(ys) - slack <= y <= max(ys) + slack for x, y in inner)


def test_table_rows_keep_their_cells_each_with_its_box(read_in_place: Callable[[Path], Document]) -> None:
    document = read_in_place(EVAL_DEV_PDF / "didi_trip_receipt_p1.png")  # OcrPipeline(EngineSettings()).run_path
    joined = [line for line in document.lines if line.parts]
    assert len(joined) >= 8  # the receipt's trip rows at least
    for line in joined:
        assert len(line.parts) >= 2
        # The parts are the line's text in order; joined they give it back (spaces where apart).
        position = 0
        for part in line.parts:
            found = line.text.find(part.text, position)
            assert found >= 0, (part.text, line.text)
            position = found + len(part.text)
            assert _inside(part.box, line.box)
        lefts = [min(x for x, _ in part.box) for part in line.parts]
        assert lefts == sorted(lefts)  # left to right


def test_parts_survive_the_result_json_and_single_pieces_have_none() -> None:
    line = Line("合 计 ¥265.49", 0.99, [[0, 0], [300, 0], [300, 20], [0, 20]])
    line.parts = [
        LinePart("合 计", 0.99, [[0, 0], [60, 0], [60, 20], [0, 20]]),
        LinePart("¥265.49", 0.98, [[200, 0], [300, 0], [300, 20], [200, 20]]),
    ]
    alone = Line("发票号码", 0.99, [[0, 30], [90, 30], [90, 50], [0, 50]])
    document = Document("a.png", [Page(0, 400, 100, "ocr", [line, alone])])
    data = document.to_dict()
    assert "parts" not in data["pages"][0]["lines"][1]
    assert [part["text"] for part in data["pages"][0]["lines"][0]["parts"]] == ["合 计", "¥265.49"]
    again = Document.from_dict(data)
    assert again.pages[0].lines[0].parts == line.parts and again.pages[0].lines[1].parts == []
