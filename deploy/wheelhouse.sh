#!/bin/sh
# Build an offline wheelhouse: ocrd's own wheel, built from this checkout (ocrd-daemon is not on
# PyPI), and every dependency as wheels for one CPU architecture and Python version, plus
# requirements.txt with their sha256 hashes and wheelhouse.json describing what the wheelhouse fits.
# Runs on any machine with internet (an x86 laptop can build for aarch64: pip picks the wheels by
# platform tag, nothing is compiled).
#
#   deploy/wheelhouse.sh --arch aarch64 --python 3.11 --out dist/wheelhouse-aarch64-py3.11
#   deploy/wheelhouse.sh --arch aarch64 --wheel dist/ocrd_daemon-0.1.0-py3-none-any.whl   # from `make dist`
#
# Install on a server without internet (the Ansible role does the second form):
#   python3 -m venv /opt/ocrd/venv
#   /opt/ocrd/venv/bin/pip install --no-index --find-links WHEELHOUSE ocrd-daemon
#   /opt/ocrd/venv/bin/pip install --no-index --find-links WHEELHOUSE --require-hashes -r WHEELHOUSE/requirements.txt
set -eu

usage() {
    cat <<EOF
usage: $0 [--arch x86_64|aarch64] [--python X.Y] [--glibc X.Y] [--out DIR] [--python-bin PYTHON] [--wheel FILE]
  --arch        target CPU architecture (default: this machine's, $(uname -m))
  --python      target Python version, as on the servers (default: 3.11)
  --glibc       oldest glibc the servers have; newer wheels are not taken (default: 2.28)
  --out         output folder (default: dist/wheelhouse-ARCH-pyX.Y); an earlier wheelhouse there is replaced
  --python-bin  the Python (with pip >= 22) that runs the build and the download here (default: python3)
  --wheel       ocrd's wheel, already built by \`make dist\`; without it the wheel is built from this
                checkout the same way (python -m build, which --python-bin must have)
EOF
}

ARCH="$(uname -m)"
PYVER=3.11
GLIBC=2.28
OUT=""
PYBIN="${PYTHON:-python3}"
WHEEL=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH="$2"; shift 2 ;;
        --python) PYVER="$2"; shift 2 ;;
        --glibc) GLIBC="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --python-bin) PYBIN="$2"; shift 2 ;;
        --wheel) WHEEL="$2"; shift 2 ;;
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

# Only ever empty a folder that is a wheelhouse already (or empty): --out / must not wipe anything.
if [ -d "$OUT" ] && [ -n "$(ls -A "$OUT")" ] && [ ! -f "$OUT/wheelhouse.json" ]; then
    echo "wheelhouse: $OUT exists and is not a wheelhouse (no wheelhouse.json); choose another --out" >&2
    exit 2
fi
if [ -n "$WHEEL" ]; then
    case "$(basename "$WHEEL")" in
        ocrd_daemon-*-py3-none-any.whl) ;;
        *) echo "wheelhouse: --wheel must be ocrd's wheel, ocrd_daemon-VERSION-py3-none-any.whl (got $WHEEL)" >&2; exit 2 ;;
    esac
    [ -f "$WHEEL" ] || { echo "wheelhouse: --wheel $WHEEL does not exist; build it with make dist" >&2; exit 2; }
# Asked of pip, not of `import build`: from the checkout, that would find its build/ folder.
elif ! "$PYBIN" -m pip show --quiet build >/dev/null 2>&1; then
    echo "wheelhouse: $PYBIN cannot build ocrd's wheel (it has no 'build' module): install it with" \
        "$PYBIN -m pip install build, or build the wheel with make dist and pass --wheel" >&2
    exit 2
fi

# Everything is made in a staging folder beside OUT, which replaces OUT only once it is complete:
# a failed run leaves the previous wheelhouse as it was.
mkdir -p "$(dirname "$OUT")"
BUILD="$(mktemp -d)"
STAGE="$(mktemp -d "$(dirname "$OUT")/.wheelhouse.XXXXXX")"
trap 'rm -rf "$BUILD" "$STAGE"' EXIT
if [ -n "$WHEEL" ]; then
    cp "$WHEEL" "$BUILD/"
else
    echo "wheelhouse: building ocrd's wheel from $REPO"
    # sdist first, then the wheel from it (what make dist does): a stale build/ folder in the
    # checkout cannot add files that were deleted since.
    "$PYBIN" -m build --outdir "$BUILD" "$REPO" > "$BUILD/build.log" 2>&1 ||
        { tail -n 30 "$BUILD/build.log" >&2; echo "wheelhouse: building ocrd's wheel failed" >&2; exit 1; }
fi
WHEEL="$(ls "$BUILD"/ocrd_daemon-*.whl)"
cp "$WHEEL" "$STAGE/"
OCRD_WHEEL="$STAGE/$(basename "$WHEEL")"
echo "wheelhouse: $(basename "$WHEEL")"

echo "wheelhouse: downloading dependencies for $ARCH, Python $PYVER, glibc $GLIBC or newer"
# The requirement is the wheel file itself, so ocrd comes from this checkout and never from an index.
# shellcheck disable=SC2086  # PLATFORMS is a list of options
"$PYBIN" -m pip download --quiet --dest "$STAGE" \
    --only-binary=:all: $PLATFORMS \
    --python-version "$PYVER" --implementation cp --abi "$PYTAG" \
    "$OCRD_WHEEL"

"$PYBIN" - "$STAGE" "$ARCH" "$PYVER" <<'PYTHON'
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
ocrd_version = ocrd_wheel = None
for wheel in wheels:
    # name-version(-build)?-python-abi-platform.whl; names in wheel files use _ for - and .
    name, version = wheel.name.split("-")[:2]
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    lines.append(f"{name.lower().replace('_', '-')}=={version} --hash=sha256:{digest}")
    if name == "ocrd_daemon":
        ocrd_version, ocrd_wheel = version, wheel.name
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
    "ocrd_wheel": ocrd_wheel,
    "wheels": len(wheels),
}
(out / "wheelhouse.json").write_text(json.dumps(manifest, indent=2) + "\n")
print(f"wheelhouse: {len(wheels)} wheels; they need {arch}, Python {python}, glibc >= {manifest['glibc']}")
PYTHON

rm -rf "$OUT"
mv "$STAGE" "$OUT"
chmod 755 "$OUT"  # mktemp made it private
echo "wheelhouse: ready in $OUT"
