#!/bin/sh
# Build the ocrd container image: localhost/ocrd:<version> and localhost/ocrd:latest.
#
#   deploy/container/build.sh --wheelhouse dist/wheelhouse-x86_64-py3.11                 # official Python base
#   deploy/container/build.sh --base offline --wheelhouse dist/wheelhouse-x86_64-py3.11  # base from Debian packages
#
# The build context is a folder of its own holding the Containerfile, the built-in configuration
# and the wheelhouse (`make wheelhouse`): the image is built without any network access.
set -eu

HERE="$(cd "$(dirname "$0")" && pwd)"
BASE=docker.io/library/python:3.11-slim-bookworm
WHEELHOUSE=""
VERSION=""
NAME=localhost/ocrd
ENGINE="${CONTAINER_ENGINE:-podman}"
ARCH="$(dpkg --print-architecture 2>/dev/null || echo amd64)"
SOURCE="${OCRD_SOURCE_URL:-https://example.invalid/ocrd}"
EXTRA=""   # options for the engine's build command, e.g. --runtime runc
while [ $# -gt 0 ]; do
    case "$1" in
        --base) BASE="$2"; shift 2 ;;
        --wheelhouse) WHEELHOUSE="$2"; shift 2 ;;
        --version) VERSION="$2"; shift 2 ;;
        --name) NAME="$2"; shift 2 ;;
        --engine) ENGINE="$2"; shift 2 ;;
        --arch) ARCH="$2"; shift 2 ;;
        --build-option) EXTRA="$EXTRA $2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "build: unknown argument $1" >&2; exit 2 ;;
    esac
done
case "$ARCH" in
    amd64|x86_64) ARCH=amd64 ;;
    arm64|aarch64) ARCH=arm64 ;;
    *) echo "build: --arch must be amd64 or arm64 (got $ARCH)" >&2; exit 2 ;;
esac
[ -n "$WHEELHOUSE" ] && [ -f "$WHEELHOUSE/wheelhouse.json" ] || {
    echo "build: --wheelhouse must name a wheelhouse folder (make wheelhouse ARCH=...); got '${WHEELHOUSE}'" >&2
    exit 2
}
if [ -z "$VERSION" ]; then
    wheel="$(ls "$WHEELHOUSE"/ocrd_daemon-*.whl 2>/dev/null | head -n 1)"
    [ -n "$wheel" ] || { echo "build: $WHEELHOUSE holds no ocrd_daemon wheel" >&2; exit 2; }
    VERSION="$(basename "$wheel" | cut -d- -f2)"
fi
if [ "$BASE" = offline ]; then
    BASE="localhost/ocrd-base:bookworm-$ARCH"
    "$ENGINE" image exists "$BASE" 2>/dev/null || "$HERE/base-debian.sh" --arch "$ARCH" --tag "$BASE" --engine "$ENGINE"
fi

context="$(mktemp -d)"
trap 'rm -rf "$context"' EXIT
cp "$HERE/Containerfile" "$HERE/ocrd.toml" "$context/"
cp -r "$WHEELHOUSE" "$context/wheelhouse"
# --format docker keeps HEALTHCHECK (the OCI image format has no place for it); docker ignores it.
format=""
[ "$ENGINE" = podman ] && format="--format docker"
# shellcheck disable=SC2086
"$ENGINE" build $format $EXTRA \
    --platform "linux/$ARCH" \
    --build-arg BASE="$BASE" --build-arg VERSION="$VERSION" --build-arg SOURCE="$SOURCE" \
    --tag "$NAME:$VERSION" --tag "$NAME:latest" \
    --file "$context/Containerfile" "$context"
echo "build: $NAME:$VERSION and $NAME:latest (base $BASE)"
