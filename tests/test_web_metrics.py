"""Health, readiness and /metrics of the real daemon, watched while it processes real files."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from ocrd import __version__, samples
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> samples.SampleDocument:
    folder = tmp_path_factory.mktemp("web-metrics")
    return samples.make_sample_page_png(folder / "receipt.png", ["收据 Receipt", "合计 ¥88.00"])


def scrape(web_daemon: WebDaemon) -> tuple[str, Samples]:
    response = web_daemon.get("/metrics", token=False)  # monitoring needs no upload token
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/plain; version=")
    values: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            values[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return response.text, values


def value(values: Samples, name: str, **labels: str) -> float:
    return values.get((name, tuple(sorted(labels.items()))), 0.0)


def wait_for(condition: Callable[[], bool], timeout: float = 60.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def drop_into_inbox(web_daemon: WebDaemon, source: Path, name: str) -> None:
    """As a scanner would: write under a hidden name, then rename into place."""
    partial = web_daemon.inbox / f".{name}.part"
    shutil.copyfile(source, partial)
    os.replace(partial, web_daemon.inbox / name)


def test_health_and_readiness_are_open_and_say_why(web_daemon: WebDaemon) -> None:
    health = web_daemon.get("/healthz", token=False)
    assert health.status_code == 200
    assert health.json()["data"] == {"alive": True, "version": __version__}

    ready = web_daemon.get("/readyz", token=False)
    assert ready.status_code == 200, ready.text
    checks = {check["name"]: check for check in ready.json()["data"]["checks"]}
    assert set(checks) == {"accepting", "workers", "inbox:scans", "outbox:scans"}
    assert all(check["ok"] for check in checks.values())
    assert "models loaded" in checks["workers"]["detail"]


def test_readiness_fails_while_an_inbox_folder_is_unreachable(web_daemon: WebDaemon) -> None:
    moved = web_daemon.root / "inbox-away"
    os.rename(web_daemon.inbox, moved)
    try:
        wait_for(lambda: web_daemon.get("/readyz", token=False).status_code == 503, what="/readyz to fail")
        response = web_daemon.get("/readyz", token=False)
        body = response.json()
        assert body["code"] == 50301 and "inbox:scans" in body["msg"], body
        assert str(web_daemon.inbox) in body["msg"]
    finally:
        os.rename(moved, web_daemon.inbox)
    wait_for(lambda: web_daemon.get("/readyz", token=False).status_code == 200, what="/readyz to recover")


def test_metrics_change_as_files_are_processed(web_daemon: WebDaemon, page) -> None:
    web_daemon.wait_idle()
    _, before = scrape(web_daemon)

    drop_into_inbox(web_daemon, page.path, "receipt-0001.png")
    wait_for(lambda: any(web_daemon.outbox.glob("receipt-0001*.json")), what="the inbox file's results")
    # The file is counted once its results and original are in place, a moment after they appear.
    scans_ok = {"inbox": "scans", "outcome": "ok"}
    counted = value(before, "ocrd_jobs_total", **scans_ok) + 1
    wait_for(lambda: value(scrape(web_daemon)[1], "ocrd_jobs_total", **scans_ok) >= counted, what="the count")
    uploaded = web_daemon.post("/ocr", files={"image": ("receipt.png", page.path.read_bytes())})
    assert uploaded.status_code == 200
    refused = web_daemon.post("/ocr", files={"image": ("notes.png", b"just some text\n")})
    assert refused.status_code == 415
    text, after = scrape(web_daemon)

    def grew(name: str, by: float = 1, **labels: str) -> None:
        old, new = value(before, name, **labels), value(after, name, **labels)
        assert new - old == by, f"{name}{labels}: {old} -> {new}"

    grew("ocrd_jobs_total", inbox="scans", outcome="ok")
    grew("ocrd_jobs_total", inbox="upload", outcome="ok")
    grew("ocrd_pages_total", inbox="scans")
    grew("ocrd_files_discovered_total", inbox="scans")
    grew("ocrd_files_claimed_total", inbox="scans")
    assert value(after, "ocrd_lines_total", inbox="scans") > value(before, "ocrd_lines_total", inbox="scans")
    assert (
        0
        < value(after, "ocrd_outbox_free_bytes", inbox="scans")
        <= value(after, "ocrd_outbox_size_bytes", inbox="scans")
    )
    grew("ocrd_job_duration_seconds_count", inbox="scans")
    grew("ocrd_stage_duration_seconds_count", by=2, stage="detect")
    grew("ocrd_stage_duration_seconds_count", by=2, stage="recognize")
    grew("ocrd_http_requests_total", route="/ocr", method="POST", status="200")
    grew("ocrd_http_requests_total", route="/ocr", method="POST", status="415")
    assert value(after, "ocrd_http_requests_total", route="/metrics", method="GET", status="200") >= 1
    assert value(after, "ocrd_last_success_timestamp_seconds", inbox="scans") > time.time() - 120
    assert value(after, "ocrd_workers") == 1
    assert ("ocrd_queue_depth", (("inbox", "scans"),)) in after
    assert ("ocrd_workers_busy", ()) in after
    build = [labels for (name, labels) in after if name == "ocrd_build_info"]
    assert len(build) == 1 and ("version", __version__) in build[0]

    # Bounded labels only: no file name or path ever becomes a label value.
    label_values = {v for (_, labels) in after for (_, v) in labels}
    assert not any("receipt" in v or "notes" in v for v in label_values), label_values
    assert {v for v in label_values if "/" in v} <= ROUTES, label_values
    assert "ocrd_http_requests_total" in text


def app_routes() -> set[str]:
    """Every route template the web app serves (the values the route label may take), from its router."""
    from ocrd.config import Config
    from ocrd.daemon.supervisor import Supervisor
    from ocrd.web.app import init_app

    app = init_app(Supervisor(Config()))
    return {route.resource.canonical for route in app.router.routes() if route.resource is not None}


ROUTES = app_routes()


def test_unknown_paths_count_under_one_label(web_daemon: WebDaemon) -> None:
    for n in range(3):
        assert web_daemon.get(f"/no/such/page/{n}").status_code == 404
    _, values = scrape(web_daemon)
    routes = {dict(labels).get("route") for (name, labels) in values if name == "ocrd_http_requests_total"}
    assert "unmatched" in routes
    assert not any(route and route.startswith("/no/") for route in routes)


def test_promtool_accepts_a_real_scrape(web_daemon: WebDaemon) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool not found: install the Debian package 'prometheus' (scripts/test-packages.txt)"
    text, _ = scrape(web_daemon)
    checked = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, check=False)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert checked.stdout.strip() == "" and checked.stderr.strip() == "", checked.stdout + checked.stderr
