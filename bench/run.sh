#!/bin/sh
# The benchmark in one command, from a clean checkout:
#   bench/run.sh [options of python -m bench.run]      e.g. bench/run.sh --daemon, bench/run.sh --limit 5
# Installs ocrd into ./.venv (scripts/setup.sh) and the peers into bench/.venvs/ (bench/setup_peers.sh)
# when they are missing (that needs the network once), then runs the benchmark offline.
# VENV=/path/to/venv uses an existing environment that has ocrd installed instead.
# Relative paths in the options (--set, --out, --json) are taken from where it is run.
set -eu
BENCH_CALLER_DIR="$(pwd)"
export BENCH_CALLER_DIR
cd "$(dirname "$0")/.."
VENV="${VENV:-.venv}"
if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import ocrd.engine.pipeline" 2>/dev/null; then
    VENV="$VENV" ./scripts/setup.sh run
fi
BENCH_ENTRY="bench/run.sh" exec "$VENV/bin/python" -m bench.run "$@"
