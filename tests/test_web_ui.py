"""The upload and status pages in a real headless Chromium (the Debian package), against the real daemon.

Playwright drives /usr/bin/chromium; no browser is ever downloaded. One screenshot of the upload
page with its results is kept as ci-artifacts/upload-page.png.
"""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, expect

from ocrd import samples
from tests.browser import chromium
from tests.paths import REPO
from tests.textmatch import assert_lines_read, squash
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

SCREENSHOT = REPO / "ci-artifacts" / "upload-page.png"
READ_TIMEOUT_MS = 180_000


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, samples.SampleDocument | Path]:
    folder = tmp_path_factory.mktemp("web-ui")
    notes = folder / "notes.png"
    notes.write_text("这不是图片，只是文字。\n", encoding="utf-8")
    return {
        "invoice": samples.make_sample_page_png(folder / "发票-2024.png", samples.invoice_lines()),
        "contract": samples.make_multipage_pdf(folder / "contract.pdf", 2),
        "receipt": samples.make_sample_page_png(folder / "receipt.png", ["Receipt No. 2024-0315", "Total 88.00"]),
        "notes": notes,
    }


def sign_in(page: Page, web_daemon: WebDaemon, target: str) -> None:
    page.goto(web_daemon.url + target)
    expect(page).to_have_url(re.compile(r"/login\?next="))
    page.fill("#token", web_daemon.token + "-wrong")
    page.click("button[type=submit]")
    expect(page.locator("#wrong")).to_be_visible()
    page.fill("#token", web_daemon.token)
    page.click("button[type=submit]")
    expect(page).to_have_url(web_daemon.url + target)


def note_console_error(message: ConsoleMessage, errors: list[str]) -> None:
    # Refused uploads (415 and the like) are expected; anything else (a CSP violation, a script error) is not.
    if message.type == "error" and "Failed to load resource" not in message.text:
        errors.append(message.text)


def job_card(page: Page, name: str):
    return page.locator(".job", has=page.locator(".job-name", has_text=name))


def test_upload_page_in_chinese_reads_a_document_and_downloads_its_text(
    web_daemon: WebDaemon, browser: Browser, files, tmp_path: Path
) -> None:
    context = browser.new_context(locale="zh-CN", accept_downloads=True, viewport={"width": 1400, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=web_daemon.url)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: note_console_error(message, errors))
    try:
        sign_in(page, web_daemon, "/upload")
        expect(page.locator("h1")).to_have_text("文字识别")
        expect(page.locator("html")).to_have_attribute("lang", "zh-CN")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")

        invoice, contract = files["invoice"], files["contract"]
        page.set_input_files("#file-input", [invoice.path, contract.path, files["notes"]])

        expect(page.locator(".job[data-phase=done]")).to_have_count(2, timeout=READ_TIMEOUT_MS)
        expect(page.locator(".job[data-phase=failed]")).to_have_count(1)

        # The invoice: its text beside its image, one outlined box per line.
        card = job_card(page, invoice.path.name)
        texts = card.locator(".page-text .t").all_inner_texts()
        assert_lines_read(invoice.lines, texts)
        expect(card.locator(".page-figure svg polygon")).to_have_count(len(texts))
        image = card.locator(".page-figure img")
        expect(image).to_have_js_property("complete", True)
        assert image.evaluate("img => img.naturalWidth") > 0
        card.locator(".page-text li").nth(2).hover()
        expect(card.locator('.page-figure polygon[data-i="2"]')).to_have_class(re.compile(r"\bhot\b"))

        # Copy to the clipboard.
        card.get_by_role("button", name="复制文字").click()
        expect(page.locator("#toast")).to_have_text("已复制")
        copied = page.evaluate("navigator.clipboard.readText()")
        assert squash(copied) == squash("".join(texts))

        # Download the TXT and check what is in it.
        with page.expect_download() as download_info:
            card.get_by_role("link", name="下载 TXT").click()
        download = download_info.value
        assert download.suggested_filename == "发票-2024.png.txt"
        saved = tmp_path / "downloaded.txt"
        download.save_as(saved)
        assert_lines_read(invoice.lines, saved.read_text(encoding="utf-8").splitlines())

        # The two-page PDF: both pages, each with its own image and text.
        pdf_card = job_card(page, contract.path.name)
        expect(pdf_card.locator(".page")).to_have_count(2)
        expect(pdf_card.locator(".page-title").first).to_have_text("第 1 页，共 2 页")
        for number, lines in enumerate(contract.pages):
            assert_lines_read(lines, pdf_card.locator(".page").nth(number).locator(".page-text .t").all_inner_texts())

        # Not an image: a readable message in the reader's language, not a stack trace.
        failed = job_card(page, "notes.png")
        expect(failed.locator(".error-text")).to_have_text(
            "不支持此文件类型，请使用 JPG、PNG、TIFF、BMP、WebP、GIF 或 PDF。"
        )
        assert "Traceback" not in failed.inner_text()

        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        page.mouse.move(0, 0)
        expect(page.locator("#toast")).not_to_have_class(re.compile(r"\bshow\b"))
        page.evaluate("window.scrollTo(0, 0)")
        page.screenshot(path=str(SCREENSHOT), full_page=True)
        assert SCREENSHOT.stat().st_size > 20_000
        assert errors == []
    finally:
        context.close()


