"""Corrections exported by `ocrd corrections export` and scored by `ocrd eval`, both as real commands.

The reviewer says the printed number on the first line is 12345679 where ocrd read 12345678: the
exported set must hold that truth, and `ocrd eval` must count the original reading as wrong. The
second line was corrected and then put back to what ocrd read: it scores as exact.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ocrd import samples
from tests.paths import REPO
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


def ocrd(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrd.cli", *args], cwd=REPO, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def corrected(web_daemon: WebDaemon, tmp_path_factory: pytest.TempPathFactory) -> dict:
    staging = tmp_path_factory.mktemp("export-doc")
    made = samples.make_sample_page_png(staging / "export-page.png", LINES).path
    job = web_daemon.submit(made.name, made.read_bytes()).json()["data"]["id"]
    assert web_daemon.wait_job(job)["status"] == "done"
    deadline = time.monotonic() + 60
    items: list = []
    while not items and time.monotonic() < deadline:
        found = web_daemon.get("/api/results", params={"q": made.name}).json()["data"]["items"]
        items = [item for item in found if item["source"] == made.name]
        if not items:
            time.sleep(0.2)  # pacing the poll: the index records the upload just after the job answers
    result_id = items[0]["id"]
    lines = web_daemon.get(f"/api/results/{result_id}").json()["data"]["result"]["pages"][0]["lines"]
    first = next(number for number, line in enumerate(lines) if "12345678" in line["text"])
    second = next(number for number, line in enumerate(lines) if "1,271" in line["text"])
    read = {first: lines[first]["text"], second: lines[second]["text"]}
    truth = read[first].replace("12345678", "12345679")

    def put(number: int, text: str) -> None:
        path = f"/api/results/{result_id}/pages/0/lines/{number}"
        response = web_daemon.request("PUT", path, json={"text": text})
        assert response.status_code == 200, response.text

    put(first, truth)
    put(second, read[second] + "?")
    put(second, read[second])  # put back: the reading was right after all
    return {"id": result_id, "first": first, "second": second, "read": read, "truth": truth}


@pytest.fixture(scope="module")
def exported(web_daemon: WebDaemon, corrected: dict, tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("export") / "set"
    run = ocrd("corrections", "export", str(target), "--config", str(web_daemon.root / "ocrd.toml"))
    assert run.returncode == 0, run.stderr
    assert "exported" in run.stdout and f"ocrd eval {target}" in run.stdout
    return target


def test_the_export_holds_the_corrected_lines_as_crops_labels_and_pages(exported: Path, corrected: dict) -> None:
    labels = [json.loads(row) for row in (exported / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    mine = {item["line"]: item for item in labels if item["result_id"] == corrected["id"]}
    assert set(mine) == {corrected["first"], corrected["second"]}
    first, second = mine[corrected["first"]], mine[corrected["second"]]
    assert (first["kind"], first["text"], first["read_as"]) == (
        "line",
        corrected["truth"],
        corrected["read"][corrected["first"]],
    )
    assert second["text"] == second["read_as"] == corrected["read"][corrected["second"]]
    for item in (first, second):
        assert (exported / item["image"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    rec = (exported / "rec_gt.txt").read_text(encoding="utf-8").splitlines()
    assert f"{first['image']}\t{corrected['truth']}" in rec
    pages = [json.loads(row) for row in (exported / "pages" / "labels.jsonl").read_text(encoding="utf-8").splitlines()]
    page = next(item for item in pages if item["result_id"] == corrected["id"])
    assert page["kind"] == "page" and corrected["truth"] in page["text"].split("\n")
    assert (exported / "pages" / page["image"]).is_file()


def test_ocrd_eval_scores_the_corrections_and_counts_the_original_reading_as_wrong(
    exported: Path, corrected: dict
) -> None:
    run = ocrd("eval", str(exported), "--json", "--threads", "2")
    assert run.returncode == 0, run.stderr
    report = json.loads(run.stdout)
    scores = {score["image"]: score for score in report["scores"]}
    first = scores[f"{corrected['id']}-p0-l{corrected['first']}.png"]
    second = scores[f"{corrected['id']}-p0-l{corrected['second']}.png"]
    assert "12345678" in first["predicted"]  # the models still read what they read the first time
    assert not first["exact"] and first["edits"] >= 1 and first["reference"].endswith("12345679")
    assert second["exact"] and second["edits"] == 0
    line_group = next(group for group in report["groups"] if group["kind"] == "line" and group["lang"] == "all")
    assert line_group["items"] >= 2 and line_group["exact_accuracy"] < 1
