"""The synthetic invoices of tests/invoice_render.py: right by construction, wrong only on purpose.

Everything here is fast (each page renders in a fraction of a second) and runs no OCR.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal

import cv2
import numpy as np
import pymupdf
import pytest

from ocrd.fields import model
from tests import invoice_render as ir
from tests.paths import EVAL_ROOT

FIELDS_DEV = EVAL_ROOT / "fields_dev"
SEEDS = range(40)


def _real_labels() -> list[dict]:
    labels = FIELDS_DEV / "labels.jsonl"
    if not labels.is_file():
        raise RuntimeError(f"real invoice labels not found at {labels}")
    return [json.loads(line) for line in labels.read_text(encoding="utf-8").splitlines() if line.strip()]


def _fen(amount: str) -> int:
    return int(Decimal(amount) * 100)


def _squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def rendered() -> dict[tuple[str, str | None], tuple[ir.InvoiceSpec, bytes, bytes]]:
    """One spec, PNG and text-layer PDF per kind, clean and with a corrupted QR and tax ID."""
    pages = {}
    for kind in ir.KINDS:
        for corrupt in (None, "qr", "tax_id", "words"):
            spec = ir.make_invoice(7, kind, corrupt=corrupt)
            pages[kind, corrupt] = (spec, ir.render_png(spec), ir.render_pdf(spec))
    return pages


# --- the oracle ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "yuan", "jiao_zheng", "words"),
    [
        ("300.00", "圆", True, "叁佰圆整"),
        ("145.18", "圆", True, "壹佰肆拾伍圆壹角捌分"),
        ("38.03", "圆", True, "叁拾捌圆零叁分"),
        ("100.25", "元", False, "壹佰元零贰角伍分"),
        ("73.20", "圆", True, "柒拾叁圆贰角整"),
        ("53.40", "圆", False, "伍拾叁圆肆角"),
        ("206.01", "圆", True, "贰佰零陆圆零壹分"),
        ("10050.00", "圆", True, "壹万零伍拾圆整"),
        ("100500.00", "元", False, "壹拾万零伍佰元整"),
        ("1000500.07", "圆", True, "壹佰万零伍佰圆零柒分"),
        ("0.50", "圆", True, "伍角整"),
    ],
)
def test_amount_in_words(amount: str, yuan: str, jiao_zheng: bool, words: str) -> None:
    assert ir.amount_in_words(amount, yuan=yuan, jiao_zheng=jiao_zheng) == words


def test_amount_in_words_reproduces_every_real_invoice() -> None:
    """The conversion and the per-kind style agree with what real invoices print."""
    for label in _real_labels():
        fields = label["fields"]
        yuan, jiao_zheng = ir.words_style(label["kind"], int(fields["issue_date"][:4]))
        assert ir.amount_in_words(fields["total"], yuan=yuan, jiao_zheng=jiao_zheng) == fields["total_in_words"], label[
            "image"
        ]


def test_uscc_check_accepts_every_real_tax_id() -> None:
    ids = {label["fields"][name] for label in _real_labels() for name in ("buyer_tax_id", "seller_tax_id")}
    ids.discard(None)
    assert ids
    for code in ids:
        assert ir.is_valid_uscc(code), code
        assert ir.org_code_check_character(code[8:16]) == code[16], code


def test_uscc_check_catches_every_single_character_change() -> None:
    code = ir.make_invoice(3, "fully_digital").seller_tax_id
    assert ir.is_valid_uscc(code)
    for position in range(18):
        for char in ir.USCC_ALPHABET:
            if char != code[position]:
                assert not ir.is_valid_uscc(code[:position] + char + code[position + 1 :])
    assert not ir.is_valid_uscc(code[:17])
    assert not ir.is_valid_uscc(code[:17] + "I")  # not in the alphabet


# --- the specification -----------------------------------------------------------------------------


def test_field_names_are_the_models() -> None:
    """The renderer spells its fields itself (it is an oracle), so it must not drift from the stage's shape."""
    assert ir.HEADER_FIELDS == model.HEADER_FIELDS
    assert ir.LINE_ITEM_KEYS == model.LINE_ITEM_KEYS
    assert set(ir.KINDS) <= set(model.VAT_KINDS)


