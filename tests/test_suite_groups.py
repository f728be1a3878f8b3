"""The suite runs in two processes: tests that share a build made once per process share a process."""

from __future__ import annotations

import re

from tests.conftest import SHARED_GROUPS, group_of_module
from tests.paths import REPO

# What is built once per process and used by several modules.
SHARED_BUILDS = ("install_builds", "container_build", "int8_every_pack_root")


def test_modules_sharing_a_build_run_in_one_group() -> None:
    sources = {
        path.stem: path.read_text(encoding="utf-8")
        for path in (REPO / "tests").glob("test_*.py")
        if path.stem != "test_suite_groups"
    }
    for build in SHARED_BUILDS:
        users = sorted(name for name, text in sources.items() if re.search(rf"\b{build}\b", text))
        assert users, f"no test module uses {build} any more: update SHARED_BUILDS"
        groups = {group_of_module(name) for name in users}
        assert len(groups) == 1 and groups <= set(SHARED_GROUPS), (
            f"{build} is used by {users}, which must all be in one group of SHARED_GROUPS in tests/conftest.py"
        )


def test_a_module_without_a_shared_build_is_a_group_of_its_own() -> None:
    assert group_of_module("test_cli") == "test_cli"
    assert group_of_module("test_packs") == group_of_module("test_quantize") == "int8"
