"""Watching an inbox: inotify on local disks, polling on network shares.

NFS and SMB/CIFS deliver no inotify events for files written by other machines, which is the
classic "files on the share are never seen" complaint; so ``auto`` mode looks up the file
system type of the inbox and polls there. Events are only hints: the supervisor re-checks every
file itself, and a periodic full rescan catches anything a watcher missed.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserver

log = logging.getLogger("ocrd.daemon.watch")

# File systems where changes made by other hosts produce no local events.
NETWORK_FILESYSTEMS = {
    "nfs",
    "nfs4",
    "cifs",
    "smb",
    "smb3",
    "smbfs",
    "ncpfs",
    "afs",
    "9p",
    "ceph",
    "glusterfs",
    "lustre",
    "gpfs",
    "beegfs",
    "davfs",
    "fuse.sshfs",
    "fuse.glusterfs",
    "fuse.cephfs",
    "fuse.s3fs",
    "fuse.rclone",
    "fuse.gcsfuse",
    "fuse.davfs",
    "fuse.smbnetfs",
    "vboxsf",
    "vmhgfs",
    "fuse.vmhgfs-fuse",
    "prl_fs",
}


def _unescape(field: str) -> str:
    # mountinfo escapes space, tab, newline and backslash as octal.
    return field.encode().decode("unicode_escape") if "\\" in field else field


def filesystem_type(path: str, mountinfo: str = "/proc/self/mountinfo") -> str | None:
    """The type of the file system holding ``path`` (longest matching mount point), or None."""
    try:
        with open(mountinfo) as handle:
            lines = handle.read().splitlines()
    except OSError:
        return None
    target = os.path.realpath(path)
    best, best_type = "", None
    for line in lines:
        left, sep, right = line.partition(" - ")
        if not sep:
            continue
        fields = left.split()
        if len(fields) < 5:
            continue
        mount_point = _unescape(fields[4])
        fs_type = right.split()[0] if right.split() else None
        inside = target == mount_point or target.startswith(mount_point.rstrip("/") + "/")
        if inside and len(mount_point) >= len(best):
            best, best_type = mount_point, fs_type
    return best_type


def is_network_filesystem(fs_type: str | None) -> bool:
    return fs_type is not None and (fs_type in NETWORK_FILESYSTEMS or fs_type.split(".")[0] in NETWORK_FILESYSTEMS)


def choose_mode(setting: str, path: str) -> tuple[str, str | None]:
    """("native" | "poll", file system type) for an inbox whose [inbox] watch is ``setting``."""
    fs_type = filesystem_type(path)
    if setting != "auto":
        return setting, fs_type
    return ("poll" if is_network_filesystem(fs_type) else "native"), fs_type


class _Forward(FileSystemEventHandler):
    def __init__(self, on_path: Callable[[str], None]) -> None:
        self.on_path = on_path

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type not in ("moved", "created"):
            return  # a new or moved-in folder is walked by the inbox; other folder events say nothing new
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = getattr(event, "dest_path", "") or event.src_path
        self.on_path(os.fsdecode(path))


class FolderWatcher:
    """One observer thread for one inbox, reporting changed paths to ``on_path`` (from its thread)."""

    def __init__(
        self,
        path: str,
        *,
        mode: str,
        recursive: bool,
        poll_interval: float,
        on_path: Callable[[str], None],
    ) -> None:
        self.path = path
        self.mode = mode
        self.recursive = recursive
        self.poll_interval = poll_interval
        self.on_path = on_path
        self._observer: BaseObserver | None = None

    def start(self) -> str:
        """Start watching; falls back to polling if inotify is unavailable (e.g. out of watches)."""
        handler = _Forward(self.on_path)
        if self.mode == "native":
            try:
                observer: BaseObserver = Observer()
                observer.schedule(handler, self.path, recursive=self.recursive)
                observer.start()
                self._observer = observer
                return self.mode
            except OSError as exc:
                log.warning(
                    "cannot watch %s with inotify (%s); polling every %g s instead. Raising "
                    "fs.inotify.max_user_watches / max_user_instances fixes this",
                    self.path,
                    exc.strerror or exc,
                    self.poll_interval,
                )
                self.mode = "poll"
        observer = PollingObserver(timeout=self.poll_interval)
        observer.schedule(handler, self.path, recursive=self.recursive)
        observer.start()
        self._observer = observer
        return self.mode

    def alive(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        if observer is None:
            return
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
