"""A corrected folder result written back to its sidecars, so that downstream readers see it.

The first time, ``<name>.json`` as the daemon wrote it is kept as ``<name>.orig.json`` (created
once, never replaced). Then ``<name>.txt`` and ``<name>.json`` are replaced atomically (a
temporary file in the same folder, fsynced, renamed over the old one): a reader sees the old
version or the new one, never a mix. The JSON is the result with the corrections applied, plus
``"version"`` (1 is the original) and ``"corrections"``; the JSON goes last, so a complete JSON
means a complete version. A sidecar that is gone (the outbox was cleaned) or that is no longer
this result (another file of the same name) is left alone.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from ocrd.durable import link_new, write_replace, write_temp

log = logging.getLogger("ocrd.results")

ORIGINAL_SUFFIX = ".orig.json"


def original_name(json_path: Path) -> Path:
    """``a.png.json`` -> ``a.png.orig.json``."""
    stem = json_path.name[: -len(".json")] if json_path.name.endswith(".json") else json_path.name
    return json_path.with_name(stem + ORIGINAL_SUFFIX)


def text_of(document: dict[str, Any]) -> str:
    """As ``Document.to_text``: lines of a page joined by newlines, pages by form feeds."""
    pages = ["\n".join(line["text"] for line in page.get("lines", [])) for page in document.get("pages", [])]
    return "\f".join(pages) + "\n"


def sidecar_json(document: dict[str, Any], version: int, corrections: list[dict[str, Any]]) -> str:
    return json.dumps(document | {"version": version, "corrections": corrections}, ensure_ascii=False, indent=2)


def is_ours(json_path: Path, sha256: str | None) -> bool:
    try:
        data = json.loads(json_path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False
    except (OSError, ValueError) as exc:
        log.warning("results: %s cannot be read (%s); its correction is not written there", json_path, exc)
        return False
    return isinstance(data, dict) and data.get("sha256") == sha256


def rewrite(
    json_path: Path,
    txt_path: Path | None,
    *,
    original: str,
    document: dict[str, Any],
    version: int,
    corrections: list[dict[str, Any]],
    sha256: str | None,
) -> bool:
    """Write the current version to the sidecars; False when they are gone or are not this result."""
    if not is_ours(json_path, sha256):
        return False
    keep = original_name(json_path)
    if not keep.exists():
        temp = write_temp(json_path.parent, (original + "\n").encode(), keep.name)
        try:
            link_new(temp, keep)  # never replaces: the first version stays as it was
        finally:
            temp.unlink(missing_ok=True)
    if txt_path is not None and txt_path.exists():
        write_replace(txt_path, text_of(document).encode())
    write_replace(json_path, (sidecar_json(document, version, corrections) + "\n").encode())
    return True
