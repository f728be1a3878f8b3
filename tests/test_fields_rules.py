"""User rules (ocrd.fields.rules) on real result lines: found, normalised, checked, and refused when they cannot work."""

from __future__ import annotations

import pytest

from ocrd.config import FieldRule
from ocrd.fields.rules import RuleError, apply_rules, compile_rules
from ocrd.result import Line

# The origin document's own example: "if 发票代码 is in the text, check that it is 12 digits".
INVOICE_CODE = FieldRule(
    name="invoice_code",
    pattern=r"发票代码[:：]?\s*(?P<value>[0-9Oo]{10,12})",
    normalise="digits",
    check_pattern=r"\d{12}",
)


def line(text: str, confidence: float = 0.9, top: float = 0.0) -> Line:
    return Line(text, confidence, [[10.0, top], [200.0, top], [200.0, top + 20], [10.0, top + 20]])


def page(*texts: str) -> list[Line]:
    return [line(text, 0.9 - index * 0.1, top=index * 30.0) for index, text in enumerate(texts)]


def test_a_twelve_digit_invoice_code_passes_its_check() -> None:
    values = apply_rules([INVOICE_CODE], "vat_normal", [(0, page("增值税普通发票", "发票代码：144031900111"))])
    code = values["invoice_code"]
    assert code.value == "144031900111"
    # Passing its length check only rules nothing out: a rule's pattern is no confirmation.
    assert code.valid is None and code.to_dict()["valid"] is None
    assert [(check.name, check.passed) for check in code.checks] == [("pattern", True)]
    assert code.source == "rule" and code.page == 0
    assert code.confidence == pytest.approx(0.8)
    assert code.box == [[10.0, 30.0], [200.0, 30.0], [200.0, 50.0], [10.0, 50.0]]
    assert code.raw is None and code.changes == []


def test_an_eleven_digit_invoice_code_fails_its_check() -> None:
    values = apply_rules([INVOICE_CODE], "vat_normal", [(0, page("发票代码: 14403190011"))])
    code = values["invoice_code"]
    assert code.value == "14403190011"
    assert code.valid is False
    (check,) = code.checks
    assert check.name == "pattern" and not check.passed and check.severity == "error"
    assert "14403190011" in check.message and r"\d{12}" in check.message
    assert code.to_dict()["valid"] is False


def test_an_o_read_for_a_zero_is_corrected_and_the_change_recorded() -> None:
    values = apply_rules([INVOICE_CODE], "other", [(0, page("发票代码：1440319OO111"))])
    code = values["invoice_code"]
    assert code.value == "144031900111"
    assert [check.passed for check in code.checks] == [True]
    assert code.raw == "1440319OO111"
    assert code.changes == ["O→0", "O→0"]
    assert code.to_dict()["changes"] == ["O→0", "O→0"]


def test_digits_leave_letters_alone_when_the_rest_is_not_a_number() -> None:
    rule = FieldRule(name="reference", pattern=r"Ref[:：]\s*(?P<value>\S+)", normalise="digits")
    values = apply_rules([rule], "other", [(0, page("Ref: No1234"))])
    assert values["reference"].value == "No1234" and values["reference"].changes == []
    values = apply_rules([rule], "other", [(0, page("Ref: １２３I"))])
    # Full-width digits are the same digits (no guess, nothing to list); the I among them is a guess.
    assert values["reference"].value == "1231" and values["reference"].changes == ["I→1"]


def test_a_value_printed_below_its_label_is_found_in_the_page_text() -> None:
    lines = page("购买方信息", "发票代码：", "144031900111", "开票日期")
    values = apply_rules([INVOICE_CODE], "vat_normal", [(3, lines)])
    code = values["invoice_code"]
    assert code.value == "144031900111"
    assert code.page == 3
    assert code.box == lines[2].box, "the box is the line the value is on, not the label's"
    assert code.confidence == pytest.approx(lines[2].confidence)


def test_the_first_match_in_reading_order_wins() -> None:
    pages = [
        (0, page("没有代码")),
        (1, page("发票代码 111111111111", "发票代码 222222222222")),
        (2, page("发票代码 333333333333")),
    ]
    assert apply_rules([INVOICE_CODE], "other", pages)["invoice_code"].value == "111111111111"
    assert apply_rules([INVOICE_CODE], "other", pages)["invoice_code"].page == 1


