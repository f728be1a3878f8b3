"""Watching an inbox: inotify on local disks, polling on network shares.

NFS and SMB/CIFS deliver no inotify events for files written by other machines, which is the
classic "files on the share are never seen" complaint; so ``auto`` mode looks up the file
system type of the inbox and polls there. Events are only hints: the supervisor re-checks every
file itself, and a periodic full rescan catches anything a watcher missed.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator

from watchdog.events import FileSystemEvent, FileSystemEventHandler
from watchdog.observers import Observer
from watchdog.observers.api import BaseObserver
from watchdog.observers.polling import PollingObserverVFS

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
    def __init__(self, on_path: Callable[[str], None], on_folder: Callable[[str], None] | None = None) -> None:
        self.on_path = on_path
        self.on_folder = on_folder

    def on_any_event(self, event: FileSystemEvent) -> None:
        if event.is_directory and event.event_type not in ("moved", "created"):
            return  # a new or moved-in folder is walked by the inbox; other folder events say nothing new
        if event.event_type in ("deleted", "opened", "closed_no_write"):
            return
        path = os.fsdecode(getattr(event, "dest_path", "") or event.src_path)
        if event.is_directory and self.on_folder is not None:
            self.on_folder(path)
        self.on_path(path)


class FolderWatcher:
    """One observer thread for one inbox, reporting changed paths to ``on_path`` (from its thread).

    ``skip(path)`` names folders never to watch: the daemon's own ``.ocrd`` working folders (claims
    come and go there all the time) and outboxes or done/ folders inside the inbox. A recursive
    watch therefore places one plain watch per folder itself, instead of watchdog's recursive one,
    which would follow every claim folder ocrd creates and removes.
    """

    def __init__(
        self,
        path: str,
        *,
        mode: str,
        recursive: bool,
        poll_interval: float,
        on_path: Callable[[str], None],
        skip: Callable[[str], bool] = lambda path: False,
    ) -> None:
        self.path = path
        self.mode = mode
        self.recursive = recursive
        self.poll_interval = poll_interval
        self.on_path = on_path
        self.skip = skip
        self._observer: BaseObserver | None = None
        self._watched: set[str] = set()
        self._lock = threading.Lock()

    def start(self) -> str:
        """Start watching; falls back to polling if inotify is unavailable (e.g. out of watches)."""
        if self.mode == "native":
            try:
                observer: BaseObserver = Observer()
                self._observer = observer
                self._handler = _Forward(self.on_path, self._watch_tree if self.recursive else None)
                self._watch_tree(self.path)
                observer.start()
                return self.mode
            except OSError as exc:
                self._observer = None
                log.warning(
                    "cannot watch %s with inotify (%s); polling every %g s instead. Raising "
                    "fs.inotify.max_user_watches / max_user_instances fixes this",
                    self.path,
                    exc.strerror or exc,
                    self.poll_interval,
                )
                self.mode = "poll"
        poller = PollingObserverVFS(os.stat, self._listdir, polling_interval=self.poll_interval)
        poller.schedule(_Forward(self.on_path), self.path, recursive=self.recursive)
        poller.start()
        self._observer = poller
        return self.mode

    def _listdir(self, path: str | None) -> Iterator[os.DirEntry[str]]:
        for entry in os.scandir(path):
            if entry.is_dir(follow_symlinks=False) and self.skip(entry.path):
                continue
            yield entry

    def _watch_tree(self, top: str) -> None:
        """Watch ``top`` and, for a recursive inbox, every folder below it that is not skipped."""
        observer = self._observer
        if observer is None or self.skip(top):
            return
        pending = [top]
        while pending:
            folder = pending.pop()
            with self._lock:
                if folder in self._watched:
                    continue
                try:
                    observer.schedule(self._handler, folder, recursive=False)
                except FileNotFoundError:
                    continue  # came and went
                except OSError:
                    if folder == self.path:
                        raise
                    continue
                self._watched.add(folder)
            if not self.recursive:
                return
            try:
                subfolders = [e.path for e in os.scandir(folder) if e.is_dir(follow_symlinks=False)]
            except OSError:
                continue
            pending.extend(path for path in subfolders if not self.skip(path))

    def alive(self) -> bool:
        return self._observer is not None and self._observer.is_alive()

    def stop(self) -> None:
        observer, self._observer = self._observer, None
        self._watched.clear()
        if observer is None:
            return
        observer.stop()
        if observer.is_alive():
            observer.join(timeout=5)
