#!/bin/sh
# Build the container base image from Debian packages, for machines that reach no image registry:
# mmdebstrap makes a minimal Debian root file system with Python and its venv module from the
# Debian mirror (or a local one), and podman (or docker) imports it as an image.
#
#   deploy/container/base-debian.sh                       # localhost/ocrd-base:bookworm for this machine
#   deploy/container/base-debian.sh --arch arm64          # for Kunpeng (needs qemu-user-static to build)
#   deploy/container/base-debian.sh --mirror http://mirror.example/debian
set -eu

SUITE=bookworm            # Python 3.11, the oldest Python ocrd supports, and glibc 2.36
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
MIRROR=""
TAG=""
ENGINE="${CONTAINER_ENGINE:-podman}"
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCH="$2"; shift 2 ;;
        --suite) SUITE="$2"; shift 2 ;;
        --mirror) MIRROR="$2"; shift 2 ;;
        --tag) TAG="$2"; shift 2 ;;
        --engine) ENGINE="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "base-debian: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ARCH" in
    amd64|x86_64) ARCH=amd64 ;;
    arm64|aarch64) ARCH=arm64 ;;
    *) echo "base-debian: --arch must be amd64 or arm64 (got $ARCH)" >&2; exit 2 ;;
esac
TAG="${TAG:-localhost/ocrd-base:$SUITE-$ARCH}"
for tool in mmdebstrap "$ENGINE"; do
    command -v "$tool" >/dev/null || { echo "base-debian: $tool is missing (apt-get install mmdebstrap podman)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
# minbase: dpkg, apt and essentials only. No documentation, manuals or translations: they are
# a third of the size and nobody reads them inside a container.
mmdebstrap --quiet --variant=minbase --architectures="$ARCH" \
    --include=python3,python3-venv,ca-certificates \
    --dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/man/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
    --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
    "$SUITE" "$work/rootfs.tar" $MIRROR
"$ENGINE" import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'CMD ["/bin/bash"]' \
    "$work/rootfs.tar" "$TAG" >/dev/null
echo "base-debian: $TAG ($SUITE, $ARCH)"
