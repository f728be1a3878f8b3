"""Tencent Cloud OCR's official SDK pointed at the real daemon: answers, invoice fields, and every error code.

The SDK (tencentcloud-sdk-python-ocr) signs each request with TC3-HMAC-SHA256 exactly as it
does for Tencent; only the endpoint changes. What the SDK hides (status, Content-Type,
RequestId) is checked with raw HTTP, the request still signed by the SDK's own code.
Few documents are read (they cost seconds each): answers are shared through module fixtures,
and the PDF has a text layer, so its pages need no recognition.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pymupdf
import pytest
import requests
from aiohttp import web
from aiohttp.test_utils import make_mocked_request
from PIL import Image
from tencentcloud.common import abstract_client
from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException
from tencentcloud.ocr.v20181119 import models
from tencentcloud.ocr.v20181119.ocr_client import OcrClient

from ocrd import samples
from ocrd.config import TencentCompat
from ocrd.fields.model import FieldValue
from ocrd.web.compat import tencent, tencent_shapes
from ocrd.web.context import CONTEXT
from tests.compat_clients import tencent_client as make_client
from tests.compat_clients import tencent_signed as signed
from tests.paths import EVAL_ROOT
from tests.textmatch import assert_lines_read, best_match
from tests.web_server import (
    MAX_UPLOAD_BYTES,
    TENCENT_SECRET_ID,
    TENCENT_SECRET_KEY,
    WebDaemon,
    full_queue,
    shared_daemon,
)

pytestmark = pytest.mark.slow

ENGLISH_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
INVOICE = EVAL_ROOT / "fields_dev" / "inv2xl-01_p1.png"  # labels: fields_dev/labels.jsonl
SUPPORTED = ("GeneralBasicOCR", "GeneralAccurateOCR", "GeneralFastOCR", "GeneralEfficientOCR", "VatInvoiceOCR")


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, samples.SampleDocument]:
    folder = tmp_path_factory.mktemp("tencent-docs")
    blank = folder / "blank.png"
    Image.new("RGB", (400, 300), "white").save(blank)
    return {
        "english": samples.make_sample_page_png(folder / "english.png", ENGLISH_LINES),
        "pdf": samples.make_multipage_pdf(folder / "two-pages.pdf", 2, text_layer=True),
        "blank": samples.SampleDocument(blank, [[]]),
    }


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


@pytest.fixture(scope="module")
def client(web_daemon: WebDaemon) -> OcrClient:
    return make_client(web_daemon)


def sdk_call(client: OcrClient, action: str, params: dict[str, Any]) -> Any:
    """``client.<action>(<action>Request)`` as application code writes it."""
    request = getattr(models, f"{action}Request")()
    request.from_json_string(json.dumps(params))
    return getattr(client, action)(request)


def sdk_error(client: OcrClient, action: str, params: dict[str, Any]) -> TencentCloudSDKException:
    with pytest.raises(TencentCloudSDKException) as raised:
        sdk_call(client, action, params)
    error = raised.value
    assert error.get_request_id(), error  # every answer carries a RequestId, errors too
    return error


def raw_post(daemon: WebDaemon, headers: dict[str, str], body: bytes) -> requests.Response:
    return requests.post(daemon.url + "/", data=body, headers=headers, timeout=300)


def assert_raw_error(response: requests.Response, code: str) -> dict[str, Any]:
    assert response.status_code == 200, response.text  # Tencent answers errors with 200 too
    assert response.headers["Content-Type"] == "application/json"  # exactly: the SDK misses errors otherwise
    body = response.json()
    assert set(body) == {"Response"}
    assert set(body["Response"]) == {"Error", "RequestId"}
    assert body["Response"]["Error"]["Code"] == code, body
    assert body["Response"]["Error"]["Message"]
    assert body["Response"]["RequestId"]
    return body["Response"]


def texts(response: Any) -> list[str]:
    return [item.DetectedText for item in response.TextDetections]


# -- answers ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def basic_png(client: OcrClient, documents) -> Any:
    return sdk_call(client, "GeneralBasicOCR", {"ImageBase64": b64(documents["english"].path)})


def test_general_basic_ocr_reads_the_lines_in_tencents_shape(basic_png, documents) -> None:
    assert_lines_read(ENGLISH_LINES, texts(basic_png))
    assert basic_png.Language == "zh"
    assert basic_png.Angle == 0.0
    assert basic_png.PdfPageSize == 0  # not a PDF
    assert basic_png.RequestId
    with Image.open(documents["english"].path) as image:
        width, height = image.size
    for item in basic_png.TextDetections:
        assert isinstance(item.Confidence, int) and 50 <= item.Confidence <= 100
        assert len(item.Polygon) == 4
        xs, ys = [p.X for p in item.Polygon], [p.Y for p in item.Polygon]
        assert all(0 <= x <= width for x in xs) and all(0 <= y <= height for y in ys)
        box = item.ItemPolygon
        assert (box.X, box.Y, box.Width, box.Height) == (min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))
        assert box.Width > 0 and box.Height > 0
        assert json.loads(item.AdvancedInfo)["Parag"]["ParagNo"] >= 1
    # Reading order: the number line is above the total line.
    polygons = {item.DetectedText: item.ItemPolygon.Y for item in basic_png.TextDetections}
    first = max(polygons, key=lambda text: best_match(ENGLISH_LINES[0], [text]))
    last = max(polygons, key=lambda text: best_match(ENGLISH_LINES[1], [text]))
    assert polygons[first] < polygons[last]


def test_general_basic_ocr_reads_the_asked_pdf_page(client: OcrClient, documents) -> None:
    pdf = documents["pdf"]
    response = sdk_call(client, "GeneralBasicOCR", {"ImageBase64": b64(pdf.path), "IsPdf": True, "PdfPageNumber": 2})
    assert response.PdfPageSize == 2
    assert_lines_read(pdf.pages[1], texts(response))
    assert best_match(pdf.pages[0][1], texts(response)) < 0.9  # page 2's lines, not page 1's


def test_general_accurate_and_efficient_ocr_answer_in_their_own_fields(client: OcrClient, documents) -> None:
    pdf = documents["pdf"]
    accurate = sdk_call(client, "GeneralAccurateOCR", {"ImageBase64": b64(pdf.path), "IsPdf": True})
    assert_lines_read(pdf.pages[0], texts(accurate))  # PdfPageNumber defaults to 1
    assert accurate.Angle == 0.0 and all(isinstance(item.Confidence, int) for item in accurate.TextDetections)
    # GeneralEfficientOCR's request model has no PDF parameters: a PDF is read from its first page.
    efficient = sdk_call(client, "GeneralEfficientOCR", {"ImageBase64": b64(pdf.path)})
    assert_lines_read(pdf.pages[0], texts(efficient))


def test_general_fast_ocr_over_raw_http_is_exactly_json_with_a_request_id(
    web_daemon: WebDaemon, client: OcrClient, documents
) -> None:
    headers, body = signed(client, "GeneralFastOCR", {"ImageBase64": b64(documents["english"].path)})
    response = raw_post(web_daemon, headers, body)
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    answer = response.json()["Response"]
    assert set(answer) == {"TextDetections", "Language", "Angel", "PdfPageSize", "RequestId"}  # the SDK's model
    assert answer["RequestId"] and answer["Language"] == "zh" and answer["PdfPageSize"] == 0
    assert_lines_read(ENGLISH_LINES, [item["DetectedText"] for item in answer["TextDetections"]])
    item = answer["TextDetections"][0]
    assert set(item) == {"DetectedText", "Confidence", "Polygon", "AdvancedInfo", "ItemPolygon"}
    assert set(item["Polygon"][0]) == {"X", "Y"} and set(item["ItemPolygon"]) == {"X", "Y", "Width", "Height"}


# -- the VAT invoice ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def invoice_labels() -> dict[str, Any]:
    for line in (INVOICE.parent / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        entry = json.loads(line)
        if entry["image"] == INVOICE.name:
            return entry
    raise AssertionError(f"{INVOICE.name} not in labels.jsonl")


@pytest.fixture(scope="module")
def vat_answer(client: OcrClient) -> Any:
    return sdk_call(client, "VatInvoiceOCR", {"ImageBase64": base64.b64encode(INVOICE.read_bytes()).decode()})


def test_vat_invoice_ocr_gives_the_fields_under_tencents_names(vat_answer, invoice_labels) -> None:
    infos: dict[str, str] = {}
    for info in vat_answer.VatInvoiceInfos:
        infos.setdefault(info.Name, info.Value)
    labels = invoice_labels["fields"]
    assert infos["发票号码"] == labels["invoice_number"] == "47502662"
    assert infos["小写金额"] == "¥" + labels["total"]
    assert infos["发票类型"] == "电子普通发票"
    assert infos["发票名称"].endswith(invoice_labels["title"])  # as printed: 湖北增值税电子普通发票
    year, month, day = labels["issue_date"].split("-")
    assert infos["开票日期"] == f"{year}年{month}月{day}日"
    # The fields read are there under Tencent's names, nearly all exactly as labelled.
    expected = {
        tencent: tencent_shapes.field_text(ours, FieldValue(labels[ours]))
        for tencent, ours in tencent_shapes.VAT_NAMES
        if labels.get(ours)
    }
    exact = [name for name, value in expected.items() if infos.get(name) == value]
    assert len(exact) >= len(expected) - 2, {name: (infos.get(name), expected[name]) for name in expected}
    assert all(value for value in infos.values())  # unread fields are left out, not sent empty
    number = next(info for info in vat_answer.VatInvoiceInfos if info.Name == "发票号码")
    assert number.Polygon is not None and number.Polygon.RightBottom.X > number.Polygon.LeftTop.X
    assert vat_answer.PdfPageSize == 0 and vat_answer.Angle == 0.0 and vat_answer.RequestId


def test_vat_invoice_ocr_lists_the_line_items(vat_answer, invoice_labels) -> None:
    (label,) = invoice_labels["fields"]["line_items"]
    assert len(vat_answer.Items) == 1
    item = vat_answer.Items[0]
    assert item.LineNo == "1"
    assert item.AmountWithoutTax == label["amount"] and item.TaxAmount == label["tax"]
    assert item.TaxRate == label["tax_rate"]
    assert item.Name.startswith(label["name"])  # the toll item's name, then the plate number printed beside it


# -- errors the SDK raises ----------------------------------------------------------------


def test_a_wrong_secret_key_is_a_signature_failure(web_daemon: WebDaemon, documents) -> None:
    wrong = make_client(web_daemon, secret_key=TENCENT_SECRET_KEY + "x")
    error = sdk_error(wrong, "GeneralBasicOCR", {"ImageBase64": b64(documents["english"].path)})
    assert error.get_code() == "AuthFailure.SignatureFailure"


def test_an_unknown_secret_id_is_not_found(web_daemon: WebDaemon) -> None:
    stranger = make_client(web_daemon, secret_id="AKIDsomebodyElse0000")
    error = sdk_error(stranger, "GeneralBasicOCR", {"ImageBase64": "aGVsbG8="})
    assert error.get_code() == "AuthFailure.SecretIdNotFound"


@pytest.mark.parametrize("offset", [-1000, 1000])
def test_a_timestamp_far_from_the_servers_clock_has_expired(
    client: OcrClient, monkeypatch: pytest.MonkeyPatch, offset: int
) -> None:
    # Only the SDK's clock is moved: its module's ``time``.
    clock = type("Clock", (), {"time": staticmethod(lambda: time.time() + offset)})
    monkeypatch.setattr(abstract_client, "time", clock)
    error = sdk_error(client, "GeneralBasicOCR", {"ImageBase64": "aGVsbG8="})
    assert error.get_code() == "AuthFailure.SignatureExpire"


@pytest.mark.parametrize(
    ("params", "code", "words"),
    [
        ({"ImageBase64": "not base64 at all!"}, "FailedOperation.ImageDecodeFailed", "base64"),
        ({"ImageBase64": base64.b64encode(b"hello, plain text").decode()}, "FailedOperation.ImageDecodeFailed", "not"),
        ({"ImageUrl": "https://example.com/a.jpg"}, "FailedOperation.DownLoadError", "ImageBase64"),
        ({}, "MissingParameter", "ImageBase64"),
        ({"ImageBase64": "aGVsbG8=", "PdfPageNumber": 0}, "InvalidParameterValue", "PdfPageNumber"),
    ],
    ids=["bad-base64", "not-an-image", "image-url", "no-image", "page-zero"],
)
def test_bad_parameters_get_tencents_codes(client: OcrClient, params: dict, code: str, words: str) -> None:
    error = sdk_error(client, "GeneralBasicOCR", params)
    assert error.get_code() == code
    assert words.lower() in error.get_message().lower()


def test_a_pdf_page_beyond_the_end_is_refused(client: OcrClient, documents) -> None:
    params = {"ImageBase64": b64(documents["pdf"].path), "IsPdf": True, "PdfPageNumber": 3}
    error = sdk_error(client, "GeneralAccurateOCR", params)
    assert error.get_code() == "InvalidParameterValue.InvalidParameterValueLimit"
    assert "2 page" in error.get_message()


def test_an_image_without_text_is_image_no_text(client: OcrClient, documents) -> None:
    error = sdk_error(client, "GeneralBasicOCR", {"ImageBase64": b64(documents["blank"].path)})
    assert error.get_code() == "FailedOperation.ImageNoText"


def test_files_and_bodies_past_the_limits_are_refused(client: OcrClient) -> None:
    too_large_file = base64.b64encode(b"\x89PNG" + bytes(MAX_UPLOAD_BYTES)).decode()  # decodes past the limit
    assert sdk_error(client, "GeneralBasicOCR", {"ImageBase64": too_large_file}).get_code() == (
        "LimitExceeded.TooLargeFileError"
    )
    too_large_body = "A" * (MAX_UPLOAD_BYTES * 4 // 3 + 200_000)  # past the body limit before decoding
    assert sdk_error(client, "GeneralBasicOCR", {"ImageBase64": too_large_body}).get_code() == (
        "RequestSizeLimitExceeded"
    )


def test_an_unknown_action_names_the_supported_ones(client: OcrClient) -> None:
    error = sdk_error(client, "GeneralHandwritingOCR", {"ImageBase64": "aGVsbG8="})
    assert error.get_code() == "InvalidAction"
    for action in SUPPORTED:
        assert action in error.get_message()


# -- errors over raw HTTP -----------------------------------------------------------------

Tamper = Callable[[dict[str, str], bytes], tuple[dict[str, str], bytes]]


def _without(name: str) -> Tamper:
    return lambda headers, body: ({k: v for k, v in headers.items() if k != name}, body)


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (_without("Authorization"), "AuthFailure.InvalidAuthorization"),
        (lambda h, b: (h | {"Authorization": "Bearer something"}, b), "AuthFailure.InvalidAuthorization"),
        (_without("X-TC-Timestamp"), "AuthFailure.InvalidAuthorization"),
        (lambda h, b: (h, b.replace(b"aGVsbG8=", b"aGVsbG9=")), "AuthFailure.SignatureFailure"),  # body changed
        (lambda h, b: (h | {"X-TC-Timestamp": str(int(h["X-TC-Timestamp"]) + 1)}, b), "AuthFailure.SignatureFailure"),
    ],
    ids=["no-authorization", "not-tc3", "no-timestamp", "body-changed", "timestamp-changed"],
)
def test_raw_requests_get_tencents_error_shape(
    web_daemon: WebDaemon, client: OcrClient, tamper: Tamper, code: str
) -> None:
    headers, body = signed(client, "GeneralHandwritingOCR", {"ImageBase64": "aGVsbG8="})
    headers, body = tamper(headers, body)
    assert_raw_error(raw_post(web_daemon, headers, body), code)


def test_secrets_never_reach_the_log(web_daemon: WebDaemon, client: OcrClient) -> None:
    headers, body = signed(client, "GeneralBasicOCR", {"ImageBase64": "aGVsbG8="})
    headers["Authorization"] = headers["Authorization"].replace("Signature=", "Signature=0")
    assert_raw_error(raw_post(web_daemon, headers, body), "AuthFailure.SignatureFailure")
    log = web_daemon.log_text()
    assert TENCENT_SECRET_KEY not in log
    assert headers["Authorization"].rsplit("Signature=", 1)[1][1:] not in log


def test_without_keys_configured_every_request_gets_secret_id_not_found() -> None:
    """A server whose [compat.tencent] is incomplete answers in Tencent's shape, naming what to configure."""
    settings = SimpleNamespace(compat=SimpleNamespace(tencent=TencentCompat(secret_id=TENCENT_SECRET_ID)))
    app = web.Application()
    app[CONTEXT] = SimpleNamespace(supervisor=SimpleNamespace(config=settings))  # type: ignore[assignment]
    request = make_mocked_request("POST", "/", headers={"X-TC-Action": "GeneralBasicOCR"}, app=app)
    response = asyncio.run(tencent.handle(request))
    assert response.status == 200 and response.headers["Content-Type"] == "application/json"
    answer = json.loads(response.body)["Response"]
    assert answer["Error"]["Code"] == "AuthFailure.SecretIdNotFound"
    assert "[compat.tencent]" in answer["Error"]["Message"] and answer["RequestId"]


def test_a_password_protected_pdf_cannot_be_parsed(client: OcrClient, tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    with pymupdf.open() as pdf:
        pdf.new_page().insert_text((72, 72), "secret")
        pdf.save(path, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="pw", owner_pw="owner")
    error = sdk_error(client, "GeneralBasicOCR", {"ImageBase64": b64(path), "IsPdf": True})
    assert error.get_code() == "FailedOperation.PDFParseFailed"
    assert "password" in error.get_message()


def test_a_full_queue_is_request_limit_exceeded(web_daemon: WebDaemon, client: OcrClient, documents) -> None:
    pdf = documents["pdf"].path
    with full_queue(web_daemon, pdf.read_bytes()):
        error = sdk_error(client, "GeneralBasicOCR", {"ImageBase64": b64(pdf), "IsPdf": True})
    assert error.get_code() == "RequestLimitExceeded"
    assert "try again" in error.get_message()
