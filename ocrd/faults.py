"""Crash points: where a test may kill the daemon with a real SIGKILL, to prove recovery.

``OCRD_CRASH_AT=<point>`` in the daemon's environment kills the process the first time it
passes that point (a real signal, so nothing is flushed or cleaned up, as in a power cut or an
OOM kill). Unset — always, in production — each point costs one dictionary lookup.
"""

from __future__ import annotations

import os
import signal

ENV = "OCRD_CRASH_AT"

# The points, in the order a file is claimed and its result written (for the tests that use them).
POINTS = (
    "claim-folder-made",  # the claim's folder exists, the file not yet moved into it (no record either)
    "results-written",  # temporary files of the results written and synced, nothing planned yet
    "results-planned",  # the claim record names the result files, none linked yet
    "result-linked",  # one result file is in place (reached once per file)
    "original-planned",  # results complete; the record names where the original goes
    "original-moved",  # the original is in done/ or failed/, the claim not yet released
    "error-written",  # a failed file's error file is in place, the claim not yet released
)


def crash_point(name: str) -> None:
    if os.environ.get(ENV) == name:
        os.kill(os.getpid(), signal.SIGKILL)
