#!/bin/sh
# Create ./.venv and install ocrd into it; with "test", also what the test suite needs.
# Used by `make run`, `make test` and CI, so a fresh machine and CI take the same path.
set -eu
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
VENV="${VENV:-.venv}"
WHAT="${1:-run}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
    # Debian/Ubuntu only; elsewhere the caller must provide these packages.
    command -v apt-get >/dev/null || { echo "setup: please install: $*" >&2; return 0; }
    missing=""
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
    [ -z "$missing" ] && return 0
    echo "setup: installing system packages:$missing"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

"$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' || {
    echo "setup: ocrd needs Python 3.11 or newer; $PYTHON is $("$PYTHON" --version 2>&1)" >&2; exit 1; }

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$VENV"; }
fi
"$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true

if [ "$WHAT" = test ]; then
    # System tools the tests drive for real (see README, "Tests").
    [ -z "${OCRD_SKIP_APT:-}" ] && apt_install $(cat scripts/test-packages.txt)
    "$VENV/bin/python" -m pip install -q -e ".[test]"
else
    "$VENV/bin/python" -m pip install -q -e .
fi
