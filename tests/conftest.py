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


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    """The container tests run last, and their image is built in a thread from now on (tests/container_build.py)."""
    container = [item for item in items if item.nodeid.startswith("tests/test_container.py")]
    if not container:
        return
    items[:] = [item for item in items if item not in container] + container
    if shutil.which("podman") is not None:  # without it the tests fail and say what to install
        from tests import container_build

        container_build.start()
