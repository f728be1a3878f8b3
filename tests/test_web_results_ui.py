"""The results page and the review view in a real headless Chromium, against the real daemon.

Two small documents are read once for the module: one dropped into the daemon's inbox (a folder
result) and one uploaded through the job API with the invoice fields forced (so it has fields
and needs review). The pages are then driven as a person would: search, filters, paging, the
review view with its boxes, zoom and line corrections, and the way in from the status page.
One screenshot of the review view is kept as ci-artifacts/review-page.png.
"""

from __future__ import annotations

import re
import secrets
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, BrowserContext, ConsoleMessage, Page, expect

from ocrd import samples
from tests.browser import chromium
from tests.paths import REPO
from tests.textmatch import assert_lines_read
from tests.web_server import WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

SCREENSHOT = REPO / "ci-artifacts" / "review-page.png"
READ_TIMEOUT = 180.0  # seconds for the daemon to read one small page on a busy machine
FOLDER_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
UPLOAD_LINES = ["Receipt No. 20240315", "Paid CNY 88.00"]


@dataclass
class Produced:
    stem: str  # both file names start with it: a search for it finds exactly these two
    folder_name: str
    upload_name: str
    folder_id: str
    upload_id: str
    broken_name: str  # a file of the inbox that is no image: a failed result
    broken_id: str


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with chromium() as launched:
        yield launched


def result_id_of(daemon: WebDaemon, name: str) -> str:
    """The id of the one result with this file name, once the index has it."""
    deadline = time.monotonic() + READ_TIMEOUT
    while time.monotonic() < deadline:
        response = daemon.get(f"/api/results?q={quote(name)}")
        assert response.status_code == 200, response.text
        items = [item for item in response.json()["data"]["items"] if item["source"] == name]
        if items:
            assert len(items) == 1, items
            return items[0]["id"]
        time.sleep(0.2)
    raise AssertionError(f"{name} never appeared in /api/results")


@pytest.fixture(scope="module")
def produced(web_daemon: WebDaemon, tmp_path_factory: pytest.TempPathFactory) -> Produced:
    folder = tmp_path_factory.mktemp("results-ui")
    stem = f"rv{secrets.token_hex(3)}"
    folder_name, upload_name = f"{stem}-scan.png", f"{stem}-upload.png"

    # The folder result: a file dropped into the inbox, read once its sidecar is in the outbox.
    made = samples.make_sample_page_png(folder / folder_name, FOLDER_LINES)
    staged = web_daemon.inbox.parent / f".{folder_name}"
    shutil.copyfile(made.path, staged)
    staged.rename(web_daemon.inbox / folder_name)  # whole at once: never seen half-written

    # A failed result: text with an image's name, dropped into the inbox too (nothing to read).
    broken_name = f"bad{secrets.token_hex(3)}-notes.png"
    staged = web_daemon.inbox.parent / f".{broken_name}"
    staged.write_text("这不是图片，只是文字。\n", encoding="utf-8")
    staged.rename(web_daemon.inbox / broken_name)

    # The upload, with the VAT invoice fields forced on a page that is no invoice: it needs review.
    upload = samples.make_sample_page_png(folder / upload_name, UPLOAD_LINES)
    response = web_daemon.post(
        "/api/jobs",
        files={"image": (upload_name, upload.path.read_bytes(), "image/png")},
        data={"fields": "vat_normal"},
    )
    assert response.status_code == 202, response.text
    job = web_daemon.wait_job(response.json()["data"]["id"], timeout=READ_TIMEOUT)
    assert job["status"] == "done", job

    sidecar = web_daemon.outbox / f"{folder_name}.json"
    deadline = time.monotonic() + READ_TIMEOUT
    while not sidecar.exists():
        assert time.monotonic() < deadline, f"no sidecar {sidecar} after {READ_TIMEOUT:g} s"
        time.sleep(0.2)
    return Produced(
        stem=stem,
        folder_name=folder_name,
        upload_name=upload_name,
        folder_id=result_id_of(web_daemon, folder_name),
        upload_id=result_id_of(web_daemon, upload_name),
        broken_name=broken_name,
        broken_id=result_id_of(web_daemon, broken_name),
    )


