"""Scoring for ``ocrd eval``: real label files from /work/shared/eval, hand-written predictions."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from PIL import Image

from ocrd.errors import CorruptFileError, UsageError
from ocrd.evaluation import (
    DEV_BARS,
    DEV_PDF_BARS,
    Bars,
    EvalItem,
    EvalReport,
    bars_for,
    check_bars,
    drops_whitespace,
    eval_command,
    format_report,
    is_mostly_chinese,
    levenshtein,
    load_eval_set,
    normalise,
    run_eval,
    score_item,
)
from tests.paths import EVAL_DEV, EVAL_DEV_PDF

DEV = EVAL_DEV
DEV_PDF = EVAL_DEV_PDF


def perfect(set_dir: Path):
    """A recogniser that returns each image's label: what a flawless engine would say."""
    labels = {item.image: item.text for item in load_eval_set(set_dir)}
    return lambda path: labels[path]


def item_named(set_dir: Path, name: str) -> EvalItem:
    return next(item for item in load_eval_set(set_dir) if item.name == name)


def hand_item(text: str, *, kind="line", lang="en", match="exact", coverage="full") -> EvalItem:
    return EvalItem(Path(f"/nowhere/{kind}.png"), kind, lang, text, match, coverage)


# --- edit distance -------------------------------------------------------------------------------


def slow_levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, char_a in enumerate(a, start=1):
        current = [i]
        for j, char_b in enumerate(b, start=1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char_a != char_b)))
        previous = current
    return previous[-1]


def test_levenshtein_known_cases():
    assert levenshtein("kitten", "sitting") == 3
    assert levenshtein("", "") == 0
    assert levenshtein("", "中文") == 2
    assert levenshtein("韩国小馆", "") == 4
    assert levenshtein("韩国小馆", "韩国小馆") == 0
    assert levenshtein("韩国小馆", "韩小国馆") == 2


def test_levenshtein_matches_the_textbook_dp_on_random_strings():
    rng = random.Random(20240611)
    alphabet = "ab中文 x."
    for _ in range(2000):
        a = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        b = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 25)))
        assert levenshtein(a, b) == slow_levenshtein(a, b), (a, b)
        assert levenshtein(b, a) == levenshtein(a, b)


