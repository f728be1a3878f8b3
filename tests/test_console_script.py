"""The installed `ocrd` script stays out of the daemon's worker processes.

Workers are spawned, and a spawned process first runs its parent's main script again: for the
daemon that is the console script `ocrd run` was started with. This spawns a process from a parent
whose main script is the installed one, as the daemon's pool does, and looks at what it imported.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.paths import REPO

SCRIPT = Path(sys.executable).parent / "ocrd"
# The command line's own packages: a worker reads documents and needs none of them.
COMMAND_LINE_MODULES = ("ocrd.cli", "typer", "click", "prometheus_client", "watchdog", "aiohttp")

SPAWN_FROM_THE_SCRIPT = """
import json, multiprocessing, sys
sys.modules["__main__"].__file__ = sys.argv[1]  # the parent's main script, as in `ocrd run`
with multiprocessing.get_context("spawn").Pool(1) as pool:
    loaded = pool.apply(eval, ("sorted(__import__('sys').modules)",))
print(json.dumps([name for name in loaded if name == "__mp_main__" or name.split(".")[0] in sys.argv[2:]
                  or name in sys.argv[2:]]))
"""


def test_a_spawned_worker_imports_none_of_the_command_line() -> None:
    assert SCRIPT.exists(), f"{SCRIPT} is missing: run ./scripts/setup.sh test"
    result = subprocess.run(
        [sys.executable, "-c", SPAWN_FROM_THE_SCRIPT, str(SCRIPT), *COMMAND_LINE_MODULES],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr
    loaded = json.loads(result.stdout)
    assert "__mp_main__" in loaded, "the child did not run the script: the check would prove nothing"
    assert [name for name in loaded if name != "__mp_main__"] == []


def test_the_script_still_runs_the_command_line() -> None:
    result = subprocess.run([str(SCRIPT), "--version"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("ocrd-daemon ")