def note_console_error(message: ConsoleMessage, errors: list[str]) -> None:
    # Refused requests (the over-long correction's 400) are expected; anything else (a CSP
    # violation, a script error) is not.
    if message.type == "error" and "Failed to load resource" not in message.text:
        errors.append(message.text)


@dataclass
class Signed:
    context: BrowserContext
    errors: list[str]  # script errors and console errors of every page opened


@pytest.fixture()
def signed_in(web_daemon: WebDaemon, browser: Browser) -> Iterator[Signed]:
    """A browser signed in through /login, as a person is sent there from the results page."""
    signed = Signed(browser.new_context(locale="en-US", viewport={"width": 1400, "height": 1000}), [])
    page = new_page(signed)
    page.goto(web_daemon.url + "/results")
    expect(page).to_have_url(re.compile(r"/login\?next=(/|%2F)results$"))
    page.fill("#token", web_daemon.token)
    page.click("button[type=submit]")
    expect(page).to_have_url(web_daemon.url + "/results")
    page.close()
    try:
        yield signed
    finally:
        signed.context.close()


def new_page(signed: Signed) -> Page:
    page = signed.context.new_page()
    page.on("pageerror", lambda error: signed.errors.append(str(error)))
    page.on("console", lambda message: note_console_error(message, signed.errors))
    return page


def open_page(signed: Signed, url: str) -> Page:
    page = new_page(signed)
    page.goto(url)
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    return page


def rows(page: Page):
    return page.locator("#results tr.result-row")


def api_result(daemon: WebDaemon, result_id: str) -> dict:
    response = daemon.get(f"/api/results/{result_id}")
    assert response.status_code == 200, response.text
    return response.json()["data"]


# --- the results page -------------------------------------------------------------------------------


