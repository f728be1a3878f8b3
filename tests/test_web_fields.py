"""Invoice fields over HTTP, on the real daemon: POST /ocr, the job API, the inbox, /metrics and the upload page.

The invoice is a real one from the shared evaluation data (read in place). Every answer is also
checked against the server's /openapi.json (tests/web_server.py), Fields schema included.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from ocrd import samples
from ocrd.fields.model import FIELD_MODES
from tests.browser import chromium
from tests.paths import EVAL_ROOT
from tests.test_web_metrics import drop_into_inbox, scrape, value, wait_for
from tests.test_web_ui import READ_TIMEOUT_MS, job_card, note_console_error, sign_in
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

INVOICE = EVAL_ROOT / "fields_dev" / "inv2xl-01_p1.png"
KIND = "vat_electronic_normal"
NUMBER = "47502662"
TOTAL = "145.18"
OCR_LINE_KEYS = {"text", "confidence", "box", "page"}  # what clients of hosted OCR services parse


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def invoice() -> bytes:
    return INVOICE.read_bytes()


@pytest.fixture(scope="module")
def tagged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A form (no invoice) whose printed values look like HTML: the page must show them as text."""
    folder = tmp_path_factory.mktemp("web-fields")
    return samples.make_sample_page_png(folder / "form.png", ["订单号: <b>A-1024</b>", "备注: <i>请勿折叠</i>"]).path


def post_ocr(web_daemon: WebDaemon, content: bytes, *, query: str = "", **form: str):
    return web_daemon.post("/ocr" + query, files={"image": ("invoice.png", content)}, data=form or None)


def test_post_ocr_adds_the_invoice_fields_beside_the_unchanged_lines(web_daemon: WebDaemon, invoice: bytes) -> None:
    response = post_ocr(web_daemon, invoice)
    assert response.status_code == 200, response.text
    body = response.json()
    assert list(body) == ["code", "msg", "data", "fields"]
    assert body["code"] == 0 and body["msg"] == "success"
    assert body["data"] and all(set(line) == OCR_LINE_KEYS for line in body["data"])
    assert any(NUMBER in line["text"] for line in body["data"])

    fields = body["fields"]
    assert fields["kind"] == KIND
    assert isinstance(fields["needs_review"], bool) and fields["needs_review"] == bool(fields["reasons"])
    number = fields["values"]["invoice_number"]
    assert number["value"] == NUMBER and number["page"] == 0
    assert fields["values"]["total"]["value"] == TOTAL
    assert NUMBER in fields["qr"]  # the invoice's own QR code, decoded


def test_fields_off_gives_null_and_a_form_field_wins_over_the_query(web_daemon: WebDaemon, invoice: bytes) -> None:
    off = post_ocr(web_daemon, invoice, query="?fields=off")
    assert off.status_code == 200, off.text
    assert off.json()["fields"] is None
    assert off.json()["data"]

    overruled = post_ocr(web_daemon, invoice, query="?fields=off", fields="auto")
    assert overruled.status_code == 200, overruled.text
    assert overruled.json()["fields"]["kind"] == KIND

    forced = post_ocr(web_daemon, invoice, fields="vat_normal")
    assert forced.json()["fields"]["kind"] == "vat_normal"


@pytest.mark.parametrize("where", ["query", "form"])
def test_an_unknown_fields_mode_is_refused_with_the_modes_there_are(
    web_daemon: WebDaemon, invoice: bytes, where: str
) -> None:
    for path in ("/ocr", "/api/jobs"):
        query, data = ("?fields=invoices", None) if where == "query" else ("", {"fields": "invoices"})
        response = web_daemon.post(path + query, files={"image": ("invoice.png", invoice)}, data=data)
        assert response.status_code == 400, response.text
        body = response.json()
        assert body["code"] == 40001 and body["data"] is None
        assert "'invoices'" in body["msg"]
        for mode in FIELD_MODES:
            assert mode in body["msg"], body["msg"]


def test_the_job_api_carries_the_fields_in_the_job_and_its_result(web_daemon: WebDaemon, invoice: bytes) -> None:
    submitted = web_daemon.post("/api/jobs", files={"image": ("invoice.png", invoice)}, data={"fields": "auto"})
    assert submitted.status_code == 202, submitted.text
    assert submitted.json()["data"]["fields_mode"] == "auto"
    job = web_daemon.wait_job(submitted.json()["data"]["id"])
    assert job["status"] == "done", job
    assert job["fields"]["kind"] == KIND and isinstance(job["fields"]["needs_review"], bool)

    result = web_daemon.get(f"/api/jobs/{job['id']}/result.json")
    assert result.status_code == 200
    document = result.json()
    assert document["schema"] == 2
    assert document["fields"]["values"]["invoice_number"]["value"] == NUMBER
    assert document["fields"]["needs_review"] == job["fields"]["needs_review"]
    assert any(NUMBER in code["text"] for code in document["pages"][0]["codes"])

    skipped = web_daemon.post("/api/jobs?fields=off", files={"image": ("invoice.png", invoice)})
    job = web_daemon.wait_job(skipped.json()["data"]["id"])
    assert job["fields"] is None and job["fields_mode"] == "off"
    assert web_daemon.get(f"/api/jobs/{job['id']}/result.json").json()["fields"] is None