def test_of_two_rules_for_one_name_the_first_that_matches_wins() -> None:
    own = FieldRule(name="invoice_code", pattern=r"代码号(?P<value>\d+)")
    pages = [(0, page("发票代码 144031900111"))]
    assert apply_rules([own, INVOICE_CODE], "other", pages)["invoice_code"].value == "144031900111"
    pages = [(0, page("代码号42", "发票代码 144031900111"))]
    assert apply_rules([own, INVOICE_CODE], "other", pages)["invoice_code"].value == "42"


def test_a_rule_only_applies_to_its_kinds() -> None:
    rule = FieldRule(name="invoice_code", pattern=INVOICE_CODE.pattern, kinds=("vat_normal",))
    pages = [(0, page("发票代码 144031900111"))]
    assert apply_rules([rule], "vat_special", pages) == {}
    assert apply_rules([rule], "vat_normal", pages)["invoice_code"].value == "144031900111"


def test_a_match_without_its_optional_value_is_passed_over() -> None:
    rule = FieldRule(name="order", pattern=r"订单(?:[:：](?P<value>\d+))?")
    values = apply_rules([rule], "other", [(0, page("订单", "订单：778"))])
    assert values["order"].value == "778"


def test_amounts_dates_and_names_checks() -> None:
    rules = [
        FieldRule(name="deposit", pattern=r"押金[:：]?(?P<value>[¥\d,.]+)", normalise="amount", check="amount"),
        FieldRule(name="due", pattern=r"到期[:：]?(?P<value>\S+)", normalise="date", check="date"),
        FieldRule(name="landlord_id", pattern=r"税号[:：]?(?P<value>\w+)", normalise="upper", check="uscc"),
        FieldRule(name="ticket", pattern=r"票号[:：]?(?P<value>[\d ]+\d)", normalise="compact"),
    ]
    lines = page("押金：¥1,234.5", "到期：2026年3月14日", "税号：91350100m000100y43", "票号: 12 34 56")
    values = apply_rules(rules, "other", [(0, lines)])
    assert values["deposit"].value == "1234.50" and values["deposit"].raw == "¥1,234.5"
    assert [check.passed for check in values["deposit"].checks] == [True]
    assert values["due"].value == "2026-03-14" and [check.passed for check in values["due"].checks] == [True]
    assert values["landlord_id"].value == "91350100M000100Y43"
    assert values["landlord_id"].checks and all(check.passed for check in values["landlord_id"].checks)
    assert values["ticket"].value == "123456"


def test_text_that_cannot_be_read_as_asked_is_kept_and_marked() -> None:
    rule = FieldRule(name="due", pattern=r"到期[:：](?P<value>\S+)", normalise="date")
    due = apply_rules([rule], "other", [(0, page("到期：下个月"))])["due"]
    assert due.value == "下个月"
    assert due.valid is False and "date" in due.checks[0].message


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"pattern": r"发票代码(\d+)"}, "pattern", 'no group named "value"'),
        ({"pattern": r"发票代码(?P<value>\d+"}, "pattern", "not a valid regular expression"),
        ({"kinds": ("vat_normal", "receipt")}, "kinds", "'receipt'"),
        ({"normalise": "digit"}, "normalise", "digits"),
        ({"check": "luhn"}, "check", "uscc"),
        ({"check_pattern": r"(\d{12}"}, "check_pattern", "not a valid regular expression"),
        ({"name": "InvoiceCode"}, "name", "snake_case"),
        ({"name": "2nd_code"}, "name", "snake_case"),
        ({"name": "line_items"}, "name", "another name"),
    ],
)
def test_a_rule_that_cannot_work_is_refused(changes: dict[str, object], key: str, words: str) -> None:
    good = FieldRule(name="po_number", pattern=r"PO(?P<value>\d+)")
    bad = FieldRule(**{**INVOICE_CODE.__dict__, **changes})  # type: ignore[arg-type]
    with pytest.raises(RuleError) as caught:
        compile_rules([good, bad])
    assert isinstance(caught.value, ValueError)
    assert caught.value.key == key
    assert words in str(caught.value)
    assert str(caught.value).startswith(f"rule {bad.name!r}: {key} ")


def test_good_rules_compile_in_order() -> None:
    compiled = compile_rules([INVOICE_CODE, FieldRule(name="po_number", pattern=r"PO(?P<value>\d+)")])
    assert [rule.name for rule in compiled] == ["invoice_code", "po_number"]
    assert compiled[0].check_pattern is not None and compiled[1].check_pattern is None
