"""Umi-OCR's HTTP API (POST /api/ocr, GET /api/ocr/get_options) answered by the real daemon.

Three images are read, once each (the answers are shared by the tests): two lines of English
with the default options, three Chinese lines sent the way Umi-OCR's own Python example sends
them, and a blank page. The failures are all decided before a worker is asked. How blocks'
``end`` follows ``tbpu.parser`` is checked on documents built here, without the engine.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
from pathlib import Path

import pytest
import requests
from aiohttp.test_utils import TestClient, TestServer
from PIL import Image

from ocrd import samples
from ocrd.config import Config
from ocrd.daemon.supervisor import Supervisor
from ocrd.result import Document, Line, Page
from ocrd.web.app import init_app
from ocrd.web.compat.umi_blocks import blocks_of, joined_text, separator
from ocrd.web.compat.umi_codes import UmiError
from ocrd.web.compat.umi_options import parse_options
from tests.textmatch import assert_lines_read, similarity
from tests.web_server import MAX_UPLOAD_BYTES, TOKEN, WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

ENGLISH_LINES = ["Invoice No. 12345678", "Total CNY 1,271.54"]
CHINESE_LINES = samples.invoice_lines()[:3]  # 增值税普通发票, 发票代码: ..., 发票号码: ...


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("umi-images")
    samples.make_sample_page_png(folder / "english.png", ENGLISH_LINES)
    samples.make_sample_page_png(folder / "chinese.png", CHINESE_LINES)
    Image.new("RGB", (480, 240), "white").save(folder / "blank.png")
    return {path.stem: path for path in folder.iterdir()}


def b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode("ascii")


def image_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as image:
        return image.size


def umi_post(daemon: WebDaemon, body: object, **kwargs) -> dict:
    """POST /api/ocr: Umi-OCR answers every request with HTTP 200 and the outcome in "code"."""
    response = daemon.post("/api/ocr", json=body, **kwargs)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert isinstance(answer["time"], float) and answer["time"] >= 0, answer
    assert isinstance(answer["timestamp"], float) and answer["timestamp"] > 1.6e9, answer
    return answer


def assert_failure(answer: dict, code: int, *words: str) -> None:
    assert answer["code"] == code, answer
    message = answer["data"]
    assert isinstance(message, str) and message and "Traceback" not in message and "/web-jobs/" not in message
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} not in {message!r}"


@pytest.fixture(scope="module")
def english_answer(web_daemon: WebDaemon, images: dict[str, Path]) -> dict:
    # Options Umi-OCR clients send that ocrd accepts without acting on, and one of another engine.
    options = {"ocr.cls": True, "ocr.limit_side_len": 960, "ocr.maxSideLen": 1024}
    return umi_post(web_daemon, {"base64": b64(images["english"]), "options": options})


@pytest.fixture(scope="module")
def chinese_response(web_daemon: WebDaemon, images: dict[str, Path]) -> requests.Response:
    """Sent exactly as Umi-OCR's documentation's Python example sends it (plus ocrd's token)."""
    data = {
        "base64": b64(images["chinese"]),
        "options": {"data.format": "text", "tbpu.parser": "multi_line", "ocr.language": "models/config_chinese.txt"},
    }
    headers = {"Content-Type": "application/json", "Authorization": f"Bearer {TOKEN}"}
    response = requests.post(web_daemon.url + "/api/ocr", data=json.dumps(data), headers=headers, timeout=180)
    response.raise_for_status()
    return response


def test_english_lines_come_back_as_blocks_with_scores_and_boxes_inside_the_image(english_answer, images) -> None:
    assert english_answer["code"] == 100, english_answer
    blocks = english_answer["data"]
    assert_lines_read(ENGLISH_LINES, [block["text"] for block in blocks])
    assert len(blocks) == len(ENGLISH_LINES)
    width, height = image_size(images["english"])
    for block in blocks:
        assert set(block) == {"text", "score", "box", "end"}, block
        assert 0.5 < block["score"] <= 1.0, block
        assert len(block["box"]) == 4
        for x, y in block["box"]:
            assert isinstance(x, int) and isinstance(y, int)
            assert 0 <= x <= width and 0 <= y <= height, (block["box"], width, height)
        (x0, y0), (x1, _), (x2, y2), (_, y3) = block["box"]
        assert x0 < x1 and y0 < y3 and x2 > x0 and y2 > y0  # clockwise from the top left
    assert blocks[0]["box"][0][1] < blocks[1]["box"][0][1]  # reading order: top line first
    assert english_answer["score"] == pytest.approx(sum(b["score"] for b in blocks) / len(blocks), abs=1e-5)


def test_the_default_parser_joins_one_paragraph_with_a_space_and_ends_it_with_a_new_line(english_answer) -> None:
    # Two left-aligned lines just below each other, the first the longer: one paragraph (multi_para).
    blocks = english_answer["data"]
    assert [block["end"] for block in blocks] == [" ", "\n"]
    text = "".join(block["text"] + block["end"] for block in blocks)
    assert similarity(text, " ".join(ENGLISH_LINES)) > 0.9, text


def test_text_format_as_umis_python_example_sends_it(chinese_response: requests.Response) -> None:
    # Umi-OCR escapes every non-ASCII character, and its clients are written for that.
    assert chinese_response.text.isascii() and "\\u" in chinese_response.text
    answer = json.loads(chinese_response.text)
    assert answer["code"] == 100, answer
    assert isinstance(answer["data"], str)
    lines = answer["data"].split("\n")  # multi_line: a new line after every line, none after the last
    assert_lines_read(CHINESE_LINES, lines)
    assert len(lines) == len(CHINESE_LINES) and not answer["data"].endswith("\n")


def test_a_blank_image_answers_101_with_a_reason(web_daemon: WebDaemon, images) -> None:
    answer = umi_post(web_daemon, {"base64": b64(images["blank"]), "options": {"data.format": "text"}})
    assert_failure(answer, 101, "no text")


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        ({"base64": "not base64 at all!"}, 300, ["base64"]),
        ({"base64": ""}, 300, ["empty"]),
        ({"base64": 12345}, 300, ["base64"]),
        ({"base64": base64.b64encode(b"just some words, not a picture").decode()}, 301, ["not a supported"]),
        ({"image": "iVBORw0KGgo="}, 802, ["base64"]),
        ({}, 801, ["empty"]),
        ({"base64": "iVBORw0KGgo=", "options": ["data.format", "text"]}, 803, ["options"]),
        ({"base64": "iVBORw0KGgo=", "options": {"data.format": "xml"}}, 804, ["data.format"]),
        ({"base64": "iVBORw0KGgo=", "options": {"ocr.language": "models/config_japan.txt"}}, 804, ["English"]),
        ({"base64": "iVBORw0KGgo=", "options": {"tbpu.ignoreArea": [[0, 0, 10, 10]]}}, 804, ["ignoreArea"]),
    ],
)
def test_bad_requests_get_umis_codes(web_daemon: WebDaemon, body: dict, code: int, words: list[str]) -> None:
    assert_failure(umi_post(web_daemon, body), code, *words)


