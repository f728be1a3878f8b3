"""Aliyun OCR clients pointed at ocrd: the official SDK (alibabacloud_ocr_api20210707) on the real daemon.

The SDK signs every request with ACS3-HMAC-SHA256, so its successes prove the signature check
agrees with Aliyun's own signer; raw HTTP (signed with the SDK's own ``get_authorization``)
shows what the SDK hides: the status codes, ``Data`` as a JSON string, reused nonces,
stale dates and tampered bodies. Few documents are read (module-scoped answers); the
errors need no OCR and are all covered.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from alibabacloud_ocr_api20210707 import models as ocr_models
from alibabacloud_tea_openapi import models as open_api_models
from PIL import Image
from Tea.exceptions import TeaException

from ocrd import samples
from tests import invoice_render as ir
from tests.compat_clients import ALIYUN_RUNTIME as RUNTIME
from tests.compat_clients import ALIYUN_VERSION as VERSION
from tests.compat_clients import aliyun_client as client
from tests.compat_clients import aliyun_signed as signed
from tests.compat_clients import now_stamp
from tests.textmatch import assert_lines_read, best_match
from tests.web_server import (
    ALIYUN_ACCESS_KEY_SECRET,
    MAX_UPLOAD_BYTES,
    WebDaemon,
    shared_daemon,
)

pytestmark = pytest.mark.slow

ENGLISH_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
ERROR_KEYS = {"RequestId", "Code", "Message"}
ANSWERED = ("RecognizeGeneral", "RecognizeAdvanced", "RecognizeBasic", "RecognizeAllText", "RecognizeInvoice")


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("aliyun-docs")
    samples.make_sample_page_png(folder / "english.png", ENGLISH_LINES)
    samples.make_multipage_pdf(folder / "two-pages.pdf", 2, text_layer=True)
    return {path.stem: path for path in folder.iterdir()}


@pytest.fixture(scope="module")
def invoice() -> tuple[ir.InvoiceSpec, bytes]:
    spec = ir.make_invoice(21, "vat_electronic_normal")
    return spec, ir.render_pdf(spec)


def sdk_error(call: Callable[[], Any]) -> TeaException:
    with pytest.raises(TeaException) as caught:
        call()
    return caught.value


def assert_sdk_error(error: TeaException, status: int, code: str, *words: str) -> None:
    assert error.code == code, (error.code, error.message)
    assert error.statusCode == status, (error.statusCode, error.message)
    assert error.data["RequestId"] and set(error.data) >= ERROR_KEYS, error.data
    for word in words:
        assert word.lower() in error.message.lower(), f"{word!r} not in {error.message!r}"


def raw(daemon: WebDaemon, headers: dict[str, str], body: bytes, query: dict[str, str] | None = None):
    return requests.post(daemon.url + "/", params=query, data=body, headers=headers, timeout=300)


def assert_raw_error(response: requests.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["Code"] == code, body
    assert body["RequestId"] == response.headers["x-acs-request-id"]
    assert body["Message"] and "Traceback" not in body["Message"]
    assert ALIYUN_ACCESS_KEY_SECRET not in response.text
    return body


# --- answers (each document read once) ---------------------------------------------------------------


@pytest.fixture(scope="module")
def general(web_daemon: WebDaemon, documents) -> ocr_models.RecognizeGeneralResponse:
    with documents["english"].open("rb") as image:
        request = ocr_models.RecognizeGeneralRequest(body=image)
        return client(web_daemon).recognize_general_with_options(request, RUNTIME)


def test_recognize_general_through_the_sdk_reads_the_lines(general, documents) -> None:
    assert general.status_code == 200
    assert general.body.request_id
    data = json.loads(general.body.data)  # the SDK types Data as a JSON string
    words = [info["word"] for info in data["prism_wordsInfo"]]
    assert_lines_read(ENGLISH_LINES, words)
    assert best_match(" ".join(ENGLISH_LINES), [data["content"]]) > 0.85
    width, height = Image.open(documents["english"]).size
    assert (data["width"], data["height"], data["orgWidth"], data["orgHeight"]) == (width, height, width, height)
    assert data["prism_wnum"] == len(words)
    for info in data["prism_wordsInfo"]:
        assert isinstance(info["prob"], int) and 0 <= info["prob"] <= 100
        assert len(info["pos"]) == 4 and all(0 <= corner["x"] <= width for corner in info["pos"])
        xs = [corner["x"] for corner in info["pos"]]
        ys = [corner["y"] for corner in info["pos"]]
        # Aliyun's rotated rectangle: horizontal text has angle ~-90 and width/height swapped.
        assert -95 <= info["angle"] <= -85 and info["direction"] == 0
        assert abs(info["height"] - (max(xs) - min(xs))) <= 3 and abs(info["width"] - (max(ys) - min(ys))) <= 3
        centre_x = info["x"] + info["width"] / 2
        assert min(xs) <= centre_x <= max(xs)


def test_raw_http_gives_data_as_a_json_string(web_daemon: WebDaemon, documents) -> None:
    body = documents["two-pages"].read_bytes()
    query = {"Row": "true"}
    response = raw(web_daemon, signed(web_daemon, "RecognizeAdvanced", body, query=query), body, query)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    answer = response.json()
    assert set(answer) == {"RequestId", "Data"} and answer["RequestId"] == response.headers["x-acs-request-id"]
    assert isinstance(answer["Data"], str)
    data = json.loads(answer["Data"])
    rows = [row["word"] for row in data["prism_rowsInfo"]]
    assert_lines_read(samples.page_number_lines(1, 2), rows)  # a PDF without PageNo: its first page
    assert [info["rowId"] for info in data["prism_wordsInfo"]] == list(range(len(rows)))


def test_recognize_basic_and_advanced_through_the_sdk(web_daemon: WebDaemon, documents) -> None:
    sdk = client(web_daemon)
    with documents["two-pages"].open("rb") as pdf:
        basic = sdk.recognize_basic_with_options(ocr_models.RecognizeBasicRequest(body=pdf), RUNTIME)
    data = json.loads(basic.body.data)
    assert_lines_read(samples.page_number_lines(1, 2), [info["word"] for info in data["prism_wordsInfo"]])
    with documents["two-pages"].open("rb") as pdf:
        advanced = sdk.recognize_advanced_with_options(ocr_models.RecognizeAdvancedRequest(body=pdf), RUNTIME)
    data = json.loads(advanced.body.data)
    assert "prism_rowsInfo" not in data  # only with Row=true
    assert "Page 1 of 2" in data["content"]


def test_recognize_all_text_reads_the_page_asked_for(web_daemon: WebDaemon, documents) -> None:
    with documents["two-pages"].open("rb") as pdf:
        request = ocr_models.RecognizeAllTextRequest(body=pdf, type="General", page_no=2)
        response = client(web_daemon).recognize_all_text_with_options(request, RUNTIME)
    data = response.body.data  # an object here, not a string
    assert data.page_no == 2 and data.sub_image_count == 1
    blocks = data.sub_images[0].block_info.block_details
    assert_lines_read(samples.page_number_lines(2, 2), [block.block_content for block in blocks])
    assert "Page 2 of 2" in data.content and "Page 1 of 2" not in data.content
    assert all(0 <= block.block_confidence <= 100 and len(block.block_points) == 4 for block in blocks)


@pytest.fixture(scope="module")
def invoice_answer(web_daemon: WebDaemon, invoice) -> dict:
    _, pdf = invoice
    request = ocr_models.RecognizeInvoiceRequest(body=io.BytesIO(pdf), page_no=1)
    response = client(web_daemon).recognize_invoice_with_options(request, RUNTIME)
    return json.loads(response.body.data)


def test_recognize_invoice_maps_ocrd_fields_to_aliyun_keys(invoice, invoice_answer) -> None:
    spec, _ = invoice
    data = invoice_answer["data"]
    year, month, day = spec.issue_date.split("-")
    assert data["invoiceCode"] == spec.invoice_code
    assert data["invoiceNumber"] == spec.invoice_number
    assert data["invoiceDate"] == f"{year}年{month}月{day}日"
    assert data["checkCode"] == spec.check_code
    assert data["machineCode"] == spec.machine_number
    assert (data["purchaserName"], data["purchaserTaxNumber"]) == (spec.buyer_name, spec.buyer_tax_id)
    assert (data["sellerName"], data["sellerTaxNumber"]) == (spec.seller_name, spec.seller_tax_id)
    assert (data["invoiceAmountPreTax"], data["invoiceTax"]) == (spec.amount_pretax, spec.tax)
    assert (data["totalAmount"], data["totalAmountInWords"]) == (spec.total, spec.total_in_words)
    assert data["invoiceType"] == "电子普通发票" and "发票" in data["title"]
    assert all(isinstance(value, str) for key, value in data.items() if key != "invoiceDetails")
    assert [(item["amount"], item["taxRate"], item["tax"]) for item in data["invoiceDetails"]] == [
        (item["amount"], item["tax_rate"], item["tax"]) for item in spec.line_items
    ]
    assert set(data["invoiceDetails"][0]) == {
        "itemName", "specification", "unit", "quantity", "unitPrice", "amount", "taxRate", "tax",
    }  # fmt: skip
    keys = {entry["key"]: entry["value"] for entry in invoice_answer["prism_keyValueInfo"]}
    assert keys["invoiceNumber"] == spec.invoice_number and keys["invoiceDate"] == data["invoiceDate"]
    assert invoice_answer["width"] > 0 and invoice_answer["angle"] == 0


def test_a_page_beyond_the_pdf_is_aliyuns_pdf_error(web_daemon: WebDaemon, documents) -> None:
    with documents["two-pages"].open("rb") as pdf:
        request = ocr_models.RecognizeInvoiceRequest(body=pdf, page_no=5)
        error = sdk_error(lambda: client(web_daemon).recognize_invoice_with_options(request, RUNTIME))
    assert_sdk_error(error, 400, "convertPDFToImgError", "2 page", "page 5")


# --- authentication ------------------------------------------------------------------------------------


def test_an_unknown_access_key_is_aliyuns_not_found(web_daemon: WebDaemon) -> None:
    sdk = client(web_daemon, key_id="LTAIsomeoneElse")
    request = ocr_models.RecognizeGeneralRequest(body=io.BytesIO(b"\x89PNG"))
    error = sdk_error(lambda: sdk.recognize_general_with_options(request, RUNTIME))
    assert_sdk_error(error, 404, "InvalidAccessKeyId.NotFound")


def test_a_wrong_secret_does_not_match_the_signature(web_daemon: WebDaemon) -> None:
    sdk = client(web_daemon, secret="not-the-secret")
    request = ocr_models.RecognizeGeneralRequest(body=io.BytesIO(b"\x89PNG"))
    error = sdk_error(lambda: sdk.recognize_general_with_options(request, RUNTIME))
    assert_sdk_error(error, 400, "SignatureDoesNotMatch", "StringToSign")
    assert "not-the-secret" not in error.message and ALIYUN_ACCESS_KEY_SECRET not in error.message


def test_a_tampered_body_fails_the_payload_hash(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeGeneral", b"the body that was signed")
    response = raw(web_daemon, headers, b"another body")
    assert "x-acs-content-sha256" in assert_raw_error(response, 400, "SignatureDoesNotMatch")["Message"]


def test_a_changed_query_fails_the_signature(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeInvoice", b"x", query={"PageNo": "1"})
    assert_raw_error(raw(web_daemon, headers, b"x", {"PageNo": "2"}), 400, "SignatureDoesNotMatch")


def test_a_stale_or_malformed_date_is_refused(web_daemon: WebDaemon) -> None:
    stale = signed(web_daemon, "RecognizeGeneral", b"x", date=now_stamp(-3600))
    assert "clock" in assert_raw_error(raw(web_daemon, stale, b"x"), 400, "InvalidTimeStamp.Expired")["Message"]
    future = signed(web_daemon, "RecognizeGeneral", b"x", date=now_stamp(+3600))
    assert_raw_error(raw(web_daemon, future, b"x"), 400, "InvalidTimeStamp.Expired")
    malformed = signed(web_daemon, "RecognizeGeneral", b"x", date="yesterday")
    assert_raw_error(raw(web_daemon, malformed, b"x"), 400, "InvalidTimeStamp.Format")


def test_a_nonce_is_accepted_once(web_daemon: WebDaemon) -> None:
    nonce = uuid.uuid4().hex
    # The first request is signed correctly: it gets past the signature to the (unknown) action.
    first = raw(web_daemon, signed(web_daemon, "RecognizeNothing", b"x", nonce=nonce), b"x")
    assert_raw_error(first, 404, "InvalidAction.NotFound")
    again = raw(web_daemon, signed(web_daemon, "RecognizeNothing", b"x", nonce=nonce), b"x")
    assert_raw_error(again, 400, "SignatureNonceUsed")


def test_a_forged_request_does_not_use_up_the_nonce(web_daemon: WebDaemon) -> None:
    nonce = uuid.uuid4().hex
    forged = raw(web_daemon, signed(web_daemon, "RecognizeNothing", b"x", nonce=nonce, secret="guess"), b"x")
    assert_raw_error(forged, 400, "SignatureDoesNotMatch")
    genuine = raw(web_daemon, signed(web_daemon, "RecognizeNothing", b"x", nonce=nonce), b"x")
    assert_raw_error(genuine, 404, "InvalidAction.NotFound")


def test_missing_or_incomplete_authorization(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeGeneral", b"x")
    authorization = headers.pop("Authorization")
    assert_raw_error(raw(web_daemon, headers, b"x"), 400, "MissingAccessKeyId")

    no_signature = authorization.rsplit(",Signature=", 1)[0]
    assert_raw_error(raw(web_daemon, headers | {"Authorization": no_signature}, b"x"), 400, "MissingSignature")

    # A signature that leaves the date out could be replayed with any date: not accepted.
    unsigned_date = authorization.replace("x-acs-date;", "")
    response = raw(web_daemon, headers | {"Authorization": unsigned_date}, b"x")
    assert "x-acs-date" in assert_raw_error(response, 400, "IncompleteSignature")["Message"]

    other = authorization.replace("ACS3-HMAC-SHA256", "ACS3-HMAC-SM3", 1)
    assert_raw_error(raw(web_daemon, headers | {"Authorization": other}, b"x"), 400, "InvalidSignatureVerssion")


def test_the_daemon_log_holds_no_key_secret_or_signature(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeGeneral", b"x", secret="a-wrong-secret")
    assert_raw_error(raw(web_daemon, headers, b"x"), 400, "SignatureDoesNotMatch")
    signature = headers["Authorization"].rsplit("Signature=", 1)[1]
    log = web_daemon.log_text()
    assert ALIYUN_ACCESS_KEY_SECRET not in log and "a-wrong-secret" not in log and signature not in log


def test_ocrds_own_token_is_not_asked_for(web_daemon: WebDaemon) -> None:
    """The Aliyun signature is these requests' authentication: no [web] bearer token is needed."""
    response = raw(web_daemon, signed(web_daemon, "RecognizeNothing", b"x"), b"x")
    assert response.status_code != 401
    assert_raw_error(response, 404, "InvalidAction.NotFound")


