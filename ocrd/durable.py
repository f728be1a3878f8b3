"""File operations that survive a crash at any instant and never overwrite an earlier file.

Every final name is created with ``os.link`` from a fully written, fsynced temporary file in the
same folder: ``link`` fails with EEXIST instead of replacing, so two writers (or two daemons on one
share) can never clobber each other, and a reader never sees a half-written file. File systems
without hard links (some SMB/FUSE mounts) fall back to "check, then rename", which is atomic
but leaves a tiny window for a simultaneous writer of the very same name.

Numbered names for collisions: ``a.pdf``, ``a.2.pdf``, ``a.3.pdf`` ...
"""

from __future__ import annotations

import contextlib
import errno
import os
import secrets
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

from ocrd.faults import crash_point
from ocrd.names import NAME_MAX, cut_bytes, fitting

TEMP_SUFFIX = ".ocrd-tmp"
# link() is not available here; fall back to rename after an existence check.
_NO_HARDLINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS, errno.EACCES}


def fsync_dir(path: str | os.PathLike[str]) -> None:
    """Make a rename/link/unlink in ``path`` durable (some network file systems cannot; that is fine)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:
        if exc.errno not in (errno.EINVAL, errno.EBADF, errno.ENOTSUP):
            raise
    finally:
        os.close(fd)


def _umask() -> int:
    # os.umask can only be read by setting it; the process does not change it while running.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_UMASK = _umask()
# Who writes temporary files: "<node>.<pid>.<token>" in a daemon (set at its start), so that a
# later start can tell the leftovers of a dead writer from a live neighbour's files in progress.
_temp_owner = f"p{os.getpid()}"


def set_temp_owner(owner: str) -> None:
    global _temp_owner
    _temp_owner = owner


def temp_owner(name: str) -> str | None:
    """The owner recorded in a temporary file's name, or None if it is not one of ours."""
    if not (name.startswith(".") and name.endswith(TEMP_SUFFIX)):
        return None
    parts = name[: -len(TEMP_SUFFIX)].split("~")
    return parts[-2] if len(parts) >= 3 else None


def write_temp(folder: Path, data: bytes, hint: str = "file", *, durable: bool = True) -> Path:
    """Write ``data`` to a new hidden temporary file in ``folder`` (and fsync it).

    The file gets the mode the process umask gives (0644 under 022, 0640 under systemd's 0027):
    results are for the people in the folder's group, not only for ocrd's user.
    """
    prefix = f".{cut_bytes(hint, 60)}~{_temp_owner}~"
    try:
        fd, name = tempfile.mkstemp(dir=folder, prefix=prefix, suffix=TEMP_SUFFIX)
    except OSError as exc:
        raise _naming(exc, folder) from None
    try:
        os.fchmod(fd, 0o666 & ~_UMASK)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
    except BaseException as exc:
        _unlink_quietly(Path(name))
        if isinstance(exc, OSError):
            raise _naming(exc, folder) from None
        raise
    return Path(name)


def temp_path(folder: Path, hint: str = "file") -> Path:
    """A fresh name for a temporary file in ``folder``, as ``write_temp`` names them; nothing is created.

    For a file another process writes (a worker writes the searchable PDF): the name carries this
    process's owner, so crash cleanup treats it like our own temporary files.
    """
    return folder / f".{cut_bytes(hint, 60)}~{_temp_owner}~{secrets.token_hex(6)}{TEMP_SUFFIX}"


def _naming(exc: OSError, folder: Path) -> OSError:
    """Errors of write()/fsync() carry no file name: name the folder, so the message says where."""
    if exc.filename is None:
        exc.filename = str(folder)
    return exc


def write_replace(path: Path, data: bytes, *, durable: bool = True) -> None:
    """Atomically replace ``path`` (for our own bookkeeping files, never for results).

    ``durable=False`` skips the fsyncs: still atomic for readers and across a crashed process,
    only a power loss may bring back the previous version.
    """
    temp = write_temp(path.parent, data, path.name, durable=durable)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise
    if durable:
        fsync_dir(path.parent)


def link_new(source: Path, target: Path) -> bool:
    """Give ``source``'s inode the name ``target`` unless that name exists; True on success.

    ``source`` keeps its name too; the caller unlinks it.
    """
    try:
        os.link(source, target)
        return True
    except FileExistsError:
        return False
    except OSError as exc:
        if exc.errno not in _NO_HARDLINKS:
            raise
    if os.path.lexists(target):
        return False
    # Without hard links the source name disappears here, so callers must not rely on it afterwards.
    os.rename(source, target)
    return True


