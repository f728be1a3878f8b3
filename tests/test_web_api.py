"""POST /ocr on the real daemon: the answer existing clients parse, and every failure status.

Every answer is also checked against the server's /openapi.json (tests/web_server.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ocrd import samples
from tests.builders import blank_pdf_bytes
from tests.textmatch import assert_lines_read, best_match, similarity
from tests.web_server import (
    MAX_PAGES,
    MAX_UPLOAD_BYTES,
    TOKEN,
    WebDaemon,
    full_queue,
    shared_daemon,
    upload_while_killing_the_worker,
)

pytestmark = pytest.mark.slow

ENGLISH_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def documents(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("web-api-docs")
    samples.make_sample_page_png(folder / "invoice.png", samples.invoice_lines())
    samples.make_sample_page_png(folder / "english.png", ENGLISH_LINES)
    samples.make_multipage_pdf(folder / "two-pages.pdf", 2)
    samples.make_invoice_like_pdf(folder / "invoice.pdf", text_layer=False)
    return {path.stem: path for path in folder.iterdir()}


def assert_failure(response: requests.Response, status: int, code: int, *words: str) -> str:
    """The failure shape: exactly code/msg/data, a non-zero code, words a developer can act on."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"code", "msg", "data"}, body
    assert body["code"] == code, body
    assert body["data"] is None
    msg = body["msg"]
    assert msg and "Traceback" not in msg and "/web-jobs/" not in msg, msg
    for word in words:
        assert word.lower() in msg.lower(), f"{word!r} not in {msg!r}"
    return msg


def test_ocr_reads_a_chinese_invoice_page_in_the_documented_shape(web_daemon: WebDaemon, documents) -> None:
    with documents["invoice"].open("rb") as image:
        response = web_daemon.post("/ocr", files={"image": ("发票.png", image, "image/png")}, data={"lang": "zh"})

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"code", "msg", "data", "fields"}  # fields: beside the lines, see test_web_fields.py
    assert (body["code"], body["msg"]) == (0, "success")
    lines = body["data"]
    for line in lines:
        assert isinstance(line["text"], str) and line["text"]
        assert 0.0 <= line["confidence"] <= 1.0
        assert len(line["box"]) == 4 and all(len(corner) == 2 for corner in line["box"])
        assert line["page"] == 0
    texts = [line["text"] for line in lines]
    expected = samples.invoice_lines()
    assert_lines_read(expected, texts)
    # Reading order: each printed line is found after the one above it.
    positions = [max(range(len(texts)), key=lambda i, line=line: similarity(line, texts[i])) for line in expected]
    assert positions == sorted(positions), f"lines out of order: {texts}"
    assert min(line["confidence"] for line in lines) > 0.5


def test_ocr_in_english_mode(web_daemon: WebDaemon, documents) -> None:
    content = documents["english"].read_bytes()
    response = web_daemon.post("/ocr?lang=en", files={"image": ("scan.png", content)})

    assert response.status_code == 200, response.text
    texts = [line["text"] for line in response.json()["data"]]
    assert_lines_read(ENGLISH_LINES, texts)
    assert all(ch.isascii() for text in texts for ch in text), texts


def test_ocr_reads_every_page_of_a_pdf_and_says_which(web_daemon: WebDaemon, documents) -> None:
    response = web_daemon.post("/ocr", files={"image": ("contract.pdf", documents["two-pages"].read_bytes())})

    assert response.status_code == 200, response.text
    lines = response.json()["data"]
    pages = sorted({line["page"] for line in lines})
    assert pages == [0, 1]
    for number in (1, 2):
        on_page = [line["text"] for line in lines if line["page"] == number - 1]
        assert best_match(f"Page {number} of 2", on_page) > 0.85, on_page


PNG_HEAD = b"\x89PNG\r\n\x1a\n"


def _png(docs: dict[str, Path]) -> bytes:
    return docs["english"].read_bytes()


