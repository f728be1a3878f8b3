"""Baidu AI OCR answered by the real daemon, driven by Baidu's own SDK (``baidu-aip``) and by raw HTTP.

The SDK has no endpoint setting: its URLs are private class attributes (``AipOcr._AipOcr__generalBasicUrl``,
``AipBase._AipBase__accessTokenUrl``). ``point_at`` rewrites them on one client, the recipe of
docs/compat-baidu.md; one test patches the classes with monkeypatch instead. OCR is slow on the
shared machine, so each document is read once (module fixtures) and the errors are checked on
requests that never reach a worker.
"""

from __future__ import annotations

import base64
import io
import time
from pathlib import Path
from typing import Any

import pytest
import requests
from aiohttp.test_utils import make_mocked_request
from aip import AipOcr
from aip.base import AipBase
from PIL import Image

from ocrd import samples
from ocrd.config import BaiduCompat
from ocrd.web.compat import baidu, baidu_shapes, baidu_token
from ocrd.web.compat.problems import CompatProblem
from tests import invoice_render as ir
from tests.compat_clients import BAIDU_APP_ID as APP_ID
from tests.compat_clients import point_at
from tests.textmatch import assert_lines_read, best_match
from tests.web_server import BAIDU_API_KEY, BAIDU_SECRET_KEY, MAX_UPLOAD_BYTES, WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

ENGLISH_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
ERROR_KEYS = {"log_id", "error_code", "error_msg"}


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def client(web_daemon: WebDaemon) -> AipOcr:
    return point_at(AipOcr(APP_ID, BAIDU_API_KEY, BAIDU_SECRET_KEY), web_daemon.url)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    folder = tmp_path_factory.mktemp("baidu-docs")
    english = samples.make_sample_page_png(folder / "english.png", ENGLISH_LINES).path.read_bytes()
    # A page of several lines: two short ones are too little to tell which way a page lies.
    page = samples.make_sample_page_png(folder / "page.png", samples.invoice_lines()).path
    turned = io.BytesIO()
    Image.open(page).rotate(90, expand=True).save(turned, "PNG")  # counter-clockwise
    two_pages = samples.make_multipage_pdf(folder / "two.pdf", 2, text_layer=True).path.read_bytes()
    return {"english": english, "turned": turned.getvalue(), "two_pages": two_pages}


