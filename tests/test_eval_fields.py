"""``ocrd eval`` on a fields set: the real labels of fields_dev, predictions built by hand from them."""

from __future__ import annotations

import copy
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from ocrd.errors import CorruptFileError, UsageError
from ocrd.evaluation import (
    FIELDS_BARS,
    FieldsItem,
    FieldsReport,
    check_fields_bars,
    eval_command,
    fields_bars_for,
    fields_markdown,
    format_fields_report,
    is_fields_set,
    load_fields_set,
    run_fields_eval,
    score_document,
)
from ocrd.evaluation.fields_scoring import CHECKED_FIELDS, SCORED_FIELDS, comparable
from ocrd.fields.model import Check, Fields, FieldValue
from tests.paths import EVAL_DEV, EVAL_ROOT

FIELDS_DEV = EVAL_ROOT / "fields_dev"
ITEMS = load_fields_set(FIELDS_DEV)


def item(doc_id: str, *, degraded: bool = False) -> FieldsItem:
    return next(it for it in ITEMS if it.doc_id == doc_id and it.degraded == degraded)


def perfect(label: FieldsItem, *, reasons: tuple[str, ...] = ()) -> Fields:
    """What a flawless fields stage would give: every printed value, the checkable ones checked."""
    values = {
        name: FieldValue(value=copy.deepcopy(value), confidence=0.99, checks=_passed(name))
        for name, value in label.fields.items()
        if name != "kind" and value is not None
    }
    return Fields(kind=label.kind, values=values, reasons=list(reasons))


def _passed(name: str) -> list[Check]:
    # A confirming check (check character, arithmetic, QR) is what lets the stage call a value valid.
    return [Check("cross_check", True, "agrees with the QR code", confirms=True)] if name in CHECKED_FIELDS else []


def report_of(pairs: list[tuple[FieldsItem, Fields | None]]) -> FieldsReport:
    return FieldsReport(Path("hand"), [score_document(label, fields) for label, fields in pairs])


def perfect_reader(path: Path) -> Fields:
    return perfect(next(it for it in ITEMS if it.image == path))


# --- the set -------------------------------------------------------------------------------------


def test_fields_dev_loads_as_a_fields_set():
    assert is_fields_set(FIELDS_DEV) and not is_fields_set(EVAL_DEV)
    assert len(ITEMS) == 59 and sum(it.degraded for it in ITEMS) == 20
    assert {it.kind for it in ITEMS} == {"vat_electronic_normal", "fully_digital"}
    first = item("inv2xl-01")
    assert first.fields["seller_tax_id"] == "91421200052621669E" and first.image.is_file()
    assert item("inv2xl-01", degraded=True).name == "inv2xl-01_p1_scan.jpg"


