"""deploy/wheelhouse.sh refuses what it cannot build, before downloading anything.

A full build (for this machine's architecture) and the offline install from it run in
test_deploy_ansible.py; the aarch64 build is exercised by deploy/test-arm64.sh.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO

SCRIPT = REPO / "deploy" / "wheelhouse.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "--arch must be x86_64 or aarch64 (got sparc)"),
        (["--python", "3.9"], "--python must be 3.11 or newer, as X.Y (got 3.9)"),
        (["--glibc", "2.12"], "--glibc must be 2.17 or newer, written like 2.28 (got 2.12)"),
        (["--colour", "blue"], "unknown argument --colour"),
    ],
)
def test_refuses_targets_it_cannot_build(args: list[str], message: str) -> None:
    result = run(*args)
    assert result.returncode == 2
    assert message in result.stderr


def test_never_empties_a_folder_that_is_not_a_wheelhouse(tmp_path: Path) -> None:
    keep = tmp_path / "important.txt"
    keep.write_text("not a wheel")
    result = run("--arch", "aarch64", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "is not a wheelhouse (no wheelhouse.json)" in result.stderr
    assert keep.read_text() == "not a wheel"
