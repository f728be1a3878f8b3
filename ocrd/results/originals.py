"""Originals the index keeps itself: copies of uploads, which the web app deletes soon after."""

from __future__ import annotations

import contextlib
import os
import shutil
from pathlib import Path

from ocrd.results.store import ORIGINALS


def keep_copy(source: Path, folder: Path, result_id: str, max_bytes: int) -> tuple[Path, int] | None:
    """Copy ``source`` to ``<folder>/originals/<id>``; None when it is larger than the whole budget."""
    size = source.stat().st_size
    if max_bytes and size > max_bytes:
        return None
    target = folder / ORIGINALS / result_id
    temp = target.with_name(f".{result_id}.partial")
    shutil.copyfile(source, temp)
    os.replace(temp, target)  # a copy cut short by a crash is never taken for the original
    return target, size


def remove(path: str | None) -> None:
    if path:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def sweep_partial(folder: Path) -> None:
    """Copies a killed process left unfinished."""
    for leftover in (folder / ORIGINALS).glob(".*.partial"):
        with contextlib.suppress(OSError):
            leftover.unlink()