def test_levenshtein_on_long_strings_crossing_many_machine_words():
    rng = random.Random(7)
    for length in (63, 64, 65, 300, 500):
        a = "".join(rng.choice("的一是不了人我在有他") for _ in range(length))
        chars = list(a)
        for _ in range(length // 8):
            position, edit = rng.randrange(len(chars)), rng.choice("dis")
            if edit == "d":
                del chars[position]
            elif edit == "i":
                chars.insert(position, "x")
            else:
                chars[position] = "y"
        b = "".join(chars)
        assert levenshtein(a, b) == slow_levenshtein(a, b)


# --- loading -------------------------------------------------------------------------------------


def test_loads_the_real_sets_with_their_scoring_fields():
    dev = load_eval_set(DEV)
    dev_pdf = load_eval_set(DEV_PDF)
    assert len(dev) == 48 and len(dev_pdf) == 20
    assert {item.kind for item in dev} == {"line", "page"}
    assert sum(item.kind == "line" for item in dev) == 37
    assert all(item.image.is_file() for item in dev + dev_pdf)
    invoice = item_named(DEV_PDF, "dksky_vat_einvoice_p1.png")
    assert (invoice.lang, invoice.match, invoice.coverage) == ("zh", "ignore_space", "partial")
    assert invoice.raw["ignore"][0]["reason"] == "seal_stamp_text"
    assert invoice.text.startswith("发票代码:\n031002100511\n")


def write_set(folder: Path, lines: list[str], images: tuple[str, ...] = ("a.png",)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name in images:
        Image.new("RGB", (8, 8), "white").save(folder / name)
    (folder / "labels.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder


GOOD = json.dumps({"image": "a.png", "kind": "line", "text": "abc", "lang": "en"})


def test_missing_folder_and_missing_labels_file_are_usage_errors(tmp_path):
    with pytest.raises(UsageError, match="not a folder"):
        load_eval_set(tmp_path / "absent")
    with pytest.raises(UsageError, match=r"no labels\.jsonl"):
        load_eval_set(tmp_path)


@pytest.mark.parametrize(
    ("bad_line", "message"),
    [
        ('{"image": "a.png", "kind": "line", "text": "abc"', "not valid JSON"),
        ('["a.png", "line"]', "expected a JSON object"),
        ('{"image": "a.png", "kind": "line"}', "missing or non-string field"),
        ('{"image": "a.png", "kind": "word", "text": "x"}', "kind is 'word'"),
        ('{"image": "a.png", "kind": "line", "text": "x", "match": "loose"}', "match is 'loose'"),
        ('{"image": "b.png", "kind": "line", "text": "x"}', "image 'b.png' not found"),
    ],
)
def test_malformed_labels_name_the_line(tmp_path, bad_line, message):
    folder = write_set(tmp_path / "set", [GOOD, "", bad_line])
    with pytest.raises(UsageError, match=message) as raised:
        load_eval_set(folder)
    assert "labels.jsonl:3:" in str(raised.value)


def test_a_labels_file_without_items_is_refused(tmp_path):
    with pytest.raises(UsageError, match="holds no items"):
        load_eval_set(write_set(tmp_path / "set", ["", "  "]))


def test_defaults_for_optional_fields(tmp_path):
    folder = write_set(tmp_path / "set", [json.dumps({"image": "a.png", "kind": "page", "text": "x"})])
    (item,) = load_eval_set(folder)
    assert (item.lang, item.match, item.coverage) == ("und", "exact", "full")
    assert item.image == folder / "a.png"


# --- normalisation -------------------------------------------------------------------------------


def test_nfkc_makes_full_width_letters_and_digits_plain():
    assert normalise("ＡＢＣ１２３", lang="en", match="exact") == "ABC123"
    score = score_item(hand_item("ABC123"), "ＡＢＣ１２３")
    assert score.exact and score.cer == 0.0


def test_full_width_punctuation_equals_ascii_punctuation():
    score = score_item(hand_item("（甲方）：北京", lang="zh"), "(甲方):北京")
    assert score.exact


def test_mostly_chinese_detection():
    assert is_mostly_chinese("就会哈哈大笑。3.0") is True
    assert is_mostly_chinese("Hello world!你好世界") is False  # 10 Latin letters, 4 Han
    assert is_mostly_chinese("Yuyuan Rd.") is False
    assert is_mostly_chinese("2022 01 05") is None
    assert drops_whitespace("2022 01 05", lang="zh", match="exact") is True
    assert drops_whitespace("2022 01 05", lang="en", match="exact") is False
    assert drops_whitespace("在中国作家协会", lang="zh+en", match="exact") is True
    assert drops_whitespace("to be or not", lang="en", match="ignore_space") is True


def test_whitespace_collapses_in_latin_text_and_vanishes_in_chinese():
    assert normalise("or  work\n on\tline ", lang="en", match="exact") == "or work on line"
    assert normalise("在 中国 作家\n协会", lang="zh", match="exact") == "在中国作家协会"
    # In Latin-majority text, only a space touching a CJK character goes.
    assert normalise("Hello world! 你好 世界", lang="zh+en", match="exact") == "Hello world!你好世界"


def test_mostly_chinese_line_ignores_spaces_the_engine_puts_in():
    item = item_named(DEV, "rapidocr_test_without_det.jpg")  # 在中国作家协会第三届儿童文学, match exact
    assert item.match == "exact"
    assert score_item(item, "在中国作家 协会第三届 儿童文学").exact


def test_ignore_space_item_ignores_spaces():
    item = item_named(DEV_PDF, "prc_data_security_law_p1.png")
    assert item.match == "ignore_space"
    spaced = " ".join(item.text.replace("\n", ""))
    score = score_item(item, spaced)
    assert score.cer == 0.0 and score.bag_recall == 1.0 and score.bag_precision == 1.0


def test_spaces_count_in_an_english_exact_line():
    item = item_named(DEV, "simplehtr_line.png")  # "or work on line level"
    score = score_item(item, item.text.replace("work on", "workon"))
    assert not score.exact and score.edits == 1
    assert score.bag_recall == 1.0  # the bag does not count whitespace


def test_case_insensitive_lowercases_both_sides_and_exact_does_not():
    assert score_item(hand_item("Yuyuan Rd.", match="case_insensitive"), "YUYUAN RD.").exact
    strict = score_item(hand_item("Yuyuan Rd."), "YUYUAN RD.")
    assert not strict.exact and strict.edits == 6


# --- item scores ---------------------------------------------------------------------------------


def test_line_item_prediction_is_the_whole_image_text_joined():
    english = item_named(DEV, "rapidocr_en_rec.jpg")
    first, rest = english.text.split(" ", 1)
    assert score_item(english, f"{first}\n{rest}\n").exact  # two detected lines, one label
    chinese = item_named(DEV, "rapidocr_text_rec.jpg")  # 韩国小馆
    assert score_item(chinese, "韩国\n小馆").exact


def test_line_cer_counts_edits_against_reference_length():
    item = item_named(DEV, "rapidocr_text_rec.jpg")  # 韩国小馆
    score = score_item(item, "韩国小")
    assert score.edits == 1 and score.cer == pytest.approx(0.25)
    assert score.bag_recall == pytest.approx(0.75) and score.bag_precision == 1.0


def test_dropped_line_lowers_recall_only():
    item = item_named(DEV_PDF, "prc_data_security_law_p2.png")
    lines = item.text.split("\n")
    dropped = lines.pop(3)
    score = score_item(item, "\n".join(lines))
    total = len("".join(item.text.split()))
    assert score.bag_recall == pytest.approx((total - len("".join(dropped.split()))) / total)
    assert score.bag_precision == 1.0
    assert score.edits == len("".join(dropped.split()))


def test_extra_junk_lowers_precision_of_full_items_only():
    full = item_named(DEV_PDF, "fake_memo_en_p1.png")
    assert full.coverage == "full"
    junk = "\nQQQQ ZZZZ"
    full_score = score_item(full, full.text + junk)
    assert full_score.bag_recall == 1.0
    predicted_chars = full_score.bag_reference + 8
    assert full_score.bag_precision == pytest.approx(full_score.bag_reference / predicted_chars)

    partial = item_named(DEV_PDF, "dksky_vat_einvoice_p1.png")  # seal text is not labelled
    assert partial.coverage == "partial"
    partial_score = score_item(partial, partial.text + "\n发票专用章 全国统一")
    assert partial_score.bag_recall == 1.0 and partial_score.bag_precision is None

    report = EvalReport(DEV_PDF, [full_score, partial_score])
    page = report.group("page")
    assert page.bag_precision == pytest.approx(full_score.bag_precision)  # the partial extras do not count
    assert page.bag_recall == 1.0
    assert page.full_items == 1


def test_page_cer_is_in_reading_order_bag_is_not():
    item = item_named(DEV, "tessjs_cosmic.png")  # HellO World / from beyond / the Cosmic Void
    lines = item.text.split("\n")
    score = score_item(item, "\n".join(reversed(lines)))
    assert score.bag_recall == 1.0 and score.bag_precision == 1.0
    assert score.cer > 0.3


def test_fuzzy_items_are_scored_with_plain_cer():
    item = item_named(DEV, "cnocr_helloworld.jpg")  # "Hello world!你好世界", fuzzy
    assert item.match == "fuzzy"
    score = score_item(item, "Hello world你好世界")
    assert not score.exact and score.edits == 1


# --- aggregation, reports, bars ------------------------------------------------------------------


def test_cer_is_micro_aggregated_with_the_mean_beside_it():
    short = score_item(hand_item("ab"), "a")  # 1 edit / 2
    long = score_item(hand_item("abcdefghij"), "abcdefghij")  # 0 edits / 10
    line = EvalReport(Path("set"), [short, long]).group("line")
    assert line.cer == pytest.approx(1 / 12)
    assert line.cer_mean == pytest.approx(0.25)
    assert line.exact_accuracy == 0.5


def test_partial_pages_stay_out_of_cer_and_exact():
    full = score_item(hand_item("abc def", kind="page"), "abc def")
    partial = score_item(hand_item("ghi", kind="page", coverage="partial"), "ghi and more unlabelled text")
    page = EvalReport(Path("set"), [full, partial]).group("page")
    assert page.cer == 0.0 and page.exact_accuracy == 1.0
    assert page.items == 2 and page.full_items == 1


@pytest.mark.parametrize(("set_dir", "bars"), [(DEV, DEV_BARS), (DEV_PDF, DEV_PDF_BARS)])
def test_perfect_predictions_score_perfectly_and_meet_the_bars(set_dir, bars):
    report = run_eval(set_dir, perfect(set_dir))
    for group in report.groups:
        assert group.bag_recall == 1.0, group
        assert group.cer in (0.0, None) and group.bag_precision in (1.0, None), group
    assert check_bars(report, bars) == []
    assert bars_for(set_dir) is bars


def test_groups_are_by_kind_and_language_with_an_overall_row():
    report = run_eval(DEV, perfect(DEV))
    keys = [(group.kind, group.lang) for group in report.groups]
    assert keys == [
        ("line", "all"), ("line", "en"), ("line", "zh"), ("line", "zh+en"),
        ("page", "all"), ("page", "en"), ("page", "zh"), ("page", "zh+en"),
    ]  # fmt: skip
    assert report.group("line").items == 37 and report.group("page", "en").items == 5


def test_bars_report_each_missed_limit():
    def weak(path: Path) -> str:
        # Lines: first character only; pages: the label plus as much junk as text.
        text = labels[path]
        return text[:1] if kinds[path] == "line" else text + "#" * len(text)

    items = load_eval_set(DEV)
    labels = {item.image: item.text for item in items}
    kinds = {item.image: item.kind for item in items}
    failures = check_bars(run_eval(DEV, weak), DEV_BARS)
    assert len(failures) == 3
    assert failures[0].startswith("line CER ") and "above the bar 0.15" in failures[0]
    assert failures[1].startswith("line exact-line accuracy 0.0000 is below the bar 0.35")
    assert failures[2].startswith("page bag precision ")


def test_a_bar_with_nothing_to_measure_fails():
    report = run_eval(DEV_PDF, perfect(DEV_PDF))  # pages only
    failures = check_bars(report, Bars(line_cer_max=0.15))
    assert failures == [f"line CER: nothing to measure in {DEV_PDF} (no items of this kind)"]


def test_a_refused_file_is_scored_empty_and_listed():
    refused = "ccpd_plate_0.png"

    def recognise(path: Path) -> str:
        if path.name == refused:
            raise CorruptFileError("image data is truncated", path=path)
        return labels[path]

    labels = {item.image: item.text for item in load_eval_set(DEV)}
    report = run_eval(DEV, recognise)
    (failed,) = report.errors
    assert failed.image == refused and "truncated" in failed.error
    assert failed.predicted == "" and failed.cer == 1.0
    assert report.worst("line", 5)[0].image == refused
    assert f"{refused}: " in format_report(report)


def test_readable_report_shows_the_table_and_worst_items():
    labels = {item.image: item.text for item in load_eval_set(DEV)}
    report = run_eval(DEV, lambda path: "皖AD1116" if path.name == "ccpd_plate_1.png" else labels[path])
    text = format_report(report, worst=2)
    assert "kind  lang   items  full    CER  CER mean  exact  bag rec  bag prec" in text
    assert "line  all       37    37  0.002     0.003  0.973    0.998     1.000" in text
    assert "worst line items (by CER):" in text
    assert "ccpd_plate_1.png [zh+en, exact, full]  CER 0.125" in text
    assert "want: 皖AD11166" in text and "got:  皖AD1116" in text
    assert "worst page items" not in text  # every page is perfect


def test_eval_command_json_round_trips_with_bars(tmp_path):
    outcome = eval_command(DEV_PDF, as_json=True, worst=3, recognise=perfect(DEV_PDF))
    data = json.loads(outcome.output)
    assert data["items"] == 20 and len(data["scores"]) == 20
    assert data["bars"] == {"set": "dev_pdf", "failures": []}
    page = next(g for g in data["groups"] if g["kind"] == "page" and g["lang"] == "all")
    assert page["bag_recall"] == 1.0 and page["full_items"] == 10
    mixed = next(g for g in data["groups"] if g["lang"] == "mixed")
    assert mixed["bag_precision"] is None  # both mixed pages are partial
    assert outcome.bar_failures == []


def test_eval_command_text_for_a_set_without_bars(tmp_path):
    folder = write_set(tmp_path / "mine", [GOOD])
    outcome = eval_command(folder, recognise=lambda path: "abd")
    assert "line  all       1     1  0.333     0.333  0.000    0.667     0.667" in outcome.output
    assert "bars for" not in outcome.output and outcome.bar_failures == []