def write_subset(folder: Path, items: list[FieldsItem]) -> Path:
    """A labels.jsonl of some fields_dev lines whose images stay where they are (absolute paths)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps({**it.raw, "image": str(it.image)}, ensure_ascii=False) for it in items]
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda data: data.pop("fields"), 'needs "fields"'),
        (lambda data: data.update(kind="receipt"), "kind is 'receipt'"),
        (lambda data: data.update(degraded="yes"), "degraded is 'yes'"),
        (lambda data: data.pop("doc_id"), "missing or non-string field"),
    ],
)
def test_a_bad_line_in_a_fields_set_is_named(tmp_path, change, message):
    folder = write_subset(tmp_path / "set", [item("inv2xl-01"), item("inv2xl-02")])
    lines = (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines()
    broken = json.loads(lines[1])
    change(broken)
    (folder / "labels.jsonl").write_text(lines[0] + "\n" + json.dumps(broken) + "\n", encoding="utf-8")
    with pytest.raises(UsageError, match=message) as raised:
        load_fields_set(folder)
    assert "labels.jsonl:2:" in str(raised.value)


# --- comparing values ----------------------------------------------------------------------------


def test_amounts_compare_to_the_cent_and_nothing_else_is_lenient():
    assert comparable("300", amount=True) == comparable("300.00", amount=True) == "300.00"
    assert comparable(" -11.69 ", amount=True) == "-11.69"
    assert comparable("300.001", amount=True) == "300.001"  # not a whole number of cents: as read
    assert comparable("¥300.00", amount=True) == "¥300.00"
    assert comparable("9142 0100 7483", amount=False) == "914201007483"
    assert comparable("  ") is None and comparable(None) is None
    assert comparable("（北京）") != comparable("(北京)")


def test_a_perfect_prediction_scores_everything_and_meets_the_bars():
    report = report_of([(label, perfect(label)) for label in ITEMS])
    for row in report.rows:
        assert row.accuracy.all.rate == 1.0 and row.extras.all.count == 0, row.field
    for name in ("key_fields", "header", "line_items"):
        figure = report.figures[name]
        assert (figure.all.count, figure.all.of, figure.gap_points) == (59, 59, 0.0), name
    assert report.row("invoice_code").accuracy.all.of == 30  # fully digital invoices print none
    assert report.figures["missed_reviews"].all.of == 0 and report.wrong_values == []
    assert check_fields_bars(report, FIELDS_BARS) == []


def test_amounts_read_without_cents_are_right():
    label = item("inv2xl-01")
    fields = perfect(label)
    fields.values["total"].value = "145.180"
    fields.values["line_items"].value[0]["amount"] = "140.950"
    label_300 = item("fphezi-01")
    fields_300 = perfect(label_300)
    total = label_300.fields["total"]
    fields_300.values["total"].value = total[:-3] if total.endswith(".00") else total
    report = report_of([(label, fields), (label_300, fields_300)])
    assert report.row("total").accuracy.all.count == 2 and report.row("line_items").accuracy.all.count == 2


def test_a_wrong_tax_id_marked_valid_is_counted_and_listed():
    label = item("inv2xl-01", degraded=True)
    fields = perfect(label)
    fields.values["seller_tax_id"].value = "91421200052621689E"  # one digit misread, yet "valid"
    report = report_of([(item("inv2xl-01"), perfect(item("inv2xl-01"))), (label, fields)])
    ((doc, score),) = report.wrong_valid
    assert (doc.doc_id, doc.degraded, score.field) == ("inv2xl-01", True, "seller_tax_id")
    assert (score.expected, score.got, score.valid) == ("91421200052621669E", "91421200052621689E", True)
    assert report.wrong_valid_counts() == {"all": 1, "clean": 0, "degraded": 1}
    assert check_fields_bars(report, FIELDS_BARS)[-1] == "wrong values marked valid: 1, the bar is 0"
    assert report.figures["missed_reviews"].all.count == 1  # no reason was given to look at it
    text = format_fields_report(report)
    assert "wrong values marked valid: 1 (0 clean, 1 degraded)" in text
    assert "  inv2xl-01 [degraded] seller_tax_id: 91421200052621669E / 91421200052621689E / true" in text


def test_a_wrong_value_the_stage_doubts_is_wrong_but_not_wrong_valid():
    label = item("inv2xl-02")
    fields = perfect(label, reasons=("seller_tax_id fails its check character",))
    fields.values["seller_tax_id"] = FieldValue("91440114755593481C", checks=[Check("uscc_check_character", False)])
    fields.values["buyer_name"].value = "武汉市车城物流有限公可"  # one wrong character, no check exists
    report = report_of([(label, fields)])
    assert report.wrong_valid == [] and [s.field for _, s in report.wrong_values] == ["buyer_name", "seller_tax_id"]
    assert report.figures["needs_review"].all.rate == 1.0 and report.figures["missed_reviews"].all.count == 0
    assert report.figures["header"].all.count == 0 and report.figures["key_fields"].all.count == 1


def test_a_value_where_the_invoice_prints_none_is_an_extra():
    label = next(it for it in ITEMS if it.kind == "fully_digital" and not it.degraded)
    fields = perfect(label)
    fields.values["invoice_code"] = FieldValue("042001700112", checks=_passed("invoice_code"))
    report = report_of([(label, fields), (item("inv2xl-01"), perfect(item("inv2xl-01")))])
    row = report.row("invoice_code")
    assert (row.accuracy.all.count, row.accuracy.all.of) == (1, 1)  # the real code is still right
    assert (row.extras.all.count, row.extras.all.of) == (1, 1)
    assert report.figures["key_fields"].all.count == 1  # the extra spoils its document
    (wrong,) = report.to_dict()["wrong_values"]
    assert wrong["extra"] and wrong["expected"] is None and wrong["valid"] is True
    assert len(report.wrong_valid) == 1


def test_no_fields_at_all_is_every_field_missing_and_no_review():
    label = item("inv2xl-03")
    doc = score_document(label, None)
    printed = [name for name in SCORED_FIELDS if doc.fields[name].scored]
    assert [s.field for s in doc.wrong_values] == printed
    assert doc.wrong and not doc.needs_review


def test_line_items_match_in_order_on_four_keys():
    label = next(it for it in ITEMS if len(it.fields["line_items"]) == 2)
    swapped = perfect(label)
    swapped.values["line_items"].value.reverse()
    missing = perfect(label)
    missing.values["line_items"].value.pop()
    other_rate = perfect(label)
    other_rate.values["line_items"].value[1]["tax_rate"] = "3%"
    extra_keys = perfect(label)
    extra_keys.values["line_items"].value[0]["quantity"] = "9"  # not a scored key
    report = report_of([(label, f) for f in (swapped, missing, other_rate, extra_keys)])
    assert report.figures["line_items"].all.count == 1 and report.figures["line_items"].all.of == 4
    assert report.figures["header"].all.count == 4  # line items are not header fields
    text = format_fields_report(report)
    first, second = (f"{it['name']}|{it['amount']}|{it['tax_rate']}|{it['tax']}" for it in label.fields["line_items"])
    assert f"{label.doc_id} [clean] line_items: item 1 {first} / {second} / -" in text
    assert f"{label.doc_id} [clean] line_items: 2 items / 1 item / -" in text
    assert f"line_items: item 2 {second} / {second.replace('|13%|', '|3%|')} / -" in text


def test_clean_and_degraded_are_split_with_the_gap_in_points():
    pairs = []
    for label in ITEMS:
        fields = perfect(label)
        if label.degraded and label.kind == "fully_digital":  # 10 of the 20 degraded copies
            fields.values["total"].value = "0.01"
        pairs.append((label, fields))
    report = report_of(pairs)
    total = report.row("total").accuracy
    assert (total.clean.count, total.clean.of, total.degraded.count, total.degraded.of) == (39, 39, 10, 20)
    assert total.gap_points == pytest.approx(50.0)
    assert report.to_dict()["fields"][SCORED_FIELDS.index("total")]["accuracy"]["gap_points"] == 50.0
    failures = check_fields_bars(report, FIELDS_BARS)
    assert "total exact 83.1% is below the bar 98% (49 of 59 documents)" in failures
    assert "total exact: degraded 50.0% is 50.0 points below clean 100.0%, the bar is 3" in failures
    assert "wrong values marked valid: 10, the bar is 0" in failures
    text = format_fields_report(report)
    assert "total             59     49   83.1%  100.0%     50.0%  +50.0       -" in text
    assert "invoice_code      30     30  100.0%  100.0%    100.0%   +0.0    0/29" in text
    assert "key fields right     49/59   83.1%  100.0%     50.0%  +50.0" in text


def test_degraded_doing_better_than_clean_is_no_gap_failure():
    pairs = [(label, perfect(label)) for label in ITEMS]
    wrong = perfect(item("inv2xl-01"))
    wrong.values["issue_date"] = FieldValue("2018-03-28")  # unchecked: not "wrong but valid"
    pairs[0] = (item("inv2xl-01"), wrong)
    report = report_of(pairs)
    assert report.row("issue_date").accuracy.gap_points < 0
    assert report.row("issue_date").accuracy.all.rate == pytest.approx(58 / 59)  # above 98%: no failure either
    assert check_fields_bars(report, FIELDS_BARS) == []


# --- the command and the report ------------------------------------------------------------------


def test_eval_command_on_fields_dev_json_has_the_fields_report_and_bars():
    assert fields_bars_for(FIELDS_DEV) is FIELDS_BARS
    outcome = eval_command(FIELDS_DEV, as_json=True, read_fields=perfect_reader)
    data = json.loads(outcome.output)
    assert data["type"] == "fields" and data["documents"] == {"all": 59, "clean": 39, "degraded": 20}
    assert [row["field"] for row in data["fields"]] == list(SCORED_FIELDS)
    assert set(data["figures"]) == {"key_fields", "header", "line_items", "needs_review", "missed_reviews"}
    assert data["figures"]["header"]["all"] == {"count": 59, "of": 59, "rate": 1.0}
    assert data["wrong_valid"] == {"all": 0, "clean": 0, "degraded": 0, "values": []}
    assert data["bars"] == {"set": "fields_dev", "failures": []} and outcome.bar_failures == []
    table = fields_markdown(data)
    assert "| `invoice_code` | 30 | 100.0% | 100.0% | 100.0% | +0.0 | 0/29 |" in table
    assert "| wrong values marked valid | 59 | 0 | 0 | 0 | | |" in table


def test_eval_command_text_on_a_subset_without_bars(tmp_path):
    subset = [item("inv2xl-01"), item("inv2xl-01", degraded=True)]
    folder = write_subset(tmp_path / "mine", subset)

    def read(path: Path) -> Fields | None:
        if path.name.endswith("_scan.jpg"):
            raise CorruptFileError("image data is truncated", path=path)
        return perfect(subset[0])

    outcome = eval_command(folder, read_fields=read)
    assert outcome.bar_failures == [] and "bars for" not in outcome.output
    assert "2 documents (1 clean, 1 degraded)" in outcome.output
    assert "header fields right    1/2   50.0%  100.0%      0.0%  +100.0" in outcome.output
    assert "documents the engine refused (scored as no fields):" in outcome.output
    assert "inv2xl-01 [degraded] seller_tax_id: 91421200052621669E / (none) / -" in outcome.output
    run = run_fields_eval(folder, read)
    assert "truncated" in run.documents[1].error and run.documents[0].error is None


def test_the_docs_table_is_written_between_the_markers_from_a_saved_report(tmp_path):
    from bench.fields_table import END, START, main

    outcome = eval_command(FIELDS_DEV, as_json=True, read_fields=perfect_reader)
    report = tmp_path / "fields.json"
    report.write_text(outcome.output, encoding="utf-8")
    doc = tmp_path / "engine.md"
    doc.write_text(f"before\n{START}\nold table\n{END}\nafter\n", encoding="utf-8")
    assert main([str(report), "--doc", str(doc)]) == 0
    written = doc.read_text(encoding="utf-8")
    assert written.startswith(f"before\n{START}\nMeasured ") and written.endswith(f"\n{END}\nafter\n")
    assert "on `fields_dev`: 59 documents, 39 clean and 20 degraded; all bars met." in written
    assert "| `total` | 59 | 100.0% | 100.0% | 100.0% | +0.0 | - |" in written and "old table" not in written


# --- the real engine -----------------------------------------------------------------------------


@pytest.mark.slow
def test_ocrd_eval_scores_the_fields_stage_on_two_clean_and_two_degraded_invoices(tmp_path):
    # One invoice of each kind, each as a clean rendering and as its scan-like copy.
    subset = [item(doc, degraded=scan) for doc in ("inv2xl-01", "fphezi-01") for scan in (False, True)]
    folder = write_subset(tmp_path / "four", subset)
    report_file = tmp_path / "report.json"
    result = subprocess.run(
        [sys.executable, "-m", "ocrd.cli", "eval", str(folder), "--report", str(report_file)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "4 documents (2 clean, 2 degraded)" in result.stdout
    assert re.search(r"^field +docs +right +all +clean +degraded +gap +extras$", result.stdout, re.MULTILINE)
    assert re.search(r"^header fields right +\d/4 ", result.stdout, re.MULTILINE)
    assert "wrong values marked valid: " in result.stdout
    data = json.loads(report_file.read_text(encoding="utf-8"))
    assert data["type"] == "fields" and data["engine"]["models"] and data["errors"] == []
    assert data["documents"] == {"all": 4, "clean": 2, "degraded": 2} and data["bars"] is None
    figures = [row["accuracy"] for row in data["fields"]] + list(data["figures"].values())
    for figure in figures:
        for group in ("all", "clean", "degraded"):
            tally = figure[group]
            assert 0 <= tally["count"] <= tally["of"] <= 4
            assert tally["rate"] is None or 0.0 <= tally["rate"] <= 1.0
    assert data["fields"][0]["field"] == "kind" and data["fields"][0]["accuracy"]["all"]["of"] == 4
    assert data["wrong_valid"]["all"] == len(data["wrong_valid"]["values"])
    assert data["figures"]["missed_reviews"]["all"]["of"] == sum(
        1 for doc in {(w["doc_id"], w["degraded"]) for w in data["wrong_values"]}
    )
