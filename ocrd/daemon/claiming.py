"""Taking settled files from an inbox: is it complete, may we read it, is it a type we read.

A file is claimed only when it opens, no writer holds a lock on it and it still matches its
settled snapshot. Files that can never be read (a type the inbox does not take, permissions
that forbid reading) are claimed too, to be filed in failed/ with the reason, instead of
waiting forever. A problem of one file's (its name, its permissions) never stops the others;
only a problem of the inbox folder itself pauses claiming.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ocrd.config import InboxSettings
from ocrd.daemon.claims import Claim, ProcessingArea
from ocrd.daemon.errors import error_info
from ocrd.daemon.logs import event
from ocrd.daemon.scan import matches
from ocrd.daemon.stability import StabilityTracker
from ocrd.daemon.writers import open_for_writing
from ocrd.errors import OcrdError, UnreadableFileError, UnsupportedFormatError
from ocrd.formats import SUPPORTED_FOR_HUMANS
from ocrd.names import readable

if TYPE_CHECKING:
    from ocrd.daemon.inbox import Step

log = logging.getLogger("ocrd.daemon.inbox")

LOCKED_RETRY = 5.0  # seconds before a locked file (scanner still writing) is tried again
MAX_REMEMBERED = 10_000
# Claim errors that concern one file's name, not the folder: that file is left, the others go on.
FILE_NAME_ERRNOS = {errno.ENAMETOOLONG, errno.EILSEQ, errno.EINVAL}


class Claimer:
    def __init__(
        self,
        settings: InboxSettings,
        tracker: StabilityTracker,
        area: ProcessingArea,
        *,
        retry_after: Callable[[], float],
        on_folder_problem: Callable[[str], None],
    ) -> None:
        self.settings = settings
        self.tracker = tracker
        self.area = area
        self.retry_after = retry_after  # how long a file that can be neither read nor moved waits
        self.on_folder_problem = on_folder_problem
        # Files the daemon's user may not read and cannot move: reported once each, on the status page.
        self.unreadable: set[str] = set()
        # Files handed back because they were still being written: checked for writers before a new claim.
        self.being_written: set[str] = set()
        self.unsupported_found = 0  # since the supervisor last asked

    def take(self, want: int, result: Step) -> bool:
        """Claim up to ``want`` settled files into ``result``; False if the inbox itself refused (paused)."""
        claims: list[Claim] = []
        for rel in self.tracker.ready(limit=want * 4):
            if len(claims) + len(result.rejected) >= want:
                break
            rel = str(rel)
            verdict = self.check_complete(rel)
            if verdict == "gone":
                self.tracker.forget(rel)
                continue
            if verdict not in ("ok", "unreadable"):
                continue
            seen = self.tracker.snapshot(rel)
            try:
                claim = self.area.claim(rel, seen)
            except OSError as exc:
                if verdict == "unreadable" or exc.errno in FILE_NAME_ERRNOS:
                    self._leave(rel, exc)  # this file's problem: the others go on
                    continue
                self.on_folder_problem(f"cannot claim files in {self.settings.path}: {exc.strerror}")
                result.claims = claims
                return False
            self.tracker.forget(rel)
            self.being_written.discard(rel)
            if claim is None:
                continue
            rejection = self._rejection(rel, verdict)
            if rejection is None:
                claims.append(claim)
            else:
                result.rejected.append((claim, rejection))
                self.unreadable.discard(rel)
        result.claims = claims
        return True

    def _rejection(self, rel: str, verdict: str) -> dict[str, Any] | None:
        """Why a claimed file goes to failed/ without being read, or None to read it."""
        if verdict == "unreadable":
            error: OcrdError = UnreadableFileError(
                f"{readable(rel)} may not be read by the user ocrd runs as; fix its permissions "
                "(e.g. chmod g+r) and put it back into the inbox"
            )
        elif not matches(rel.rsplit("/", 1)[-1], self.settings.patterns):
            self.unsupported_found += 1
            error = UnsupportedFormatError(
                f"{readable(rel)} is not a file this inbox reads: it takes {' '.join(self.settings.patterns)} "
                f"(ocrd reads {SUPPORTED_FOR_HUMANS})"
            )
        else:
            return None
        return error_info(type(error).__name__, error.kind, error.message, retryable=False)

    def _leave(self, rel: str, exc: OSError) -> None:
        """A file that can be neither read nor moved stays where it is; said once, looked at again later."""
        self.tracker.defer(rel, self.retry_after())
        if rel in self.unreadable:
            return
        self.unreadable.add(rel)
        event(
            log,
            "file-unreadable",
            f"{readable(rel)} cannot be read or moved to failed/ ({exc.strerror}); it stays in the inbox "
            + ("until its name is shortened" if exc.errno in FILE_NAME_ERRNOS else "until its permissions are fixed"),
            level=logging.WARNING,
            inbox=self.settings.name,
            file=readable(rel),
        )

    def check_complete(self, rel: str) -> str:
        """ "ok" if the file can be opened, is not locked and still matches its settled snapshot.

        "unreadable" if its permissions do not let us read it (it is filed in failed/ with that
        reason), "locked" if a writer still holds it, "changed" or "gone" if it moved on.
        """
        path = os.path.join(self.settings.path, rel)
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY)
        except FileNotFoundError:
            return "gone"
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EPERM) and not os.access(path, os.R_OK):
                return "unreadable"  # its mode says no: waiting would not help
            # Still held by the writer (SMB share locks, EBUSY/ETXTBSY/EACCES): try again later, never fail it.
            self.tracker.defer(rel, LOCKED_RETRY)
            event(
                log,
                "file-locked",
                f"{readable(rel)} cannot be opened yet ({exc.strerror}); retrying later",
                level=logging.DEBUG,
                inbox=self.settings.name,
                file=readable(rel),
            )
            return "locked"
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
            except OSError as exc:
                if exc.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                    self.tracker.defer(rel, LOCKED_RETRY)
                    return "locked"
            info = os.fstat(fd)  # after open(): on NFS this is revalidated with the server
        finally:
            os.close(fd)
        if (info.st_size, info.st_mtime_ns) != self.tracker.snapshot(rel):
            self.tracker.observe(rel, info.st_size, info.st_mtime_ns)
            return "changed"
        if rel in self.being_written and open_for_writing(path):
            self.tracker.defer(rel, LOCKED_RETRY)
            return "locked"
        return "ok"
