"""/openapi.json checked against the implementation.

Every answer any web test receives is validated against the served document as it arrives
(tests/web_server.py: status documented, Content-Type, JSON schema, documented headers). Here:
the document is well formed, it lists exactly the API routes the app has, and every response
it documents is really produced: whatever the other tests did not already produce is
requested here from the real server.
"""

from __future__ import annotations

import base64
import functools
import os
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import requests
from aiohttp import hdrs
from jsonschema import Draft202012Validator

from ocrd import samples
from ocrd.config import Config
from ocrd.daemon.supervisor import Supervisor
from ocrd.web.app import init_app
from tests.compat_clients import aliyun_signed, tencent_client, tencent_signed
from tests.web_server import (
    BAIDU_API_KEY,
    BAIDU_SECRET_KEY,
    MAX_UPLOAD_BYTES,
    WebDaemon,
    full_queue,
    held_name,
    held_uploads,
    shared_daemon,
    upload_while_killing_the_worker,
)

HOSTED_ROOT = ("POST", "/")  # Tencent Cloud and Aliyun requests, on the path of the start page
PAGES_FOR_PEOPLE = {"/", "/upload", "/results", "/results/{result_id}", "/login", "/logout", "/favicon.ico"}


@pytest.fixture(scope="module")
def web_daemon(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> WebDaemon:
    return shared_daemon(tmp_path_factory, pytestconfig)


@pytest.fixture(scope="module")
def document(web_daemon: WebDaemon) -> dict:
    response = requests.get(web_daemon.url + "/openapi.json", timeout=30)  # open, no token
    assert response.status_code == 200
    return response.json()


def test_the_document_is_well_formed_openapi_3_1(document: dict) -> None:
    assert document["openapi"] == "3.1.0"
    for schema in document["components"]["schemas"].values():
        Draft202012Validator.check_schema(schema)
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        for method, operation in item.items()
        if method != "parameters"
    ]
    assert len(operation_ids) == len(set(operation_ids))
    text = str(document)
    for kind in ("schemas", "responses"):
        for name in document["components"][kind]:
            assert f"#/components/{kind}/{name}" in text, f"{kind}/{name} is defined but never used"


def test_the_document_lists_exactly_the_routes_of_the_app(document: dict, tmp_path: Path) -> None:
    # The app of an unstarted supervisor with no vendor configured: routing needs no workers, and the
    # hosted-API routes are there all the same (each request is answered "not served" until configured).
    app = init_app(Supervisor(Config()))
    routes = [route for route in app.router.routes() if route.method != "HEAD" and route.resource is not None]
    # Catch-alls (any method, any path below a prefix: Baidu's error shapes for what ocrd does not serve there)
    # are no OpenAPI path; each must lie under documented routes.
    fallbacks = {route.resource.canonical for route in routes if route.method == hdrs.METH_ANY}
    served = {(route.method, route.resource.canonical) for route in routes if route.method != hdrs.METH_ANY}
    pages = {
        (m, p) for (m, p) in served if (p in PAGES_FOR_PEOPLE or p.startswith("/static")) and (m, p) != HOSTED_ROOT
    }
    served -= pages
    documented = {
        (method.upper(), path) for path, item in document["paths"].items() for method in item if method != "parameters"
    }
    assert served == documented, f"served only: {served - documented}; documented only: {documented - served}"
    assert fallbacks == {"/oauth/2.0/{tail}", "/rest/2.0/{tail}"}
    for fallback in fallbacks:
        prefix = fallback.split("{", 1)[0]
        assert any(path.startswith(prefix) for _, path in documented), f"{fallback}: nothing documented under it"


# --- producing every documented response ---------------------------------------------------------