@pytest.fixture(scope="module")
def token(web_daemon: WebDaemon) -> str:
    response = requests.get(
        web_daemon.url + "/oauth/2.0/token",
        params={"grant_type": "client_credentials", "client_id": BAIDU_API_KEY, "client_secret": BAIDU_SECRET_KEY},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return response.json()["access_token"]


def rest(web_daemon: WebDaemon, service: str, access_token: str | None, **form: str) -> dict[str, Any]:
    """A raw POST as Baidu documents it: access_token in the URL, the parameters form-urlencoded."""
    params = {} if access_token is None else {"access_token": access_token}
    response = requests.post(f"{web_daemon.url}/rest/2.0/{service}", params=params, data=form, timeout=300)
    assert response.status_code == 200, response.text  # Baidu answers errors with 200 as well
    assert response.headers["Content-Type"].startswith("application/json")
    return response.json()


def assert_error(body: dict[str, Any], code: int, *words: str) -> None:
    assert set(body) == ERROR_KEYS, body
    assert body["error_code"] == code, body
    assert isinstance(body["log_id"], int)
    for word in words:
        assert word.lower() in body["error_msg"].lower(), body


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# ---------------------------------------------------------------------------------------------
# Reading documents (each read once)


@pytest.fixture(scope="module")
def basic(client: AipOcr, files: dict[str, bytes]) -> dict[str, Any]:
    return client.basicGeneral(files["english"], {"probability": "true", "language_type": "ENG"})


@pytest.fixture(scope="module")
def located(client: AipOcr, files: dict[str, bytes]) -> dict[str, Any]:
    return client.general(files["english"], {"vertexes_location": "true"})


@pytest.fixture(scope="module")
def turned(client: AipOcr, files: dict[str, bytes]) -> dict[str, Any]:
    return client.basicAccurate(files["turned"], {"detect_direction": "true"})


def texts(result: dict[str, Any]) -> list[str]:
    return [item["words"] for item in result["words_result"]]


def test_basic_general_reads_the_lines_with_their_probability(basic: dict[str, Any]) -> None:
    assert "error_code" not in basic, basic
    assert set(basic) == {"log_id", "words_result_num", "words_result"}
    assert basic["words_result_num"] == len(basic["words_result"])
    assert_lines_read(ENGLISH_LINES, texts(basic))
    for item in basic["words_result"]:
        assert set(item) == {"words", "probability"}  # no location in the basic service
        probability = item["probability"]
        assert 0.0 < probability["min"] <= probability["average"] <= 1.0
        assert probability["variance"] >= 0.0


def test_general_gives_each_line_its_location_and_corners(located: dict[str, Any], files: dict[str, bytes]) -> None:
    assert "error_code" not in located, located
    assert_lines_read(ENGLISH_LINES, texts(located))
    width, height = Image.open(io.BytesIO(files["english"])).size
    tops = []
    for item in located["words_result"]:
        box = item["location"]
        assert set(box) == {"left", "top", "width", "height"}
        assert 0 <= box["left"] < box["left"] + box["width"] <= width
        assert 0 <= box["top"] < box["top"] + box["height"] <= height
        corners = item["vertexes_location"]
        assert len(corners) == 4 and all(set(corner) == {"x", "y"} for corner in corners)
        assert min(c["x"] for c in corners) == box["left"] and min(c["y"] for c in corners) == box["top"]
        tops.append(box["top"])
    assert tops == sorted(tops)  # reading order: the invoice number above the total


def test_accurate_basic_says_which_way_a_turned_page_was_lying(turned: dict[str, Any]) -> None:
    assert "error_code" not in turned, turned
    assert turned["direction"] == 1  # Baidu: 1 = turned 90° counter-clockwise, as the test image is
    assert_lines_read(samples.invoice_lines(), texts(turned))


def test_pdf_services_read_the_page_asked_for(client: AipOcr, files: dict[str, bytes]) -> None:
    first = client.basicGeneralPdf(files["two_pages"])  # no pdf_file_num: page 1, as Baidu does
    second = client.accuratePdf(files["two_pages"], {"pdf_file_num": "2"})
    for result in (first, second):
        assert "error_code" not in result, result
        assert result["pdf_file_size"] == "2"
    assert_lines_read(samples.page_number_lines(1, 2), texts(first))
    assert_lines_read(samples.page_number_lines(2, 2), texts(second))
    assert all("location" in item for item in second["words_result"])
    assert best_match("Page 2 of 2", texts(first)) < 0.9


def test_webimage_and_paragraphs_over_raw_http(web_daemon: WebDaemon, token: str, files: dict[str, bytes]) -> None:
    body = rest(web_daemon, "ocr/v1/webimage", token, image=b64(files["english"]), paragraph="true")
    assert "error_code" not in body, body
    assert_lines_read(ENGLISH_LINES, texts(body))
    assert body["paragraphs_result_num"] == body["words_result_num"]
    indexes = [index for paragraph in body["paragraphs_result"] for index in paragraph["words_result_idx"]]
    assert indexes == list(range(body["words_result_num"]))


# ---------------------------------------------------------------------------------------------
# VAT invoices


def baidu_date(iso: str) -> str:
    year, month, day = iso.split("-")
    return f"{year}年{month}月{day}日"


def assert_invoice_fields(words: dict[str, Any], truth: dict[str, Any]) -> None:
    expected = {
        "InvoiceCode": truth["invoice_code"] or "",
        "InvoiceNum": truth["invoice_number"],
        "InvoiceDate": baidu_date(truth["issue_date"]),
        "PurchaserName": truth["buyer_name"],
        "PurchaserRegisterNum": truth["buyer_tax_id"],
        "SellerName": truth["seller_name"],
        "SellerRegisterNum": truth["seller_tax_id"],
        "TotalAmount": truth["amount_pretax"],
        "TotalTax": truth["tax"],
        "AmountInFiguers": truth["total"],
        "AmountInWords": truth["total_in_words"],
    }
    assert {key: words[key] for key in expected} == expected
    items = truth["line_items"]
    assert words["CommodityAmount"] == [{"row": str(i), "word": item["amount"]} for i, item in enumerate(items, 1)]
    assert words["CommodityTaxRate"] == [{"row": str(i), "word": item["tax_rate"]} for i, item in enumerate(items, 1)]
    assert [row["row"] for row in words["CommodityName"]] == [str(i) for i in range(1, len(items) + 1)]
    assert all(row["word"] for row in words["CommodityName"])


def test_vat_invoice_pdf_gives_baidus_fields(client: AipOcr) -> None:
    spec = ir.make_invoice(12, "vat_electronic_normal")
    result = client.vatInvoicePdf(ir.render_pdf(spec))
    assert "error_code" not in result, result
    words = result["words_result"]
    assert result["words_result_num"] == len(words) and result["pdf_file_size"] == "1"
    truth = spec.fields()
    assert_invoice_fields(words, truth)
    assert (words["CheckCode"], words["MachineCode"]) == (truth["check_code"], truth["machine_number"])
    assert (words["InvoiceType"], words["InvoiceTypeOrg"]) == ("电子普通发票", spec.title)
    assert words["InvoiceNumConfirm"] == truth["invoice_number"]
    assert words["Payee"] == "" and words["CommodityUnit"] == []  # documented keys ocrd does not read


def test_vat_invoice_image_of_a_fully_digital_invoice(client: AipOcr) -> None:
    spec = ir.make_invoice(11, "fully_digital")
    result = client.vatInvoice(ir.render_png(spec))
    assert "error_code" not in result, result
    words = result["words_result"]
    assert_invoice_fields(words, spec.fields())
    assert words["InvoiceType"] == "电子发票(普通发票)"


def test_vat_invoice_of_a_page_that_is_no_invoice(client: AipOcr, files: dict[str, bytes]) -> None:
    assert_error(client.vatInvoicePdf(files["two_pages"]), 282103, "target recognize error", "no VAT invoice")


# ---------------------------------------------------------------------------------------------
# Tokens


def test_the_token_has_what_the_sdk_needs(web_daemon: WebDaemon) -> None:
    form = {"grant_type": "client_credentials", "client_id": BAIDU_API_KEY, "client_secret": BAIDU_SECRET_KEY}
    response = requests.post(web_daemon.url + "/oauth/2.0/token", data=form, timeout=30)  # POST works as GET does
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"access_token", "expires_in", "refresh_token", "session_key", "session_secret", "scope"}
    assert "brain_all_scope" in body["scope"].split(" ")  # else the SDK silently signs the other way
    assert body["expires_in"] == int(BaiduCompat().token_ttl)
    assert body["access_token"].startswith("24.") and body["refresh_token"].startswith("25.")
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(
    ("client_id", "client_secret", "description"),
    [
        ("someoneElse", BAIDU_SECRET_KEY, "unknown client id"),
        (BAIDU_API_KEY, "not-the-secret", "Client authentication failed"),
        (BAIDU_API_KEY, "", "Client authentication failed"),
    ],
)
def test_wrong_credentials_are_refused_as_baidu_does(
    web_daemon: WebDaemon, client_id: str, client_secret: str, description: str
) -> None:
    params = {"grant_type": "client_credentials", "client_id": client_id, "client_secret": client_secret}
    response = requests.get(web_daemon.url + "/oauth/2.0/token", params=params, timeout=30)
    assert response.status_code == 401
    assert response.json() == {"error": "invalid_client", "error_description": description}


