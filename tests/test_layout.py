"""Reading order on hand-placed boxes: rows, joins, columns, forms, skew."""

from __future__ import annotations

import math

import numpy as np

from ocrd.engine.layout import TextBox, order_lines


def box(x0: float, y0: float, x1: float, y1: float, text: str, angle_deg: float = 0.0) -> TextBox:
    quad = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
    if angle_deg:
        theta = math.radians(angle_deg)
        rotation = np.array([[math.cos(theta), -math.sin(theta)], [math.sin(theta), math.cos(theta)]])
        quad = (quad @ rotation.T).astype(np.float32)
    return TextBox(quad, text, 0.9)


def texts(boxes: list[TextBox]) -> list[str]:
    return [line.text for line in order_lines(boxes)]


def test_rows_top_to_bottom_whatever_the_input_order() -> None:
    boxes = [box(10, 100, 300, 130, "third"), box(10, 10, 300, 40, "first"), box(10, 55, 300, 85, "second")]
    assert texts(boxes) == ["first", "second", "third"]


def test_boxes_on_one_visual_line_are_joined_left_to_right() -> None:
    boxes = [box(400, 12, 600, 42, "world"), box(10, 10, 200, 40, "hello"), box(10, 60, 200, 90, "next")]
    assert texts(boxes) == ["hello world", "next"]


def test_adjacent_chinese_pieces_join_without_a_space() -> None:
    boxes = [box(106, 10, 200, 40, "人民共和国"), box(10, 10, 100, 40, "中华")]
    assert texts(boxes) == ["中华人民共和国"]


def test_two_columns_of_running_text_are_read_column_by_column() -> None:
    boxes = [box(10, 0, 900, 40, "Title across both columns")]
    for row in range(6):
        y = 80 + row * 45
        boxes.append(box(10, y, 440, y + 30, f"left {row}"))
        boxes.append(box(500, y, 930, y + 30, f"right {row}"))
    ordered = texts(boxes)
    assert ordered[0] == "Title across both columns"
    assert ordered[1:7] == [f"left {r}" for r in range(6)]
    assert ordered[7:] == [f"right {r}" for r in range(6)]


def test_form_labels_and_values_stay_on_one_line() -> None:
    rows = [("名称:", "上海圆迈贸易有限公司"), ("纳税人识别号:", "91310114666025597Y"), ("地址、电话:", "上海市嘉定区")]
    boxes = []
    for index, (label, value) in enumerate(rows):
        y = 10 + index * 45
        boxes.append(box(10, y, 160, y + 30, label))
        boxes.append(box(400, y, 700, y + 30, value))
    assert texts(boxes) == [f"{label} {value}" for label, value in rows]


def test_skewed_page_keeps_its_rows() -> None:
    boxes = [box(10, 10 + 50 * i, 900, 40 + 50 * i, f"line {i}", angle_deg=4) for i in range(5)]
    assert texts(list(reversed(boxes))) == [f"line {i}" for i in range(5)]


def test_empty_texts_are_dropped_and_confidence_is_weighted_by_length() -> None:
    boxes = [box(10, 10, 100, 40, " "), box(10, 60, 100, 90, "ab"), box(150, 60, 400, 90, "cdefgh")]
    boxes[1].confidence, boxes[2].confidence = 0.5, 1.0
    lines = order_lines(boxes)
    assert [line.text for line in lines] == ["ab cdefgh"]
    assert abs(lines[0].confidence - (0.5 * 2 + 1.0 * 6) / 8) < 1e-6


def test_a_vertical_label_beside_a_block_does_not_pull_its_lines_into_one() -> None:
    boxes = [box(10, 10, 40, 150, "购买方")]  # printed top to bottom, as tall as the block beside it
    rows = ["名称:武汉市车城物流有限公司", "纳税人识别号:914201007483062457", "地址、电话:武汉经济技术开发区"]
    boxes += [box(60, 10 + 50 * i, 600, 40 + 50 * i, text) for i, text in enumerate(rows)]
    assert texts(boxes) == ["购买方", *rows]


def test_blocks_side_by_side_with_vertical_labels_are_read_block_by_block() -> None:
    boxes = [box(10, 10, 40, 110, "购买方信息"), box(520, 10, 550, 110, "销售方信息")]
    boxes += [box(60, 20, 480, 50, "名称:买方公司"), box(60, 70, 480, 100, "纳税人识别号:91340100728526312J")]
    boxes += [box(570, 20, 990, 50, "名称:卖方公司"), box(570, 70, 990, 100, "纳税人识别号:914201006791228986")]
    assert texts(boxes) == [
        "购买方信息",
        "名称:买方公司",
        "纳税人识别号:91340100728526312J",
        "销售方信息",
        "名称:卖方公司",
        "纳税人识别号:914201006791228986",
    ]


def test_a_table_is_read_row_by_row_not_column_by_column() -> None:
    boxes = []
    for row in range(6):
        y = 10 + row * 50
        # Left half and right half of the table with a blank between them, like a text gutter;
        # every row has several cells.
        cells = [(10, 40, f"{row + 1}"), (80, 300, f"11-0{row + 1} 22:51"), (340, 440, "深圳市")]
        cells += [(540, 800, "西丽|大学城地铁站"), (840, 900, "10.5"), (940, 1010, f"4{row}.59")]
        boxes += [box(x0, y, x1, y + 30, text) for x0, x1, text in cells]
    assert texts(boxes) == [f"{r + 1} 11-0{r + 1} 22:51 深圳市 西丽|大学城地铁站 10.5 4{r}.59" for r in range(6)]


def test_columns_with_a_gutter_narrower_than_a_line_are_still_columns() -> None:
    boxes = [box(10, 0, 930, 40, "A header across the page")]
    for row in range(6):
        y = 80 + row * 35
        boxes.append(box(10, y, 455, y + 30, f"left {row}"))
        boxes.append(box(480, y, 930, y + 30, f"right {row}"))
    ordered = texts(boxes)
    assert ordered == ["A header across the page", *[f"left {r}" for r in range(6)], *[f"right {r}" for r in range(6)]]