def numbered(name: str, number: int) -> str:
    """``a.pdf`` (1), ``a.2.pdf`` (2), ``a.3.pdf`` ...: the number goes before the last suffix.

    A name already near the file system's limit is shortened (with a hash) to make room.
    """
    if number <= 1:
        return name
    stem, ext = os.path.splitext(name)
    candidate = f"{stem}.{number}{ext}"
    if len(os.fsencode(candidate)) > NAME_MAX:
        candidate = fitting(stem, f".{number}{ext}", room=0)
    return candidate


def candidate_names(name: str, start: int = 1) -> Iterator[tuple[int, str]]:
    number = start
    while True:
        yield number, numbered(name, number)
        number += 1


def place_group(
    folder: Path,
    files: Mapping[str, bytes | Path],
    *,
    plan: Callable[[dict[str, Path]], None] | None = None,
) -> dict[str, Path]:
    """Write a group of files that belong together (``a.txt`` + ``a.json``) under one free number.

    ``files`` maps final names for number 1 (e.g. ``{"a.txt": ..., "a.json": ...}``) to contents,
    or to a temporary file in ``folder`` that is already written and synced (a worker's PDF): it is
    linked like the others and left for its owner to remove, who may need it for a retry.
    All are written and fsynced first; ``plan`` is called with the chosen paths before any becomes
    visible (so a crash can be cleaned up); they are then linked in the given order - put the file
    whose presence means "complete" last. Returns final name -> placed path.
    """
    folder.mkdir(parents=True, exist_ok=True)
    temps: dict[str, Path] = {}
    given = {name: data for name, data in files.items() if isinstance(data, Path)}
    try:
        for name, data in files.items():
            # One by one: a full disk mid-way leaves none behind.
            temps[name] = data if isinstance(data, Path) else write_temp(folder, data, name)
        crash_point("results-written")
        number = 1
        while True:
            chosen = {name: folder / numbered(name, number) for name in files}
            if any(os.path.lexists(path) for path in chosen.values()):
                number += 1
                continue
            if plan is not None:
                plan(chosen)
            crash_point("results-planned")
            placed: list[Path] = []
            for name, path in chosen.items():
                if not link_new(temps[name], path):
                    break
                placed.append(path)
                crash_point("result-linked")
            else:
                fsync_dir(folder)
                return chosen
            # Someone took one of the names between the check and the link: undo ours, try the next number.
            for path in placed:
                _unlink_quietly(path)
            number += 1
    finally:
        for name, temp in temps.items():
            if name not in given:
                _unlink_quietly(temp)


def move_file(
    source: Path,
    folder: Path,
    name: str,
    *,
    plan: Callable[[Path], None] | None = None,
) -> Path:
    """Move ``source`` into ``folder`` under ``name`` (or the next free number); durable; never overwrites.

    Same file system: link + unlink (atomic). Another file system: copy to a temporary file there,
    fsync, link, then unlink the source. ``plan`` is called with the target before it is attempted.
    """
    folder.mkdir(parents=True, exist_ok=True)
    for _number, candidate in candidate_names(name):
        target = folder / candidate
        if os.path.lexists(target):
            continue
        if plan is not None:
            plan(target)
        try:
            placed = link_new(source, target)
        except OSError as exc:
            if exc.errno != errno.EXDEV:
                raise
            placed = _copy_then_link(source, target)
        if not placed:
            continue
        fsync_dir(folder)
        if os.path.lexists(source):
            # Not synced: should a power loss bring the name back, the claim record says where the
            # file went and recovery removes the duplicate name.
            os.unlink(source)
        return target
    raise AssertionError("unreachable")  # pragma: no cover - candidate_names is endless


def _copy_then_link(source: Path, target: Path) -> bool:
    fd, name = tempfile.mkstemp(
        dir=target.parent, prefix=f".{cut_bytes(target.name, 60)}~{_temp_owner}~", suffix=TEMP_SUFFIX
    )
    temp = Path(name)
    try:
        with os.fdopen(fd, "wb") as out, source.open("rb") as src:
            shutil.copyfileobj(src, out, 1024 * 1024)
            out.flush()
            os.fsync(out.fileno())
        shutil.copystat(source, temp)
        return link_new(temp, target)
    finally:
        _unlink_quietly(temp)


def same_content(first: Path, second: Path) -> bool:
    """True if both names hold the same bytes (cheap when they are one inode)."""
    try:
        if os.path.samefile(first, second):
            return True
        if first.stat().st_size != second.stat().st_size:
            return False
        with first.open("rb") as a, second.open("rb") as b:
            while True:
                block_a, block_b = a.read(1 << 20), b.read(1 << 20)
                if block_a != block_b:
                    return False
                if not block_a:
                    return True
    except OSError:
        return False


def _unlink_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
