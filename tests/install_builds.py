"""ocrd's wheel and wheelhouse, built from this checkout once per test session, and what to compare them with.

`make dist` and deploy/wheelhouse.sh run for real, as a user would run them; the results go into one
folder below /tmp (readable by a service user, unlike pytest's own temporary folders), removed at exit.
"""

from __future__ import annotations

import atexit
import functools
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocrd import __version__
from tests.paths import REPO

WHEEL_NAME = f"ocrd_daemon-{__version__}-py3-none-any.whl"
SDIST_NAME = f"ocrd_daemon-{__version__}.tar.gz"


@dataclass(frozen=True)
class Dist:
    wheel: Path
    sdist: Path
    folder: Path


@functools.cache
def session_folder() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="ocrd-install-", dir="/tmp"))
    folder.chmod(0o755)
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
    return folder


def checkout_package_files() -> set[str]:
    """Every file of the ocrd package in this checkout, as a path inside a wheel (ocrd/...)."""
    return {
        path.relative_to(REPO).as_posix()
        for path in (REPO / "ocrd").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def wheel_files(wheel: Path) -> set[str]:
    with zipfile.ZipFile(wheel) as archive:
        return {name for name in archive.namelist() if not name.endswith("/")}


# A build may run in a thread beside the tests (tests/test_deploy_ansible.py): a second caller waits
# for it and takes its result instead of building again.
_building = threading.RLock()


def dist() -> Dist:
    """`make dist` into a folder of its own: the checkout's dist/ is left alone."""
    with _building:
        return _dist()


@functools.cache
def _dist() -> Dist:
    folder = session_folder() / "dist"
    result = subprocess.run(
        ["make", "--no-print-directory", "dist", f"DIST={folder}", f"PY={sys.executable}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return Dist(wheel=folder / WHEEL_NAME, sdist=folder / SDIST_NAME, folder=folder)


def wheelhouse_of_dist(python_version: str) -> Path:
    """A wheelhouse for this machine around the wheel `make dist` built (deploy/wheelhouse.sh --wheel)."""
    with _building:
        return _wheelhouse_of_dist(python_version)


@functools.cache
def _wheelhouse_of_dist(python_version: str) -> Path:
    out = session_folder() / f"wheelhouse-{platform.machine()}-py{python_version}"
    build_wheelhouse(out, python_version, "--wheel", str(dist().wheel))
    return out


def build_wheelhouse(out: Path, python_version: str, *options: str) -> None:
    result = subprocess.run(
        [
            str(REPO / "deploy" / "wheelhouse.sh"),
            "--arch",
            platform.machine(),
            "--python",
            python_version,
            "--out",
            str(out),
            "--python-bin",
            sys.executable,
            *options,
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]


@functools.cache
def system_python() -> tuple[str, str]:
    """A Python >= 3.11 with venv support as a server has it (not one below /root), and its X.Y."""
    for candidate in ("/usr/bin/python3", "/usr/bin/python3.13", "/usr/bin/python3.12", "/usr/bin/python3.11"):
        if not Path(candidate).exists():
            continue
        probe = subprocess.run(
            [
                candidate,
                "-c",
                "import sys, ensurepip; print('%d.%d' % sys.version_info[:2]); sys.exit(sys.version_info < (3, 11))",
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0:
            return candidate, probe.stdout.strip()
    pytest.fail("no system Python >= 3.11 with venv: install the Debian packages python3 and python3-venv")