def test_a_pdf_is_refused_as_umis_image_api_refuses_it(web_daemon: WebDaemon, tmp_path: Path) -> None:
    samples.make_multipage_pdf(tmp_path / "two.pdf", 2)
    assert_failure(umi_post(web_daemon, {"base64": b64(tmp_path / "two.pdf")}), 301, "PDF", "POST /api/jobs")


def test_a_body_that_is_not_json_answers_800(web_daemon: WebDaemon) -> None:
    response = web_daemon.post("/api/ocr", data=b"base64=iVBORw0KGgo", headers={"Content-Type": "application/json"})
    assert response.status_code == 200
    assert_failure(response.json(), 800, "not JSON")


@pytest.mark.parametrize("characters", [MAX_UPLOAD_BYTES * 4 // 3 + 40, MAX_UPLOAD_BYTES * 3 // 2])
def test_an_image_over_the_upload_limit_answers_302(web_daemon: WebDaemon, characters: int) -> None:
    # The first decodes to just over the limit inside an accepted body; the second is a body over the limit.
    answer = umi_post(web_daemon, {"base64": "A" * characters})
    assert_failure(answer, 302, "MiB")


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token"}])
def test_without_the_token_the_answer_is_ocrds_401(web_daemon: WebDaemon, images, headers: dict) -> None:
    body = {"base64": b64(images["english"])}
    for method, path, kwargs in (("POST", "/api/ocr", {"json": body}), ("GET", "/api/ocr/get_options", {})):
        response = web_daemon.request(method, path, token=False, headers=headers, **kwargs)
        assert response.status_code == 401, response.text
        assert response.json()["code"] == 40100
        assert "Authorization: Bearer" in response.json()["msg"]


def test_get_options_lists_the_options_ocrd_honours_with_their_defaults(web_daemon: WebDaemon) -> None:
    response = web_daemon.get("/api/ocr/get_options")
    assert response.status_code == 200, response.text
    options = response.json()
    assert set(options) == {
        "ocr.language",
        "ocr.cls",
        "ocr.limit_side_len",
        "tbpu.parser",
        "tbpu.ignoreArea",
        "data.format",
    }
    for key, option in options.items():
        assert option["title"] and option["toolTip"] and option["type"] in {"enum", "boolean", "var"}, key
        if option["type"] == "enum":  # the default is one of the choices, as Umi-OCR's clients assume
            assert option["default"] in [value for value, _ in option["optionsList"]], key
    assert options["ocr.language"]["default"] == "models/config_chinese.txt"  # the daemon's [engine] lang zh
    assert options["tbpu.parser"]["default"] == "multi_para"
    assert options["data.format"]["default"] == "dict"
    assert [value for value, _ in options["data.format"]["optionsList"]] == ["dict", "text"]


def test_while_compat_umi_is_off_the_routes_are_not_found(tmp_path: Path) -> None:
    config = Config()
    config = dataclasses.replace(config, daemon=dataclasses.replace(config.daemon, data_dir=str(tmp_path)))
    assert not config.compat.umi.enabled

    async def ask() -> list[tuple[int, dict]]:
        async with TestClient(TestServer(init_app(Supervisor(config)))) as client:
            answers = []
            for method, path in (("GET", "/api/ocr/get_options"), ("POST", "/api/ocr")):
                response = await client.request(method, path, json={"base64": "iVBORw0KGgo="})
                answers.append((response.status, await response.json()))
            return answers

    for status, body in asyncio.run(ask()):
        assert status == 404 and body["code"] == 40400, body


# --- options and blocks, without the engine --------------------------------------------------------


def line(text: str, left: float, top: float, right: float, bottom: float) -> Line:
    return Line(text=text, confidence=0.9, box=[[left, top], [right, top], [right, bottom], [left, bottom]])


def page_of(*lines: Line) -> Document:
    return Document(source="test", pages=[Page(index=0, width=1000, height=1000, lines=list(lines))])


# Two paragraphs of running text (the second indented by less than a line height and hyphenated,
# the last line of each short), then, far below, a paragraph of a Latin and two Chinese lines.
TEXT = page_of(
    line("The first paragraph runs", 100, 100, 900, 130),
    line("over two lines, then", 100, 140, 880, 170),
    line("stops.", 100, 180, 300, 210),
    line("A second one be-", 110, 230, 900, 260),
    line("gins and ends.", 100, 270, 400, 300),
    line("Far below", 100, 500, 900, 530),
    line("增值税普通发票第一行", 100, 540, 900, 570),
    line("第二行", 100, 580, 300, 610),
)


@pytest.mark.parametrize(
    ("parser", "ends"),
    [
        ("multi_para", [" ", " ", "\n", "", "\n", " ", "", "\n"]),
        ("single_para", [" ", " ", "\n", "", "\n", " ", "", "\n"]),
        ("multi_line", ["\n"] * 8),
        ("none", ["\n"] * 8),
        ("single_none", [" ", " ", " ", "", " ", " ", "", "\n"]),
    ],
)
def test_end_follows_the_parser(parser: str, ends: list[str]) -> None:
    assert [block.end for block in blocks_of(TEXT, parser)] == ends


def test_text_format_joins_blocks_with_their_ends_but_the_last() -> None:
    text = joined_text(blocks_of(TEXT, "multi_para"))
    assert text.split("\n")[:2] == [
        "The first paragraph runs over two lines, then stops.",
        "A second one be-gins and ends.",
    ]
    assert text.endswith("增值税普通发票第一行第二行")


def test_separators_between_pieces_of_one_paragraph() -> None:
    assert separator("a", "b") == " "
    assert separator("票", "第") == ""  # CJK on both sides
    assert separator("a", "票") == " "
    assert separator("-", "b") == ""  # a hyphenated word goes on
    assert separator("a", ",") == ""  # punctuation follows without a space


def test_ignore_areas_drop_only_blocks_wholly_inside_them() -> None:
    options = parse_options({"tbpu.ignoreArea": [[[90, 90], [910, 135]], [[0, 575], [200, 620]]]})
    texts = [block.text for block in blocks_of(TEXT, options.parser, options.ignore_areas)]
    assert "The first paragraph runs" not in texts and "第二行" in texts  # the second only overlaps its area
    assert len(texts) == 7


def test_options_left_out_take_umis_defaults_and_unknown_keys_are_ignored() -> None:
    options = parse_options({"ocr.angle": True, "tbpu.parser": None, "some.future.option": "x"})
    assert (options.lang, options.parser, options.format, options.ignore_areas) == (None, "multi_para", "dict", ())
    assert parse_options({"ocr.language": "English"}).lang == "en"
    assert parse_options({"ocr.language": "简体中文"}).lang == "zh"
    for bad in ({"ocr.cls": "yes"}, {"ocr.limit_side_len": "960"}, {"tbpu.parser": "columns"}):
        with pytest.raises(UmiError) as raised:
            parse_options(bad)
        assert raised.value.code == 804 and next(iter(bad)) in raised.value.message
