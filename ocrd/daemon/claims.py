"""Claiming files by atomic rename, and finding claims that their owner abandoned.

Layout inside an inbox (same file system, so every move here is a rename)::

    inbox/.ocrd/processing/<node>.<pid>.<token>.<seq>/claim.json     bookkeeping (attempts, stage, plans)
    inbox/.ocrd/processing/<node>.<pid>.<token>.<seq>/f/<rel path>   the claimed file

One folder per claim: two files with the same name can be claimed at once without one rename
replacing the other, and a whole claim changes owner with one rename of its folder. Whoever's
rename succeeds owns the file; the loser gets ENOENT and skips it silently.

``token`` identifies the process incarnation (boot id + process start time), so a pid reused
after a restart or reboot is not mistaken for the old owner. Claims of another host cannot be
checked that way; its daemon refreshes the folder's mtime while it works, and a claim untouched
for ``stale_claim_after`` is taken over.
"""

from __future__ import annotations

import contextlib
import hashlib
import itertools
import json
import os
import re
import shutil
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ocrd.durable import link_new, temp_owner, write_replace
from ocrd.faults import crash_point

STATE_DIR = ".ocrd"  # hidden folder inside each inbox; never scanned
PROCESSING = "processing"
RECORD = "claim.json"
FILES = "f"

# Stages of a claim, in order; recovery resumes from the recorded one.
CLAIMED = "claimed"  # file taken, no result yet
PLACING = "placing"  # sidecar names chosen (record.outputs), being linked into the outbox
FINISHING = "finishing"  # sidecars durable; original going to record.original_to
FAILING = "failing"  # failure decided (record.error); original going to record.original_to


def _read(path: str) -> str | None:
    try:
        with open(path) as handle:
            return handle.read()
    except OSError:
        return None


def process_token(pid: int) -> str | None:
    """A short fingerprint of the process ``pid`` (boot id + start time); None if there is none."""
    stat = _read(f"/proc/{pid}/stat")
    if stat is None:
        if os.path.isdir("/proc/self"):
            return None  # Linux: no such process
        try:  # elsewhere: fall back to "does the pid exist"
            os.kill(pid, 0)
        except ProcessLookupError:
            return None
        except PermissionError:
            pass
        return "alive"
    # Field 22 is the start time in clock ticks since boot; fields after the ')' start at field 3.
    start_ticks = stat.rsplit(")", 1)[1].split()[19]
    boot_id = (_read("/proc/sys/kernel/random/boot_id") or "").strip()
    return hashlib.sha1(f"{boot_id}:{pid}:{start_ticks}".encode()).hexdigest()[:8]


def safe_node_name(name: str) -> str:
    cleaned = re.sub(r"[^A-Za-z0-9_-]+", "-", name).strip("-")
    return cleaned or "host"


@dataclass(frozen=True)
class Owner:
    """Who holds a claim: node name, pid and process token."""

    node: str
    pid: int
    token: str

    @classmethod
    def current(cls, node_name: str = "") -> Owner:
        pid = os.getpid()
        token = process_token(pid) or "0"
        if token == "alive":
            token = hashlib.sha1(f"{time.time_ns()}:{pid}".encode()).hexdigest()[:8]
        return cls(safe_node_name(node_name or socket.gethostname()), pid, token)

    @property
    def prefix(self) -> str:
        return f"{self.node}.{self.pid}.{self.token}"

    @staticmethod
    def parse(folder_name: str) -> tuple[Owner, int] | None:
        parts = folder_name.rsplit(".", 3)
        if len(parts) != 4 or not parts[1].isdigit() or not parts[3].isdigit():
            return None
        return Owner(parts[0], int(parts[1]), parts[2]), int(parts[3])


@dataclass
class ClaimRecord:
    """What survives a crash about one claimed file (``claim.json``)."""

    rel: str
    claimed_at: float = field(default_factory=time.time)  # wall clock, for people and error files
    attempts: int = 0  # times a worker started on it
    stage: str = CLAIMED
    sha256: str | None = None
    outputs: dict[str, str] = field(default_factory=dict)  # sidecar paths (planned, then placed)
    original_to: str | None = None  # planned final path of the original (done/ or failed/)
    error: dict[str, Any] | None = None
    history: list[str] = field(default_factory=list)  # why earlier attempts ended
    # Size and mtime when it was taken: a file found damaged that has changed since was still being written.
    seen_size: int | None = None
    seen_mtime_ns: int | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ClaimRecord:
        known = {key: data[key] for key in cls.__dataclass_fields__ if key in data}
        return cls(**known)


@dataclass
class Claim:
    """A file this daemon owns until it is finished or handed back."""

    folder: Path
    record: ClaimRecord

    @property
    def rel(self) -> str:
        return self.record.rel

    @property
    def file(self) -> Path:
        return self.folder / FILES / self.record.rel

    def save(self, *, durable: bool = True) -> None:
        """Write the record; ``durable=False`` where losing it to a power cut costs nothing important."""
        # ASCII escapes: a file name with undecodable bytes (lone surrogates) is stored exactly and
        # read back unchanged; UTF-8 output could not encode it at all.
        data = json.dumps(asdict(self.record)).encode()
        write_replace(self.folder / RECORD, data, durable=durable)


