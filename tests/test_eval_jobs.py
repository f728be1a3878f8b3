"""`ocrd eval --jobs N`: the set read by N processes at once gives the report one process gives.

Real engine, real dev items (copied into tmp_path with their labels), a file the engine refuses,
and a model folder it cannot load.
"""

from __future__ import annotations

import json
from pathlib import Path

from ocrd.commands.eval_readers import threads_per_job
from tests.test_eval_packs import LINES, PAGE, labelled_set, ocrd


def _report(result) -> dict:
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(result.stdout)
    return report


def _without_times(report: dict) -> dict:
    if isinstance(report, dict):
        return {key: _without_times(value) for key, value in report.items() if "seconds" not in key}
    if isinstance(report, list):
        return [_without_times(value) for value in report]
    return report


def test_two_processes_give_the_report_of_one_refused_files_included(tmp_path: Path) -> None:
    folder = labelled_set(tmp_path / "set", (*LINES, PAGE))
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 40)  # a signature, then nothing
    label = {"image": "broken.png", "kind": "line", "text": "无", "lang": "zh", "gt_coverage": "full"}
    with (folder / "labels.jsonl").open("a", encoding="utf-8") as labels:
        labels.write(json.dumps(label, ensure_ascii=False) + "\n")

    one = _report(ocrd("eval", folder, "--jobs", "1", "--threads", "1", "--json"))
    two = _report(ocrd("eval", folder, "--jobs", "2", "--threads", "1", "--json"))

    assert _without_times(two) == _without_times(one)
    scores = {score["image"]: score for score in two["scores"]}
    assert scores["rapidocr_text_rec.jpg"]["predicted"] == "韩国小馆"
    assert "我是中国人" in scores[PAGE]["predicted"]
    assert scores["broken.png"]["predicted"] == "" and "damaged or incomplete" in scores["broken.png"]["error"]
    assert " object at 0x" not in scores["broken.png"]["error"]  # no Python object names in a message
    assert all(score["seconds"] > 0 for name, score in scores.items() if name != "broken.png")
    assert two["engine"]["models"] == "ppocrv6-small"


def test_models_that_cannot_load_are_said_plainly_with_several_processes(tmp_path: Path) -> None:
    folder = labelled_set(tmp_path / "set", LINES[:1])
    models = tmp_path / "models"
    models.mkdir()
    for name in ("det.onnx", "rec.onnx"):
        (models / name).write_bytes(b"not a model")
    (models / "dict.txt").write_text("a\nb\n", encoding="utf-8")

    result = ocrd("eval", folder, "--jobs", "2", "--models", models)

    assert result.returncode != 0
    assert "Traceback" not in result.stderr, result.stderr
    assert "det.onnx" in result.stderr or "model" in result.stderr.lower(), result.stderr


def test_threads_are_shared_out_among_the_processes() -> None:
    assert threads_per_job(0, 2, cores=2) == 1
    assert threads_per_job(0, 3, cores=8) == 2
    assert threads_per_job(0, 4, cores=2) == 1  # never below one
    assert threads_per_job(3, 2, cores=2) == 3  # as given
    assert threads_per_job(0, 1, cores=8) == 0  # one process: all cores, as before
