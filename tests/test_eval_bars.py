"""The accuracy bars of the engine issue, measured by `ocrd eval` on the shared sets (CI fails below them).

The JSON reports are kept in ci-artifacts/ so a run's figures can be read after it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.paths import EVAL_DEV, EVAL_DEV_PDF, REPO

ARTIFACTS = REPO / "ci-artifacts"


@pytest.mark.slow
@pytest.mark.parametrize("set_dir", [EVAL_DEV, EVAL_DEV_PDF], ids=["dev", "dev_pdf"])
def test_ocrd_eval_meets_the_bars(set_dir: Path) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    report_file = ARTIFACTS / f"eval-{set_dir.name}.json"
    result = subprocess.run(
        # Two files at a time, as `make eval` reads them: the same figures, in less time.
        [
            sys.executable,
            "-m",
            "ocrd.cli",
            "eval",
            str(set_dir),
            "--check",
            "--jobs",
            "2",
            "--report",
            str(report_file),
        ],
        capture_output=True,
        text=True,
        timeout=1200,
    )
    print(result.stdout)
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads(report_file.read_text(encoding="utf-8"))
    assert report["bars"]["failures"] == []
    assert "bag_recall" in json.dumps(report)