def test_metrics_count_invoices_from_the_inbox_and_from_uploads(web_daemon: WebDaemon, invoice: bytes) -> None:
    web_daemon.wait_idle()
    _, before = scrape(web_daemon)
    response = post_ocr(web_daemon, invoice)
    review = "true" if response.json()["fields"]["needs_review"] else "false"

    drop_into_inbox(web_daemon, INVOICE, "invoice-fields-0001.png")
    sidecar = web_daemon.outbox / "invoice-fields-0001.png.json"
    wait_for(sidecar.is_file, timeout=180, what="the inbox invoice's results")
    written = json.loads(sidecar.read_text(encoding="utf-8"))
    assert written["fields"]["kind"] == KIND
    assert written["fields"]["values"]["invoice_number"]["value"] == NUMBER
    scans = {"inbox": "scans", "kind": KIND, "needs_review": review}
    counted = value(before, "ocrd_documents_fields_total", **scans) + 1
    wait_for(
        lambda: value(scrape(web_daemon)[1], "ocrd_documents_fields_total", **scans) >= counted,
        what="the inbox invoice's count",
    )

    text, after = scrape(web_daemon)
    assert f'ocrd_documents_fields_total{{inbox="upload",kind="{KIND}",needs_review="{review}"}}' in text
    for inbox in ("upload", "scans"):
        labels = {"inbox": inbox, "kind": KIND, "needs_review": review}
        grew = value(after, "ocrd_documents_fields_total", **labels) - value(
            before, "ocrd_documents_fields_total", **labels
        )
        assert grew == 1, (inbox, grew)


# --- the upload page --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def open_upload_page(browser: Browser, web_daemon: WebDaemon, locale: str) -> tuple[Page, list[str]]:
    context = browser.new_context(locale=locale, viewport={"width": 1400, "height": 1000})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: note_console_error(message, errors))
    sign_in(page, web_daemon, "/upload")
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page, errors


def test_upload_page_shows_the_invoice_fields_and_outlines_a_field_on_the_page(
    web_daemon: WebDaemon, browser: Browser
) -> None:
    page, errors = open_upload_page(browser, web_daemon, "en-US")
    try:
        page.set_input_files("#file-input", [INVOICE])
        card = job_card(page, INVOICE.name)
        expect(card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)

        panel = card.locator(".fields")
        expect(panel).to_be_visible()
        expect(panel).to_have_attribute("data-kind", KIND)
        expect(panel.locator(".fields-kind")).to_have_text(f"增值税电子普通发票 {KIND}")
        review = panel.get_attribute("data-review")
        expected_banner = "Needs review" if review == "true" else "All checks passed"
        expect(panel.locator(".fields-review")).to_contain_text(expected_banner)

        row = panel.locator('tr[data-field="invoice_number"]')
        expect(row.locator("th")).to_have_text("发票号码 invoice_number")
        expect(row.locator(".field-value .v")).to_have_text(NUMBER)
        expect(row.locator(".fields-checks .check").first).to_contain_text("✓")
        expect(panel.locator('tr[data-field="total"] .field-value .v')).to_have_text(TOTAL)

        # Hovering the row outlines the value on the page image; leaving removes the outline.
        highlight = card.locator(".page-figure .field-highlight")
        expect(highlight).to_have_count(0)
        row.hover()
        expect(highlight).to_have_count(1)
        box = highlight.bounding_box()
        assert box is not None and box["width"] > 0 and box["height"] > 0
        frame = card.locator(".page-figure .frame").bounding_box()
        assert frame is not None
        assert frame["x"] <= box["x"] and box["x"] + box["width"] <= frame["x"] + frame["width"] + 1
        assert frame["y"] <= box["y"] and box["y"] + box["height"] <= frame["y"] + frame["height"] + 1
        page.mouse.move(0, 0)
        expect(highlight).to_have_count(0)

        # A click keeps it, also with the line boxes hidden; a second click lets it go.
        row.click()
        page.mouse.move(0, 0)
        page.uncheck("#show-boxes")
        expect(highlight).to_be_visible()
        expect(row).to_have_class(re.compile(r"\bpinned\b"))
        row.click()
        page.mouse.move(0, 0)
        expect(highlight).to_have_count(0)
        assert errors == []
    finally:
        page.context.close()


def test_upload_page_shows_printed_pairs_of_other_documents_as_text(
    web_daemon: WebDaemon, browser: Browser, tagged: Path
) -> None:
    page, errors = open_upload_page(browser, web_daemon, "zh-CN")
    try:
        page.set_input_files("#file-input", [tagged])
        card = job_card(page, tagged.name)
        expect(card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)
        panel = card.locator(".fields")
        expect(panel).to_have_attribute("data-kind", "other")
        expect(panel.locator(".pairs caption")).to_have_text("标签与值")
        values = panel.locator(".pairs .field-value")
        expect(values).to_have_text(["<b>A-1024</b>", "<i>请勿折叠</i>"])
        # Shown as the characters they are, never turned into markup.
        expect(card.locator(".fields b, .fields i")).to_have_count(0)
        panel.locator('tr[data-pair="1"]').hover()
        expect(card.locator(".page-figure .field-highlight")).to_have_count(1)

        # With the fields stage off the page shows the lines only.
        page.select_option("#fields-mode", "off")
        page.set_input_files("#file-input", [INVOICE])
        invoice_card = job_card(page, INVOICE.name)
        expect(invoice_card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)
        expect(invoice_card.locator(".fields")).to_have_count(0)
        expect(invoice_card.locator(".page-text .t").first).to_be_visible()
        assert errors == []
    finally:
        page.context.close()
