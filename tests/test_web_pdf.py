"""The searchable PDF over HTTP: asked for with ``outputs``, downloaded from ``result.pdf``, and on the upload page.

Against the real daemon of the web tests (tests/web_server.py), its real workers and PDF writer;
the page in the system's Chromium. PDFs are checked with poppler, as a viewer reads them.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, expect

from ocrd import samples
from tests.browser import chromium
from tests.daemon_support import lines_for, normalize
from tests.pdf_support import assert_searchable, signed_pdf_bytes
from tests.test_web_ui import READ_TIMEOUT_MS, job_card, note_console_error, sign_in
from tests.web_server import WebDaemon, held_name, held_uploads, shared_daemon

pytestmark = pytest.mark.slow

WITH_PDF = {"outputs": "json,txt,pdf"}


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def page_png(tmp_path_factory: pytest.TempPathFactory) -> samples.SampleDocument:
    return samples.make_sample_page_png(tmp_path_factory.mktemp("web-pdf") / "page.png", lines_for(21))


def submit(daemon: WebDaemon, name: str, content: bytes, **data: str) -> str:
    response = daemon.post("/api/jobs", files={"image": (name, content, "application/octet-stream")}, data=data)
    assert response.status_code == 202, response.text
    return response.json()["data"]["id"]


def test_a_job_with_pdf_in_its_outputs_serves_the_searchable_pdf(
    web_daemon: WebDaemon, page_png: samples.SampleDocument, tmp_path: Path
) -> None:
    job_id = submit(web_daemon, "发票 2024.png", page_png.path.read_bytes(), **WITH_PDF)
    job = web_daemon.wait_job(job_id)
    assert job["status"] == "done" and job["outputs"] == ["json", "txt", "pdf"]
    assert job["links"]["pdf"] == f"/api/jobs/{job_id}/result.pdf"
    response = web_daemon.get(job["links"]["pdf"])
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"] == (
        f"attachment; filename=\"__ 2024.png.pdf\"; filename*=UTF-8''{quote('发票 2024.png.pdf')}"
    )
    saved = tmp_path / "result.pdf"
    saved.write_bytes(response.content)
    assert_searchable(saved, page_png.lines, pages=1)
    # The same text as the job's own result.
    text = web_daemon.get(f"/api/jobs/{job_id}/result.txt").text
    assert normalize(page_png.lines[1]) in normalize(text)


def test_result_pdf_is_404_without_one_409_while_reading_and_the_job_error_after_a_failure(
    web_daemon: WebDaemon, page_png: samples.SampleDocument
) -> None:
    plain = submit(web_daemon, "plain.png", page_png.path.read_bytes())
    assert web_daemon.wait_job(plain)["links"].get("pdf") is None
    missing = web_daemon.get(f"/api/jobs/{plain}/result.pdf")
    assert missing.status_code == 404
    assert missing.json()["code"] == 40400 and "outputs=json,txt,pdf" in missing.json()["msg"]
    unknown = web_daemon.get("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA/result.pdf")
    assert unknown.status_code == 404 and unknown.json()["code"] == 40400

    web_daemon.wait_idle()
    name = held_name("pdf-pending", ".png")
    with held_uploads(web_daemon, name):
        pending = submit(web_daemon, name, page_png.path.read_bytes(), **WITH_PDF)
        early = web_daemon.get(f"/api/jobs/{pending}/result.pdf")
        web_daemon.delete(f"/api/jobs/{pending}")
    assert early.status_code == 409 and early.json()["code"] == 40900

    broken = submit(web_daemon, "cut.png", page_png.path.read_bytes()[:400], **WITH_PDF)
    assert web_daemon.wait_job(broken)["status"] == "failed"
    failed = web_daemon.get(f"/api/jobs/{broken}/result.pdf")
    assert failed.status_code == 400 and failed.json()["code"] == 40003


def test_a_signed_pdf_is_refused_only_when_a_pdf_is_asked_for(web_daemon: WebDaemon) -> None:
    signed = signed_pdf_bytes(lines_for(22))
    refused = web_daemon.wait_job(submit(web_daemon, "signed.pdf", signed, **WITH_PDF))
    assert refused["status"] == "failed"
    assert refused["error"]["code"] == 40006 and "signature" in refused["error"]["msg"]
    read = web_daemon.wait_job(submit(web_daemon, "signed.pdf", signed))
    assert read["status"] == "done" and read["pages"] == 1


def test_unknown_outputs_and_a_pdf_from_post_ocr_are_bad_requests(
    web_daemon: WebDaemon, page_png: samples.SampleDocument
) -> None:
    files = {"image": ("page.png", page_png.path.read_bytes())}
    bad = web_daemon.post("/api/jobs", files=files, data={"outputs": "json,docx"})
    assert bad.status_code == 400 and bad.json()["code"] == 40001
    assert "unknown output 'docx'" in bad.json()["msg"]
    no_json = web_daemon.post("/api/jobs?outputs=txt,pdf", files=files)
    assert no_json.status_code == 400 and "must include 'json'" in no_json.json()["msg"]
    ocr = web_daemon.post("/ocr", files=files, data=WITH_PDF)
    assert ocr.status_code == 400 and "POST /api/jobs" in ocr.json()["msg"]


# --- the upload page ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def test_the_upload_page_offers_the_searchable_pdf_and_downloads_it(
    web_daemon: WebDaemon, browser: Browser, page_png: samples.SampleDocument, tmp_path: Path
) -> None:
    context = browser.new_context(locale="en-US", accept_downloads=True, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: note_console_error(message, errors))
    try:
        sign_in(page, web_daemon, "/upload")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        checkbox = page.get_by_label("Searchable PDF")
        expect(checkbox).not_to_be_checked()

        page.set_input_files("#file-input", [page_png.path])  # without: no PDF offered
        card = job_card(page, page_png.path.name)
        expect(card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)
        expect(card.get_by_role("link", name="Download JSON")).to_be_visible()
        expect(card.get_by_role("link", name="Download searchable PDF")).to_have_count(0)
        card.get_by_role("button", name="Remove").click()

        checkbox.check()
        page.set_input_files("#file-input", [page_png.path])
        card = job_card(page, page_png.path.name)
        expect(card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)
        link = card.get_by_role("link", name="Download searchable PDF")
        expect(link).to_have_attribute("href", re.compile(r"^/api/jobs/[A-Za-z0-9_-]+/result\.pdf$"))
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == "page.png.pdf"
        saved = tmp_path / "downloaded.pdf"
        download.save_as(saved)
        assert_searchable(saved, page_png.lines, pages=1)

        # The choice is remembered, and the button is there in Chinese too.
        page.reload()
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.get_by_label("Searchable PDF")).to_be_checked()
        page.click("#ui-language")
        expect(page.get_by_label("可搜索 PDF")).to_be_checked()
        assert errors == []
    finally:
        context.close()
