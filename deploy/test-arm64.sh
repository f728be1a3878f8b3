#!/bin/sh
# End-to-end test of the offline aarch64 (Kunpeng) install, on an x86_64 machine:
#   1. build an arm64 Debian 12 root with debootstrap, run through qemu-user emulation (binfmt_misc);
#   2. build the aarch64 wheelhouse with deploy/wheelhouse.sh, ocrd's wheel built from this checkout;
#   3. inside the arm64 root, with no network at all: create a venv and install the wheelhouse
#      (--no-index --require-hashes), exactly as the Ansible role does;
#   4. generate a Chinese + English document there, run `ocrd ocr` on it and check the text.
# Slow (about 10 minutes the first time, mostly debootstrap; the root is kept for the next run) and not
# part of CI. Needs root, the Debian packages debootstrap and qemu-user-static, and a --python-bin
# with the 'build' package (python3-build on Debian, or the project's .venv/bin/python after make test).
#
#   sudo deploy/test-arm64.sh [--workdir /var/tmp/ocrd-arm64] [--mirror URL] [--python-bin python3]
set -eu

WORK=/var/tmp/ocrd-arm64
MIRROR=http://deb.debian.org/debian
PYBIN="${PYTHON:-python3}"
while [ $# -gt 0 ]; do
    case "$1" in
        --workdir) WORK="$2"; shift 2 ;;
        --mirror) MIRROR="$2"; shift 2 ;;
        --python-bin) PYBIN="$2"; shift 2 ;;
        -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
        *) echo "test-arm64: unknown argument $1" >&2; exit 2 ;;
    esac
done

