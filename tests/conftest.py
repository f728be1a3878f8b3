"""Shared fixtures, small and generic. Evaluation data is located by tests/paths.py."""

from __future__ import annotations

import os
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
