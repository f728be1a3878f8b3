"""The results API on the real daemon: folder results and uploads listed, opened, corrected, refused.

Every answer is checked against the server's /openapi.json on arrival (tests/web_server.py).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import requests

from ocrd import samples
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

FOLDER_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
UPLOAD_LINES = ["Order 4711 shipped", "Paid USD 88.00"]
BAD_ID = "AAAAAAAAAAAAAAAAAAAAAA"


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


def find(daemon: WebDaemon, name: str, timeout: float = 180.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        response = daemon.get("/api/results", params={"q": name})
        assert response.status_code == 200, response.text
        items = [item for item in response.json()["data"]["items"] if item["source"] == name]
        if items:
            return items[0]
        time.sleep(0.3)
    raise AssertionError(f"{name} never appeared in /api/results")


@pytest.fixture(scope="module")
def folder_result(web_daemon: WebDaemon, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """A page dropped into the shared daemon's inbox, read, and listed."""
    staging = tmp_path_factory.mktemp("results-folder")
    made = samples.make_sample_page_png(staging / "results-folder-page.png", FOLDER_LINES).path
    (web_daemon.inbox / made.name).write_bytes(made.read_bytes())
    item = find(web_daemon, made.name)
    sidecar = web_daemon.outbox / f"{made.name}.json"
    assert sidecar.is_file()
    return {"item": item, "sidecar": sidecar, "txt": web_daemon.outbox / f"{made.name}.txt"}


@pytest.fixture(scope="module")
def upload_result(web_daemon: WebDaemon, tmp_path_factory: pytest.TempPathFactory) -> dict:
    staging = tmp_path_factory.mktemp("results-upload")
    made = samples.make_sample_page_png(staging / "results-upload-page.png", UPLOAD_LINES).path
    job = web_daemon.submit(made.name, made.read_bytes()).json()["data"]["id"]
    assert web_daemon.wait_job(job)["status"] == "done"
    return {"item": find(web_daemon, made.name), "job": job}


def put_line(daemon: WebDaemon, result_id: str, page: object, line: object, **kwargs) -> requests.Response:
    return daemon.request("PUT", f"/api/results/{result_id}/pages/{page}/lines/{line}", **kwargs)


def assert_failure(response: requests.Response, status: int, *words: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] // 100 == status and body["data"] is None, body
    for word in words:
        assert word.lower() in body["msg"].lower(), body["msg"]


def test_a_folder_result_is_listed_with_its_inbox_and_opens_with_its_lines(
    web_daemon: WebDaemon, folder_result: dict
) -> None:
    item = folder_result["item"]
    assert (item["origin"], item["inbox"], item["outcome"], item["pages"]) == ("folder", "scans", "done", 1)
    assert item["links"] == {"self": f"/api/results/{item['id']}", "review": f"/results/{item['id']}"}
    assert item["created_at"].endswith("Z")

    detail = web_daemon.get(f"/api/results/{item['id']}").json()["data"]
    texts = [line["text"] for line in detail["result"]["pages"][0]["lines"]]
    assert any("12345678" in text for text in texts), texts
    assert detail["version"] == 1 and detail["corrections"] == []
    assert detail["page_image"] == f"/api/results/{item['id']}/pages/{{n}}/image"  # the original, now in done/
    image = web_daemon.get(f"/api/results/{item['id']}/pages/0/image")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_search_finds_by_text_and_name_and_filters(web_daemon: WebDaemon, folder_result: dict, upload_result: dict):
    folder_id, upload_id = folder_result["item"]["id"], upload_result["item"]["id"]

    def ids(**params: str) -> list[str]:
        response = web_daemon.get("/api/results", params={"per_page": "200", **params})
        assert response.status_code == 200, response.text
        return [item["id"] for item in response.json()["data"]["items"]]

    by_text = web_daemon.get("/api/results", params={"q": "12345678"}).json()["data"]
    assert folder_id in [item["id"] for item in by_text["items"]]
    snippet = next(item["snippet"] for item in by_text["items"] if item["id"] == folder_id)
    assert "12345678" in snippet
    assert upload_id in ids(q="4711") and folder_id not in ids(q="4711")
    assert folder_id in ids(inbox="scans") and upload_id not in ids(inbox="scans")
    assert folder_id in ids(outcome="done") and folder_id not in ids(outcome="failed")
    everything = ids()
    assert {folder_id, upload_id} <= set(everything)
    page = web_daemon.get("/api/results", params={"per_page": "1", "page": "2"}).json()["data"]
    assert (page["page"], page["per_page"], len(page["items"])) == (2, 1, 1) and page["total"] >= 2
    # Newest first.
    stamps = [item["created_at"] for item in web_daemon.get("/api/results").json()["data"]["items"]]
    assert stamps == sorted(stamps, reverse=True)


