"""The daemon refuses to serve documents to the network without a token unless told so explicitly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from ocrd.config_loader import CliOverrides, load_config
from ocrd.config_web import is_loopback
from ocrd.errors import ConfigError
from tests.paths import REPO


@pytest.mark.parametrize("host", ["127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost"])
def test_loopback_hosts_need_no_token(host: str) -> None:
    assert is_loopback(host)
    config = load_config(env={"OCRD_WEB__HOST": host}, search=False)
    assert config.web.auth == "none"


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.20", "ocr.example.internal"])
def test_other_hosts_without_auth_are_refused_with_what_to_do(host: str) -> None:
    assert not is_loopback(host)
    with pytest.raises(ConfigError, match=r"accepts connections from other machines.*auth = \"token\""):
        load_config(env={"OCRD_WEB__HOST": host}, search=False)


def test_a_token_or_an_explicit_none_allows_any_host(tmp_path: Path) -> None:
    with_token = load_config(
        env={"OCRD_WEB__AUTH": "token", "OCRD_WEB__TOKEN": "s3cret"}, cli=CliOverrides(web="0.0.0.0:9000"), search=False
    )
    assert (with_token.web.host, with_token.web.auth) == ("0.0.0.0", "token")
    file = tmp_path / "ocrd.toml"
    file.write_text('[web]\nhost = "0.0.0.0"\nauth = "none"  # a reverse proxy checks users\n', encoding="utf-8")
    explicit = load_config(file, env={}, search=False)
    assert (explicit.web.host, explicit.web.auth) == ("0.0.0.0", "none")
    # The web interface switched off exposes nothing.
    assert not load_config(env={"OCRD_WEB__HOST": "0.0.0.0", "OCRD_WEB__ENABLED": "false"}, search=False).web.enabled


def test_ocrd_run_refuses_to_start_and_says_why(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ocrd.cli",
            "run",
            "--inbox",
            str(tmp_path / "in"),
            "--outbox",
            str(tmp_path / "out"),
            "--web",
            "0.0.0.0:0",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
        check=False,
    )
    assert result.returncode == 2, result.stderr
    assert "no authentication" in result.stderr and "OCRD_WEB__TOKEN" in result.stderr
    assert not (tmp_path / "in").exists()  # refused before touching anything