REPO="$(cd "$(dirname "$0")/.." && pwd)"
ROOT="$WORK/root"
say() { echo "test-arm64: $*"; }
die() { echo "test-arm64: FAILED: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and chroot need it)"
command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
[ -e /usr/libexec/qemu-binfmt/aarch64-binfmt-P ] || [ -x /usr/bin/qemu-aarch64-static ] ||
    die "qemu-user-static is missing: apt-get install qemu-user-static"

# --- 1. arm64 programs must run through qemu: binfmt_misc ----------------------------------------
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
    mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc ||
        die "cannot mount binfmt_misc on /proc/sys/fs/binfmt_misc (a container without that privilege?)"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
    say "registering qemu-aarch64 with binfmt_misc"
    if command -v update-binfmts >/dev/null && update-binfmts --enable qemu-aarch64 2>/dev/null; then :
    elif [ -e /usr/lib/binfmt.d/qemu-aarch64.conf ]; then
        cat /usr/lib/binfmt.d/qemu-aarch64.conf > /proc/sys/fs/binfmt_misc/register ||
            die "the kernel refused the qemu-aarch64 binfmt_misc entry"
    else
        die "no qemu-aarch64 binfmt entry to register (reinstall qemu-user-static)"
    fi
fi
grep -q '^enabled' /proc/sys/fs/binfmt_misc/qemu-aarch64 || die "binfmt_misc entry qemu-aarch64 is disabled"

# --- 2. the arm64 root ----------------------------------------------------------------------------
mkdir -p "$WORK"
if [ ! -x "$ROOT/usr/bin/python3" ]; then
    say "building an arm64 Debian 12 root in $ROOT (debootstrap, several minutes)"
    rm -rf "$ROOT"
    debootstrap --arch=arm64 --variant=minbase --include=python3,python3-venv bookworm "$ROOT" "$MIRROR" \
        > "$WORK/debootstrap.log" 2>&1 || die "debootstrap failed; see $WORK/debootstrap.log"
fi
MACHINE="$(chroot "$ROOT" /usr/bin/python3 -c 'import platform; print(platform.machine())')"
[ "$MACHINE" = aarch64 ] || die "the root's Python reports $MACHINE, not aarch64"
say "arm64 root ready: $(chroot "$ROOT" /usr/bin/python3 --version) on $MACHINE (qemu-user)"

# --- 3. the wheelhouse ----------------------------------------------------------------------------
say "building the aarch64 wheelhouse"
"$REPO/deploy/wheelhouse.sh" --arch aarch64 --python 3.11 --out "$WORK/wheelhouse" --python-bin "$PYBIN"
rm -rf "$ROOT/tmp/ocrd-test"
mkdir -p "$ROOT/opt" "$ROOT/tmp/ocrd-test"
# An install from the very same wheelhouse (same files, same hashes) is kept from the last run.
REINSTALL=yes
if cmp -s "$WORK/wheelhouse/requirements.txt" "$ROOT/opt/ocrd/installed-from.txt"; then REINSTALL=no; fi
if [ "$REINSTALL" = yes ]; then
    rm -rf "$ROOT/opt/wheelhouse" "$ROOT/opt/ocrd"
    cp -r "$WORK/wheelhouse" "$ROOT/opt/wheelhouse"
fi

cleanup() {
    for mount in "$ROOT/dev" "$ROOT/proc"; do
        if mountpoint -q "$mount"; then umount -l "$mount"; fi
    done
    return 0
}
trap cleanup EXIT
mountpoint -q "$ROOT/proc" || mount -t proc proc "$ROOT/proc"
mountpoint -q "$ROOT/dev" || mount --rbind /dev "$ROOT/dev"
# No /sys on purpose: under qemu-user the x86 host's /sys CPU lists make onnxruntime's cpuinfo
# (arm64 code parsing the host's /proc/cpuinfo) crash with SIGSEGV at import. A real Kunpeng
# server has its own /sys; without it here, cpuinfo only warns and the engine runs.

# Everything from here on runs arm64 code, in a network namespace of its own: no network at all,
# so the install provably needs nothing but the wheelhouse.
in_root() { unshare --net chroot "$ROOT" /usr/bin/env -i PATH=/opt/ocrd/venv/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# --- 4. offline install -------------------------------------------------------------------------
if [ "$REINSTALL" = yes ]; then
    say "installing offline into /opt/ocrd/venv inside the arm64 root"
    START=$(date +%s)
    in_root python3 -m venv /opt/ocrd/venv || die "python3 -m venv failed inside the arm64 root"
    in_root /opt/ocrd/venv/bin/pip install --quiet --no-index --find-links /opt/wheelhouse \
        --require-hashes -r /opt/wheelhouse/requirements.txt || die "offline install from the wheelhouse failed"
    cp "$WORK/wheelhouse/requirements.txt" "$ROOT/opt/ocrd/installed-from.txt"
    say "installed $(in_root ocrd --version) in $(( $(date +%s) - START )) s"
else
    say "keeping the install from the same wheelhouse made by an earlier run ($(in_root ocrd --version))"
fi

# --- 5. read a generated document -----------------------------------------------------------------
in_root python3 -c '
from ocrd.samples import make_scanned_invoice_jpg
sample = make_scanned_invoice_jpg("/tmp/ocrd-test/invoice.jpg")
open("/tmp/ocrd-test/expected.txt", "w").write("\n".join(sample.lines) + "\n")
' || die "generating the test document with PyMuPDF failed inside the arm64 root"
say "running ocrd ocr on a scanned invoice (emulated aarch64: slow)"
START=$(date +%s)
in_root ocrd ocr --out /tmp/ocrd-test/out /tmp/ocrd-test/invoice.jpg || die "ocrd ocr failed"
say "ocrd ocr took $(( $(date +%s) - START )) s under emulation"
cat > "$ROOT/tmp/ocrd-test/check.py" <<'PYTHON'
"""Compare what ocrd read with what the generated document shows."""
import difflib
import json
import re
import sys
import unicodedata


def squash(text):
    # NFKC: full-width "：" and "￥" read from the image equal the ":" and "¥" that were drawn.
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


expected = squash(open("/tmp/ocrd-test/expected.txt", encoding="utf-8").read())
text = open("/tmp/ocrd-test/out/invoice.jpg.txt", encoding="utf-8").read()
result = json.load(open("/tmp/ocrd-test/out/invoice.jpg.json", encoding="utf-8"))
got = squash(text)
ratio = difflib.SequenceMatcher(None, expected, got, autojunk=False).ratio()
lines = sum(len(page["lines"]) for page in result["pages"])
print(f"test-arm64: engine {result['engine']}, {len(result['pages'])} page(s), {lines} lines, "
      f"similarity to the truth {ratio:.3f}")
print("test-arm64: read:", " | ".join(text.splitlines()[:4]), "...")
missing = [word for word in ("增值税普通发票", "12345678", "Invoice", "1,271.54") if word not in got]
if ratio < 0.9 or missing:
    sys.exit(f"test-arm64: text differs from the truth (similarity {ratio:.3f}, missing {missing})")
PYTHON
in_root python3 /tmp/ocrd-test/check.py || die "the recognised text is wrong"
say "PASSED: offline aarch64 install and OCR work"
