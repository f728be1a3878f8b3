"""The Ansible role's cluster support, cheaply: no role run, only its templates and its preflight.

The role's ocrd.toml template is rendered with cluster variables by one small playbook on localhost
(the role's defaults and vars loaded as files), and the result is loaded with ocrd's own config
loader; the Redis settings it writes are fed to a real redis-server. The preflight runs through
site.yml (--check, tag ocrd_preflight) to show that it refuses to install Redis without a password.
The full role run is in test_deploy_ansible.py (slow).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from ocrd.config_loader import load_config
from tests.paths import REPO

ANSIBLE_DIR = REPO / "deploy" / "ansible"
ROLE = ANSIBLE_DIR / "roles" / "ocrd"
VENV_BIN = Path(sys.executable).parent
REDIS_SERVER = "/usr/bin/redis-server"
# Characters that must survive the trip into a URL (quoted) and into redis.conf (escaped).
PASSWORD = 'p@ss/wo:rd "q" \\ 9f3'

pytestmark = pytest.mark.timeout(120)


def tool(name: str) -> str:
    path = VENV_BIN / name
    if not path.exists():
        pytest.fail(f"{name} is missing from {VENV_BIN}: pip install -e '.[test]' (it brings ansible-core)")
    return str(path)


def tool_env(tmp: Path) -> dict[str, str]:
    env = {**os.environ, "PATH": f"{VENV_BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}"}
    env["ANSIBLE_CONFIG"] = str(ANSIBLE_DIR / "ansible.cfg")
    env["ANSIBLE_ROLES_PATH"] = str(ANSIBLE_DIR / "roles")
    env["ANSIBLE_NOCOLOR"] = "1"
    env["ANSIBLE_LOCAL_TEMP"] = env["ANSIBLE_REMOTE_TEMP"] = str(tmp / "ansible-tmp")
    return env


def write_inventory(folder: Path) -> Path:
    inventory = folder / "inventory.yml"
    inventory.write_text(
        "ocrd_servers:\n  hosts:\n    localhost:\n"
        "      ansible_connection: local\n"
        f"      ansible_python_interpreter: {sys.executable}\n"
        "      ansible_become: false\n"
    )
    return inventory


def playbook(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("ansible-playbook"), "-i", str(write_inventory(folder)), *args],
        cwd=ANSIBLE_DIR,
        env=tool_env(folder),
        capture_output=True,
        text=True,
        timeout=90,
    )


# Each case: the variables of one server, rendered into <name>.toml.
CASES: dict[str, dict] = {
    "single": {},
    "existing": {
        "ocrd_cluster_url": "redis://10.0.0.5:6379/2",
        "ocrd_cluster_host": "ocr-07",
        "ocrd_cluster_roles": ["work"],
        "ocrd_cluster_prefix": "acme",
        "ocrd_config_extra": {"cluster": {"claim_idle": 120.0}},
    },
    "installed": {
        "ocrd_cluster_redis_install": True,
        "ocrd_cluster_redis_host": "localhost",
        "ocrd_cluster_redis_bind": "127.0.0.1 ::1",
        "ocrd_cluster_redis_password": PASSWORD,
    },
}


@pytest.fixture(scope="module")
def rendered() -> Iterator[Path]:
    """One playbook run renders every case's ocrd.toml and the installed case's Redis settings."""
    folder = Path(tempfile.mkdtemp(prefix="ocrd-cluster-ansible-", dir="/tmp"))
    tasks = []
    for name, variables in CASES.items():
        tasks.append(
            {
                "name": f"Render {name}",
                "ansible.builtin.template": {
                    "src": str(ROLE / "templates" / "ocrd.toml.j2"),
                    "dest": f"{folder}/{name}.toml",
                    "mode": "0600",
                },
                "vars": variables,
            }
        )
    tasks.append(
        {
            "name": "Render the Redis settings",
            "ansible.builtin.template": {
                "src": str(ROLE / "templates" / "redis-ocrd.conf.j2"),
                "dest": f"{folder}/redis-ocrd.conf",
                "mode": "0600",
            },
            "vars": CASES["installed"],
        }
    )
    play = {
        "name": "Render the role's templates",
        "hosts": "localhost",
        "gather_facts": False,
        "vars_files": [str(ROLE / "defaults" / "main.yml"), str(ROLE / "vars" / "main.yml")],
        # configure.yml fills in done/ and failed/ before the template is written.
        "vars": {
            "__ocrd_inboxes": [
                {"name": "scans", "path": "/srv/in", "outbox": "/srv/out", "done": "/srv/done", "failed": "/srv/failed"}
            ]
        },
        "tasks": tasks,
    }
    (folder / "render.yml").write_text(json.dumps([play]))
    result = playbook(folder, str(folder / "render.yml"))
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    try:
        yield folder
    finally:
        subprocess.run(["rm", "-rf", str(folder)], check=False)


def test_one_server_gets_no_cluster_section(rendered: Path) -> None:
    assert "[cluster]" not in (rendered / "single.toml").read_text()
    assert load_config(rendered / "single.toml", env={}, search=False).cluster is None


def test_an_existing_redis_is_written_as_a_valid_cluster_section(rendered: Path) -> None:
    cluster = load_config(rendered / "existing.toml", env={}, search=False).cluster
    assert cluster is not None
    assert cluster.url == "redis://10.0.0.5:6379/2"
    assert (cluster.host, cluster.roles, cluster.prefix, cluster.claim_idle) == ("ocr-07", ("work",), "acme", 120.0)


def test_the_installed_redis_gives_the_url_with_the_quoted_password(rendered: Path) -> None:
    cluster = load_config(rendered / "installed.toml", env={}, search=False).cluster
    assert cluster is not None
    assert cluster.host == "localhost" and cluster.roles == ("watch", "work", "web") and cluster.prefix == "ocrd"
    parts = urlsplit(cluster.url)
    assert (parts.scheme, parts.hostname, parts.port, parts.path) == ("redis", "127.0.0.1", 6379, "/0")
    assert unquote(parts.password or "") == PASSWORD  # redis-py unquotes it the same way


def test_the_redis_settings_start_a_redis_with_password_and_aof(rendered: Path) -> None:
    """The rendered include is read by a real redis-server (port and folder overridden for the test)."""
    import redis

    from tests.web_server import free_port

    if not Path(REDIS_SERVER).exists():
        pytest.fail("redis-server is missing: install the Debian package redis-server (scripts/test-packages.txt)")
    text = (rendered / "redis-ocrd.conf").read_text()
    assert "bind 127.0.0.1 ::1\n" in text and "appendonly yes\n" in text and "port 6379\n" in text
    port = free_port()
    data = rendered / "redis-data"
    data.mkdir()
    command = [REDIS_SERVER, str(rendered / "redis-ocrd.conf"), "--port", str(port), "--dir", str(data)]
    command += ["--bind", "127.0.0.1", "--save", ""]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=5)
        deadline = time.monotonic() + 15
        while True:
            with contextlib.suppress(redis.ConnectionError):
                assert client.ping()
                break
            assert server.poll() is None, "redis-server refused the rendered settings"
            assert time.monotonic() < deadline, "redis-server did not answer"
            time.sleep(0.05)
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, socket_timeout=5).set("k", "v")
    finally:
        server.terminate()
        server.wait(15)


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        (
            {
                "ocrd_cluster_redis_install": True,
                "ocrd_cluster_redis_host": "localhost",
                "ocrd_cluster_redis_bind": "10.0.0.5",
            },
            "ocrd_cluster_redis_install is on but ocrd_cluster_redis_password is empty",
        ),
        (
            {
                "ocrd_cluster_redis_install": True,
                "ocrd_cluster_redis_password": "x" * 32,
                "ocrd_cluster_redis_host": "redis-01",
            },
            'set ocrd_cluster_redis_host to the inventory host that gets redis-server (got "redis-01")',
        ),
        ({"ocrd_cluster_url": "http://10.0.0.5:6379"}, "ocrd_cluster_url must be redis://"),
        (
            {"ocrd_cluster_url": "redis://10.0.0.5:6379/0", "ocrd_cluster_roles": ["work", "ocr"]},
            "value of ocrd_cluster_roles must be one or more of: watch, work, web. Got no match for: ocr",
        ),
        # Good cluster settings pass: the play stops at the next check (no install source given).
        (
            {
                "ocrd_cluster_redis_install": True,
                "ocrd_cluster_redis_host": "localhost",
                "ocrd_cluster_redis_bind": "10.0.0.5",
                "ocrd_cluster_redis_password": "x" * 32,
            },
            "Set ocrd_install_source for localhost",
        ),
    ],
    ids=["no-password", "unknown-redis-host", "not-redis", "unknown-role", "valid"],
)
def test_preflight_checks_the_cluster_variables(variables: dict, message: str, tmp_path: Path) -> None:
    (tmp_path / "vars.json").write_text(json.dumps({"ocrd_manage_service": False, **variables}))
    result = playbook(tmp_path, "site.yml", "--check", "--tags", "ocrd_preflight", "-e", f"@{tmp_path / 'vars.json'}")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output[-4000:]
    assert message in output, output[-4000:]
    assert "x" * 32 not in output  # the password is never printed
