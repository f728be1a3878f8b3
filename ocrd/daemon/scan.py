"""Which files in an inbox are candidates, and finding them.

Scanners, browsers and copy tools write under a temporary name and rename at the end, or
leave lock files behind; none of those may ever be consumed. Only regular files count:
a FIFO would block the reader forever, and a symlink would be moved instead of its target.
"""

from __future__ import annotations

import fnmatch
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from ocrd.daemon.claims import STATE_DIR

# Names that mean "still being written" or "not a document": editors' lock files (~$x.docx),
# browser and transfer-tool partial downloads, vim swap files, backup files.
IGNORED_PREFIXES = (".", "~$")
IGNORED_SUFFIXES = (".part", ".tmp", ".temp", ".crdownload", ".partial", ".download", ".filepart", ".swp", "~")


# Files that Windows Explorer keeps in any folder it shows (thumbnail caches, folder settings):
# not documents, and recreated as soon as they are moved, so never claimed nor reported.
IGNORED_NAMES = {"thumbs.db", "ehthumbs.db", "ehthumbs_vista.db", "desktop.ini"}


def is_ignored_name(name: str) -> bool:
    lowered = name.lower()
    return lowered.startswith(IGNORED_PREFIXES) or lowered.endswith(IGNORED_SUFFIXES) or lowered in IGNORED_NAMES


def matches(name: str, patterns: Iterable[str]) -> bool:
    """Case-insensitive: scanners on Windows shares write ``SCAN0001.PDF``."""
    lowered = name.lower()
    return any(fnmatch.fnmatchcase(lowered, pattern.lower()) for pattern in patterns)


@dataclass(frozen=True)
class Found:
    rel: str  # path relative to the inbox, "/"-separated
    size: int
    mtime_ns: int


def walk(
    root: str,
    *,
    recursive: bool,
    patterns: Iterable[str],
    exclude: Iterable[str] = (),
    skipped: set[str] | None = None,
) -> Iterator[Found]:
    """Yield candidate files under ``root``; names that do not match go into ``skipped`` (if given).

    ``exclude`` holds absolute folders never to descend into (an outbox or done/ inside the inbox).
    Raises OSError only when ``root`` itself cannot be listed.
    """
    patterns = tuple(patterns)
    excluded = {os.path.normpath(path) for path in exclude}
    pending = [("", root)]
    first = True
    while pending:
        rel_dir, folder = pending.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            if first:
                raise
            continue  # a subfolder vanished or is unreadable; the next scan tries again
        first = False
        for entry in entries:
            name = entry.name
            rel = f"{rel_dir}{name}"
            if name == STATE_DIR or is_ignored_name(name):
                continue
            try:
                info = entry.stat(follow_symlinks=False)
            except OSError:
                continue
            if stat.S_ISDIR(info.st_mode):
                if recursive and os.path.normpath(entry.path) not in excluded:
                    pending.append((f"{rel}/", entry.path))
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            if not matches(name, patterns):
                if skipped is not None:
                    skipped.add(rel)
                continue
            yield Found(rel, info.st_size, info.st_mtime_ns)


def stat_candidate(root: str, rel: str) -> Found | None:
    """Fresh size/mtime of one candidate, or None if it is gone or no longer a regular file."""
    try:
        info = os.lstat(os.path.join(root, rel))
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return Found(rel, info.st_size, info.st_mtime_ns)
