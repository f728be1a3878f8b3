"""The fields stage on lines made here: kinds, label/value reading, parties, look-alikes, QR merging.

No OCR runs here; these are the rules the stage applies to whatever the engine read, so each
test states the lines and the values that must come out of them.
"""

from __future__ import annotations

import pytest

from ocrd.config import FieldsSettings
from ocrd.fields.checks import USCC_ALPHABET, uscc_check_character
from ocrd.fields.extract import extract_fields
from ocrd.fields.kinds import kind_from_text
from ocrd.result import Code, Document, Line, Page

AUTO = FieldsSettings()


def line(text: str, x0: float, y0: float, x1: float, y1: float, confidence: float = 0.99) -> Line:
    return Line(text, confidence, [[x0, y0], [x1, y0], [x1, y1], [x0, y1]])


def document(*lines: Line, codes: list[Code] | None = None, width: int = 1654, height: int = 1103) -> Document:
    return Document("invoice.png", [Page(0, width, height, "ocr", list(lines), codes or [])])


def valid_uscc(body: str) -> str:
    return body + uscc_check_character(body)


@pytest.mark.parametrize(
    ("title", "kind"),
    [
        ("电子发票（普通发票）", "fully_digital"),
        ("电子发票（增值税专用发票）", "fully_digital"),
        ("电子发票（通发票） 发票号码：26427000000145889304", "fully_digital"),  # 普 lost under a stamp
        ("湖北增值税电子普通发票", "vat_electronic_normal"),
        ("增值税电子专用发票", "vat_electronic_special"),
        ("北京增值税专用发票", "vat_special"),
        ("增值税普通发票 发票代码：044031900111", "vat_normal"),
        ("会议纪要 参会人员：张三", "other"),
        ("发票 是什么", "other"),
    ],
)
def test_the_title_decides_the_kind(title: str, kind: str) -> None:
    assert kind_from_text(title) == kind


# A fully digital invoice as PP-OCR reads it: buyer and seller blocks side by side come back as one line.
SELLER_ID = valid_uscc("91420100679122898")
BUYER_ID = valid_uscc("91340100728526312")
FULLY_DIGITAL = [
    line("电子发票（普通发票） 发票号码：26427000000145889304", 561, 56, 1599, 119),
    line("开票日期：2026年01月08日", 1100, 133, 1521, 159),
    line(
        f"购买方信息统一社会信用代码/纳税人识别号：{BUYER_ID}名称：安徽燕之坊食品有限公司 "
        f"销售方信息统一社会信用代码/纳税人识别号：{SELLER_ID}名称：中国石化销售股份有限公司湖北武汉石油分公司",
        41,
        251,
        1465,
        392,
    ),
    line("项目名称 规格型号 单位 数量 单价 金额 税率/征收率 税额", 117, 408, 1606, 445),
    line("*乙醇汽油*92号车用乙醇汽油 升 37.78 7.03 265.49 13% 34.51", 30, 443, 1612, 480),
    line("合 计 ¥265.49 ¥34.51", 158, 723, 1614, 756),
    line("价税合计（大写） ⊗叁佰圆整 （小写)¥300.00", 132, 761, 1308, 806),
]
FULLY_DIGITAL_QR = "01,32,,26427000000145889304,300.00,20260108,,670d"


def test_a_fully_digital_invoice_gives_every_header_field_checked() -> None:
    fields = extract_fields(
        document(*FULLY_DIGITAL, codes=[Code(FULLY_DIGITAL_QR, [[0, 0], [1, 0], [1, 1], [0, 1]])]), AUTO
    )
    assert fields is not None and fields.kind == "fully_digital"
    values = {name: item.value for name, item in fields.values.items()}
    assert values == {
        "invoice_number": "26427000000145889304",
        "issue_date": "2026-01-08",
        "buyer_name": "安徽燕之坊食品有限公司",
        "buyer_tax_id": BUYER_ID,
        "seller_name": "中国石化销售股份有限公司湖北武汉石油分公司",
        "seller_tax_id": SELLER_ID,
        "amount_pretax": "265.49",
        "tax": "34.51",
        "total": "300.00",
        "total_in_words": "叁佰圆整",  # the ⊗ start mark is not part of the amount
        "line_items": [
            {
                "name": "*乙醇汽油*92号车用乙醇汽油",
                "quantity": "37.78",
                "unit_price": "7.03",
                "amount": "265.49",
                "tax_rate": "13%",
                "tax": "34.51",
            }
        ],
    }
    assert not fields.needs_review, fields.reasons
    assert fields.values["invoice_number"].source == "both" and fields.values["total"].source == "both"
    assert fields.values["total"].valid and fields.values["seller_tax_id"].valid
    assert fields.values["buyer_name"].valid is None  # nothing independent confirms a name
    assert fields.qr == FULLY_DIGITAL_QR


