"""`ocrd check-config` and `ocrd run` from the command line: exit codes and messages a user can act on."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon_support import REPO, Daemon, Sample, drop, lines_for, sidecars, text_pdf_bytes, wait_until


def ocrd(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ocrd.daemon", *args],
        capture_output=True,
        text=True,
        cwd=str(REPO),
        env={**os.environ, "PYTHONPATH": str(REPO), "OCRD_CONFIG": "none", **(env or {})},
        timeout=60,
    )


def test_check_config_accepts_the_example_and_prints_the_effective_settings() -> None:
    result = ocrd("check-config", "config/ocrd.toml")
    assert result.returncode == 0, result.stderr
    assert "configuration is valid" in result.stdout
    assert "inbox 'scans': /srv/ocr/inbox -> /srv/ocr/outbox" in result.stdout
    assert "watch: poll" in result.stdout
    assert "does not exist (yet)" in result.stderr  # folder warnings do not make it invalid


def test_check_config_names_the_file_and_key_and_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "ocrd.toml"
    bad.write_text("[[inbox]]\npath = 'in'\noutbox = 'out'\nsettle = -1\n")
    result = ocrd("check-config", str(bad))
    assert result.returncode == 2
    assert result.stderr.strip() == f"ocrd: {bad}: [[inbox]] #1 settle must be a number of seconds ≥ 0 (got -1)"


def test_run_refuses_a_bad_configuration_before_starting(tmp_path: Path) -> None:
    bad = tmp_path / "ocrd.toml"
    bad.write_text("[daemon]\ngrace = 10\n")
    result = ocrd("run", "--config", str(bad))
    assert result.returncode == 2
    assert f"{bad}: unknown key 'grace' in [daemon] (did you mean 'grace_period'?)" in result.stderr
    result = ocrd("run", "--inbox", str(tmp_path))
    assert result.returncode == 2 and "--inbox needs --outbox" in result.stderr
    result = ocrd("run", "--config", str(tmp_path / "missing.toml"))
    assert result.returncode == 2 and "configuration file not found" in result.stderr


@pytest.mark.slow
def test_run_with_flags_only_needs_no_configuration_file(tmp_path: Path) -> None:
    inbox, outbox = tmp_path / "scans", tmp_path / "text"
    inbox.mkdir()
    args = ["--inbox", str(inbox), "--outbox", str(outbox), "--workers", "1", "--threads", "1"]
    args += ["--web", "off", "--settle", "0.2", "--log-level", "info"]
    daemon = Daemon(args, tmp_path / "daemon.log").start().wait_ready()
    try:
        drop(inbox, Sample("合同.PDF", text_pdf_bytes(lines_for(4)), lines_for(4)))
        (inbox / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
        wait_until(lambda: len(daemon.events("file")) == 2, timeout=60)
    finally:
        assert daemon.stop() == 0
    assert "合同.PDF" in sidecars(outbox)
    assert (tmp_path / "done" / "合同.PDF").exists(), "done/ defaults to a sibling of the inbox"
    assert (tmp_path / "failed" / "broken.png.error.json").exists(), "failed/ too"