def test_same_seed_same_invoice_and_seeds_differ() -> None:
    for kind in ir.KINDS:
        assert ir.make_invoice(5, kind) == ir.make_invoice(5, kind)
        assert ir.make_invoice(5, kind, corrupt="sum") == ir.make_invoice(5, kind, corrupt="sum")
        assert len({ir.make_invoice(seed, kind).invoice_number for seed in SEEDS}) == len(SEEDS)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="kind"):
        ir.make_invoice(1, "vat_special")
    with pytest.raises(ValueError, match="corrupt"):
        ir.make_invoice(1, "fully_digital", corrupt="date")


@pytest.mark.parametrize("kind", ir.KINDS)
def test_numbers_and_codes_have_the_kinds_forms(kind: str) -> None:
    for seed in SEEDS:
        spec = ir.make_invoice(seed, kind)
        year = spec.issue_date[:4]
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", spec.issue_date)
        assert spec.buyer_name.endswith("公司") and spec.seller_name.endswith("公司")
        assert spec.buyer_name != spec.seller_name
        assert ir.is_valid_uscc(spec.buyer_tax_id) and ir.is_valid_uscc(spec.seller_tax_id)
        if kind == "fully_digital":
            assert spec.title == "电子发票（普通发票）"
            assert re.fullmatch(r"\d{20}", spec.invoice_number) and spec.invoice_number[:2] == year[2:]
            assert spec.invoice_code is None and spec.check_code is None and spec.machine_number is None
        else:
            assert spec.title.endswith("增值税电子普通发票")
            assert re.fullmatch(r"\d{12}", spec.invoice_code or "")
            assert re.fullmatch(r"\d{8}", spec.invoice_number)
            assert re.fullmatch(r"\d{20}", spec.check_code or "")
            assert re.fullmatch(r"\d{12}", spec.machine_number or "")


@pytest.mark.parametrize("kind", ir.KINDS)
def test_amounts_add_up_to_the_fen(kind: str) -> None:
    for seed in SEEDS:
        spec = ir.make_invoice(seed, kind)
        assert 1 <= len(spec.line_items) <= 4
        for item in spec.line_items:
            assert set(item) == set(ir.LINE_ITEM_KEYS) and all(isinstance(value, str) for value in item.values())
            assert item["tax_rate"] in ("13%", "9%", "6%", "3%")
            rate = int(item["tax_rate"].rstrip("%"))
            # Tax on the row is the amount times the rate, or the remainder of a round tax-inclusive price.
            assert abs(_fen(item["tax"]) - _fen(item["amount"]) * rate / 100) <= 1.0, item
            if item["quantity"]:
                assert abs(Decimal(item["quantity"]) * Decimal(item["unit_price"]) - Decimal(item["amount"])) < Decimal(
                    "0.01"
                )
        assert sum(_fen(item["amount"]) for item in spec.line_items) == _fen(spec.amount_pretax)
        assert sum(_fen(item["tax"]) for item in spec.line_items) == _fen(spec.tax)
        assert _fen(spec.amount_pretax) + _fen(spec.tax) == _fen(spec.total) > 0
        yuan, jiao_zheng = ir.words_style(kind, int(spec.issue_date[:4]))
        assert spec.total_in_words == ir.amount_in_words(spec.total, yuan=yuan, jiao_zheng=jiao_zheng)
        assert ("元" if kind != "fully_digital" and spec.issue_date < "2019" else "圆") in spec.total_in_words