def test_the_value_box_is_where_the_value_is_printed_not_the_whole_line() -> None:
    fields = extract_fields(document(*FULLY_DIGITAL), AUTO)
    assert fields is not None
    seller = fields.values["seller_tax_id"].box
    buyer = fields.values["buyer_tax_id"].box
    assert seller is not None and buyer is not None
    assert buyer[1][0] < 1654 / 2 < seller[0][0]  # the buyer's half, the seller's half


def test_values_printed_apart_from_their_labels_are_joined_by_row() -> None:
    # A PDF text layer gives every label and every value as a line of its own.
    fields = extract_fields(
        document(
            line("湖北增值税电子普通发票", 624, 41, 1265, 117),
            line("发票代码：", 1307, 39, 1439, 73),
            line("042002100111", 1439, 38, 1622, 74),
            line("发票号码：", 1307, 82, 1439, 117),
            line("01118494", 1439, 81, 1561, 117),
            line("开票日期：", 1307, 126, 1439, 160),
            line("2022年08月01日", 1439, 124, 1644, 160),
            line("名        称：", 126, 238, 260, 273),
            line("广州星河建筑工程有限公司", 264, 235, 614, 273),
            line("货物或应税劳务、服务名称", 117, 393, 433, 428),
            line("名        称：", 126, 817, 260, 851),
            line("武汉凯越物业管理有限公司", 264, 814, 614, 852),
        ),
        AUTO,
    )
    assert fields is not None and fields.kind == "vat_electronic_normal"
    assert fields.value_of("invoice_code") == "042002100111"
    assert fields.value_of("invoice_number") == "01118494"
    assert fields.value_of("issue_date") == "2022-08-01"
    # No 购买方/销售方 mark in reach: above the item table is the buyer, below it the seller.
    assert fields.value_of("buyer_name") == "广州星河建筑工程有限公司"
    assert fields.value_of("seller_name") == "武汉凯越物业管理有限公司"


def test_a_letter_read_for_a_digit_in_a_tax_id_is_resolved_by_the_check_character() -> None:
    body = "91310112MADT6AQ02"
    true_id = valid_uscc(body)
    assert "Q" in true_id and all(char in USCC_ALPHABET for char in true_id)
    misread = true_id.replace("Q", "O")  # O is no credit-code character: it is 0, Q or D
    lines = [
        *FULLY_DIGITAL[:2],
        line(f"销售方信息统一社会信用代码/纳税人识别号：{misread}名称：上海行其智科技有限公司", 832, 251, 1215, 392),
    ]
    fields = extract_fields(document(*lines), AUTO)
    assert fields is not None
    seller = fields.values["seller_tax_id"]
    assert seller.value == true_id and seller.changes == ["O→Q"] and seller.raw == misread
    assert any("seller_tax_id: characters corrected" in reason for reason in fields.reasons)


def test_digit_lookalikes_in_numbers_are_corrected_and_recorded() -> None:
    fields = extract_fields(
        document(line("增值税普通发票 发票代码：O44031900111 发票号码：O2738402", 100, 40, 1000, 90)), AUTO
    )
    assert fields is not None and fields.kind == "vat_normal"
    code = fields.values["invoice_code"]
    assert code.value == "044031900111" and code.changes == ["O→0"] and code.raw == "O44031900111"
    assert code.confidence < 0.99  # a corrected value is less certain than the line it came from


def test_the_qr_code_disagreeing_with_the_print_is_a_reason_and_the_print_stays() -> None:
    qr = FULLY_DIGITAL_QR.replace("26427000000145889304", "26427000000145889305")
    fields = extract_fields(document(*FULLY_DIGITAL, codes=[Code(qr, [[0, 0], [1, 0], [1, 1], [0, 1]])]), AUTO)
    assert fields is not None
    number = fields.values["invoice_number"]
    assert number.value == "26427000000145889304" and number.valid is False
    assert fields.needs_review
    assert any("invoice_number" in reason and "26427000000145889305" in reason for reason in fields.reasons)


