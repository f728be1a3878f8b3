#!/bin/sh
# Build an offline wheelhouse: ocrd and every dependency as wheels for one CPU architecture and
# Python version, plus requirements.txt with their sha256 hashes and wheelhouse.json describing
# what the wheelhouse fits. Runs on any machine with internet (an x86 laptop can build for
# aarch64: pip picks the wheels by platform tag, nothing is compiled).
#
#   deploy/wheelhouse.sh --arch aarch64 --python 3.11 --out dist/wheelhouse-aarch64-py3.11
#
# Install on a server without internet (the Ansible role does exactly this):
#   python3 -m venv /opt/ocrd/venv
#   /opt/ocrd/venv/bin/pip install --no-index --find-links WHEELHOUSE --require-hashes -r WHEELHOUSE/requirements.txt
set -eu

usage() {
    cat <<EOF
usage: $0 [--arch x86_64|aarch64] [--python X.Y] [--glibc X.Y] [--out DIR] [--python-bin PYTHON]
  --arch        target CPU architecture (default: this machine's, $(uname -m))
  --python      target Python version, as on the servers (default: 3.11)
  --glibc       oldest glibc the servers have; newer wheels are not taken (default: 2.28)
  --out         output folder (default: dist/wheelhouse-ARCH-pyX.Y); an earlier wheelhouse there is replaced
  --python-bin  the Python (with pip >= 22) that runs the download here (default: python3)
EOF
}

ARCH="$(uname -m)"
PYVER=3.11
GLIBC=2.28
OUT=""
PYBIN="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH="$2"; shift 2 ;;
        --python) PYVER="$2"; shift 2 ;;
        --glibc) GLIBC="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --python-bin) PYBIN="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "wheelhouse: unknown argument $1" >&2; usage >&2; exit 2 ;;
    esac
done

case "$ARCH" in
    x86_64|amd64) ARCH=x86_64 ;;
    aarch64|arm64) ARCH=aarch64 ;;
    *) echo "wheelhouse: --arch must be x86_64 or aarch64 (got $ARCH)" >&2; exit 2 ;;
esac
case "$PYVER" in
    3.1[1-9]) ;;
    *) echo "wheelhouse: --python must be 3.11 or newer, as X.Y (got $PYVER)" >&2; exit 2 ;;
esac
case "$GLIBC" in
    2.1[7-9]|2.[2-9][0-9]) ;;
    *) echo "wheelhouse: --glibc must be 2.17 or newer, written like 2.28 (got $GLIBC)" >&2; exit 2 ;;
esac

REPO="$(cd "$(dirname "$0")/.." && pwd)"
OUT="${OUT:-$REPO/dist/wheelhouse-$ARCH-py$PYVER}"
PYTAG="cp$(echo "$PYVER" | tr -d .)"
# Every manylinux tag the servers accept, newest first: manylinux_2_28 ... manylinux_2_17 and its
# old alias manylinux2014 (pip does not expand the list itself in every version).
GLIBC_MINOR="${GLIBC#2.}"
PLATFORMS=""
minor="$GLIBC_MINOR"
while [ "$minor" -ge 17 ]; do
    PLATFORMS="$PLATFORMS --platform manylinux_2_${minor}_$ARCH"
    minor=$((minor - 1))
done
PLATFORMS="$PLATFORMS --platform manylinux2014_$ARCH"

BUILD="$(mktemp -d)"
trap 'rm -rf "$BUILD"' EXIT
# Only ever empty a folder that is a wheelhouse already (or empty): --out / must not wipe anything.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/wheelhouse.json" ]; then
    echo "wheelhouse: $OUT exists and is not a wheelhouse (no wheelhouse.json); choose another --out" >&2
    exit 2
fi
rm -rf "$OUT"
mkdir -p "$OUT"

echo "wheelhouse: building the ocrd wheel from $REPO"
"$PYBIN" -m pip wheel --quiet --no-deps --wheel-dir "$BUILD" "$REPO"
OCRD_WHEEL="$(ls "$BUILD"/*.whl)"

echo "wheelhouse: downloading dependencies for $ARCH, Python $PYVER, glibc $GLIBC or newer"
# shellcheck disable=SC2086  # PLATFORMS is a list of options
"$PYBIN" -m pip download --quiet --dest "$OUT" \
    --only-binary=:all: $PLATFORMS \
    --python-version "$PYVER" --implementation cp --abi "$PYTAG" \
    "$OCRD_WHEEL"

"$PYBIN" - "$OUT" "$ARCH" "$PYVER" <<'PYTHON'
"""Write requirements.txt (every wheel pinned with its hash) and wheelhouse.json."""
import hashlib
import json
import re
import sys
from pathlib import Path

LEGACY = {"manylinux1": (2, 5), "manylinux2010": (2, 12), "manylinux2014": (2, 17)}


def oldest_glibc(filename: str) -> tuple[int, int]:
    """The oldest glibc a wheel runs on: the lowest of its platform tags (a.b.c means any of them)."""
    platforms = filename[: -len(".whl")].split("-")[-1].split(".")
    needed = []
    for platform in platforms:
        if match := re.match(r"manylinux_(\d+)_(\d+)_", platform):
            needed.append((int(match[1]), int(match[2])))
        elif (legacy := platform.split("_")[0]) in LEGACY:
            needed.append(LEGACY[legacy])
    return min(needed, default=(2, 17))  # pure-Python wheels need nothing


out, arch, python = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
wheels = sorted(out.glob("*.whl"))
lines = []
glibc = (2, 17)  # manylinux2014, the oldest any of our dependencies supports
ocrd_version = None
for wheel in wheels:
    # name-version(-build)?-python-abi-platform.whl; names in wheel files use _ for - and .
    name, version = wheel.name.split("-")[:2]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lines.append(f"{name.lower().replace('_', '-')}=={version} --hash=sha256:{digest}")
    if name == "ocrd_daemon":
        ocrd_version = version
    glibc = max(glibc, oldest_glibc(wheel.name))
(out / "requirements.txt").write_text(
    "# Every file of this wheelhouse, pinned by version and sha256; install with\n"
    "# pip install --no-index --find-links DIR --require-hashes -r DIR/requirements.txt\n" + "\n".join(lines) + "\n"
)
manifest = {
    "arch": arch,
    "python": python,
    "glibc": f"{glibc[0]}.{glibc[1]}",
    "ocrd_version": ocrd_version,
    "wheels": len(wheels),
}
(out / "wheelhouse.json").write_text(json.dumps(manifest, indent=2) + "\n")
print(f"wheelhouse: {len(wheels)} wheels in {out}; needs {arch}, Python {python}, glibc >= {manifest['glibc']}")
PYTHON
