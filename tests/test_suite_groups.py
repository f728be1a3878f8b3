"""The suite runs in two processes: tests that share a build made once per process share a process."""

from __future__ import annotations

import re

from tests.conftest import SHARED_GROUPS, group_of_module, group_of_nodeid
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


def test_the_scheduler_groups_node_ids_by_module_and_shared_build() -> None:
    assert (
        group_of_nodeid("tests/test_cli.py::test_x") == group_of_nodeid("tests/test_cli.py::test_y[a::b]") == "test_cli"
    )
    assert group_of_nodeid("tests/test_packs.py::test_z[ppocrv5-mobile]") == "int8"
    assert group_of_nodeid("tests/test_quantize.py::test_q") == "int8"
    assert group_of_nodeid("tests/test_container.py::test_c") == group_of_nodeid("tests/test_deploy_ansible.py::t")
