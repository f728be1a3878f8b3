"""The systemd units in systemd/: they verify, they are hardened, and the Ansible role ships the same files.

`systemd-analyze verify` checks a unit the way systemd would load it, including that ExecStart=
exists: the units run against a small root tree (--root) holding systemd's own units and a stand-in
/opt/ocrd/venv/bin/ocrd, since this machine (and CI) has no systemd as PID 1 and no installed ocrd.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.paths import REPO

SYSTEMD_DIR = REPO / "systemd"
ROLE_FILES = REPO / "deploy" / "ansible" / "roles" / "ocrd" / "files"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
MAX_EXPOSURE = 2.0  # systemd-analyze security: 0 = locked down, 10 = unprotected

# Lines that must be identical in ocrd.service and ocrd@.service: only paths and names may differ.
INSTANCE_SPECIFIC = re.compile(
    r"^(Description|ExecStart|ExecReload|Environment|WorkingDirectory|StateDirectory|CacheDirectory)="
)


def systemd_analyze() -> str:
    tool = shutil.which("systemd-analyze")
    if tool is None:
        pytest.fail("systemd-analyze is missing: install the Debian package systemd (scripts/test-packages.txt)")
    return tool


def unit_settings(path: Path) -> list[tuple[str, str, str]]:
    """(section, key, value) for every setting, in file order."""
    section = ""
    settings = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        settings.append((section, key, value))
    return settings


def values(path: Path, key: str) -> list[str]:
    return [value for _, k, value in unit_settings(path) if k == key]


def root_tree(base: Path, units: dict[str, str]) -> Path:
    """A directory systemd-analyze --root can load: systemd's units, ours, and an executable ocrd."""
    root = base / "root"
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    unit_dir = root / "etc/systemd/system"
    unit_dir.mkdir(parents=True)
    for name, text in units.items():
        (unit_dir / name).write_text(text)
    ocrd = root / "opt/ocrd/venv/bin/ocrd"
    ocrd.parent.mkdir(parents=True)
    ocrd.write_text("#!/bin/sh\nexit 0\n")
    ocrd.chmod(0o755)
    return root


def verify(root: Path, unit: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [systemd_analyze(), "verify", f"--root={root}", unit], capture_output=True, text=True, timeout=60
    )


@pytest.mark.parametrize(("file", "unit"), [("ocrd.service", "ocrd.service"), ("ocrd@.service", "ocrd@acme.service")])
def test_unit_verifies_cleanly(tmp_path: Path, file: str, unit: str) -> None:
    root = root_tree(tmp_path, {file: (SYSTEMD_DIR / file).read_text()})
    result = verify(root, unit)
    assert result.returncode == 0, result.stderr
    # verify reports unknown keys and bad values as warnings with exit code 0: any output is a failure.
    assert result.stderr.strip() == "", result.stderr


def test_verify_catches_a_broken_unit(tmp_path: Path) -> None:
    """The check above is only worth something if verify complains about mistakes."""
    broken = (SYSTEMD_DIR / "ocrd.service").read_text().replace("WatchdogSec=90", "WatchdogSec=ninety")
    broken = broken.replace("ExecStart=/opt/ocrd/venv/bin/ocrd", "ExecStart=/opt/ocrd/venv/bin/ocrd-missing")
    result = verify(root_tree(tmp_path, {"ocrd.service": broken}), "ocrd.service")
    assert "Failed to parse sec value" in result.stderr
    assert "ocrd-missing is not executable" in result.stderr
    assert result.returncode != 0


@pytest.mark.parametrize("file", ["ocrd.service", "ocrd@.service"])
def test_unit_is_hardened(tmp_path: Path, file: str) -> None:
    unit = SYSTEMD_DIR / file
    copy = tmp_path / file.replace("@", "@acme")  # security analysis wants an instance name
    shutil.copy(unit, copy)
    result = subprocess.run(
        [systemd_analyze(), "security", "--offline=true", "--no-pager", str(copy)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    exposure = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert exposure, result.stdout
    assert float(exposure.group(1)) <= MAX_EXPOSURE, result.stdout

    settings = {key: value for _, key, value in unit_settings(unit)}
    assert settings["Type"] == "notify"
    assert settings["NotifyAccess"] == "main"
    assert settings["KillMode"] == "mixed"
    assert settings["Restart"] == "on-failure"
    assert settings["ProtectSystem"] == "strict"
    assert settings["ProtectHome"] == "yes"
    assert settings["PrivateTmp"] == "yes"
    assert settings["NoNewPrivileges"] == "yes"
    assert settings["CapabilityBoundingSet"] == ""
    assert settings["SystemCallFilter"] == "@system-service"
    assert settings["RestrictAddressFamilies"] == "AF_UNIX AF_INET AF_INET6"
    assert settings["User"] == settings["Group"] == "ocrd"
    assert re.fullmatch(r"\d+[KMGT]", settings["MemoryMax"])
    # The stop timeout must outlast the daemon's default 30 s grace period for in-flight files.
    assert int(settings["TimeoutStopSec"]) > 30 + 30
    assert int(settings["WatchdogSec"]) > 0
    assert values(unit, "ExecReload")[-1] == "/bin/kill -HUP $MAINPID"
    assert "check-config" in values(unit, "ExecReload")[0]


def test_template_differs_from_the_main_unit_only_in_names_and_paths() -> None:
    def shared(path: Path) -> list[tuple[str, str, str]]:
        return [s for s in unit_settings(path) if not INSTANCE_SPECIFIC.match(f"{s[1]}=")]

    assert shared(SYSTEMD_DIR / "ocrd@.service") == shared(SYSTEMD_DIR / "ocrd.service")
    template = SYSTEMD_DIR / "ocrd@.service"
    assert values(template, "ExecStart") == ["/opt/ocrd/venv/bin/ocrd run --config /etc/ocrd/%i.toml"]
    assert values(template, "StateDirectory") == ["ocrd/%i"]
    assert "OCRD_DATA_DIR=%S/ocrd/%i" in values(template, "Environment")


@pytest.mark.parametrize("file", ["ocrd.service", "ocrd@.service"])
def test_role_installs_the_same_units(file: str) -> None:
    assert (ROLE_FILES / file).read_bytes() == (SYSTEMD_DIR / file).read_bytes(), (
        f"deploy/ansible/roles/ocrd/files/{file} differs from systemd/{file}: copy systemd/{file} over it"
    )


def test_sysusers_creates_the_fixed_ids(tmp_path: Path) -> None:
    sysusers = shutil.which("systemd-sysusers")
    assert sysusers, "systemd-sysusers is missing: install the Debian package systemd"
    (tmp_path / "etc").mkdir()
    result = subprocess.run(
        [sysusers, f"--root={tmp_path}", str(SYSTEMD_DIR / "ocrd.sysusers")], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    passwd = (tmp_path / "etc/passwd").read_text().splitlines()
    group = (tmp_path / "etc/group").read_text().splitlines()
    assert "ocrd:x:617:617:ocrd OCR service:/var/lib/ocrd:/usr/sbin/nologin" in passwd
    assert "ocrd:x:617:" in group
