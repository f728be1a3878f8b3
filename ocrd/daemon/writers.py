"""Is a file still being written? Answers from what the system shows, for the cases that matter.

A scanner or copy tool that pauses longer than the settle time looks finished by size and mtime.
Where the writer is a process on this machine (a local copy, the SMB or NFS server of a share we
export), Linux shows its open descriptors in /proc: a descriptor open for writing on the same
inode means "not finished". Writers on other machines cannot be seen; for them the size and
modification time recorded at claim time are compared instead.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

_WRITE_MODES = (os.O_WRONLY, os.O_RDWR)


def open_for_writing(path: str | os.PathLike[str]) -> bool:
    """True if some process we may inspect holds ``path`` open for writing."""
    try:
        target = os.stat(path)
    except OSError:
        return False
    identity = (target.st_dev, target.st_ino)
    try:
        pids = [name for name in os.listdir("/proc") if name.isdigit()]
    except OSError:
        return False
    for pid in pids:
        fd_dir = f"/proc/{pid}/fd"
        try:
            fds = os.listdir(fd_dir)
        except OSError:
            continue  # gone, or not ours to look at
        for fd in fds:
            try:
                info = os.stat(f"{fd_dir}/{fd}")
            except OSError:
                continue
            if (info.st_dev, info.st_ino) == identity and _writable(pid, fd):
                return True
    return False


def _writable(pid: str, fd: str) -> bool:
    with contextlib.suppress(OSError, ValueError):
        for line in Path(f"/proc/{pid}/fdinfo/{fd}").read_text().splitlines():
            if line.startswith("flags:"):
                return int(line.split()[1], 8) & os.O_ACCMODE in _WRITE_MODES
    return False


def changed_since(path: str | os.PathLike[str], size: int | None, mtime_ns: int | None) -> bool:
    """True if ``path``'s size or modification time differs from the one recorded (None: unknown)."""
    if size is None or mtime_ns is None:
        return False
    try:
        info = os.stat(path)
    except OSError:
        return False
    return (info.st_size, info.st_mtime_ns) != (size, mtime_ns)


def still_being_written(path: str | os.PathLike[str], seen_size: int | None, seen_mtime_ns: int | None) -> bool:
    """Changed since it was taken (size, mtime), or held open for writing by a process we can see."""
    return changed_since(path, seen_size, seen_mtime_ns) or open_for_writing(path)
