"""A problem outside the file (a full disk, a missing folder, a share gone) in words a person can act on."""

from __future__ import annotations

import errno
import os

from ocrd.durable import TEMP_SUFFIX
from ocrd.errors import OcrdError

_OS_HINTS = {
    errno.ENOSPC: "free some space",
    errno.EDQUOT: "the disk quota is used up",
    errno.EACCES: "check the folder's owner and permissions",
    errno.EPERM: "check permissions and attributes (read-only mount, chattr +i)",
    errno.EROFS: "the file system is mounted read-only",
    errno.ENOENT: "the folder is missing",
    errno.EIO: "the disk or share reports I/O errors",
    errno.ESTALE: "the network share was reset",
    errno.ENOTCONN: "the network share is disconnected",
}


def reason(exc: BaseException, action: str = "write in") -> str:
    """A problem outside the file, in words that name the folder and what to do."""
    if isinstance(exc, OcrdError):
        return exc.message
    if isinstance(exc, OSError):
        where = str(exc.filename or "")
        if where.endswith(TEMP_SUFFIX) or os.path.basename(where).startswith("."):
            where = os.path.dirname(where)  # name the folder, not our hidden temporary file
        hint = _OS_HINTS.get(exc.errno or 0)
        return f"cannot {action} {where or 'the folder'}: {exc.strerror or exc}" + (f" ({hint})" if hint else "")
    return str(exc)
