"""Value checks of invoice fields on the real invoices of fields_dev, and the corruptions they must catch."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from ocrd.fields.amounts import format_amount, parse_amount
from ocrd.fields.capitals import parse_capitals, render_capitals
from ocrd.fields.checks import (
    USCC_ALPHABET,
    check_check_code,
    check_date,
    check_invoice_code,
    check_invoice_number,
    check_line_items,
    check_sum,
    check_total_in_words,
    check_uscc,
    parse_date,
    uscc_check_character,
)
from tests.paths import EVAL_ROOT

FIELDS_DEV = EVAL_ROOT / "fields_dev"
DOCUMENTS: list[dict[str, Any]] = [
    json.loads(line) for line in (FIELDS_DEV / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()
]
IDS = [document["image"] for document in DOCUMENTS]
FULLY_DIGITAL = [document for document in DOCUMENTS if document["kind"] == "fully_digital"]
WITH_TAX = [document for document in DOCUMENTS if document["fields"]["tax"] is not None]
TAX_IDS = sorted(
    {document["fields"][key] for document in DOCUMENTS for key in ("buyer_tax_id", "seller_tax_id")} - {None}
)
TODAY = date(2026, 12, 1)  # fixed so the "up to next year" bound does not move under the tests


def test_the_set_is_there_and_covers_both_kinds():
    kinds = {document["kind"] for document in DOCUMENTS}
    assert len(DOCUMENTS) >= 50 and kinds == {"vat_electronic_normal", "fully_digital"}


def amount(document: dict[str, Any], name: str) -> Decimal:
    value = parse_amount(document["fields"][name])
    assert value is not None, f"{document['image']}: {name} {document['fields'][name]!r}"
    return value


def as_printed(words: str) -> str:
    """The printed words in the form render_capitals writes: 圆 for the older 元, and 整 after a final
    角, which some invoices of 2019 leave off (伍拾叁圆肆角; the settlement rules allow both)."""
    words = words.replace("元", "圆")
    return words + "整" if words.endswith("角") else words


# --- every labelled document ---------------------------------------------------------------------


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_words_parse_to_the_total(document):
    total = amount(document, "total")
    assert parse_capitals(document["fields"]["total_in_words"]) == total
    check = check_total_in_words(document["fields"]["total_in_words"], total)
    assert check.passed and check.name == "words_match_total", check.message


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_rendered_words_are_the_printed_ones(document):
    total = amount(document, "total")
    rendered = render_capitals(total)
    assert parse_capitals(rendered) == total
    assert rendered == as_printed(document["fields"]["total_in_words"])
    if "元" in document["fields"]["total_in_words"]:
        assert render_capitals(total, yuan="元").replace("元", "圆") == rendered


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_pretax_plus_tax_is_the_total(document):
    if document["fields"]["tax"] is None:
        pytest.skip("the invoice prints *** for its tax")
    check = check_sum(amount(document, "amount_pretax"), amount(document, "tax"), amount(document, "total"))
    assert check.passed and check.name == "sum_pretax_tax_total", check.message


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_line_items_agree_with_the_totals(document):
    fields = document["fields"]
    tax = None if fields["tax"] is None else amount(document, "tax")
    checks = check_line_items(fields["line_items"], amount(document, "amount_pretax"), tax)
    names = [check.name for check in checks]
    assert "line_items_sum_amount" in names and names.count("line_item_tax_rate") == len(fields["line_items"])
    assert (tax is not None) == ("line_items_sum_tax" in names)
    assert all(check.passed for check in checks), [check.message for check in checks if not check.passed]


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_codes_numbers_and_dates_are_well_formed(document):
    fields = document["fields"]
    checks = check_invoice_number(fields["invoice_number"], document["kind"], fields["issue_date"])
    if document["kind"] == "fully_digital":
        assert fields["invoice_code"] is None and fields["check_code"] is None
        assert [check.name for check in checks] == ["invoice_number_digits", "number_year_matches_date"]
    else:
        assert check_invoice_code(fields["invoice_code"]).passed
        assert check_check_code(fields["check_code"]).passed
        assert [check.name for check in checks] == ["invoice_number_digits"]
    assert all(check.passed for check in checks), [check.message for check in checks]
    assert check_date(fields["issue_date"], TODAY).passed


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_the_qr_code_reads_as_the_printed_values(document):
    """The QR payload carries the date as 20260108 (once as 2025-11-08) and an amount with no fixed
    decimals (124.8): the pre-tax amount on type 10, the total on types 31/32 (数电)."""
    payload = document["qr"]["payload"].split(",")
    assert parse_date(payload[5]) == document["fields"]["issue_date"]
    printed = "amount_pretax" if payload[1] == "10" else "total"
    assert parse_amount(payload[4]) == amount(document, printed)
    assert format_amount(amount(document, printed)) == document["fields"][printed]


@pytest.mark.parametrize("tax_id", TAX_IDS)
def test_every_tax_id_of_the_set_passes_its_check_character(tax_id):
    check = check_uscc(tax_id)
    assert check.passed and check.name == "uscc_check_character", check.message


# --- corruptions that must be caught -------------------------------------------------------------

# Credit codes of the set with letters in different places, and one that is digits only.
CORRUPTED_CODES = ("91420100MA4KPBL615", "91110108MA01GUF37R", "914201007483062457", "91330000734500338C")


@pytest.mark.parametrize("code", CORRUPTED_CODES)
def test_every_single_substitution_of_a_credit_code_fails(code):
    assert check_uscc(code).passed
    for position in range(18):
        for char in USCC_ALPHABET.replace(code[position], ""):
            corrupted = code[:position] + char + code[position + 1 :]
            # the check character itself moves for any change in the first 17: the proof that
            # the code catches it, independent of the format rules that may reject it first
            if position < 17:
                assert uscc_check_character(corrupted[:17]) != code[17], corrupted
            check = check_uscc(corrupted)
            assert not check.passed, corrupted
            assert check.name in ("uscc_check_character", "tax_id_format"), check.name


def test_a_wrong_check_character_is_a_warning_and_a_malformed_code_an_error():
    wrong = check_uscc("91420100MA4KPBL616")
    assert (wrong.name, wrong.passed, wrong.severity) == ("uscc_check_character", False, "warning")
    assert "computed 5" in wrong.message
    for malformed in ("91420100MA4KPBLI15", "9142010OMA4KPBL615", "91420100MA4KPBL61", "91420100ma4kpbl615"):
        check = check_uscc(malformed)
        assert (check.name, check.passed, check.severity) == ("tax_id_format", False, "error"), malformed


@pytest.mark.parametrize("document", WITH_TAX, ids=[document["image"] for document in WITH_TAX])
def test_a_changed_digit_in_an_amount_breaks_the_sum(document):
    fields = document["fields"]
    for name in ("amount_pretax", "tax", "total"):
        printed = fields[name]
        for position, char in enumerate(printed):
            if not char.isdigit():
                continue
            changed = {**fields, name: printed[:position] + str((int(char) + 1) % 10) + printed[position + 1 :]}
            check = check_sum(*(parse_amount(changed[key]) for key in ("amount_pretax", "tax", "total")))
            assert not check.passed and "differs by" in check.message, (name, changed[name])


@pytest.mark.parametrize("document", DOCUMENTS, ids=IDS)
def test_the_capitals_of_another_amount_do_not_match(document):
    total = amount(document, "total")
    for other in (total + Decimal("0.01"), total - Decimal("0.10"), total + 1, total * 10, -total):
        check = check_total_in_words(render_capitals(other), total)
        assert not check.passed and "differs by" in check.message, other


@pytest.mark.parametrize("document", FULLY_DIGITAL, ids=[document["image"] for document in FULLY_DIGITAL])
def test_a_fully_digital_number_from_another_year_fails(document):
    number, issued = document["fields"]["invoice_number"], document["fields"]["issue_date"]
    for year in ("24", "27", number[1] + number[0]):
        if year == number[:2]:
            continue
        checks = check_invoice_number(year + number[2:], "fully_digital", issued)
        assert checks[0].passed and checks[1].name == "number_year_matches_date" and not checks[1].passed
    assert len(check_invoice_number(number, "fully_digital", None)) == 1  # no date, no year check


def test_a_changed_line_amount_breaks_the_line_sum():
    document = next(d for d in DOCUMENTS if len(d["fields"]["line_items"]) == 2)
    fields = document["fields"]
    items = [{**fields["line_items"][0], "amount": "1" + fields["line_items"][0]["amount"]}, fields["line_items"][1]]
    checks = check_line_items(items, amount(document, "amount_pretax"), None)
    assert [(check.name, check.passed) for check in checks] == [
        ("line_item_tax_rate", False),
        ("line_item_tax_rate", True),
        ("line_items_sum_amount", False),
    ]
    assert checks[0].severity == "warning" and checks[2].severity == "error"


def test_a_misplaced_digit_in_the_words_is_not_well_formed():
    assert parse_capitals("伍仟壹佰肆拾捌圆肆贰分") is None
    check = check_total_in_words("伍仟壹佰肆拾捌圆肆贰分", Decimal("5148.42"))
    assert not check.passed and "not a well-formed" in check.message


# --- amounts as printed --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("¥1,234.50", "1234.50"),
        ("￥265.49", "265.49"),
        ("２６５.４９", "265.49"),
        ("-12.00", "-12.00"),
        ("¥ -300.00", "-300.00"),
        ("-¥300", "-300.00"),
        ("1 234.5", "1234.50"),
        ("0.005", "0.01"),
        ("-0.00", "0.00"),
    ],
)
def test_amounts_as_printed(text, value):
    assert format_amount(parse_amount(text)) == value


@pytest.mark.parametrize(
    "text", ["", "¥", "1,23.45", ".50", "12.", "--5", "-¥-5", "12a.45", "***", "26427000000145889304"]
)
def test_what_is_not_an_amount(text):
    assert parse_amount(text) is None


# --- capitals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("words", "value"),
    [
        ("叁拾捌元零叁分", "38.03"),
        ("壹拾柒元叁角肆分", "17.34"),
        ("贰佰贰拾圆整", "220.00"),
        ("壹佰元整", "100.00"),
        ("壹万零伍佰元整", "10500.00"),
        ("拾元", "10.00"),
        ("叁佰贰拾伍元零角肆分", "325.04"),
        ("壹仟陆佰捌拾元叁角贰分", "1680.32"),
        ("壹拾万零柒仟元伍角叁分", "107000.53"),
        ("壹拾万柒仟元零伍角叁分", "107000.53"),
        ("陆仟零柒元壹角肆分", "6007.14"),
        ("壹仟肆佰零玖元伍角", "1409.50"),
        ("壹万陆仟肆佰零玖元零贰分", "16409.02"),
        ("贰佰圆正", "200.00"),
        ("伍角", "0.50"),
        ("伍分", "0.05"),
        ("零圆整", "0.00"),
        ("壹亿零壹仟圆整", "100001000.00"),
        ("壹佰万伍仟圆整", "1005000.00"),
        ("貳萬陸仟圓整", "26000.00"),
        ("⊗ 叁佰圆整", "300.00"),
        ("ⓧ叁仟伍佰伍拾圆零柒角整", "3550.70"),
        ("⊗（负数）壹万肆仟圆整", "-14000.00"),
        ("(负数)壹佰肆拾壹圆整", "-141.00"),
        ("负壹拾贰圆叁角贰分", "-12.32"),
        ("壹 佰 肆 拾 伍 元 壹 角 捌 分", "145.18"),
    ],
)
def test_capitals_as_written(words, value):
    assert parse_capitals(words) == Decimal(value)


@pytest.mark.parametrize(
    "words",
    [
        "伍仟壹佰肆拾捌圆肆贰分",  # a digit without its unit
        "壹佰伍圆",  # a zero inside a section must be written: 壹佰零伍
        "壹万伍佰圆整",  # nor may the zero 仟 after 万 be left out
        "壹亿壹仟圆整",  # a whole zero section needs its 零
        "壹佰零贰拾圆",  # a 零 that stands for nothing
        "壹佰零零伍圆",
        "壹佰贰仟圆",  # units out of order
        "叁佰贰拾伍元肆分",  # a zero 角 before 分 must be written
        "壹佰肆拾伍元零壹角",  # 零 after a non-zero 元 digit
        "壹佰肆拾伍圆壹角捌分整",  # nothing after 分
        "零壹佰圆",
        "壹佰拾圆",  # 拾 without its digit is only allowed first
        "壹万亿圆",
        "壹佰圆元",
        "圆整",
        "整",
        "",
        "壹佰",  # no 圆 and no 角/分
        "叁百圆整",  # 百 is not a capital
    ],
)
def test_capitals_that_are_not_well_formed(words):
    assert parse_capitals(words) is None


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("300.00", "叁佰圆整"),
        ("145.18", "壹佰肆拾伍圆壹角捌分"),
        ("38.03", "叁拾捌圆零叁分"),
        ("10500.00", "壹万零伍佰圆整"),
        ("100.25", "壹佰圆零贰角伍分"),
        ("73.20", "柒拾叁圆贰角整"),
        ("17.14", "壹拾柒圆壹角肆分"),
        ("107000.53", "壹拾万柒仟圆零伍角叁分"),
        ("100001000.00", "壹亿零壹仟圆整"),
        ("0.50", "伍角整"),
        ("0.05", "伍分"),
        ("0.00", "零圆整"),
        ("-300.00", "（负数）叁佰圆整"),
    ],
)
def test_rendered_capitals(value, words):
    assert render_capitals(Decimal(value)) == words


def test_render_and_parse_agree_on_every_amount_to_a_thousand_and_across_sections():
    values = [Decimal(fen) / 100 for fen in range(0, 100_001, 7)]
    values += [Decimal(n) for n in (10**4, 10**5 + 1, 10**8 + 10**4, 10**8 + 1, 999_999_999_999, 10_010_010)]
    values += [Decimal(n) * 10**k + Decimal("0.09") for n in range(1, 10_000, 37) for k in (0, 4, 8)]
    for value in values:
        for yuan in ("圆", "元"):
            assert parse_capitals(render_capitals(value, yuan)) == value, value
            assert parse_capitals(render_capitals(-value, yuan)) == -value, value


def test_render_refuses_what_it_cannot_write():
    for value, yuan in ((Decimal("1.005"), "圆"), (Decimal(10**12), "圆"), (Decimal(1), "块")):
        with pytest.raises(ValueError):
            render_capitals(value, yuan)


# --- taxpayer IDs, codes, dates ------------------------------------------------------------------


def test_old_taxpayer_ids_are_accepted_without_a_check_character():
    # 420100 + 748306245: the area code and organisation code inside the set's 914201007483062457
    for old in ("420100748306245", "42010019650101123", "42010019650101123X01"):
        check = check_uscc(old)
        assert check.passed and check.name == "tax_id_format" and "no check character" in check.message, old
    for impossible in ("42010A748306245", "4201001965010112X", "420100196501011230Y1", "4201007483062"):
        check = check_uscc(impossible)
        assert not check.passed and check.severity == "error", impossible


def test_an_individuals_id_number_is_named_but_still_fails_the_credit_code_check():
    # GB 11643's own example number; as a credit code its check character is wrong
    check = check_uscc("11010519491231002X")
    assert (check.name, check.passed, check.severity) == ("uscc_check_character", False, "warning")
    assert "居民身份证号码" in check.message
    # the same digits with the birth date broken are not an ID number either
    assert "居民身份证号码" not in check_uscc("11010519491331002X").message


def test_invoice_codes_numbers_and_check_codes():
    assert check_invoice_code("1100171130").passed and check_invoice_code("042001700112").passed
    for bad in ("04200170011", "0420017001123", "04200170011O", ""):
        assert not check_invoice_code(bad).passed, bad
    assert not check_invoice_number("4750266", "vat_electronic_normal", "2018-03-23")[0].passed
    assert not check_invoice_number("47502662", "fully_digital", "2018-03-23")[0].passed
    assert check_invoice_number("47502662", "vat_special", None)[0].passed
    with pytest.raises(ValueError):
        check_invoice_number("47502662", "other", None)
    spaced = check_check_code("08795 32740 22546 84486")
    assert not spaced.passed and "spaces" in spaced.message
    assert not check_check_code("0879532740225468448").passed


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2026年01月08日", "2026-01-08"),
        ("2026 年 1 月 8 日", "2026-01-08"),
        ("２０２６年０１月０８日", "2026-01-08"),
        ("2026-01-08", "2026-01-08"),
        ("2026/1/8", "2026-01-08"),
        ("2026.01.08", "2026-01-08"),
        ("20260108", "2026-01-08"),
        ("2026年02月30日", "2026-02-30"),
        ("2026-01/08", None),
        ("2026年01月", None),
        ("260108", None),
    ],
)
def test_dates_as_printed(text, iso):
    assert parse_date(text) == iso


def test_dates_must_be_real_and_in_range():
    assert check_date("2027-12-31", TODAY).passed and check_date("1990-01-01", TODAY).passed
    for bad in ("2026-02-30", "2026-13-01", "2028-01-01", "1989-12-31", "2026-1-8", "20260108"):
        assert not check_date(bad, TODAY).passed, bad


def test_line_items_skip_what_is_unknown():
    items: list[dict[str, str | None]] = [
        {"name": "*餐饮服务*餐费", "amount": "100.00", "tax_rate": "6%", "tax": "6.00"},
        {"name": "*农产品*蔬菜", "amount": "50.00", "tax_rate": "免税", "tax": "***"},
    ]
    checks = {check.name: check for check in check_line_items(items, Decimal("150.00"), Decimal("6.00"))}
    assert set(checks) == {"line_item_tax_rate", "line_items_sum_amount", "line_items_sum_tax"}
    assert all(check.passed for check in checks.values())
    unknown = [{**items[0], "amount": None}, {**items[1], "tax_rate": "***"}]
    assert [check.name for check in check_line_items(unknown, Decimal("150.00"), None)] == []
    unreadable = check_line_items([{**items[0], "amount": "1OO.00"}], None, None)
    assert [(check.name, check.passed) for check in unreadable] == [("line_item_values", False)]


def test_capitals_that_do_not_agree_are_shown_beside_the_figure_written_out() -> None:
    # The issue's own example: the 角 was lost, which makes it another amount (or none at all).
    lost_jiao = check_total_in_words("伍仟壹佰肆拾捌圆肆贰分", Decimal("5148.42"))
    assert not lost_jiao.passed and "伍仟壹佰肆拾捌圆肆角贰分" in lost_jiao.message
    other_amount = check_total_in_words("叁佰零壹圆整", Decimal("300.00"))
    assert not other_amount.passed and "300.00 in capitals is 叁佰圆整" in other_amount.message
