"""The one way the project hashes a file: sha256 in 1 MiB blocks, never the whole file in memory."""

from __future__ import annotations

import hashlib
import os


def sha256_of(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(chunk):
            digest.update(block)
    return digest.hexdigest()
