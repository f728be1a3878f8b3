"""The supervisor process stays small: decoders and the engine load only in the workers.

(With the web app on, its upload checks and page previews load the document decoders too.)
"""

from __future__ import annotations

import subprocess
import sys

from tests.daemon_support import REPO

HEAVY = ("cv2", "pymupdf", "onnxruntime", "numpy", "PIL", "ocrd.documents", "ocrd.engine")


def test_the_supervisor_imports_no_decoder_and_no_engine() -> None:
    probe = (
        "import sys, ocrd.daemon.commands, ocrd.daemon.supervisor; "
        f"print(' '.join(name for name in {HEAVY!r} if name in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "", f"loaded in the supervisor process: {result.stdout.strip()}"
