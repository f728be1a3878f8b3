"""The real daemon with its web interface, started once for all web tests.

``ocrd run`` in a subprocess (real worker processes, the real engine, a real inbox) on a free
loopback port, configured small so the limits can be reached by tests: one worker, two
uploads may wait, 3 MB uploads, documents of at most 6 pages, and token authentication so
both the token and the sign-in page are exercised.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from jsonschema import Draft202012Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.daemon_engines import Gate
from tests.paths import REPO

TOKEN = "web-test-token-5d1c"
MAX_UPLOAD_BYTES = 3_000_000
MAX_PAGES = 6
JOB_TTL = 600
START_TIMEOUT = 300.0
# Hosted-API credentials the shared daemon answers (ocrd.web.compat): the vendors' SDKs sign with these.
TENCENT_SECRET_ID = "AKIDocrdTestSecretId0001"
TENCENT_SECRET_KEY = "ocrd-test-tencent-secret-key"
ALIYUN_ACCESS_KEY_ID = "LTAIocrdTestAccessKey"
ALIYUN_ACCESS_KEY_SECRET = "ocrd-test-aliyun-access-key-secret"
BAIDU_API_KEY = "ocrdTestBaiduApiKey"
BAIDU_SECRET_KEY = "ocrd-test-baidu-secret-key"


class OpenApiContract:
    """The server's own /openapi.json, used to check every response the web tests receive.

    ``check`` finds the documented operation for a request, and fails the calling test if the
    status is not documented for it, the Content-Type differs, or a JSON body does not match
    the documented schema. What it saw is kept in ``seen`` so a test can ask which documented
    responses no test has produced yet.
    """

    def __init__(self, document: dict) -> None:
        self.document = document
        resource = Resource.from_contents(document, default_specification=DRAFT202012)
        self.registry = Registry().with_resource(SPEC_URI, resource)
        self.routes = [(template, _template_regex(template)) for template in document["paths"]]
        self.seen: set[tuple[str, str, str]] = set()

    def documented(self) -> set[tuple[str, str, str]]:
        return {
            (method.upper(), template, status)
            for template, item in self.document["paths"].items()
            for method, operation in item.items()
            if method != "parameters"
            for status in operation["responses"]
        }

    def template_for(self, path: str) -> str | None:
        for template, regex in self.routes:
            if regex.fullmatch(path):
                return template
        return None

    def response_spec(self, method: str, template: str, status: int) -> dict | None:
        operation = self.document["paths"][template].get(method.lower())
        if operation is None:
            return None
        spec = operation["responses"].get(str(status))
        if spec is not None and "$ref" in spec:
            spec = self.document["components"]["responses"][spec["$ref"].rsplit("/", 1)[-1]]
        return spec

    def check(self, method: str, path: str, response: requests.Response) -> None:
        template = self.template_for(path.split("?", 1)[0])
        if template is None or method.lower() not in self.document["paths"][template]:
            return  # an undocumented path or method, requested on purpose (the 404/405 tests)
        spec = self.response_spec(method, template, response.status_code)
        where = f"{method} {path} -> {response.status_code}"
        assert spec is not None, f"{where}: status not documented in /openapi.json; body: {response.text[:300]}"
        media = response.headers.get("Content-Type", "").split(";")[0].strip()
        content = spec.get("content", {})
        assert media in content, f"{where}: Content-Type {media!r}, documented: {sorted(content)}"
        schema = content[media].get("schema", {})
        if media == "application/json":
            body = response.json()
            validator = Draft202012Validator(_resolvable(schema), registry=self.registry)
            problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(body)]
            assert not problems, f"{where}: body does not match the documented schema: {problems[:5]}"
        for header in spec.get("headers", {}):
            assert header in response.headers, f"{where}: documented header {header} missing"
        self.seen.add((method.upper(), template, str(response.status_code)))


SPEC_URI = "urn:ocrd:openapi"


def _resolvable(schema: dict) -> dict:
    """Local "#/components/..." references, made to point into the registered document."""
    text = json.dumps(schema).replace('"$ref": "#/', f'"$ref": "{SPEC_URI}#/')
    return json.loads(text)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    return re.compile("".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts))


@dataclass
class WebDaemon:
    url: str
    token: str
    root: Path
    inbox: Path
    outbox: Path
    process: subprocess.Popen[bytes]
    log: Path
    gate: Gate  # holds chosen uploads in the worker until a test releases them

    contract: OpenApiContract | None = None

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def openapi(self) -> OpenApiContract:
        if self.contract is None:
            response = requests.get(self.url + "/openapi.json", timeout=30)
            response.raise_for_status()
            self.contract = OpenApiContract(response.json())
        return self.contract

    def request(self, method: str, path: str, *, token: bool = True, **kwargs) -> requests.Response:
        """A request (with the token unless ``token=False``), its answer checked against /openapi.json."""
        headers = {**(self.auth if token else {}), **kwargs.pop("headers", {})}
        kwargs.setdefault("timeout", 180)
        response = requests.request(method, self.url + path, headers=headers, **kwargs)
        self.openapi().check(method.upper(), path, response)
        return response

    def get(self, path: str, **kwargs) -> requests.Response:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs) -> requests.Response:
        return self.request("POST", path, **kwargs)

    def delete(self, path: str, **kwargs) -> requests.Response:
        return self.request("DELETE", path, **kwargs)

    def submit(self, name: str, content: bytes, *, lang: str | None = None) -> requests.Response:
        data = {"lang": lang} if lang else None
        return self.post("/api/jobs", files={"image": (name, content, "application/octet-stream")}, data=data)

    def wait_job(self, job_id: str, timeout: float = 180.0) -> dict:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            response = self.get(f"/api/jobs/{job_id}?wait=10")
            assert response.status_code == 200, response.text
            job = response.json()["data"]
            if job["status"] != "pending":
                return job
        raise AssertionError(f"job {job_id} still pending after {timeout:g} s")

    def status(self) -> dict:
        response = self.get("/api/status")
        response.raise_for_status()
        return response.json()["data"]

    def wait_idle(self, timeout: float = 120.0) -> None:
        """Until no upload waits and no worker is busy (earlier tests may have left work running)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.status()
            if status["workers"]["busy"] == 0 and status["uploads"]["waiting"] == 0 and status["workers"]["idle"] > 0:
                return
            time.sleep(0.1)
        raise AssertionError(f"the daemon did not become idle: {self.status()['workers']}")

    def log_text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