# --- requests ocrd refuses ------------------------------------------------------------------------------


def test_an_unknown_action_names_the_ones_answered(web_daemon: WebDaemon) -> None:
    params = open_api_models.Params(
        action="RecognizeIdcard",
        version=VERSION,
        protocol="HTTPS",
        pathname="/",
        method="POST",
        auth_type="AK",
        style="RPC",
        req_body_type="formData",
        body_type="json",
    )
    request = open_api_models.OpenApiRequest(stream=io.BytesIO(b"x"))
    error = sdk_error(lambda: client(web_daemon).call_api(params, request, RUNTIME))
    assert_sdk_error(error, 404, "InvalidAction.NotFound", "RecognizeIdcard", *ANSWERED)


def test_a_wrong_api_version_is_refused(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeGeneral", b"x", version="2019-12-30")
    assert_raw_error(raw(web_daemon, headers, b"x"), 400, "InvalidVersion")


def test_an_image_url_is_refused_with_a_clear_error(web_daemon: WebDaemon) -> None:
    request = ocr_models.RecognizeGeneralRequest(url="https://img.example.com/scan.jpg")
    error = sdk_error(lambda: client(web_daemon).recognize_general_with_options(request, RUNTIME))
    assert_sdk_error(error, 400, "IllegalImageUrl", "body", "network")


def test_an_oversized_body_is_refused(web_daemon: WebDaemon) -> None:
    request = ocr_models.RecognizeGeneralRequest(body=io.BytesIO(b"\0" * (MAX_UPLOAD_BYTES + 1)))
    error = sdk_error(lambda: client(web_daemon).recognize_general_with_options(request, RUNTIME))
    assert_sdk_error(error, 413, "exceededImageContent")


def test_an_empty_body_and_a_non_image_are_refused(web_daemon: WebDaemon) -> None:
    sdk = client(web_daemon)
    empty = ocr_models.RecognizeGeneralRequest(body=io.BytesIO(b""))
    assert_sdk_error(sdk_error(lambda: sdk.recognize_general_with_options(empty, RUNTIME)), 400, "imageUrlOrBodyEmpty")
    text = ocr_models.RecognizeGeneralRequest(body=io.BytesIO(b"plain words, not an image"))
    error = sdk_error(lambda: sdk.recognize_general_with_options(text, RUNTIME))
    assert_sdk_error(error, 415, "unsupportedImageFormat", "supported")


def test_all_text_needs_a_type_ocrd_answers(web_daemon: WebDaemon, documents) -> None:
    with documents["two-pages"].open("rb") as pdf:
        request = ocr_models.RecognizeAllTextRequest(body=pdf, type="IdCard")
        error = sdk_error(lambda: client(web_daemon).recognize_all_text_with_options(request, RUNTIME))
    assert_sdk_error(error, 400, "InvalidParameter", "General", "Advanced")


def test_a_bad_page_number_is_an_invalid_parameter(web_daemon: WebDaemon) -> None:
    headers = signed(web_daemon, "RecognizeInvoice", b"x", query={"PageNo": "zero"})
    assert (
        "PageNo"
        in assert_raw_error(raw(web_daemon, headers, b"x", {"PageNo": "zero"}), 400, "InvalidParameter")["Message"]
    )