def test_results_page_lists_searches_filters_and_pages(
    web_daemon: WebDaemon, signed_in: Signed, produced: Produced
) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, web_daemon.url + "/results")
    expect(page.locator("h1")).to_have_text("Results")
    # Newest first: the two documents of this module are on the first page, with their origin.
    upload_row = rows(page).filter(has_text=produced.upload_name)
    folder_row = rows(page).filter(has_text=produced.folder_name)
    expect(upload_row).to_have_count(1)
    expect(folder_row).to_have_count(1)
    expect(folder_row.locator("td").nth(1)).to_have_text("scans")
    expect(upload_row.locator("td").nth(1)).to_have_text("upload")
    expect(folder_row.locator("td").nth(3)).to_have_text("1")
    expect(folder_row).to_contain_text("done")

    # One search box, by file name...
    page.fill("#q", produced.stem)
    page.press("#q", "Enter")
    expect(page).to_have_url(f"{web_daemon.url}/results?q={produced.stem}")
    expect(rows(page)).to_have_count(2)
    expect(page.locator("#count")).to_have_text("2 result(s)")
    page.fill("#q", produced.upload_name)
    page.get_by_role("button", name="Search").click()
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(produced.upload_name)

    # ...and by a word of the text, with the matching text shown.
    page.fill("#q", "12345678")
    page.press("#q", "Enter")
    expect(folder_row).to_have_count(1)
    expect(upload_row).to_have_count(0)
    expect(folder_row.locator(".snippet")).to_contain_text("12345678")
    expect(folder_row.locator(".snippet mark")).to_have_text("12345678")

    # The back button returns to the previous search; a reload keeps the current one.
    page.go_back()
    expect(page.locator("#q")).to_have_value(produced.upload_name)
    expect(rows(page)).to_have_count(1)
    page.reload()
    expect(page.locator("#q")).to_have_value(produced.upload_name)
    expect(rows(page)).to_have_count(1)

    # The needs-review filter: the upload read with the invoice fields forced needs review.
    upload = api_result(web_daemon, produced.upload_id)
    folder = api_result(web_daemon, produced.folder_id)
    assert upload["needs_review"] is True, upload
    assert folder["needs_review"] is not True, folder
    page.fill("#q", produced.stem)
    page.press("#q", "Enter")
    expect(rows(page)).to_have_count(2)
    page.select_option("#needs-review", "true")
    expect(page).to_have_url(f"{web_daemon.url}/results?q={produced.stem}&needs_review=true")
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first).to_contain_text(produced.upload_name)
    expect(rows(page).first).to_contain_text("needs review")
    page.select_option("#outcome", "failed")
    expect(rows(page)).to_have_count(0)
    expect(page.locator("#results td.empty")).to_have_text(
        "No result matches this search. Change the filters or clear them."
    )
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(f"{web_daemon.url}/results")
    expect(page.locator("#needs-review")).to_have_value("")

    # Paging, one result a page (set in the address): previous and next, and the back button.
    page.goto(f"{web_daemon.url}/results?q={produced.stem}&per_page=1")
    newest = web_daemon.get(f"/api/results?q={produced.stem}").json()["data"]["items"]
    names = [item["source"] for item in newest]
    assert sorted(names) == sorted([produced.folder_name, produced.upload_name]), names
    expect(rows(page)).to_have_count(1)
    expect(rows(page).first.locator("a.open")).to_have_text(names[0])
    expect(page.locator("#pager")).to_contain_text("Page 1 of 2")
    page.get_by_role("link", name="Next").click()
    expect(page).to_have_url(f"{web_daemon.url}/results?q={produced.stem}&page=2&per_page=1")
    expect(rows(page).first.locator("a.open")).to_have_text(names[1])
    expect(page.locator("#pager")).to_contain_text("Page 2 of 2")
    page.go_back()
    expect(rows(page).first.locator("a.open")).to_have_text(names[0])
    page.goto(f"{web_daemon.url}/results?q={produced.stem}&page=2&per_page=1")

    # A row opens its review view; its way back returns to this very list.
    opened = produced.upload_id if names[1] == produced.upload_name else produced.folder_id
    rows(page).first.get_by_role("link", name=names[1]).click()
    expect(page).to_have_url(f"{web_daemon.url}/results/{opened}")
    expect(page.locator("h1")).to_have_text(names[1])
    page.get_by_role("link", name="All results").click()
    expect(page).to_have_url(f"{web_daemon.url}/results?q={produced.stem}&page=2&per_page=1")
    expect(rows(page).first.locator("a.open")).to_have_text(names[1])
    assert errors == []


def test_results_page_in_chinese_says_when_nothing_matches(web_daemon: WebDaemon, signed_in: Signed) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, web_daemon.url + "/results?q=" + quote("没有这种文字"))
    page.click("#ui-language")
    expect(page.locator("h1")).to_have_text("识别结果")
    expect(page.locator("#results td.empty")).to_have_text("没有符合条件的结果。请修改或清除筛选条件。")
    expect(page.locator("#count")).to_have_text("共 0 条结果")
    assert errors == []


# --- the review view --------------------------------------------------------------------------------