def test_a_token_request_without_client_credentials_grant(web_daemon: WebDaemon) -> None:
    missing = requests.get(web_daemon.url + "/oauth/2.0/token", params={"client_id": BAIDU_API_KEY}, timeout=30)
    other = requests.get(web_daemon.url + "/oauth/2.0/token", params={"grant_type": "password"}, timeout=30)
    assert (missing.status_code, missing.json()["error"]) == (400, "invalid_request")
    assert (other.status_code, other.json()["error"]) == (400, "unsupported_grant_type")


def test_the_sdk_with_a_wrong_secret_gets_an_error_not_a_result(
    web_daemon: WebDaemon, files: dict[str, bytes], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The other recipe: patch the classes, so every client of the process talks to ocrd.
    monkeypatch.setattr(AipBase, "_AipBase__accessTokenUrl", web_daemon.url + "/oauth/2.0/token")
    monkeypatch.setattr(AipOcr, "_AipOcr__generalBasicUrl", web_daemon.url + "/rest/2.0/ocr/v1/general_basic")
    result = AipOcr(APP_ID, BAIDU_API_KEY, "not-the-secret").basicGeneral(files["english"])
    # Refused a token, the SDK signs with BCE auth instead; ocrd takes access tokens only.
    assert_error(result, 14, "IAM Certification failed")


def test_a_missing_forged_or_foreign_token_is_invalid(web_daemon: WebDaemon, token: str) -> None:
    forged = token.split(".")
    forged[3] = str(int(forged[3]) + 86400)  # a day longer: the MAC no longer matches
    foreign = baidu_token.issue(BAIDU_API_KEY, "another-secret", 3600).access_token
    for access_token in (None, "", "24.abc", ".".join(forged), foreign, token.replace("24.", "25.", 1)):
        assert_error(rest(web_daemon, "ocr/v1/general_basic", access_token, image="AAAA"), 110, "Access token invalid")


def test_an_expired_token_is_expired(web_daemon: WebDaemon, client: AipOcr) -> None:
    expired = baidu_token.issue(BAIDU_API_KEY, BAIDU_SECRET_KEY, 600, now=time.time() - 3600).access_token
    assert_error(rest(web_daemon, "ocr/v1/general", expired, image="AAAA"), 111, "Access token expired")
    sdk = point_at(AipOcr(APP_ID, BAIDU_API_KEY, BAIDU_SECRET_KEY), web_daemon.url)
    sdk._auth()  # a real token first, so the SDK knows it talks to a token server
    sdk._authObj["access_token"] = expired
    assert_error(sdk.basicGeneral(b""), 111)  # the SDK retries on 110 only


def test_the_sdk_renews_a_token_the_server_calls_invalid(web_daemon: WebDaemon) -> None:
    sdk = point_at(AipOcr(APP_ID, BAIDU_API_KEY, BAIDU_SECRET_KEY), web_daemon.url)
    sdk._auth()
    sdk._authObj["access_token"] = "24.0000.2592000.1700000000.000000-ocrd"
    # 110, then a fresh token and the retry: its answer is about the (empty) image, not the token.
    assert_error(sdk.basicGeneral(b""), 216200, "empty image")


def test_a_token_needs_no_memory_of_issuing_it(web_daemon: WebDaemon) -> None:
    """A token the daemon never issued, made offline from the configured keys, is valid: restarts keep tokens."""
    offline = baidu_token.issue(BAIDU_API_KEY, BAIDU_SECRET_KEY, 600).access_token
    assert_error(rest(web_daemon, "ocr/v1/general_basic", offline), 216101, "not enough param")


def test_tokens_check_expiry_and_keys_without_state() -> None:
    now = 1_700_000_000.0
    issued = baidu_token.issue("key", "secret", 100, now=now)
    assert baidu_token.check("key", "secret", issued.access_token, now=now + 99) == baidu_token.VALID
    assert baidu_token.check("key", "secret", issued.access_token, now=now + 100) == baidu_token.EXPIRED
    assert baidu_token.check("key", "new-secret", issued.access_token, now=now) == baidu_token.FORGED
    assert baidu_token.check("other-key", "secret", issued.access_token, now=now) == baidu_token.FORGED
    assert baidu_token.check("key", "secret", issued.refresh_token, now=now) == baidu_token.FORGED
    assert "secret" not in issued.access_token


def test_a_server_without_baidu_keys_knows_no_token() -> None:
    request = make_mocked_request("POST", "/rest/2.0/ocr/v1/general_basic?access_token=24.a.1.2.3")
    with pytest.raises(CompatProblem) as raised:
        baidu._authorise(request, BaiduCompat())
    assert baidu_shapes.for_problem(raised.value)["error_code"] == 110


# ---------------------------------------------------------------------------------------------
# Requests refused before any OCR


@pytest.mark.parametrize(
    ("form", "code", "words"),
    [
        ({}, 216101, "not enough param"),
        ({"image": ""}, 216200, "empty image"),
        ({"image": "@@@@ not base64 @@@@"}, 216201, "image format error"),
        ({"image": b64(b"plain text, not a picture")}, 216201, "image format error"),
        ({"image": "A" * 4_020_000}, 216202, "image size error"),  # decodes past the 3 MB upload limit
        ({"url": "https://example.com/scan.png"}, 282111, "fetches nothing"),
        ({"image": "AAAA", "language_type": "JAP"}, 216100, "language_type"),
        ({"pdf_file": b64(b"%PDF-1.4 broken")}, 216201, "image format error"),
    ],
)
def test_bad_requests_get_baidus_error_codes(
    web_daemon: WebDaemon, token: str, form: dict[str, str], code: int, words: str
) -> None:
    assert_error(rest(web_daemon, "ocr/v1/general_basic", token, **form), code, words)


def test_the_sdks_url_methods_are_refused(client: AipOcr) -> None:
    assert_error(client.basicGeneralUrl("https://example.com/scan.png"), 282111, "url format illegal", "base64")


def test_a_pdf_page_that_does_not_exist(web_daemon: WebDaemon, token: str, files: dict[str, bytes]) -> None:
    pdf = b64(files["two_pages"])
    assert_error(rest(web_daemon, "ocr/v1/accurate", token, pdf_file=pdf, pdf_file_num="3"), 216100, "2 page")
    assert_error(rest(web_daemon, "ocr/v1/accurate", token, pdf_file=pdf, pdf_file_num="zero"), 216100, "pdf_file_num")
    png = b64(samples.make_sample_page_png(Path(web_daemon.root) / "tiny.png", ["x"]).path.read_bytes())
    assert_error(rest(web_daemon, "ocr/v1/accurate", token, pdf_file=png), 216100, "PDF was announced")


def test_a_body_larger_than_any_upload(web_daemon: WebDaemon, token: str) -> None:
    limit = MAX_UPLOAD_BYTES * 4 // 3 + 64 * 1024
    body = rest(web_daemon, "ocr/v1/general_basic", token, image="A" * (limit + 1024))
    assert_error(body, 216202, "larger than")


def test_services_ocrd_does_not_answer(web_daemon: WebDaemon, token: str, client: AipOcr) -> None:
    assert_error(client.idcard(b"\x89PNG", "front"), 216102, "service not support", "idcard")
    assert_error(rest(web_daemon, "face/v3/detect", token), 3, "Unsupported openapi method")
    response = requests.get(f"{web_daemon.url}/rest/2.0/ocr/v1/general", params={"access_token": token}, timeout=30)
    assert_error(response.json(), 216100, "POST")


def test_no_key_or_token_reaches_the_daemon_log(web_daemon: WebDaemon, token: str) -> None:
    log = web_daemon.log_text()
    assert BAIDU_SECRET_KEY not in log
    assert token not in log and token.split(".")[1] not in log