def test_an_upload_is_listed_as_upload_and_outlives_its_job(web_daemon: WebDaemon, upload_result: dict) -> None:
    item = upload_result["item"]
    assert (item["origin"], item["inbox"], item["outcome"]) == ("upload", None, "done")
    # The job goes (as it does after [web] job_ttl); the index kept its own copies.
    assert web_daemon.delete(f"/api/jobs/{upload_result['job']}").status_code == 200
    assert web_daemon.get(f"/api/jobs/{upload_result['job']}").status_code == 404
    detail = web_daemon.get(f"/api/results/{item['id']}").json()["data"]
    assert any("4711" in line["text"] for line in detail["result"]["pages"][0]["lines"])
    image = web_daemon.get(f"/api/results/{item['id']}/pages/0/image")
    assert image.status_code == 200 and image.content[:2] == b"\xff\xd8"


def test_correcting_a_folder_result_rewrites_its_sidecars_and_keeps_the_original(
    web_daemon: WebDaemon, folder_result: dict
) -> None:
    result_id = folder_result["item"]["id"]
    sidecar: Path = folder_result["sidecar"]
    before = sidecar.read_text(encoding="utf-8")
    line = json.loads(before)["pages"][0]["lines"][0]
    new_text = line["text"] + " (checked)"

    answer = put_line(web_daemon, result_id, 0, 0, json={"text": new_text})

    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["line"]["text"] == new_text and data["line"]["box"] == line["box"]
    assert data["version"] == 2
    assert data["correction"]["old_text"] == line["text"] and data["correction"]["by"] == "token"
    kept = sidecar.with_name(sidecar.name.removesuffix(".json") + ".orig.json")
    assert kept.read_text(encoding="utf-8") == before
    now = json.loads(sidecar.read_text(encoding="utf-8"))
    assert now["version"] == 2 and now["pages"][0]["lines"][0]["text"] == new_text
    assert [(c["old_text"], c["new_text"], c["by"]) for c in now["corrections"]] == [(line["text"], new_text, "token")]
    assert folder_result["txt"].read_text(encoding="utf-8").splitlines()[0] == new_text
    detail = web_daemon.get(f"/api/results/{result_id}").json()["data"]
    assert detail["version"] == 2 and detail["corrections"][0]["new_text"] == new_text
    assert detail["result"]["pages"][0]["lines"][0]["text"] == new_text
    # The same text again: answered, nothing stored.
    again = put_line(web_daemon, result_id, 0, 0, json={"text": new_text}).json()["data"]
    assert again["correction"] is None and again["version"] == 2
    assert web_daemon.get(f"/api/results/{result_id}").json()["data"]["corrections_count"] == 1
    # Counted, per inbox.
    metrics = web_daemon.get("/metrics", token=False).text
    counted = [row for row in metrics.splitlines() if row.startswith('ocrd_corrected_characters_total{inbox="scans"}')]
    assert counted and float(counted[0].split()[-1]) >= len(" (checked)")
    # Found by its new text.
    found = web_daemon.get("/api/results", params={"q": "(checked)"}).json()["data"]["items"]
    assert result_id in [item["id"] for item in found]