@pytest.mark.parametrize("kind", ir.KINDS)
def test_qr_payload_carries_the_fields(kind: str) -> None:
    for seed in SEEDS:
        spec = ir.make_invoice(seed, kind)
        date = spec.issue_date.replace("-", "")
        if kind == "fully_digital":
            assert re.fullmatch(rf"01,32,,{spec.invoice_number},{re.escape(spec.total)},{date},,[0-9a-f]{{4}}", spec.qr)
        else:
            parts = spec.qr.split(",")
            assert parts[:4] == ["01", "10", spec.invoice_code, spec.invoice_number]
            assert Decimal(parts[4]) == Decimal(spec.amount_pretax)  # trailing zeros dropped, as real ones do
            assert parts[5:7] == [date, spec.check_code]
            assert re.fullmatch(r"[0-9A-F]{4}", parts[7]) and parts[8] == ""


@pytest.mark.parametrize("kind", ir.KINDS)
def test_clean_invoice_prints_the_truth(kind: str) -> None:
    spec = ir.make_invoice(11, kind)
    assert spec.corrupted is None
    assert spec.printed == {name: value for name, value in spec.fields().items() if name != "kind"} | {"qr": spec.qr}


@pytest.mark.parametrize("kind", ir.KINDS)
@pytest.mark.parametrize("corrupt", ir.CORRUPTIONS)
def test_corruption_is_wrong_exactly_where_it_says(kind: str, corrupt: str) -> None:
    for seed in range(12):
        clean = ir.make_invoice(seed, kind)
        spec = ir.make_invoice(seed, kind, corrupt=corrupt)
        assert spec.fields() == clean.fields() and spec.qr == clean.qr  # the truth does not move
        assert spec.corrupted is not None and spec.corrupted.kind == corrupt
        wrong = {name for name in spec.printed if spec.printed[name] != clean.printed[name]}
        assert wrong == {spec.corrupted.field}
        assert spec.corrupted.true == clean.printed[spec.corrupted.field]
        assert spec.corrupted.printed == spec.printed[spec.corrupted.field]
        printed = spec.printed
        if corrupt == "tax_id":
            assert not ir.is_valid_uscc(printed["seller_tax_id"]) and ir.is_valid_uscc(spec.seller_tax_id)
            assert sum(a != b for a, b in zip(printed["seller_tax_id"], spec.seller_tax_id, strict=True)) == 1
        elif corrupt == "sum":
            difference = _fen(printed["amount_pretax"]) + _fen(printed["tax"]) - _fen(printed["total"])
            assert abs(difference) == 1
        elif corrupt == "words":
            yuan, jiao_zheng = ir.words_style(kind, int(spec.issue_date[:4]))
            assert printed["total_in_words"] != ir.amount_in_words(printed["total"], yuan=yuan, jiao_zheng=jiao_zheng)
            assert printed["total_in_words"].endswith(("整", "分", "角"))
        else:
            qr_number = printed["qr"].split(",")[3]
            assert qr_number != printed["invoice_number"] and len(qr_number) == len(printed["invoice_number"])
            if kind == "fully_digital":
                assert qr_number[:2] == printed["invoice_number"][:2]
            rest = printed["qr"].split(",")
            rest[3] = printed["invoice_number"]
            assert ",".join(rest) == spec.qr


# --- the pages ------------------------------------------------------------------------------------


def test_rendering_is_deterministic(rendered: dict) -> None:
    spec, png, pdf = rendered["vat_electronic_normal", None]
    again = ir.make_invoice(spec.seed, spec.kind)
    assert ir.render_png(again) == png
    assert ir.render_pdf(again) == pdf
    assert ir.render_pdf(again, text_layer=False) == ir.render_pdf(spec, text_layer=False)
    assert ir.degrade(png, 4) == ir.degrade(png, 4)
    assert ir.degrade(png, 4) != ir.degrade(png, 5)
    assert rendered["fully_digital", None][1] != png