def held_name(stem: str, suffix: str = ".pdf") -> str:
    """A name no other upload has, so that holding it at the gate holds just this one."""
    return f"{stem}-{next(_held_names)}{suffix}"


_held_names = itertools.count(1)


@contextlib.contextmanager
def held_uploads(daemon: WebDaemon, *names: str) -> Iterator[None]:
    """Uploads with these names are held in the worker until the block ends; the daemon is idle after."""
    daemon.gate.hold(*names)
    try:
        yield
    finally:
        daemon.gate.release(*names)
        daemon.wait_idle()


@contextlib.contextmanager
def full_queue(daemon: WebDaemon, content: bytes) -> Iterator[None]:
    """Three uploads held by the daemon (one in the worker, two waiting: its capacity); removed after."""
    daemon.wait_idle()
    names = [held_name("long") for _ in range(3)]
    with held_uploads(daemon, *names):
        held = [daemon.submit(names[0], content)]
        daemon.gate.wait_started(names[0])  # in the worker, and it stays there: the queue cannot drain
        held += [daemon.submit(name, content) for name in names[1:]]
        try:
            assert [r.status_code for r in held] == [202, 202, 202], [r.text for r in held]
            yield
        finally:
            for response in held:
                if response.status_code == 202:
                    daemon.delete(f"/api/jobs/{response.json()['data']['id']}")