def test_bad_corrections_are_refused_with_the_reason(web_daemon: WebDaemon, upload_result: dict) -> None:
    result_id = upload_result["item"]["id"]
    assert_failure(put_line(web_daemon, result_id, 0, 0, json={"text": "x" * 2001}), 400, "2000")
    assert_failure(put_line(web_daemon, result_id, 0, 0, json={"text": "two\nlines"}), 400, "control character")
    assert_failure(put_line(web_daemon, result_id, 0, 0, json={"text": 5}), 400, "string")
    assert_failure(put_line(web_daemon, result_id, 0, 0, json={"words": "x"}), 400, "text")
    assert_failure(put_line(web_daemon, result_id, 0, 0, json={"text": "  "}), 400, "empty")
    assert_failure(put_line(web_daemon, result_id, 0, 0, data=b"{not json", headers={}), 400, "JSON")
    assert_failure(put_line(web_daemon, BAD_ID, 0, 0, json={"text": "x"}), 404, "no result")
    assert_failure(put_line(web_daemon, result_id, 7, 0, json={"text": "x"}), 404, "page")
    assert_failure(put_line(web_daemon, result_id, 0, 99, json={"text": "x"}), 404, "line")
    assert_failure(put_line(web_daemon, result_id, 0, -1, json={"text": "x"}), 400, "line number")
    assert_failure(put_line(web_daemon, result_id, "one", 0, json={"text": "x"}), 400, "page number")
    assert_failure(put_line(web_daemon, result_id, 0, 0, token=False, json={"text": "x"}), 401, "token")
    wrong = {"Authorization": "Bearer not-the-token"}
    assert_failure(put_line(web_daemon, result_id, 0, 0, token=False, headers=wrong, json={"text": "x"}), 401)
    # Nothing of that was stored.
    assert web_daemon.get(f"/api/results/{result_id}").json()["data"]["corrections"] == []


def test_a_failed_document_is_listed_and_cannot_be_corrected(web_daemon: WebDaemon) -> None:
    job = web_daemon.submit("results-cut.pdf", b"%PDF-1.7\n1 0 obj\n<<").json()["data"]["id"]
    assert web_daemon.wait_job(job)["status"] == "failed"
    item = find(web_daemon, "results-cut.pdf")
    assert item["outcome"] == "failed" and item["error"] and item["pages"] is None
    detail = web_daemon.get(f"/api/results/{item['id']}").json()["data"]
    assert detail["result"] is None and detail["page_image"] is None
    assert_failure(put_line(web_daemon, item["id"], 0, 0, json={"text": "x"}), 409, "no lines")
    assert_failure(web_daemon.get(f"/api/results/{item['id']}/pages/0/image"), 404)


def test_bad_requests_for_reading_results_are_refused(web_daemon: WebDaemon, upload_result: dict) -> None:
    result_id = upload_result["item"]["id"]
    for query, word in (
        ("per_page=0", "per_page"),
        ("per_page=201", "per_page"),
        ("page=0", "page"),
        ("page=two", "page"),
        ("needs_review=maybe", "needs_review"),
        ("outcome=lost", "outcome"),
        ("q=" + "x" * 201, "q may have"),
    ):
        assert_failure(web_daemon.get(f"/api/results?{query}"), 400, word)
    assert_failure(web_daemon.get("/api/results", token=False), 401)
    assert_failure(web_daemon.get(f"/api/results/{BAD_ID}"), 404, "no result")
    assert_failure(web_daemon.get(f"/api/results/{result_id}", token=False), 401)
    assert_failure(web_daemon.get(f"/api/results/{result_id}/pages/3/image"), 404, "page")
    assert_failure(web_daemon.get(f"/api/results/{result_id}/pages/x/image"), 400, "page number")
    assert_failure(web_daemon.get(f"/api/results/{BAD_ID}/pages/0/image"), 404)
    assert_failure(web_daemon.get(f"/api/results/{result_id}/pages/0/image", token=False), 401)