class Exercises:
    """Requests that produce each documented response from the real server."""

    def __init__(self, daemon: WebDaemon, folder: Path) -> None:
        self.d = daemon
        self.png = samples.make_sample_page_png(folder / "total.png", ["Total CNY 88.00"]).path.read_bytes()
        self.pdf = samples.make_multipage_pdf(folder / "two.pdf", 2).path.read_bytes()

    def files(self, content: bytes | None = None, name: str = "a.png") -> dict:
        return {"files": {"image": (name, self.png if content is None else content)}}

    @functools.cached_property
    def done_job(self) -> str:
        job = self.d.submit("total.png", self.png).json()["data"]["id"]
        assert self.d.wait_job(job)["status"] == "done"
        return job

    @functools.cached_property
    def pdf_job(self) -> str:
        files = {"image": ("total.png", self.png)}
        job = self.d.post("/api/jobs", files=files, data={"outputs": "json,txt,pdf"}).json()["data"]["id"]
        assert self.d.wait_job(job)["status"] == "done"
        return job

    @functools.cached_property
    def failed_job(self) -> str:
        job = self.d.submit("cut.pdf", self.pdf[: len(self.pdf) // 3]).json()["data"]["id"]
        assert self.d.wait_job(job)["status"] == "failed"
        return job

    def result_of(self, job: str, outcome: str) -> str:
        """The results index's id for a finished upload job (found by its name and outcome)."""
        source = self.d.get(f"/api/jobs/{job}").json()["data"]["source"]
        items = self.d.get("/api/results", params={"q": source, "outcome": outcome}).json()["data"]["items"]
        assert items, f"no {outcome} result for {source}"
        return items[0]["id"]

    @functools.cached_property
    def done_result(self) -> str:
        return self.result_of(self.done_job, "done")

    @functools.cached_property
    def failed_result(self) -> str:
        return self.result_of(self.failed_job, "failed")

    def same_text(self) -> requests.Response:
        """A correction to the text the line already has: answered, nothing stored."""
        line = self.d.get(f"/api/results/{self.done_result}").json()["data"]["result"]["pages"][0]["lines"][0]
        return self.d.request("PUT", f"/api/results/{self.done_result}/pages/0/lines/0", json={"text": line["text"]})

    def while_pending(self, suffix: str) -> requests.Response:
        """GET /api/jobs/{id}/<suffix> of a job that is still being read; the job is removed after."""
        self.d.wait_idle()  # so that there is room in the queue
        name = held_name("pending")
        with held_uploads(self.d, name):  # it cannot finish before the answer
            job = self.d.submit(name, self.pdf).json()["data"]["id"]
            try:
                return self.d.get(f"/api/jobs/{job}/{suffix}")
            finally:
                self.d.delete(f"/api/jobs/{job}")

    def fresh_job(self) -> str:
        return self.d.submit("total.png", self.png).json()["data"]["id"]

    def unreachable_inbox(self) -> requests.Response:
        moved = self.d.root / "inbox-moved"
        os.rename(self.d.inbox, moved)
        try:
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                response = self.d.get("/readyz", token=False)
                if response.status_code == 503:
                    return response
                time.sleep(0.1)
            raise AssertionError("/readyz never reported the missing inbox")
        finally:
            os.rename(moved, self.d.inbox)

    # --- the hosted-API routes (ocrd.web.compat): errors that need no OCR, and one reading per route

    def b64(self) -> str:
        return base64.b64encode(self.png).decode("ascii")

    def tencent(self, params: dict, *, secret_key: str | None = None) -> requests.Response:
        keys = {} if secret_key is None else {"secret_key": secret_key}
        headers, body = tencent_signed(tencent_client(self.d, **keys), "GeneralBasicOCR", params)
        return self.d.post("/", token=False, headers=headers, data=body)

    def aliyun(self, action: str, body: bytes, **signing: str) -> requests.Response:
        return self.d.post("/", token=False, headers=aliyun_signed(self.d, action, body, **signing), data=body)

    def hosted_root_200(self) -> requests.Response:
        failure = self.tencent({"ImageBase64": self.b64()}, secret_key="not-the-key")
        assert failure.json()["Response"]["Error"]["Code"] == "AuthFailure.SignatureFailure", failure.text
        tencent = self.tencent({"ImageBase64": self.b64()})
        assert tencent.status_code == 200 and "Error" not in tencent.json()["Response"], tencent.text
        return self.aliyun("RecognizeGeneral", self.png)

    def hosted_root_404(self) -> requests.Response:
        unknown = self.aliyun("RecognizeHandwriting", self.png)
        assert unknown.status_code == 404 and unknown.json()["Code"] == "InvalidAction.NotFound", unknown.text
        return self.d.post("/", data=b"{}")  # neither header, with ocrd's token: not a hosted-API request

    def baidu_token(self, method: str, secret: str = BAIDU_SECRET_KEY, grant: str = "client_credentials"):
        params = {"grant_type": grant, "client_id": BAIDU_API_KEY, "client_secret": secret}
        if method == "GET":
            return self.d.get("/oauth/2.0/token", token=False, params=params)
        return self.d.post("/oauth/2.0/token", token=False, data=params)

    def baidu_ocr(self) -> requests.Response:
        token = self.baidu_token("GET").json()["access_token"]
        path = "/rest/2.0/ocr/v1/{}?access_token=" + token
        unknown = self.d.post(path.format("handwriting"), token=False, data={"image": self.b64()})
        assert unknown.json()["error_code"] == 216102, unknown.text
        return self.d.post(path.format("general_basic"), token=False, data={"image": self.b64()})

    def umi_ocr(self) -> requests.Response:
        failure = self.d.post("/api/ocr", json={"base64": "not base64 at all!"})
        assert failure.json()["code"] == 300, failure.text
        return self.d.post("/api/ocr", json={"base64": self.b64()})

    def table(self) -> dict[tuple[str, str, str], Callable[[], object]]:
        d = self
        job = "/api/jobs/{job_id}"
        result = "/api/results/{result_id}"
        line = f"{result}/pages/{{page}}/lines/{{line}}"
        big = PNG_HEAD + bytes(MAX_UPLOAD_BYTES)

        def with_full_queue(call: Callable[[], object]) -> Callable[[], object]:
            def run() -> object:
                with full_queue(d.d, d.pdf):
                    return call()

            return run

        return {
            ("POST", "/ocr", "200"): lambda: d.d.post("/ocr", **d.files()),
            ("POST", "/ocr", "400"): lambda: d.d.post("/ocr", files={"picture": ("a.png", d.png)}),
            ("POST", "/ocr", "401"): lambda: d.d.post("/ocr", token=False, **d.files()),
            ("POST", "/ocr", "413"): lambda: d.d.post("/ocr", **d.files(big)),
            ("POST", "/ocr", "415"): lambda: d.d.post("/ocr", **d.files(b"plain words")),
            ("POST", "/ocr", "500"): lambda: upload_while_killing_the_worker(d.d, d.pdf),
            ("POST", "/ocr", "503"): with_full_queue(lambda: d.d.post("/ocr", **d.files())),
            ("POST", "/api/jobs", "202"): lambda: d.d.post("/api/jobs", **d.files()),
            ("POST", "/api/jobs", "400"): lambda: d.d.post("/api/jobs", **d.files(b"")),
            ("POST", "/api/jobs", "401"): lambda: d.d.post("/api/jobs", token=False, **d.files()),
            ("POST", "/api/jobs", "413"): lambda: d.d.post("/api/jobs", **d.files(big)),
            ("POST", "/api/jobs", "415"): lambda: d.d.post("/api/jobs", **d.files(b"PK\x03\x04" + bytes(40))),
            ("POST", "/api/jobs", "503"): with_full_queue(lambda: d.d.post("/api/jobs", **d.files())),
            ("GET", job, "200"): lambda: d.d.get(f"/api/jobs/{d.done_job}"),
            ("GET", job, "400"): lambda: d.d.get(f"/api/jobs/{d.done_job}?wait=later"),
            ("GET", job, "401"): lambda: d.d.get(f"/api/jobs/{d.done_job}", token=False),
            ("GET", job, "404"): lambda: d.d.get("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA"),
            ("DELETE", job, "200"): lambda: d.d.delete(f"/api/jobs/{d.fresh_job()}"),
            ("DELETE", job, "401"): lambda: d.d.delete(f"/api/jobs/{d.done_job}", token=False),
            ("DELETE", job, "404"): lambda: d.d.delete("/api/jobs/AAAAAAAAAAAAAAAAAAAAAA"),
            **{
                ("GET", f"{job}/{name}", status): call
                for name in ("result.json", "result.txt")
                for status, call in {
                    "200": lambda name=name: d.d.get(f"/api/jobs/{d.done_job}/{name}?download"),
                    "400": lambda name=name: d.d.get(f"/api/jobs/{d.failed_job}/{name}"),
                    "401": lambda name=name: d.d.get(f"/api/jobs/{d.done_job}/{name}", token=False),
                    "404": lambda name=name: d.d.get(f"/api/jobs/AAAAAAAAAAAAAAAAAAAAAA/{name}"),
                    "409": lambda name=name: d.while_pending(name),
                }.items()
            },
            ("GET", f"{job}/result.pdf", "200"): lambda: d.d.get(f"/api/jobs/{d.pdf_job}/result.pdf"),
            ("GET", f"{job}/result.pdf", "400"): lambda: d.d.get(f"/api/jobs/{d.failed_job}/result.pdf"),
            ("GET", f"{job}/result.pdf", "401"): lambda: d.d.get(f"/api/jobs/{d.pdf_job}/result.pdf", token=False),
            ("GET", f"{job}/result.pdf", "404"): lambda: d.d.get(f"/api/jobs/{d.done_job}/result.pdf"),
            ("GET", f"{job}/result.pdf", "409"): lambda: d.while_pending("result.pdf"),
            ("GET", f"{job}/pages/{{page}}/image", "200"): lambda: d.d.get(f"/api/jobs/{d.done_job}/pages/0/image"),
            ("GET", f"{job}/pages/{{page}}/image", "400"): lambda: d.d.get(f"/api/jobs/{d.done_job}/pages/one/image"),
            ("GET", f"{job}/pages/{{page}}/image", "401"): lambda: d.d.get(
                f"/api/jobs/{d.done_job}/pages/0/image", token=False
            ),
            ("GET", f"{job}/pages/{{page}}/image", "404"): lambda: d.d.get(f"/api/jobs/{d.done_job}/pages/9/image"),
            ("GET", f"{job}/pages/{{page}}/image", "409"): lambda: d.while_pending("pages/0/image"),
            ("GET", "/api/results", "200"): lambda: d.d.get("/api/results?q=total&per_page=5"),
            ("GET", "/api/results", "400"): lambda: d.d.get("/api/results?per_page=0"),
            ("GET", "/api/results", "401"): lambda: d.d.get("/api/results", token=False),
            ("GET", result, "200"): lambda: d.d.get(f"/api/results/{d.done_result}"),
            ("GET", result, "401"): lambda: d.d.get(f"/api/results/{d.done_result}", token=False),
            ("GET", result, "404"): lambda: d.d.get("/api/results/AAAAAAAAAAAAAAAAAAAAAA"),
            ("GET", f"{result}/pages/{{page}}/image", "200"): lambda: d.d.get(
                f"/api/results/{d.done_result}/pages/0/image"
            ),
            ("GET", f"{result}/pages/{{page}}/image", "400"): lambda: d.d.get(
                f"/api/results/{d.done_result}/pages/one/image"
            ),
            ("GET", f"{result}/pages/{{page}}/image", "401"): lambda: d.d.get(
                f"/api/results/{d.done_result}/pages/0/image", token=False
            ),
            ("GET", f"{result}/pages/{{page}}/image", "404"): lambda: d.d.get(
                f"/api/results/{d.done_result}/pages/9/image"
            ),
            ("PUT", line, "200"): d.same_text,
            ("PUT", line, "400"): lambda: d.d.request(
                "PUT", f"/api/results/{d.done_result}/pages/0/lines/0", json={"text": 5}
            ),
            ("PUT", line, "401"): lambda: d.d.request(
                "PUT", f"/api/results/{d.done_result}/pages/0/lines/0", token=False, json={"text": "x"}
            ),
            ("PUT", line, "404"): lambda: d.d.request(
                "PUT", "/api/results/AAAAAAAAAAAAAAAAAAAAAA/pages/0/lines/0", json={"text": "x"}
            ),
            ("PUT", line, "409"): lambda: d.d.request(
                "PUT", f"/api/results/{d.failed_result}/pages/0/lines/0", json={"text": "x"}
            ),
            ("GET", "/api/info", "200"): lambda: d.d.get("/api/info"),
            ("GET", "/api/info", "401"): lambda: d.d.get("/api/info", token=False),
            ("GET", "/api/status", "200"): lambda: d.d.get("/api/status"),
            ("GET", "/api/status", "401"): lambda: d.d.get("/api/status", token=False),
            ("GET", "/healthz", "200"): lambda: d.d.get("/healthz", token=False),
            ("GET", "/readyz", "200"): lambda: d.d.get("/readyz", token=False),
            ("GET", "/readyz", "503"): d.unreachable_inbox,
            ("GET", "/metrics", "200"): lambda: d.d.get("/metrics", token=False),
            ("GET", "/openapi.json", "200"): lambda: d.d.get("/openapi.json", token=False),
            ("POST", "/", "200"): d.hosted_root_200,
            ("POST", "/", "400"): lambda: d.aliyun("RecognizeGeneral", d.png, secret="not-the-secret"),
            ("POST", "/", "401"): lambda: d.d.post("/", token=False, data=b"{}"),
            ("POST", "/", "404"): d.hosted_root_404,
            ("POST", "/", "413"): lambda: d.aliyun("RecognizeGeneral", big),
            ("POST", "/", "415"): lambda: d.aliyun("RecognizeGeneral", b"plain words"),
            **{
                (method, "/oauth/2.0/token", status): call
                for method in ("GET", "POST")
                for status, call in {
                    "200": lambda method=method: d.baidu_token(method),
                    "400": lambda method=method: d.baidu_token(method, grant="password"),
                    "401": lambda method=method: d.baidu_token(method, secret="not-the-secret"),
                }.items()
            },
            ("POST", "/rest/2.0/ocr/v1/{endpoint}", "200"): d.baidu_ocr,
            ("POST", "/api/ocr", "200"): d.umi_ocr,
            ("POST", "/api/ocr", "401"): lambda: d.d.post("/api/ocr", token=False, json={"base64": d.b64()}),
            ("GET", "/api/ocr/get_options", "200"): lambda: d.d.get("/api/ocr/get_options"),
            ("GET", "/api/ocr/get_options", "401"): lambda: d.d.get("/api/ocr/get_options", token=False),
        }


PNG_HEAD = b"\x89PNG\r\n\x1a\n"


@pytest.mark.slow
def test_every_documented_response_is_produced_by_the_real_server(
    web_daemon: WebDaemon, document: dict, tmp_path: Path
) -> None:
    contract = web_daemon.openapi()
    documented = contract.documented()
    helper = Exercises(web_daemon, tmp_path)
    exercises = helper.table()
    assert set(exercises) == documented, (
        f"no exercise for {sorted(documented - set(exercises))}; not documented: {sorted(set(exercises) - documented)}"
    )
    for key in sorted(documented - contract.seen):
        answer = exercises[key]()  # validated against the document on arrival
        got = f"{answer.status_code} {answer.text[:300]}" if isinstance(answer, requests.Response) else answer
        assert key in contract.seen, f"{key}: the request did not produce this response but {got}"
    assert contract.seen >= documented
