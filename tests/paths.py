"""Where the shared evaluation data lives: read in place, never copied into the repository.

CI and developers keep the project next to ``shared/`` (``../shared/eval``); OCRD_EVAL_DIR
overrides it. A missing folder is an error, not a skip: these tests must run everywhere.
"""

from __future__ import annotations

import os
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EVAL_ROOT = Path(os.environ.get("OCRD_EVAL_DIR", REPO.parent / "shared" / "eval"))
EVAL_DEV = EVAL_ROOT / "dev"
EVAL_DEV_PDF = EVAL_ROOT / "dev_pdf"

if not (EVAL_DEV / "labels.jsonl").is_file():
    raise RuntimeError(
        f"evaluation data not found at {EVAL_ROOT}; set OCRD_EVAL_DIR to the folder holding dev/ and dev_pdf/"
    )
