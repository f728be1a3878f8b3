"""Shared fixtures, small and generic. Evaluation data is located by tests/paths.py."""

from __future__ import annotations

import copy
import os
import shutil
from pathlib import Path

import pytest

from ocrd import samples
from tests.paths import EVAL_DEV, EVAL_DEV_PDF

# Every test reads with the same models whatever CPU runs the suite: precision "auto" would run
# INT8 on a machine with VNNI or asimddp and FP32 elsewhere, and texts would differ between CI
# machines. Tests of "auto" set the flags they need (tests/test_packs.py); daemons started by
# tests inherit this.
os.environ["OCRD_CPU_FLAGS"] = ""


@pytest.fixture(scope="session")
def eval_dev_dir() -> Path:
    """Real-world images with labels (read in place)."""
    return EVAL_DEV


@pytest.fixture(scope="session")
def eval_pdf_dir() -> Path:
    """Rendered and scanned document pages with labels (read in place)."""
    return EVAL_DEV_PDF


@pytest.fixture(scope="session")
def sample_documents(tmp_path_factory: pytest.TempPathFactory) -> list[samples.SampleDocument]:
    """The generated sample set (ocrd.samples.write_sample_documents), written once per session.

    Treat it as read-only: copy a file into tmp_path before changing or moving it.
    """
    return samples.write_sample_documents(tmp_path_factory.mktemp("samples"))


@pytest.fixture(scope="session")
def shared_pipeline():
    """The engine with its default settings, ``OcrPipeline(EngineSettings())``, loaded once per session.

    For tests that read with the defaults (threads=0: all cores); a test that needs other settings
    builds its own. Treat it as read-only: never change its attributes.
    """
    from ocrd.config import EngineSettings
    from ocrd.engine.pipeline import OcrPipeline

    return OcrPipeline(EngineSettings())


_in_place_documents: dict[Path, object] = {}
_in_place_readings: dict[Path, object] = {}


@pytest.fixture(scope="session")
def read_in_place(shared_pipeline):
    """``shared_pipeline.run_path(path)`` of a file read in place that never changes (the eval sets),
    run once per session however many tests read it; each call returns a copy of its own."""

    def read(path: Path):
        if path not in _in_place_documents:
            _in_place_documents[path] = shared_pipeline.run_path(path)
        return copy.deepcopy(_in_place_documents[path])

    return read


@pytest.fixture(scope="session")
def read_image_in_place(shared_pipeline):
    """``shared_pipeline.read_image(cv2.imread(path))`` of an image file read in place that never
    changes, once per session; each call returns a copy of its own."""
    import cv2

    def read(path: Path):
        if path not in _in_place_readings:
            _in_place_readings[path] = shared_pipeline.read_image(cv2.imread(str(path)))
        return copy.deepcopy(_in_place_readings[path])

    return read


@pytest.fixture(scope="session")
def int8_every_pack_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A derived-models cache with the INT8 recognizer of every named pack, each with its accuracy
    check (48 generated lines), built once per session (tests/test_packs.py, tests/test_quantize.py).

    Point OCRD_CACHE_DIR at it to read with those files; what else a test derives there (the FP32
    rewrites) is what any reader would derive, so the tests sharing it do not disturb each other.
    """
    from ocrd import packs
    from ocrd.engine import derived
    from ocrd.engine.models import builtin_pack

    root = tmp_path_factory.mktemp("int8-every-pack")
    for name in packs.PACKS:
        pack = builtin_pack(name)
        derived.derive(pack.rec, derived.pack_int8_derivation(pack, check_lines=48), root=root)
    return root


# The suite runs in two processes (pytest-xdist: see the Makefile). Each group of tests runs whole
# in one process, so module fixtures are built once: a group is a module, except that modules
# sharing a build made once per process share a group.
SHARED_GROUPS = {
    # `make dist`, the wheelhouse and the container image (tests/install_builds.py,
    # tests/container_build.py), and the role run that creates system users and units
    "builds": ("test_deploy_ansible", "test_install_wheel", "test_container"),
    # the int8_every_pack_root fixture
    "int8": ("test_packs", "test_quantize"),
}
_GROUP_OF_MODULE = {module: group for group, modules in SHARED_GROUPS.items() for module in modules}


def group_of_module(module: str) -> str:
    return _GROUP_OF_MODULE.get(module, module)


def group_of(item: pytest.Item) -> str:
    return group_of_module(item.path.stem)


def group_of_nodeid(nodeid: str) -> str:
    """The group of ``tests/test_x.py::test_y[...]``."""
    return group_of_module(Path(nodeid.split("::", 1)[0]).stem)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Hand out whole groups, in collection order (xdist's "loadgroup" cannot be used: it marks
    groups by rewriting node ids, which pytest 9 no longer allows)."""
    from xdist.scheduler import LoadScopeScheduling

    class GroupScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return group_of_nodeid(nodeid)

    return GroupScheduling(config, log)


def _in_worker() -> bool:
    return "PYTEST_XDIST_WORKER" in os.environ


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The container tests run last in their group.

    The image is built in a thread beside the other tests (tests/container_build.py). Run in one
    process, the container tests run last in the session and the build starts now; in a worker
    process, the builds group comes first (the scheduler hands groups out in this order) and the
    build starts with its first test.
    """
    container = [item for item in items if item.path.stem == "test_container"]
    rest = [item for item in items if item not in container]
    if _in_worker():
        builds = [item for item in rest if group_of(item) == "builds"]
        items[:] = builds + container + [item for item in rest if group_of(item) != "builds"]
    else:
        items[:] = rest + container
    if container and not _in_worker():
        _start_container_build()


def pytest_runtest_setup(item: pytest.Item) -> None:
    if (
        _in_worker()
        and group_of(item) == "builds"
        and any(other.path.stem == "test_container" for other in item.session.items)
    ):
        _start_container_build()  # once: later calls return the running build


def _start_container_build() -> None:
    if shutil.which("podman") is not None:  # without it the tests fail and say what to install
        from tests import container_build

        container_build.start()
