"""deploy/wheelhouse.sh refuses what it cannot build, before downloading anything, and never leaves half a wheelhouse.

Full builds run elsewhere: around the wheel `make dist` built (--wheel) in test_install_wheel.py, with
the script building ocrd's wheel itself in test_deploy_ansible.py; the aarch64 build is exercised by
deploy/test-arm64.sh.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import REPO

SCRIPT = REPO / "deploy" / "wheelhouse.sh"


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--arch", "sparc"], "--arch must be x86_64 or aarch64 (got sparc)"),
        (["--python", "3.9"], "--python must be 3.11 or newer, as X.Y (got 3.9)"),
        (["--glibc", "2.12"], "--glibc must be 2.17 or newer, written like 2.28 (got 2.12)"),
        (["--colour", "blue"], "unknown argument --colour"),
        (["--wheel", "dist/ocrd-1.0.tar.gz"], "--wheel must be ocrd's wheel, ocrd_daemon-VERSION-py3-none-any.whl"),
        (
            ["--wheel", "/nonexistent/ocrd_daemon-1.0-py3-none-any.whl"],
            "--wheel /nonexistent/ocrd_daemon-1.0-py3-none-any.whl does not exist; build it with make dist",
        ),
    ],
)
def test_refuses_targets_it_cannot_build(args: list[str], message: str, tmp_path: Path) -> None:
    result = run("--out", str(tmp_path / "wheelhouse"), *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert not (tmp_path / "wheelhouse").exists()


def test_refuses_to_build_ocrd_without_the_build_module(tmp_path: Path) -> None:
    # A real Python without the 'build' package: a bare venv.
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True, timeout=120)
    result = run("--out", str(tmp_path / "wheelhouse"), "--python-bin", str(tmp_path / "bare" / "bin" / "python"))
    assert result.returncode == 2
    assert "cannot build ocrd's wheel (it has no 'build' module)" in result.stderr
    assert "make dist and pass --wheel" in result.stderr
    assert not (tmp_path / "wheelhouse").exists()


def test_never_empties_a_folder_that_is_not_a_wheelhouse(tmp_path: Path) -> None:
    keep = tmp_path / "important.txt"
    keep.write_text("not a wheel")
    result = run("--arch", "aarch64", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "is not a wheelhouse (no wheelhouse.json)" in result.stderr
    assert keep.read_text() == "not a wheel"


def test_a_failed_build_leaves_the_previous_wheelhouse_as_it_was(tmp_path: Path) -> None:
    previous = tmp_path / "wheelhouse"
    previous.mkdir()
    (previous / "wheelhouse.json").write_text('{"arch": "x86_64"}\n')
    (previous / "numpy-1.0-cp311-cp311-manylinux_2_28_x86_64.whl").write_bytes(b"an earlier wheel")
    broken = tmp_path / "ocrd_daemon-0.1.0-py3-none-any.whl"
    broken.write_bytes(b"not a zip file")  # pip refuses it while resolving the dependencies
    result = run("--out", str(previous), "--python-bin", sys.executable, "--wheel", str(broken))
    assert result.returncode != 0
    assert "wheelhouse: downloading dependencies" in result.stdout  # it failed after starting the new one
    assert sorted(path.name for path in tmp_path.iterdir()) == [broken.name, "wheelhouse"]  # no staging left
    assert sorted(path.name for path in previous.iterdir()) == [
        "numpy-1.0-cp311-cp311-manylinux_2_28_x86_64.whl",
        "wheelhouse.json",
    ]
    assert (previous / "wheelhouse.json").read_text() == '{"arch": "x86_64"}\n'