def upload_while_killing_the_worker(daemon: WebDaemon, content: bytes) -> requests.Response:
    """POST /ocr, and kill the worker reading it, on both attempts the daemon makes."""
    daemon.wait_idle()
    name = held_name("crash")
    answer: dict[str, requests.Response] = {}

    def upload() -> None:
        answer["response"] = daemon.post("/ocr", files={"image": (name, content)})

    with held_uploads(daemon, name):
        thread = threading.Thread(target=upload)
        thread.start()
        for attempt in (1, 2):
            os.kill(daemon.gate.wait_started(name, count=attempt), signal.SIGKILL)
        thread.join(timeout=300)
    return answer["response"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def write_config(root: Path) -> Path:
    config = root / "ocrd.toml"
    config.write_text(
        f"""
[daemon]
workers = 1
threads_per_worker = 2
max_queued_uploads = 2
rescan_interval = 2
data_dir = "{root / "data"}"
log_format = "json"

[engine.limits]
max_pages = {MAX_PAGES}

[web]
auth = "token"
token = "{TOKEN}"
max_upload_bytes = {MAX_UPLOAD_BYTES}
job_ttl = {JOB_TTL}

[compat.tencent]
secret_id = "{TENCENT_SECRET_ID}"
secret_key = "{TENCENT_SECRET_KEY}"

[compat.aliyun]
access_key_id = "{ALIYUN_ACCESS_KEY_ID}"
access_key_secret = "{ALIYUN_ACCESS_KEY_SECRET}"

[compat.baidu]
api_key = "{BAIDU_API_KEY}"
secret_key = "{BAIDU_SECRET_KEY}"

[compat.umi]
enabled = true

[[inbox]]
name = "scans"
path = "{root / "inbox"}"
outbox = "{root / "outbox"}"
done = "{root / "done"}"
failed = "{root / "failed"}"
settle = 0.3
""",
        encoding="utf-8",
    )
    return config


def start_daemon(root: Path, extra_env: dict[str, str] | None = None) -> WebDaemon:
    for name in ("inbox", "outbox", "done", "failed", "data"):
        (root / name).mkdir(parents=True, exist_ok=True)
    config = write_config(root)
    port = free_port()
    log = root / "daemon.log"
    gate = Gate(root / "gate")
    env = {key: value for key, value in os.environ.items() if not key.startswith("OCRD_")}
    env.update(gate.env())
    env.update(extra_env or {})
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "ocrd.cli", "run", "--config", str(config), "--web", f"127.0.0.1:{port}"],
            cwd=REPO,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    daemon = WebDaemon(
        url=f"http://127.0.0.1:{port}",
        token=TOKEN,
        root=root,
        inbox=root / "inbox",
        outbox=root / "outbox",
        process=process,
        log=log,
        gate=gate,
    )
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"ocrd run exited with {process.returncode}:\n{daemon.log_text()}")
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(daemon.url + "/readyz", timeout=5).status_code == 200:
                return daemon
        time.sleep(0.2)
    stop_daemon(daemon)
    raise AssertionError(f"ocrd run did not become ready in {START_TIMEOUT:g} s:\n{daemon.log_text()}")


def stop_daemon(daemon: WebDaemon) -> None:
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGTERM)
        try:
            daemon.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait()


_shared: WebDaemon | None = None


def shared_daemon(tmp_path_factory: pytest.TempPathFactory, config: pytest.Config) -> WebDaemon:
    """The one daemon of this test session, started on first use and stopped at the end.

    Each web test module wraps this in its own small fixture: a fixture function imported into
    several modules would be several fixtures, and start several daemons.
    """
    global _shared
    if _shared is None or _shared.process.poll() is not None:
        _shared = start_daemon(tmp_path_factory.mktemp("web-daemon"))
        config.add_cleanup(lambda daemon=_shared: stop_daemon(daemon))
    return _shared