def _truncated_pdf(docs: dict[str, Path]) -> bytes:
    whole = docs["invoice"].with_suffix(".pdf").read_bytes()
    return whole[: len(whole) // 2]


# name: (request keywords from the documents, HTTP status, code, words the message must contain)
BAD_INPUT = {
    "no file field": (lambda d: {"files": {"document": ("a.png", _png(d))}}, 400, 40001, ("'image'",)),
    "not multipart": (lambda d: {"data": {"lang": "zh"}}, 400, 40001, ("multipart/form-data",)),
    "unknown language": (
        lambda d: {"files": {"image": ("a.png", _png(d))}, "data": {"lang": "fr"}},
        400,
        40001,
        ("zh", "en"),
    ),
    "two files": (
        lambda d: {"files": [("image", ("a.png", _png(d))), ("image", ("b.png", _png(d)))]},
        400,
        40001,
        ("one file",),
    ),
    "empty file": (lambda d: {"files": {"image": ("scan.png", b"")}}, 400, 40002, ("empty", "scan.png")),
    "damaged pdf": (lambda d: {"files": {"image": ("scan.pdf", _truncated_pdf(d))}}, 400, 40003, ("incomplete",)),
    "text named .png": (
        lambda d: {"files": {"image": ("a.png", "今天天气很好\n".encode(), "image/png")}},
        415,
        41500,
        ("plain text",),
    ),
    "docx named .pdf": (
        lambda d: {"files": {"image": ("a.pdf", b"PK\x03\x04" + bytes(200), "application/pdf")}},
        415,
        41500,
        ("ZIP",),
    ),
    "too many pages": (
        lambda d: {"files": {"image": ("long.pdf", blank_pdf_bytes(MAX_PAGES + 1))}},
        413,
        41301,
        (str(MAX_PAGES),),
    ),
    "too large": (
        lambda d: {"files": {"image": ("big.png", PNG_HEAD + bytes(MAX_UPLOAD_BYTES))}},
        413,
        41300,
        ("max_upload_bytes",),
    ),
}


@pytest.mark.parametrize("case", list(BAD_INPUT))
def test_ocr_refuses_bad_input_with_status_code_and_words(web_daemon: WebDaemon, documents, case: str) -> None:
    build, status, code, words = BAD_INPUT[case]
    response = web_daemon.post("/ocr", **build(documents))
    assert_failure(response, status, code, *words)


def _multipart_chunks(boundary: str, payload_size: int) -> Iterator[bytes]:
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="huge.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()
    yield PNG_HEAD
    block = bytes(256 * 1024)
    sent = 0
    while sent < payload_size:
        yield block
        sent += len(block)
    yield f"\r\n--{boundary}--\r\n".encode()


def test_ocr_stops_reading_an_oversized_upload_sent_without_a_length(web_daemon: WebDaemon) -> None:
    boundary = "ocrd-test-boundary"
    response = web_daemon.post(
        "/ocr",
        data=_multipart_chunks(boundary, MAX_UPLOAD_BYTES + 1_000_000),  # chunked: no Content-Length up front
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    assert_failure(response, 413, 41300, "max_upload_bytes")


def test_ocr_needs_the_token(web_daemon: WebDaemon, documents) -> None:
    files = {"image": ("a.png", documents["english"].read_bytes())}
    missing = web_daemon.post("/ocr", token=False, files=files)
    wrong = web_daemon.post("/ocr", token=False, files=files, headers={"Authorization": f"Bearer {TOKEN}x"})

    for response in (missing, wrong):
        assert_failure(response, 401, 40100, "Authorization: Bearer")
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_ocr_answers_503_at_once_when_the_queue_is_full(web_daemon: WebDaemon, documents) -> None:
    small = documents["english"].read_bytes()
    with full_queue(web_daemon, documents["two-pages"].read_bytes()):
        # The held uploads cannot finish while this block runs: an answer at all means "at once".
        refused = web_daemon.post("/ocr", files={"image": ("a.png", small)})
        also_refused = web_daemon.submit("b.png", small)
    assert_failure(refused, 503, 50300, "try again")
    assert int(refused.headers["Retry-After"]) > 0
    assert_failure(also_refused, 503, 50300)


def test_ocr_answers_500_when_the_worker_dies_on_every_attempt(web_daemon: WebDaemon, documents) -> None:
    response = upload_while_killing_the_worker(web_daemon, documents["two-pages"].read_bytes())

    assert_failure(response, 500, 50001, "worker")
    web_daemon.wait_idle()  # a fresh worker replaced the killed one
    assert web_daemon.get("/readyz").status_code == 200


def test_unknown_api_paths_and_methods_keep_the_shape(web_daemon: WebDaemon) -> None:
    missing = web_daemon.get("/api/nothing-here")
    wrong_method = web_daemon.get("/ocr")

    assert_failure(missing, 404, 40400, "/openapi.json")
    assert_failure(wrong_method, 405, 40500, "POST")


def test_client_file_names_are_labels_never_paths(web_daemon: WebDaemon, documents) -> None:
    content = documents["english"].read_bytes()
    response = web_daemon.submit("../../../../../../tmp/ocrd-evil.png", content)

    assert response.status_code == 202, response.text
    job = web_daemon.wait_job(response.json()["data"]["id"])
    assert job["source"] == "ocrd-evil.png"
    assert not Path("/tmp/ocrd-evil.png").exists()
    stored = [path for path in (web_daemon.root / "data").rglob("*") if path.is_file()]
    assert not [path for path in stored if "evil" in str(path)], stored
    # Uploads are stored under fixed names; the results index keeps originals under their result ids.
    assert {path.name for path in stored if "web-jobs" in path.parts} <= {"upload"}, stored


def test_info_names_the_pack_and_the_precision_the_workers_run(web_daemon: WebDaemon) -> None:
    info = web_daemon.get("/api/info").json()["data"]
    assert info["models"] == "ppocrv6-small"
    # The suite pins the CPU flags to none (tests/conftest.py): "auto" is FP32, and says why.
    assert info["precision"] == "fp32"
    assert info["precision_reason"].startswith("auto: this CPU has no int8 dot-product instructions")