def test_amounts_that_do_not_add_up_are_all_marked_invalid() -> None:
    lines = [
        item if "合 计" not in item.text else line("合 计 ¥265.49 ¥34.52", 158, 723, 1614, 756)
        for item in FULLY_DIGITAL
    ]
    fields = extract_fields(document(*lines), AUTO)
    assert fields is not None
    assert [fields.values[name].valid for name in ("amount_pretax", "tax", "total")] == [False, False, False]
    assert fields.needs_review and any("tax" in reason for reason in fields.reasons)


def test_capitals_that_disagree_with_the_figure_are_invalid() -> None:
    lines = [
        item if "大写" not in item.text else line("价税合计（大写） ⊗叁佰零壹圆整 （小写)¥300.00", 132, 761, 1308, 806)
        for item in FULLY_DIGITAL
    ]
    fields = extract_fields(document(*lines), AUTO)
    assert fields is not None
    assert fields.values["total_in_words"].valid is False and fields.values["total"].valid is False
    assert fields.needs_review


def test_a_missing_key_field_is_a_reason_to_review() -> None:
    fields = extract_fields(document(*[item for item in FULLY_DIGITAL if "小写" not in item.text]), AUTO)
    assert fields is not None
    assert "total: not found on the invoice" in fields.reasons


def test_other_documents_get_label_value_pairs() -> None:
    fields = extract_fields(
        document(line("姓名：张三 电话：13800000000", 40, 40, 800, 80), line("地址: 北京市海淀区", 40, 100, 800, 140)),
        AUTO,
    )
    assert fields is not None and fields.kind == "other" and not fields.values
    assert [(pair["label"], pair["value"]) for pair in fields.pairs] == [
        ("姓名", "张三"),
        ("电话", "13800000000"),
        ("地址", "北京市海淀区"),
    ]
    assert not fields.needs_review


def test_paper_invoices_print_the_number_after_no_and_the_code_alone() -> None:
    fields = extract_fields(
        document(
            line("1100153130", 80, 40, 300, 80),
            line("北京增值税专用发票", 600, 40, 1100, 100),
            line("No 02738402", 1300, 40, 1550, 90),
            line("开票日期：2019年07月01日", 1200, 110, 1600, 150),
            line("货物或应税劳务、服务名称 规格型号 单位 数量 单价 金额 税率 税额", 80, 400, 1600, 440),
        ),
        AUTO,
    )
    assert fields is not None and fields.kind == "vat_special"
    assert fields.value_of("invoice_code") == "1100153130"
    assert fields.value_of("invoice_number") == "02738402"


def test_off_gives_no_fields_and_a_forced_kind_is_extracted_without_a_title() -> None:
    untitled = document(*FULLY_DIGITAL[1:])
    assert extract_fields(untitled, FieldsSettings(mode="off")) is None
    forced = extract_fields(untitled, FieldsSettings(mode="fully_digital"))
    assert forced is not None and forced.kind == "fully_digital" and forced.value_of("total") == "300.00"
    assert extract_fields(document(*FULLY_DIGITAL), FieldsSettings(mode="other")).kind == "other"  # type: ignore[union-attr]


def test_fields_survive_the_result_json() -> None:
    original = document(*FULLY_DIGITAL, codes=[Code(FULLY_DIGITAL_QR, [[0, 0], [9, 0], [9, 9], [0, 9]])])
    original.fields = extract_fields(original, AUTO)
    again = Document.from_dict(original.to_dict())
    assert again.fields is not None and again.fields.to_dict() == original.fields.to_dict()  # type: ignore[union-attr]
    assert again.pages[0].codes[0].text == FULLY_DIGITAL_QR
    assert original.to_dict()["schema"] == 2
    old = original.to_dict() | {"schema": 1, "fields": None}
    assert Document.from_dict(old).fields is None  # results written before fields existed still read


def test_a_toll_invoice_has_no_quantity_or_unit_price_only_trip_dates() -> None:
    fields = extract_fields(
        document(
            line("湖北增值税电子普通发票 发票代码：042001700112 发票号码：47502662", 65, 27, 1616, 80),
            line("项目名称 车牌号 类型 通行日期起 通行日期止 金额 税率 税额", 184, 404, 1553, 438),
            line("*经营租赁*通行费 鄂AHG248 货车 20180204 20180204 140.95 3% 4.23", 67, 440, 1643, 476),
            line("合 计 ¥140.95 ¥4.23", 181, 713, 1643, 746),
        ),
        AUTO,
    )
    assert fields is not None
    assert fields.value_of("line_items") == [
        {
            "name": "*经营租赁*通行费",
            "quantity": None,
            "unit_price": None,
            "amount": "140.95",
            "tax_rate": "3%",
            "tax": "4.23",
        }
    ]
