"""Optional duplicate detection: the same bytes dropped again reuse the earlier result.

The outbox keeps a tiny index, ``<outbox>/.ocrd/hashes/<sha256>``, holding the path of the JSON
sidecar written for those bytes. A hit is trusted only if that sidecar still exists and still
names the same sha256; otherwise the file is simply read again.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from ocrd.checksums import sha256_of
from ocrd.durable import write_replace

__all__ = ["lookup", "remember", "sha256_of"]
from ocrd.result import Document


def _entry(outbox: str, sha256: str) -> Path:
    return Path(outbox, ".ocrd", "hashes", sha256[:2], sha256)


def lookup(outbox: str, sha256: str) -> Document | None:
    """The earlier result for these bytes, or None."""
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        sidecar = os.fsdecode(_entry(outbox, sha256).read_bytes().strip())
        document = Document.from_dict(json.loads(Path(sidecar).read_text()))
        if document.sha256 == sha256:
            return document
    return None


def remember(outbox: str, sha256: str | None, sidecar_json: str) -> None:
    if not sha256:
        return
    entry = _entry(outbox, sha256)
    entry.parent.mkdir(parents=True, exist_ok=True)
    write_replace(entry, os.fsencode(sidecar_json))
