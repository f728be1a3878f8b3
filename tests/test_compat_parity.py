"""The same real files read through ocrd's own POST /ocr and through each vendor's official SDK: the same lines.

One real photo with Chinese text (dev/easyocr_chinese.jpg, a street sign) and one PDF page without a
text layer holding a real multi-line Chinese image (dev/cnocr_multi-line_cn1.png, placed on the page
at its own resolution when the test starts: the evaluation data's only PDFs are full A4 scans at
300 dpi, and four readings of one of those would cost this suite about half a minute). Same engine,
same file: each vendor's lines must be POST /ocr's lines, text for text, in the same order. Umi-OCR's
image API refuses PDFs, so it reads the photo only.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pymupdf
import pytest
from aip import AipOcr
from alibabacloud_ocr_api20210707 import models as aliyun_models
from tencentcloud.ocr.v20181119 import models as tencent_models

from tests.compat_clients import ALIYUN_RUNTIME, BAIDU_APP_ID, aliyun_client, point_at, tencent_client
from tests.paths import EVAL_DEV
from tests.web_server import BAIDU_API_KEY, BAIDU_SECRET_KEY, WebDaemon, shared_daemon

pytestmark = pytest.mark.slow

PHOTO = EVAL_DEV / "easyocr_chinese.jpg"  # 640x339 street sign: 愚园路, Yuyuan Rd., house numbers (3 lines)
PAGE_IMAGE = EVAL_DEV / "cnocr_multi-line_cn1.png"  # several lines of Chinese text
RENDER_DPI = 300  # the engine renders PDF pages at this resolution: the image comes back at its own size


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


def scanned_pdf(image: Path, folder: Path) -> Path:
    """A one-page PDF showing ``image`` and nothing else, as a scanner writes one (no text layer)."""
    width, height = pymupdf.Pixmap(str(image)).irect[2:]
    document = pymupdf.open()
    page = document.new_page(width=width * 72 / RENDER_DPI, height=height * 72 / RENDER_DPI)
    page.insert_image(page.rect, filename=str(image))
    target = folder / f"{image.stem}.pdf"
    document.save(target)
    document.close()
    return target


@pytest.fixture(scope="module", params=["photo", "pdf"])
def read(
    request: pytest.FixtureRequest, web_daemon: WebDaemon, tmp_path_factory: pytest.TempPathFactory
) -> tuple[bytes, bool, list[str]]:
    """The file, whether it is a PDF, and its lines as ocrd's own API reads them."""
    path = PHOTO if request.param == "photo" else scanned_pdf(PAGE_IMAGE, tmp_path_factory.mktemp("parity"))
    data = path.read_bytes()
    files = {"image": (path.name, data)}
    response = web_daemon.post("/ocr", files=files, data={"fields": "off"})
    assert response.status_code == 200, response.text
    lines = [line["text"] for line in response.json()["data"]]
    assert len(lines) >= 3, lines  # a real reading, not an empty page
    return data, path.suffix == ".pdf", lines


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def test_tencent_general_basic_ocr(web_daemon: WebDaemon, read) -> None:
    data, is_pdf, expected = read
    params: dict[str, Any] = {"ImageBase64": b64(data)}
    if is_pdf:
        params |= {"IsPdf": True, "PdfPageNumber": 1}
    request = tencent_models.GeneralBasicOCRRequest()
    request.from_json_string(json.dumps(params))
    answer = tencent_client(web_daemon).GeneralBasicOCR(request)
    assert [item.DetectedText for item in answer.TextDetections] == expected


def test_aliyun(web_daemon: WebDaemon, read) -> None:
    data, is_pdf, expected = read
    client = aliyun_client(web_daemon)
    if is_pdf:
        request = aliyun_models.RecognizeAllTextRequest(body=data, type="General", page_no=1)
        blocks = client.recognize_all_text_with_options(request, ALIYUN_RUNTIME).body.data.sub_images[0]
        texts = [block.block_content for block in blocks.block_info.block_details]
    else:
        answer = client.recognize_general_with_options(aliyun_models.RecognizeGeneralRequest(body=data), ALIYUN_RUNTIME)
        texts = [info["word"] for info in json.loads(answer.body.data)["prism_wordsInfo"]]
    assert texts == expected


def test_baidu(web_daemon: WebDaemon, read) -> None:
    data, is_pdf, expected = read
    client = point_at(AipOcr(BAIDU_APP_ID, BAIDU_API_KEY, BAIDU_SECRET_KEY), web_daemon.url)
    answer = client.basicGeneralPdf(data, {"pdf_file_num": "1"}) if is_pdf else client.basicGeneral(data)
    assert "error_code" not in answer, answer
    assert [item["words"] for item in answer["words_result"]] == expected


def test_umi_reads_the_photo(web_daemon: WebDaemon, read) -> None:
    data, is_pdf, expected = read
    if is_pdf:
        return  # Umi-OCR's /api/ocr reads images only (a PDF is code 301, tests/test_compat_umi.py)
    answer = web_daemon.post("/api/ocr", json={"base64": b64(data)}).json()
    assert answer["code"] == 100, answer
    assert [block["text"] for block in answer["data"]] == expected