class ProcessingArea:
    """The processing folder of one inbox, seen by one owner."""

    def __init__(self, inbox: str | os.PathLike[str], owner: Owner) -> None:
        self.inbox = Path(inbox)
        self.root = self.inbox / STATE_DIR / PROCESSING
        self.owner = owner
        self._seq = itertools.count(1)

    def ensure(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

    def _new_folder(self) -> Path:
        while True:
            folder = self.root / f"{self.owner.prefix}.{next(self._seq)}"
            if not os.path.lexists(folder):
                return folder

    def claim(self, rel: str, seen: tuple[int, int] | None = None) -> Claim | None:
        """Take ``inbox/rel`` by renaming it into a fresh claim folder; None if someone else was faster.

        ``seen`` is the (size, mtime_ns) the file had when it was judged complete.
        """
        folder = self._new_folder()
        target = folder / FILES / rel
        target.parent.mkdir(parents=True)
        crash_point("claim-folder-made")
        try:
            os.rename(self.inbox / rel, target)
        except FileNotFoundError:
            # NFS may retransmit a rename that already succeeded and then report ENOENT: check.
            if not target.exists():
                shutil.rmtree(folder, ignore_errors=True)
                return None
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        record = ClaimRecord(rel=rel)
        if seen is not None:
            record.seen_size, record.seen_mtime_ns = seen
        return Claim(folder, record)

    def adopt(self, stale: Path) -> Claim | None:
        """Take over an abandoned claim folder with one rename; None if another daemon was faster."""
        folder = self._new_folder()
        try:
            os.rename(stale, folder)
        except FileNotFoundError:
            return None
        return Claim(folder, self.load_record(folder))

    @staticmethod
    def load_record(folder: Path) -> ClaimRecord:
        """The record of a claim; rebuilt from the folder if a crash came before it was written."""
        with contextlib.suppress(OSError, ValueError, TypeError):
            data = json.loads((folder / RECORD).read_text())
            if isinstance(data, dict) and isinstance(data.get("rel"), str):
                return ClaimRecord.from_dict(data)
        files = [p for p in (folder / FILES).rglob("*") if p.is_file() or p.is_symlink()]
        rel = files[0].relative_to(folder / FILES).as_posix() if files else ""
        try:
            claimed_at = folder.stat().st_mtime
        except OSError:
            claimed_at = time.time()
        return ClaimRecord(rel=rel, claimed_at=claimed_at)

    def release(self, claim: Claim) -> None:
        """Forget a finished claim (its file is already in done/ or failed/, or deleted).

        Not synced: a claim folder brought back by a power loss holds a record saying the work is
        finished, and recovery just removes it.
        """
        shutil.rmtree(claim.folder, ignore_errors=True)

    def hand_back(self, claim: Claim) -> bool:
        """Put the file back into the inbox (never over a newer file of the same name); True on success.

        On False the claim stays where it is and the next start (or another daemon) recovers it.
        """
        target = self.inbox / claim.rel
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            if not link_new(claim.file, target):
                return False
            if os.path.lexists(claim.file):
                os.unlink(claim.file)
        except OSError:
            return False
        self.release(claim)
        return True

    def touch(self, claim: Claim) -> None:
        """Show other hosts that this claim is alive."""
        with contextlib.suppress(OSError):
            os.utime(claim.folder)

    def abandoned(self, stale_after: float, now: float | None = None) -> list[Path]:
        """Claim folders whose owner is gone: dead processes on this node, silent ones elsewhere."""
        now = time.time() if now is None else now
        try:
            entries = list(os.scandir(self.root))
        except FileNotFoundError:
            return []
        found = []
        for entry in entries:
            parsed = Owner.parse(entry.name)
            if parsed is None or not entry.is_dir(follow_symlinks=False):
                continue
            owner, _seq = parsed
            if owner == self.owner:
                continue
            if owner.node == self.owner.node:
                if process_token(owner.pid) != owner.token:
                    found.append(Path(entry.path))
                continue
            with contextlib.suppress(OSError):
                if now - entry.stat(follow_symlinks=False).st_mtime > stale_after:
                    found.append(Path(entry.path))
        found.sort(key=lambda path: path.name)
        return found


def writer_gone(owner: str, me: Owner, stale_after: float, mtime: float, now: float) -> bool:
    """Whether the writer named in a temporary file (``node.pid.token``) can no longer finish it."""
    parsed = Owner.parse(owner + ".0")
    if parsed is None:  # not a daemon's (e.g. ``ocrd ocr --out``): only once it is old
        return now - mtime > stale_after
    writer = parsed[0]
    if writer == me:
        return False
    if writer.node == me.node:
        return process_token(writer.pid) != writer.token
    return now - mtime > stale_after


def remove_leftover_temps(root: str | os.PathLike[str], stale_after: float, me: Owner) -> int:
    """Remove temporary files that interrupted writes left under ``root``; returns how many.

    Only files whose writer is gone: a live daemon on another host may be writing in the same
    outbox right now. Our own claim folders are not looked at (releasing a claim removes them).
    """
    now = time.time()
    return _remove_temps(root, lambda owner, path: writer_gone(owner, me, stale_after, os.lstat(path).st_mtime, now))


def remove_temps_of(root: str | os.PathLike[str], owners: set[str]) -> int:
    """Remove the temporary files under ``root`` written by ``owners`` (``node.pid.token``, all known dead)."""
    return _remove_temps(root, lambda owner, _path: owner in owners)


def _remove_temps(root: str | os.PathLike[str], gone: Callable[[str, str], bool]) -> int:
    removed = 0
    for folder, dirs, files in os.walk(root):
        dirs[:] = [name for name in dirs if name != STATE_DIR]
        for name in files:
            owner = temp_owner(name)
            if owner is None:
                continue
            path = os.path.join(folder, name)
            try:
                if gone(owner, path):
                    os.unlink(path)
                    removed += 1
            except OSError:
                continue
    return removed
