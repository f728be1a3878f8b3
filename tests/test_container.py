"""The container image, built from this checkout on the offline base and run with podman.

`make image BASE=offline` runs as a user runs it: the base from Debian packages (mmdebstrap,
podman import), the wheelhouse of this checkout, derived models built inside the image. The
container then reads real files from mounted folders, answers POST /ocr with its token and stops
on SIGTERM without losing the file in progress. podman runs with the runc runtime and explicit
limits: crun fails on these machines' hybrid cgroup setup.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import secrets
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
import yaml

from ocrd import __version__, samples
from tests import container_build
from tests.paths import REPO
from tests.textmatch import assert_lines_read
from tests.web_server import free_port

pytestmark = pytest.mark.slow

OCRD_UID = 617
PODMAN = ["podman", "--runtime", "runc"]
LIMITS = ["--ulimit", "nofile=4096:4096", "--ulimit", "nproc=4096:4096"]
ENGLISH = ["Invoice No. 12345678", "Total CNY 1,271.54"]
READY_TIMEOUT = 300.0
RESULT_TIMEOUT = 300.0


def podman(*args: str, timeout: float = 120, check: bool = True) -> subprocess.CompletedProcess[str]:
    if shutil.which("podman") is None:
        pytest.fail(
            "podman is missing: install the Debian packages podman, runc and mmdebstrap (scripts/test-packages.txt)"
        )
    result = subprocess.run([*PODMAN, *args], capture_output=True, text=True, timeout=timeout)
    if check:
        assert result.returncode == 0, f"podman {' '.join(args)}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def image() -> str:
    """`make image BASE=offline` with the wheelhouse `make dist` + deploy/wheelhouse.sh built this session
    (started when the tests were collected: tests/container_build.py)."""
    if shutil.which("podman") is None:
        pytest.fail(
            "podman is missing: install the Debian packages podman, runc and mmdebstrap (scripts/test-packages.txt)"
        )
    return container_build.image()


@dataclass
class Running:
    name: str
    url: str
    token: str
    data: Path

    def logs(self) -> str:
        result = podman("logs", self.name, check=False)
        return result.stdout + result.stderr


def folders(root: Path) -> Path:
    data = root / "data"
    for name in ("inbox", "outbox", "done", "failed"):
        (data / name).mkdir(parents=True)
    (root / "state").mkdir()
    for path in (root, data, *data.iterdir(), root / "state"):
        # The image's ocrd user owns what it writes, as the same uid would on a network share.
        subprocess.run(["chown", f"{OCRD_UID}:{OCRD_UID}", str(path)], check=True)
    return data


@contextlib.contextmanager
def running(image: str, root: Path, *env: str) -> Iterator[Running]:
    data = folders(root)
    port = free_port()
    name = f"ocrd-test-{secrets.token_hex(4)}"
    token = secrets.token_hex(12)
    podman(
        "run",
        "--detach",
        "--name",
        name,
        *LIMITS,
        "--read-only",
        "--publish",
        f"127.0.0.1:{port}:8080",
        "--env",
        f"OCRD_WEB__TOKEN={token}",
        "--env",
        "OCRD_INBOX_DEFAULTS__SETTLE=0.5",
        *(item for pair in (("--env", value) for value in env) for item in pair),
        "--volume",
        f"{data}:/data",
        "--volume",
        f"{root / 'state'}:/var/lib/ocrd",
        image,
    )
    container = Running(name=name, url=f"http://127.0.0.1:{port}", token=token, data=data)
    try:
        wait_ready(container)
        yield container
    finally:
        podman("rm", "--force", "--time", "0", name, check=False)


def wait_ready(container: Running) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        with contextlib.suppress(requests.ConnectionError):
            if requests.get(container.url + "/readyz", timeout=5).status_code == 200:
                return
        state = podman("inspect", "--format", "{{.State.Status}}", container.name, check=False).stdout.strip()
        if state == "exited":
            raise AssertionError(f"the container exited before it was ready:\n{container.logs()}")
        time.sleep(0.5)
    raise AssertionError(f"the container was not ready in {READY_TIMEOUT:g} s:\n{container.logs()}")


def drop(source: Path, inbox: Path) -> Path:
    """Copy under a dot name, then rename: the daemon sees the file only when it is complete."""
    partial = inbox / f".{source.name}.part"
    shutil.copyfile(source, partial)
    target = inbox / source.name
    partial.rename(target)
    return target


def wait_for(predicate: Callable[[], bool], what: str, container: Running, timeout: float = RESULT_TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError(f"{what} did not happen in {timeout:g} s:\n{container.logs()[-4000:]}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_image_is_labelled_runs_as_non_root_and_has_its_models_built_in(image: str) -> None:
    labels = json.loads(podman("image", "inspect", "--format", "{{json .Labels}}", image).stdout)
    assert labels["org.opencontainers.image.version"] == __version__
    assert labels["org.opencontainers.image.licenses"] == "Apache-2.0"
    assert labels["org.opencontainers.image.source"]
    assert "Apache-2.0" in labels["io.ocrd.model-licenses"]
    config = json.loads(podman("image", "inspect", "--format", "{{json .Config}}", image).stdout)
    assert config["User"] == "ocrd"
    assert config["StopSignal"] in ("SIGTERM", "15")
    assert "/healthz" in " ".join(
        json.loads(podman("image", "inspect", "--format", "{{json .HealthCheck}}", image).stdout)["Test"]
    )
    # The derived models are in the image: `ocrd models` finds them cached on a read-only root.
    probe = podman(
        "run", "--rm", *LIMITS, "--read-only", "--entrypoint", "/bin/sh", image,
        "-c", "id -u; ls /opt/ocrd/cache/models | wc -l; /opt/ocrd/bin/ocrd models --json",
    )  # fmt: skip
    uid, built, listing = probe.stdout.split("\n", 2)
    assert int(uid) == OCRD_UID
    assert int(built) >= 2, probe.stdout
    assert json.loads(listing)["licence"] == "Apache-2.0"


def test_a_dropped_file_is_read_into_the_outbox_and_post_ocr_needs_the_token(image: str, tmp_path: Path) -> None:
    page = samples.make_sample_page_png(tmp_path / "total.png", ENGLISH).path
    with running(image, tmp_path / "run") as container:
        drop(page, container.data / "inbox")
        sidecar = container.data / "outbox" / "total.png.json"
        wait_for(sidecar.exists, "the sidecar in the mounted outbox", container)
        wait_for((container.data / "done" / "total.png").exists, "the original in done/", container)
        result = json.loads(sidecar.read_text(encoding="utf-8"))
        assert_lines_read([line["text"] for page in result["pages"] for line in page["lines"]], ENGLISH)
        assert (container.data / "outbox" / "total.png.txt").stat().st_uid == OCRD_UID

        answer = requests.post(
            container.url + "/ocr",
            files={"image": ("total.png", page.read_bytes())},
            headers={"Authorization": f"Bearer {container.token}"},
            timeout=120,
        )
        assert answer.status_code == 200, answer.text
        assert_lines_read([line["text"] for line in answer.json()["data"]], ENGLISH)
        refused = requests.post(container.url + "/ocr", files={"image": ("total.png", page.read_bytes())}, timeout=60)
        assert refused.status_code == 401

        # Every process of the container runs as the ocrd user, not root.
        users = podman("top", container.name, "user").stdout.split()[1:]
        assert users and set(users) == {"ocrd"}, users
        health = podman("healthcheck", "run", container.name, check=False)
        assert health.returncode == 0, health.stdout + health.stderr


def test_sigterm_lets_the_file_in_progress_finish_or_go_back_never_lost(image: str, tmp_path: Path) -> None:
    document = samples.make_multipage_pdf(tmp_path / "contract.pdf", 5).path
    digest = sha256(document)
    with running(image, tmp_path / "run") as container:
        inbox = container.data / "inbox"
        drop(document, inbox)
        # Claimed: renamed into the inbox's processing folder by a worker's job.
        wait_for(lambda: not (inbox / "contract.pdf").exists(), "the claim of contract.pdf", container)
        stopped = podman("stop", "--time", "90", container.name, timeout=150)
        assert stopped.returncode == 0
        code = podman("inspect", "--format", "{{.State.ExitCode}}", container.name).stdout.strip()
        logs = container.logs()
        assert code == "0", logs[-3000:]
        done = container.data / "done" / "contract.pdf"
        back = inbox / "contract.pdf"
        sidecar = container.data / "outbox" / "contract.pdf.json"
        assert done.exists() != back.exists(), "the original must be in exactly one place"
        if done.exists():
            assert sha256(done) == digest and sidecar.exists()
            assert len(json.loads(sidecar.read_text(encoding="utf-8"))["pages"]) == 5
        else:
            assert sha256(back) == digest and not sidecar.exists()
        assert not list((container.data / "failed").iterdir())


def test_without_a_token_the_container_stops_at_once_and_says_why(image: str, tmp_path: Path) -> None:
    data = folders(tmp_path)
    result = podman(
        "run", "--rm", *LIMITS, "--read-only", "--volume", f"{data}:/data", image,
        timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode != 0
    assert "[web] token" in result.stdout + result.stderr


def test_the_compose_example_mounts_the_folders_and_prometheus_scrapes_ocrd() -> None:
    compose = yaml.safe_load((REPO / "deploy" / "container" / "compose.yaml").read_text(encoding="utf-8"))
    ocrd = compose["services"]["ocrd"]
    assert ocrd["read_only"] is True
    assert any(volume.endswith(":/data") for volume in ocrd["volumes"])
    assert "OCRD_WEB__TOKEN" in ocrd["environment"]
    grace = int(ocrd["stop_grace_period"].rstrip("s"))
    assert grace > 30, "longer than the daemon's default grace period"
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: install the Debian package prometheus"
    config = REPO / "deploy" / "container" / "prometheus.yml"
    scrape = yaml.safe_load(config.read_text(encoding="utf-8"))["scrape_configs"][0]
    assert scrape["static_configs"][0]["targets"] == ["ocrd:8080"]
    # promtool checks the file as Prometheus would load it; the rule file is mounted beside it.
    rules = REPO / "deploy" / "prometheus" / "ocrd-alerts.yml"
    checked = subprocess.run(
        [promtool, "check", "config", "--syntax-only", str(config)], capture_output=True, text=True, timeout=60
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert subprocess.run([promtool, "check", "rules", str(rules)], capture_output=True, timeout=60).returncode == 0
