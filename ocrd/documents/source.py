"""Where a document's bytes come from: a file on disk or an upload held in memory.

Everything that touches the file system is here, so operating-system failures are
classified in one place: a missing or unreadable file is the input's problem
(InputError), while an I/O error such as a vanished network share may go away by
itself (TransientError, retryable).
"""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

from ocrd.config import Limits
from ocrd.errors import EmptyFileError, InputError, OcrdError, TransientError

from .guards import check_bytes


@dataclass(frozen=True)
class Source:
    """A document's bytes, size-checked; ``name`` is what error messages call it."""

    name: str
    size: int
    path: Path | None = None
    data: bytes | None = None

    def head(self, count: int) -> bytes:
        if self.data is not None:
            return self.data[:count]
        assert self.path is not None
        try:
            with self.path.open("rb") as stream:
                return stream.read(count)
        except OSError as err:
            raise os_error(err, self.name) from err

    def tail(self, count: int) -> bytes:
        if self.data is not None:
            return self.data[-count:]
        assert self.path is not None
        try:
            with self.path.open("rb") as stream:
                stream.seek(max(0, self.size - count))
                return stream.read(count)
        except OSError as err:
            raise os_error(err, self.name) from err

    def read_all(self, limits: Limits) -> bytes:
        """All bytes, never more than ``limits.max_bytes`` even if the file grew since it was sized."""
        if self.data is not None:
            return self.data
        assert self.path is not None
        try:
            with self.path.open("rb") as stream:
                data = stream.read(limits.max_bytes + 1)
        except OSError as err:
            raise os_error(err, self.name) from err
        check_bytes(len(data), limits, self.name)
        if not data:
            raise EmptyFileError("file is empty (0 bytes)", path=self.name)
        return data


def source_from_path(path: str | os.PathLike[str], limits: Limits) -> Source:
    path = Path(path)
    try:
        info = path.stat()
    except OSError as err:
        raise os_error(err, str(path)) from err
    if path.is_dir():
        raise InputError("is a folder, not a file", path=str(path))
    _check_size(info.st_size, limits, str(path))
    return Source(name=str(path), size=info.st_size, path=path)


def source_from_bytes(data: bytes, name: str, limits: Limits) -> Source:
    _check_size(len(data), limits, name)
    return Source(name=name, size=len(data), data=bytes(data))


def _check_size(size: int, limits: Limits, name: str) -> None:
    if size == 0:
        raise EmptyFileError("file is empty (0 bytes); was it still being written?", path=name)
    check_bytes(size, limits, name)


def os_error(err: OSError, name: str) -> OcrdError:
    """Turn an operating-system error on the input into the matching OcrdError."""
    if isinstance(err, FileNotFoundError):
        return InputError("file not found", path=name)
    if isinstance(err, IsADirectoryError):
        return InputError("is a folder, not a file", path=name)
    if isinstance(err, PermissionError):
        return InputError("permission denied; make the file readable by the user ocrd runs as", path=name)
    if err.errno in (errno.ENAMETOOLONG, errno.ELOOP, errno.ENOTDIR):
        return InputError(f"cannot open the file: {err.strerror}", path=name)
    return TransientError(f"cannot read the file: {err.strerror or err}; will retry", path=name)
