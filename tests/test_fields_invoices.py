"""The fields stage end to end: real OCR of invoices, synthetic ones with known fields and real ones.

Synthetic invoices (tests/invoice_render.py) carry their true fields and, when corrupted, print
one wrong value on purpose: the checks must flag exactly that. The real invoices of
``fields_dev`` (read in place) are labelled from their text layers and QR codes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from ocrd.engine.pipeline import OcrPipeline
from ocrd.fields.model import Fields
from ocrd.result import Document
from tests import invoice_render as ir
from tests.paths import EVAL_ROOT

FIELDS_DEV = EVAL_ROOT / "fields_dev"
# Fields with an independent check (check character, arithmetic, QR code): a wrong value there
# must never be marked valid.
CHECKED = ("invoice_code", "invoice_number", "issue_date", "check_code", "buyer_tax_id", "seller_tax_id",
           "amount_pretax", "tax", "total", "total_in_words")  # fmt: skip
HEADER = ("invoice_code", "invoice_number", "issue_date", "check_code", "machine_number", "buyer_name",
          "buyer_tax_id", "seller_name", "seller_tax_id", "amount_pretax", "tax", "total", "total_in_words")  # fmt: skip


@pytest.fixture(scope="module")
def pipeline(shared_pipeline: OcrPipeline) -> OcrPipeline:
    return shared_pipeline  # OcrPipeline(EngineSettings()), loaded once per session


def read(pipeline: OcrPipeline, path: Path) -> Fields:
    fields = pipeline.run_path(path).fields
    assert fields is not None
    return fields


def write(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def header_values(fields: Fields) -> dict[str, str | None]:
    return {name: fields.value_of(name) for name in HEADER}


def no_wrong_value_is_valid(fields: Fields, truth: dict) -> None:
    for name in CHECKED:
        item = fields.values.get(name)
        if item is not None and item.valid:
            assert item.value == truth[name], f"{name}: {item.value!r} marked valid, true value {truth[name]!r}"


@pytest.mark.parametrize("kind", ir.KINDS)
def test_a_scanned_invoice_gives_its_true_fields(pipeline: OcrPipeline, tmp_path: Path, kind: str) -> None:
    spec = ir.make_invoice(11, kind)
    fields = read(pipeline, write(tmp_path, "invoice.png", ir.render_png(spec)))
    truth = spec.fields()
    assert fields.kind == kind
    assert header_values(fields) == {name: truth[name] for name in HEADER}
    for name in ("invoice_number", "issue_date", "total", "seller_tax_id", "buyer_tax_id"):
        assert fields.values[name].valid is True, (name, fields.values[name].checks)
    assert [(item["amount"], item["tax_rate"], item["tax"]) for item in fields.value_of("line_items")] == [
        (item["amount"], item["tax_rate"], item["tax"]) for item in truth["line_items"]
    ]


@pytest.mark.parametrize("kind", ir.KINDS)
def test_an_invoice_pdf_is_read_from_its_text_layer_and_its_qr_code(
    pipeline: OcrPipeline, tmp_path: Path, kind: str
) -> None:
    spec = ir.make_invoice(12, kind)
    document = pipeline.run_path(write(tmp_path, "invoice.pdf", ir.render_pdf(spec)))
    assert document.pages[0].source == "text-layer"
    fields = document.fields
    assert fields is not None and fields.kind == kind
    truth = spec.fields()
    assert header_values(fields) == {name: truth[name] for name in HEADER}
    assert fields.qr == spec.qr and fields.values["invoice_number"].source == "both"
    assert not fields.needs_review, fields.reasons
    # The renderer writes "" for a quantity the row does not print; the stage has no value there.
    assert fields.value_of("line_items") == [
        {key: value or None for key, value in item.items()} for item in truth["line_items"]
    ]


@pytest.mark.parametrize(
    ("corrupt", "field", "valid"),
    [
        ("tax_id", "seller_tax_id", None),  # a failed check character is a warning: not confirmed, not refuted
        ("sum", "tax", False),
        ("words", "total_in_words", False),
        ("qr", "invoice_number", False),
    ],
)
@pytest.mark.parametrize("kind", ir.KINDS)
def test_a_corrupted_invoice_is_flagged_at_the_corrupted_field(
    pipeline: OcrPipeline, tmp_path: Path, kind: str, corrupt: str, field: str, valid: bool | None
) -> None:
    spec = ir.make_invoice(13, kind, corrupt=corrupt)
    fields = read(pipeline, write(tmp_path, "invoice.pdf", ir.render_pdf(spec)))
    assert spec.corrupted is not None and spec.corrupted.field in (field, "qr")
    item = fields.values[field]
    assert item.valid is valid, item.checks
    assert fields.needs_review
    assert any(reason.startswith(f"{field}:") for reason in fields.reasons), fields.reasons
    no_wrong_value_is_valid(fields, spec.fields() | {field: item.value} if corrupt == "qr" else spec.fields())


def test_a_corrupted_scan_is_flagged_too(pipeline: OcrPipeline, tmp_path: Path) -> None:
    spec = ir.make_invoice(14, "fully_digital", corrupt="sum")
    fields = read(pipeline, write(tmp_path, "invoice.png", ir.render_png(spec)))
    assert fields.values["tax"].value == spec.printed["tax"]
    assert fields.values["tax"].valid is False and fields.needs_review


@pytest.mark.parametrize("kind", ir.KINDS)
def test_a_degraded_copy_marks_no_wrong_value_valid(pipeline: OcrPipeline, tmp_path: Path, kind: str) -> None:
    spec = ir.make_invoice(15, kind)
    fields = read(pipeline, write(tmp_path, "invoice.jpg", ir.degrade(ir.render_png(spec), seed=15)))
    assert fields.kind == kind
    no_wrong_value_is_valid(fields, spec.fields())
    assert fields.value_of("invoice_number") == spec.invoice_number


def _labels() -> dict[str, dict]:
    rows = [json.loads(line) for line in (FIELDS_DEV / "labels.jsonl").read_text(encoding="utf-8").splitlines() if line]
    return {row["image"]: row for row in rows}


@pytest.mark.parametrize(
    "image", ["inv2xl-01_p1.png", "fphezi-01_p1.png", "inv2xl-13_p1_scan.jpg", "fphezi-10_p1_scan.jpg"]
)
def test_real_invoices_give_their_key_fields(read_in_place: Callable[[Path], Document], image: str) -> None:
    label = _labels()[image]
    fields = read_in_place(FIELDS_DEV / image).fields  # read once per session (tests/test_reading_order.py too)
    assert fields is not None
    truth = label["fields"]
    assert fields.kind == label["kind"]
    for name in ("invoice_code", "invoice_number", "issue_date", "total", "amount_pretax", "tax", "seller_tax_id"):
        assert fields.value_of(name) == truth[name], name
    no_wrong_value_is_valid(fields, truth)
    assert fields.qr == label["qr"]["payload"]