def test_review_view_shows_boxes_zooms_and_saves_a_correction(
    web_daemon: WebDaemon, signed_in: Signed, produced: Produced
) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, f"{web_daemon.url}/results/{produced.folder_id}")
    before = api_result(web_daemon, produced.folder_id)
    lines = before["result"]["pages"][0]["lines"]
    assert lines, before

    # The page image, a box per line, the text beside it line by line.
    expect(page.locator("h1")).to_have_text(produced.folder_name)
    image = page.locator("#page-image")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#boxes polygon")).to_have_count(len(lines))
    texts = page.locator("#lines li .t").all_inner_texts()
    assert texts == [line["text"] for line in lines]
    assert_lines_read(FOLDER_LINES, texts)
    expect(page.locator("#page-switch")).to_be_hidden()  # one page: nothing to switch

    # Hovering a line lights its box, and the other way round.
    page.locator("#lines li").nth(1).hover()
    expect(page.locator('#boxes polygon[data-i="1"]')).to_have_class(re.compile(r"\bhot\b"))
    page.locator('#boxes polygon[data-i="0"]').hover()
    expect(page.locator('#lines li[data-i="0"]')).to_have_class(re.compile(r"\bhot\b"))

    # Zoom: the button, the + and - keys, Ctrl+wheel, and back to the width of the panel.
    fitted = image.bounding_box()["width"]
    page.get_by_role("button", name="Zoom in (+)").click()
    expect(page.locator("#zoom-level")).to_have_text("125%")
    assert image.bounding_box()["width"] > fitted * 1.2
    page.keyboard.press("+")
    expect(page.locator("#zoom-level")).to_have_text("150%")
    page.keyboard.press("-")
    expect(page.locator("#zoom-level")).to_have_text("125%")
    page.locator("#canvas").hover()
    page.keyboard.down("Control")
    page.mouse.wheel(0, -120)
    page.keyboard.up("Control")
    expect(page.locator("#zoom-level")).to_have_text("150%")
    assert image.bounding_box()["width"] > fitted * 1.45
    page.get_by_role("button", name="Fit width").click()
    expect(page.locator("#zoom-level")).to_have_text("100%")
    assert abs(image.bounding_box()["width"] - fitted) < 2

    # A correction: click the line, change it, Enter saves it.
    corrected = "Invoice No. 12345679"
    first = page.locator('#lines li[data-i="0"]')
    first.locator(".t").click()
    field = first.get_by_role("textbox", name="Text of line 1")
    expect(field).to_be_focused()
    expect(field).to_have_value(lines[0]["text"])
    field.fill(corrected)
    field.press("Enter")
    expect(first.locator(".t")).to_have_text(corrected)
    expect(first).to_have_class(re.compile(r"\bcorrected\b"))
    expect(page.locator("#save-state")).to_have_text("Saved")
    expect(page.locator("#corrections-count")).to_have_text("1 correction(s)")

    after = api_result(web_daemon, produced.folder_id)
    assert after["result"]["pages"][0]["lines"][0]["text"] == corrected
    assert [(c["page"], c["line"], c["old_text"], c["new_text"]) for c in after["corrections"]] == [
        (0, 0, lines[0]["text"], corrected)
    ]
    assert after["version"] > before["version"]

    # After a reload: the corrected text, marked corrected, the text it was read as on hover.
    page.reload()
    expect(page.locator("body")).to_have_attribute("data-ready", "true")
    first = page.locator('#lines li[data-i="0"]')
    expect(first.locator(".t")).to_have_text(corrected)
    mark = first.locator(".corrected-mark")
    expect(mark).to_have_text("✓ corrected")
    expect(mark).to_have_attribute("title", re.compile("^" + re.escape(f"Read as: {lines[0]['text']}")))

    # Esc cancels: nothing sent, the line as it was.
    second = page.locator('#lines li[data-i="1"]')
    second.get_by_role("button", name="Correct line 2").click()
    field = second.get_by_role("textbox", name="Text of line 2")
    field.fill("not meant")
    field.press("Escape")
    expect(second.get_by_role("textbox")).to_have_count(0)
    expect(second.locator(".t")).to_have_text(lines[1]["text"])
    expect(second.get_by_role("button", name="Correct line 2")).to_be_focused()

    # A refused save says why in words and keeps the edit to fix.
    second.get_by_role("button", name="Correct line 2").click()
    field = second.get_by_role("textbox", name="Text of line 2")
    too_long = "8" * 2001
    field.fill(too_long)
    field.press("Enter")
    expect(second.locator(".line-error")).to_have_text(re.compile(r"^Not saved: .*2000"))
    expect(field).to_have_value(too_long)
    expect(field).to_have_attribute("aria-invalid", "true")
    field.fill(lines[1]["text"] + "!")
    field.press("Enter")
    expect(second.locator(".t")).to_have_text(lines[1]["text"] + "!")
    expect(page.locator("#corrections-count")).to_have_text("2 correction(s)")
    assert (
        api_result(web_daemon, produced.folder_id)["result"]["pages"][0]["lines"][1]["text"] == lines[1]["text"] + "!"
    )
    assert errors == []