def test_upload_page_in_english_takes_a_dropped_file(web_daemon: WebDaemon, browser: Browser, files) -> None:
    context = browser.new_context(locale="en-US", viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda message: note_console_error(message, errors))
    try:
        sign_in(page, web_daemon, "/upload")
        expect(page.locator("h1")).to_have_text("Recognise text")
        expect(page.locator("#formats")).to_contain_text("2.9 MB")
        receipt = files["receipt"]
        content = base64.b64encode(receipt.path.read_bytes()).decode()
        # A real drop event carrying a file, as the browser fires it when a file is dragged in.
        page.evaluate(
            """([name, data]) => {
                const bytes = Uint8Array.from(atob(data), (c) => c.charCodeAt(0));
                const transfer = new DataTransfer();
                transfer.items.add(new File([bytes], name, { type: "image/png" }));
                const zone = document.getElementById("dropzone");
                zone.dispatchEvent(new DragEvent("dragover", { dataTransfer: transfer, bubbles: true, cancelable: true }));
                zone.dispatchEvent(new DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }));
            }""",
            [receipt.path.name, content],
        )
        card = job_card(page, "receipt.png")
        expect(card).to_have_attribute("data-phase", "done", timeout=READ_TIMEOUT_MS)
        assert_lines_read(receipt.lines, card.locator(".page-text .t").all_inner_texts())
        expect(card.get_by_role("link", name="Download JSON")).to_have_attribute(
            "href", re.compile(r"/result\.json\?download$")
        )

        # The language button switches the page to Chinese, results included.
        page.click("#ui-language")
        expect(page.locator("h1")).to_have_text("文字识别")
        expect(card.get_by_role("link", name="下载 TXT")).to_be_visible()
        assert errors == []
    finally:
        context.close()


def test_status_page_shows_inboxes_workers_and_recent_results(
    web_daemon: WebDaemon, browser: Browser, tmp_path: Path
) -> None:
    # Its own upload first, so the recent list holds one whichever tests ran before.
    made = samples.make_sample_page_png(tmp_path / "status-check.png", ["Receipt No. 2024-0316"]).path
    read = web_daemon.post("/ocr", files={"image": (made.name, made.read_bytes(), "image/png")})
    assert read.status_code == 200 and "2024-0316" in read.text, read.text
    context = browser.new_context(locale="en-GB")
    page = context.new_page()
    try:
        sign_in(page, web_daemon, "/")
        expect(page.locator("h1")).to_have_text("Service status")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#state")).to_have_text("Ready")
        expect(page.locator("#inboxes tr").first).to_contain_text("scans")
        expect(page.locator("#inboxes tr").first).to_contain_text(str(web_daemon.inbox))
        expect(page.locator("#workers")).to_have_text(re.compile(r"^\d+ / 1$"))
        expect(page.locator("#recent tr").first).to_contain_text("upload")
        expect(page.locator("#recent tr").first).to_contain_text("status-check.png")
        expect(page.locator("#version")).not_to_have_text("–")
        expect(page.locator("#cluster")).to_be_hidden()  # one host: no data.cluster, no cluster section
        # The pack the workers loaded, and the precision they run with its reason (the suite pins
        # the CPU flags to none, so "auto" is FP32 on every machine).
        expect(page.locator("#models")).to_have_text("ppocrv6-small")
        expect(page.locator("#precision")).to_have_text(
            re.compile(r"^fp32: auto: this CPU has no int8 dot-product instructions")
        )
        expect(page.get_by_role("link", name="Upload", exact=True)).to_have_attribute("href", "/upload")
    finally:
        context.close()
