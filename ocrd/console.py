"""The `ocrd` console script's entry point, which imports nothing until it is called.

The daemon's workers are spawned processes, and a spawned process first runs the parent's main
script again (as ``__mp_main__``, without calling it). With ``ocrd.cli:main`` as the entry point
that script imported the whole command line (typer, click, prometheus_client, watchdog) into
every worker, about 15 MB of memory each that a worker never uses.
"""

from __future__ import annotations


def main() -> None:
    from ocrd.cli import main as run_command_line

    run_command_line()