def test_review_view_of_an_upload_outlines_its_fields(
    web_daemon: WebDaemon, signed_in: Signed, produced: Produced
) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, f"{web_daemon.url}/results/{produced.upload_id}")
    data = api_result(web_daemon, produced.upload_id)
    lines = data["result"]["pages"][0]["lines"]
    expect(page.locator("#meta")).to_contain_text("upload")
    expect(page.locator("#meta")).to_contain_text("needs review")
    image = page.locator("#page-image")
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("img => img.naturalWidth") > 0
    expect(page.locator("#boxes polygon")).to_have_count(len(lines))
    assert_lines_read(UPLOAD_LINES, page.locator("#lines li .t").all_inner_texts())

    # The fields panel of the upload page, and a box on the page for every field read with one.
    expect(page.locator(".fields")).to_have_attribute("data-kind", "vat_normal")
    expect(page.locator(".fields-review")).to_contain_text("Needs review")
    boxed = [
        name
        for name, value in (data["result"]["fields"] or {}).get("values", {}).items()
        if isinstance(value, dict) and isinstance(value.get("box"), list) and value.get("page", 0) == 0
    ]
    assert "invoice_number" in boxed, data["result"]["fields"]  # "No. 20240315", where it was read
    expect(page.locator("#field-layer path.field-box")).to_have_count(len(boxed))
    page.locator('.fields tr[data-field="invoice_number"]').hover()
    expect(page.locator("#field-layer path.field-highlight")).to_have_count(1)
    page.mouse.move(0, 0)
    expect(page.locator("#field-layer path.field-highlight")).to_have_count(0)

    SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
    page.mouse.move(0, 0)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT), full_page=True)
    assert SCREENSHOT.stat().st_size > 20_000
    assert errors == []


def test_a_failed_result_is_listed_with_its_error_and_shows_it(
    web_daemon: WebDaemon, signed_in: Signed, produced: Produced
) -> None:
    errors = signed_in.errors
    failed = api_result(web_daemon, produced.broken_id)
    assert failed["outcome"] == "failed" and failed["error"], failed
    page = open_page(signed_in, f"{web_daemon.url}/results?outcome=failed")
    row = rows(page).filter(has_text=produced.broken_name)
    expect(row).to_have_count(1)
    expect(row.locator(".row-error")).to_have_text(failed["error"])
    page.select_option("#outcome", "done")
    expect(page).to_have_url(f"{web_daemon.url}/results?outcome=done")
    expect(rows(page).filter(has_text=produced.broken_name)).to_have_count(0)
    page.go_back()
    expect(page.locator("#outcome")).to_have_value("failed")
    row.get_by_role("link", name=produced.broken_name).click()
    expect(page).to_have_url(f"{web_daemon.url}/results/{produced.broken_id}")
    expect(page.locator("#problem")).to_have_text(f"This file could not be read: {failed['error']}")
    expect(page.locator("#meta")).to_contain_text("failed")
    expect(page.locator("#work")).to_be_hidden()
    assert errors == []


def test_review_view_says_when_there_is_no_such_result(web_daemon: WebDaemon, signed_in: Signed) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, f"{web_daemon.url}/results/no-such-result")
    expect(page.locator("#problem")).to_have_text("There is no such result. It may have been removed.")
    expect(page.locator("#work")).to_be_hidden()
    assert errors == []


# --- the ways in ------------------------------------------------------------------------------------


def test_status_page_recent_result_opens_its_review_view(
    web_daemon: WebDaemon, signed_in: Signed, produced: Produced
) -> None:
    errors = signed_in.errors
    page = open_page(signed_in, web_daemon.url + "/")
    link = page.locator("#recent").get_by_role("link", name=produced.folder_name)
    expect(link).to_have_attribute("href", f"/results/{produced.folder_id}")
    link.click()
    expect(page).to_have_url(f"{web_daemon.url}/results/{produced.folder_id}")
    expect(page.locator("h1")).to_have_text(produced.folder_name)
    expect(page.locator("#boxes polygon").first).to_be_visible()
    # The way back leads to the list of results.
    page.get_by_role("link", name="All results").click()
    expect(page).to_have_url(f"{web_daemon.url}/results")
    assert errors == []
