"""`ocrd ocr` and `ocrd models` as a user runs them: the installed command, real files, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ocrd import samples
from tests.paths import EVAL_DEV
from tests.textmatch import assert_lines_read, squash

OCRD = [sys.executable, "-m", "ocrd.cli"]


def ocrd(*args: str | Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*OCRD, *map(str, args)], capture_output=True, text=True, timeout=timeout)


def test_ten_page_pdf_prints_every_page_in_order(tmp_path: Path) -> None:
    sample = samples.make_multipage_pdf(tmp_path / "ten.pdf", 10)
    result = ocrd("ocr", sample.path, "--threads", "2")
    assert result.returncode == 0, result.stderr
    pages = result.stdout.rstrip("\n").split("\f")
    assert len(pages) == 10
    for number, (page_text, expected) in enumerate(zip(pages, sample.pages, strict=True), 1):
        assert f"第{number}页" in squash(page_text)
        assert_lines_read(expected, page_text.splitlines())


def test_folder_of_good_and_bad_files_reads_the_good_and_names_the_bad(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    good = samples.make_sample_page_png(folder / "a_good.png", ["第一份文件 first"])
    samples.make_sample_page_png(folder / "c_good.png", ["第三份文件 third"])
    (folder / "b_empty.jpg").write_bytes(b"")
    (folder / "d_not_an_image.pdf").write_text("hello, I am text")
    (folder / "e_truncated.png").write_bytes(good.path.read_bytes()[:300])
    result = ocrd("ocr", folder)
    assert result.returncode == 3
    assert "第一份文件" in squash(result.stdout) and "第三份文件" in squash(result.stdout)
    for bad in ("b_empty.jpg", "d_not_an_image.pdf", "e_truncated.png"):
        assert bad in result.stderr
    assert "3 of 5 file(s) could not be read" in result.stderr
    assert "Traceback" not in result.stderr


def test_json_for_one_file_is_exactly_its_result_document(tmp_path: Path) -> None:
    result = ocrd("ocr", "--format", "json", EVAL_DEV / "rapidocr_text_rec.jpg")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    assert document["schema"] == 1 and document["source"] == "rapidocr_text_rec.jpg"
    line = document["pages"][0]["lines"][0]
    assert line["text"] == "韩国小馆" and 0.5 < line["confidence"] <= 1 and len(line["box"]) == 4


def test_out_writes_json_and_text_sidecars(tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=True)
    out = tmp_path / "out"
    result = ocrd("ocr", sample.path, "--out", out)
    assert result.returncode == 0, result.stderr
    text = (out / "invoice.pdf.txt").read_text(encoding="utf-8")
    data = json.loads((out / "invoice.pdf.json").read_text(encoding="utf-8"))
    assert data["pages"][0]["source"] == "text-layer"
    assert_lines_read(sample.lines, text.splitlines(), min_similarity=0.99)


def test_bad_usage_and_missing_files_have_distinct_exit_codes(tmp_path: Path) -> None:
    usage = ocrd("ocr", "--lang", "fr", EVAL_DEV / "rapidocr_text_rec.jpg")
    assert usage.returncode == 2 and "--lang must be one of zh, en" in usage.stderr
    missing = ocrd("ocr", tmp_path / "nope.png")
    assert missing.returncode == 3 and "nope.png" in missing.stderr and "not found" in missing.stderr


def test_models_lists_and_verifies_the_pack() -> None:
    result = ocrd("models", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["pack"] == "ppocrv5-mobile"
    assert {row["role"]: row["status"] for row in listing["files"]} == {
        "cls": "ok",
        "det": "ok",
        "dict": "ok",
        "rec": "ok",
    }
    assert all(row["bytes"] > 1000 for row in listing["files"])
