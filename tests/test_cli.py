"""`ocrd ocr`, `ocrd models` and `--help` as a user runs them: the command, real files, exit codes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from PIL import Image

from ocrd import __version__, samples
from ocrd.cli import app
from ocrd.commands.help import first_paragraph
from ocrd.config import LANGS, PRECISIONS, PREPROCESS_STEPS
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


def json_lines(stdout: str) -> list[dict]:
    """JSON Lines: every line one complete JSON object, nothing else."""
    assert stdout.endswith("\n")
    return [json.loads(line) for line in stdout.splitlines()]


def test_json_for_one_file_is_one_line_holding_its_result_document(tmp_path: Path) -> None:
    result = ocrd("ocr", "--format", "json", EVAL_DEV / "rapidocr_text_rec.jpg")
    assert result.returncode == 0, result.stderr
    (document,) = json_lines(result.stdout)
    assert document["schema"] == 2 and document["source"] == "rapidocr_text_rec.jpg"
    line = document["pages"][0]["lines"][0]
    assert line["text"] == "韩国小馆" and 0.5 < line["confidence"] <= 1 and len(line["box"]) == 4


def test_json_for_several_files_is_one_line_per_file_in_order(tmp_path: Path) -> None:
    first = samples.make_sample_page_png(tmp_path / "first.png", ["第一份文件 first"])
    second = samples.make_invoice_like_pdf(tmp_path / "second.pdf", text_layer=True)
    result = ocrd("ocr", "-f", "json", first.path, second.path)
    assert result.returncode == 0, result.stderr
    documents = json_lines(result.stdout)
    assert [document["source"] for document in documents] == ["first.png", "second.pdf"]
    assert "第一份文件" in squash(documents[0]["pages"][0]["lines"][0]["text"])
    assert [line["text"] for line in documents[1]["pages"][0]["lines"]] == samples.invoice_lines()


def test_out_writes_json_and_text_sidecars(tmp_path: Path) -> None:
    sample = samples.make_invoice_like_pdf(tmp_path / "invoice.pdf", text_layer=True)
    out = tmp_path / "out"
    result = ocrd("ocr", sample.path, "--out", out)
    assert result.returncode == 0, result.stderr
    text = (out / "invoice.pdf.txt").read_text(encoding="utf-8")
    data = json.loads((out / "invoice.pdf.json").read_text(encoding="utf-8"))
    assert data["pages"][0]["source"] == "text-layer"
    assert_lines_read(sample.lines, text.splitlines(), min_similarity=0.99)


def test_out_names_results_after_the_whole_file_name(tmp_path: Path) -> None:
    one, other = tmp_path / "one", tmp_path / "other"
    one.mkdir()
    other.mkdir()
    samples.make_sample_page_png(one / "scan.png", ["扫描件 scan one"])
    samples.make_invoice_like_pdf(one / "scan.pdf", text_layer=True)
    samples.make_sample_page_png(other / "scan.png", ["另一份 scan two"])
    out = tmp_path / "out"
    result = ocrd("ocr", one, other / "scan.png", "--out", out)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in out.iterdir()) == [
        "scan.pdf.json",
        "scan.pdf.txt",
        "scan.png.2.json",  # the same name from another folder does not overwrite the first
        "scan.png.2.txt",
        "scan.png.json",
        "scan.png.txt",
    ]
    assert "扫描件" in squash((out / "scan.png.txt").read_text(encoding="utf-8"))
    assert "另一份" in squash((out / "scan.png.2.txt").read_text(encoding="utf-8"))
    assert json.loads((out / "scan.pdf.json").read_text(encoding="utf-8"))["source"] == "scan.pdf"
    again = ocrd("ocr", other / "scan.png", "--out", out)  # a new run replaces what an earlier one wrote
    assert again.returncode == 0, again.stderr
    assert "另一份" in squash((out / "scan.png.txt").read_text(encoding="utf-8"))
    assert len(list(out.iterdir())) == 6


def test_a_folder_names_every_file_it_skips_and_still_exits_0(tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    samples.make_sample_page_png(folder / "a_page.png", ["第一份文件 first"])
    samples.make_sample_page_png(folder / "b_photo.dat", ["内容决定 content decides"])  # a PNG by content
    (folder / "c_notes.docx").write_bytes(b"PK\x03\x04" + bytes(60))
    (folder / "d_data.xyz").write_bytes(bytes(range(256)))
    (folder / ".DS_Store").write_bytes(bytes(range(256)))
    result = ocrd("ocr", folder)
    assert result.returncode == 0, result.stderr
    assert "第一份文件" in squash(result.stdout) and "内容决定" in squash(result.stdout)
    supported = "supported: JPG, PNG, TIFF, BMP, WebP, GIF, PDF"
    assert f"ocrd: {folder / 'c_notes.docx'}: skipped: not a supported type: a ZIP container" in result.stderr
    assert f"ocrd: {folder / 'd_data.xyz'}: skipped: not a supported type: data of an unknown format" in result.stderr
    assert result.stderr.count(supported) == 2
    assert ".DS_Store" not in result.stderr and "could not be read" not in result.stderr
    only_skipped = tmp_path / "nothing"
    only_skipped.mkdir()
    (only_skipped / "notes.docx").write_bytes(b"PK\x03\x04" + bytes(60))
    nothing = ocrd("ocr", only_skipped)
    assert nothing.returncode == 2 and "notes.docx: skipped" in nothing.stderr
    assert "no documents found in the given paths" in nothing.stderr


def _text_frame(path: Path, lines: list[str], size: tuple[int, int] | None = None) -> Image.Image:
    """A page showing ``lines``, drawn by ocrd.samples, as a grayscale frame."""
    with Image.open(samples.make_sample_page_png(path, lines).path) as page:
        image = page.convert("L")
    return image if size is None else image.resize(size)


def test_an_animated_gif_is_read_from_its_first_frame(tmp_path: Path) -> None:
    first = _text_frame(tmp_path / "first.png", ["动图第一帧 first frame 2024"])
    second = _text_frame(tmp_path / "second.png", ["第二帧不读 second frame"], first.size)
    path = tmp_path / "animated.gif"
    first.save(path, "GIF", save_all=True, append_images=[second], duration=500, loop=0)
    assert Image.open(path).n_frames == 2
    result = ocrd("ocr", "-f", "json", path)
    assert result.returncode == 0, result.stderr
    (document,) = json_lines(result.stdout)
    assert len(document["pages"]) == 1
    assert_lines_read(["动图第一帧 first frame 2024"], [line["text"] for line in document["pages"][0]["lines"]])
    assert "第二帧" not in squash(result.stdout) and "second" not in result.stdout


def test_version_option_names_the_package_and_version_prints_the_number() -> None:
    assert ocrd("--version").stdout == f"ocrd-daemon {__version__}\n"
    assert ocrd("version").stdout == f"{__version__}\n"


def _command_names() -> list[str]:
    return list(typer.main.get_command(app).commands)  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["", *_command_names()])
def test_help_names_values_for_people_and_cuts_nothing(command: str) -> None:
    result = ocrd(*([command] if command else []), "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    # Python annotations such as <list[Path]>, <bool>, <int>, <text|json> are not for people.
    assert not re.findall(r"<[^<>\s]+>", text), text
    assert "…" not in text and "Traceback" not in result.stderr
    assert re.search(r"^  --help +Show this message and exit\.$", text, re.MULTILINE), text
    if not command:
        group = typer.main.get_command(app)
        for name, sub in group.commands.items():  # type: ignore[attr-defined]
            summary = first_paragraph(sub.help)  # every command, with its whole summary
            assert summary and re.sub(r"\s+", "", summary) in re.sub(r"\s+", "", text), name


def test_ocr_help_shows_every_choice_and_human_value_names() -> None:
    text = ocrd("ocr", "--help").stdout
    flat = " ".join(text.split())
    assert "Usage: " in text and " ocr [OPTIONS] FILE..." in text
    for shown in ("-f, --format text|json", "-o, --out DIR", "--force-ocr / --no-force-ocr", "--max-pages N"):
        assert shown in text
    assert f"--lang {'|'.join(LANGS)}" in text
    assert ", ".join(PREPROCESS_STEPS) in flat
    assert "JSON Lines" in flat and "scan.jpg -> scan.jpg.json" in flat
    assert "skipped" in flat and "Exit codes" in text  # what a folder with other files does to the exit code
    models = " ".join(ocrd("models", "--help").stdout.split())
    assert f"--precision {'|'.join(PRECISIONS)}" in models


def test_bad_usage_and_missing_files_have_distinct_exit_codes(tmp_path: Path) -> None:
    usage = ocrd("ocr", "--lang", "fr", EVAL_DEV / "rapidocr_text_rec.jpg")
    assert usage.returncode == 2 and "--lang must be one of zh, en" in usage.stderr
    missing = ocrd("ocr", tmp_path / "nope.png")
    assert missing.returncode == 3 and "nope.png" in missing.stderr and "not found" in missing.stderr


def test_models_lists_and_verifies_the_pack() -> None:
    result = ocrd("models", "--json")
    assert result.returncode == 0, result.stderr
    listing = json.loads(result.stdout)
    assert listing["pack"] == "ppocrv6-small"
    assert {row["role"]: row["status"] for row in listing["files"]} == {"cls": "ok", "det": "ok", "rec": "ok"}
    assert listing["dictionary"] == "in the recognizer"
    assert all(row["bytes"] > 1000 for row in listing["files"])