@pytest.mark.parametrize("dpi", [200, 100])
def test_png_has_the_page_size(dpi: int) -> None:
    image = cv2.imdecode(
        np.frombuffer(ir.render_png(ir.make_invoice(2, "fully_digital"), dpi), np.uint8), cv2.IMREAD_UNCHANGED
    )
    # MuPDF rounds the pixel box outward: 240 x 140 mm at 200 dpi is 1889.8 x 1102.4 -> 1890 x 1103.
    expected = (math.ceil(ir.PAGE_HEIGHT_MM / 25.4 * dpi), math.ceil(ir.PAGE_WIDTH_MM / 25.4 * dpi), 3)
    assert image.shape == expected
    if dpi == 200:
        assert image.shape[:2] == (1103, 1890)


@pytest.mark.parametrize("key", [(kind, corrupt) for kind in ir.KINDS for corrupt in (None, "qr")])
def test_qr_in_the_png_decodes_to_the_printed_payload(rendered: dict, key: tuple[str, str | None]) -> None:
    spec, png, _ = rendered[key]
    image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)
    payload, _, _ = cv2.QRCodeDetector().detectAndDecode(image)
    assert payload == spec.printed["qr"]
    assert (payload == spec.qr) == (key[1] is None)


@pytest.mark.parametrize("key", [(kind, corrupt) for kind in ir.KINDS for corrupt in (None, "tax_id", "words")])
def test_pdf_text_layer_holds_every_printed_value(rendered: dict, key: tuple[str, str | None]) -> None:
    spec, _, pdf = rendered[key]
    with pymupdf.open("pdf", pdf) as doc:
        assert doc.page_count == 1
        page = doc[0]
        assert page.rect.width == pytest.approx(ir.PAGE_WIDTH_MM * 72 / 25.4)
        text = _squash(page.get_text())
        # Embedded (a font file, "ttf"; "n/a" would mean a name only), subset (the ABCDEF+ prefix).
        fonts = [font for font in page.get_fonts() if "Droid Sans Fallback" in font[3]]
        assert fonts and all(font[1] == "ttf" and re.match(r"[A-Z]{6}\+", font[3]) for font in fonts)
    assert _squash(spec.title) in text
    for name in ir.HEADER_FIELDS:
        shown = ir.page_text(spec, name)
        if shown is None:
            assert spec.kind == "fully_digital" and name in ("invoice_code", "check_code", "machine_number")
            continue
        assert _squash(shown) in text, name
    for item in spec.printed["line_items"]:
        for key_name, value in item.items():
            if value:
                assert _squash(value) in text, key_name
    if spec.corrupted is not None:
        assert _squash(spec.corrupted.true) not in text  # only the wrong value is on the page
    for label in (
        "项目名称" if spec.kind == "fully_digital" else "货物或应税劳务、服务名称",
        "价税合计（大写）",
        "（小写）",
        "开票人",
    ):
        assert label in text


def test_pdf_without_text_layer_is_an_image(rendered: dict) -> None:
    spec = rendered["fully_digital", None][0]
    with pymupdf.open("pdf", ir.render_pdf(spec, text_layer=False)) as doc:
        assert doc[0].get_text().strip() == ""
        assert len(doc[0].get_images()) == 1


def test_degrade_gives_a_gray_tilted_jpeg(rendered: dict) -> None:
    png = rendered["vat_electronic_normal", None][1]
    scan = ir.degrade(png, 9)
    assert scan[:3] == b"\xff\xd8\xff"
    image = cv2.imdecode(np.frombuffer(scan, np.uint8), cv2.IMREAD_UNCHANGED)
    original = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_GRAYSCALE)
    assert image.ndim == 2 and image.shape == original.shape
    assert len(scan) < len(png)
    # Blurred and turned: the images differ clearly, but not beyond a recognisable copy.
    difference = np.abs(image.astype(int) - original.astype(int))
    assert 1.0 < difference.mean() < 40.0
