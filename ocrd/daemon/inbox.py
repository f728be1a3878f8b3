"""One inbox at run time: what is in it, what has settled, and claiming the next file.

All methods run in one thread at a time (the supervisor calls them through ``asyncio.to_thread``
one step at a time per inbox), so a slow or hung share stalls only its own inbox, never the
dispatch loop. The watcher thread only drops paths into a locked "dirty" set.
"""

from __future__ import annotations

import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ocrd.config import InboxSettings
from ocrd.daemon.claiming import Claimer
from ocrd.daemon.claims import STATE_DIR, Claim, Owner, ProcessingArea, remove_leftover_temps
from ocrd.daemon.logs import event
from ocrd.daemon.outputs import KeptIndex, Targets
from ocrd.daemon.scan import Found, is_ignored_name, matches, stat_candidate, walk
from ocrd.daemon.stability import StabilityTracker
from ocrd.daemon.watch import FolderWatcher, choose_mode

log = logging.getLogger("ocrd.daemon.inbox")

MAX_REMEMBERED_SKIPS = 10_000


@dataclass
class Step:
    """What one step of an inbox produced for the supervisor."""

    claims: list[Claim] = field(default_factory=list)
    adopted: list[Claim] = field(default_factory=list)  # abandoned claims of dead owners, now ours
    # Claimed only to be filed in failed/ without reading (unsupported type, no permission): with why.
    rejected: list[tuple[Claim, dict[str, Any]]] = field(default_factory=list)
    discovered: int = 0  # files seen for the first time since the previous step
    unsupported: int = 0  # files of a type ocrd does not read, found in this step


class InboxRuntime:
    def __init__(
        self,
        settings: InboxSettings,
        owner: Owner,
        *,
        stale_claim_after: float,
        rescan_interval: float,
        retry_backoff_max: float = 300.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.settings = settings
        self.owner = owner
        self.clock = clock
        self.stale_claim_after = stale_claim_after
        self.rescan_interval = rescan_interval
        self._discovered = 0  # new files seen since the last step, for the metrics
        self.retry_backoff_max = retry_backoff_max
        self.tracker = StabilityTracker(settings.settle, clock=clock)
        self.area = ProcessingArea(settings.path, owner)
        self.targets = Targets(settings)
        self.kept = KeptIndex(settings.path) if settings.on_success == "keep" else None
        self.mode, self.fs_type = choose_mode(settings.watch, settings.path)
        self.watcher: FolderWatcher | None = None
        self.available = False
        self._identity: tuple[int, int] | None = None
        self._dirty: set[str] = set()
        self._dirty_lock = threading.Lock()
        self._next_rescan = 0.0
        self._skipped: set[str] = set()
        self.claimer = Claimer(
            settings,
            self.tracker,
            self.area,
            retry_after=lambda: self.retry_backoff_max,
            on_folder_problem=self._pause,
        )
        # Results cannot be written (disk full, share gone...): the reason, naming the folder; None when fine.
        self.outbox_problem: str | None = None
        # Unsupported files are found like any other (so they settle first) and filed at claim time.
        self._find_patterns = ("*",) if settings.unsupported == "fail" else settings.patterns
        # Claiming paused (inbox not writable, outbox unavailable): until when, and why.
        self.paused_until = 0.0
        self.paused_reason: str | None = None
        self._pause_backoff = 1.0

    @property
    def name(self) -> str:
        return self.settings.name

    # --- watcher thread -------------------------------------------------------------------------------

    def note_path(self, path: str) -> None:
        with self._dirty_lock:
            self._dirty.add(path)

    # --- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> list[str]:
        """Prepare folders and start watching; returns the folders that had to be created.

        A missing inbox is created when its parent exists (a fresh install, `ocrd run --inbox new`);
        one whose parent is missing too (a share not mounted yet) is waited for instead.
        """
        created = self.targets.prepare()
        for root in self.targets.roots():
            removed = remove_leftover_temps(root, self.stale_claim_after, self.owner)
            if removed:
                event(
                    log,
                    "temp-files-removed",
                    f"removed {removed} temporary file(s) left in {root} by an interrupted write",
                    inbox=self.name,
                    folder=root,
                )
        path = self.settings.path
        if not os.path.exists(path) and os.path.isdir(os.path.dirname(path.rstrip(os.sep)) or os.sep):
            with contextlib.suppress(OSError):
                os.mkdir(path)
                created.append(path)
        self._check_available()
        return created

    def stop(self) -> None:
        if self.watcher is not None:
            self.watcher.stop()
            self.watcher = None

    def _exclude(self) -> list[str]:
        return [self.settings.outbox, self.settings.done, self.settings.failed]

    def _not_watched(self, folder: str) -> bool:
        """The daemon's own working folders, and result folders inside the inbox, are never watched."""
        if os.path.basename(folder) == STATE_DIR:
            return True
        normal = os.path.normpath(folder)
        return any(normal == os.path.normpath(path) for path in self._exclude())

    def _check_available(self) -> bool:
        """Notice an inbox that vanished (share unmounted) or was replaced, and (re)start its watcher."""
        try:
            info = os.stat(self.settings.path)
            identity = (info.st_dev, info.st_ino)
        except OSError as exc:
            if self.available or self._identity is None:
                event(
                    log,
                    "inbox-unavailable",
                    f"inbox {self.settings.path} is not available ({exc.strerror}); waiting for it",
                    level=logging.WARNING,
                    inbox=self.name,
                )
            self.available = False
            self._identity = self._identity or (0, 0)
            self.stop()
            return False
        if identity != self._identity or self.watcher is None or not self.watcher.alive():
            self.stop()
            self.area.ensure()
            watcher = FolderWatcher(
                self.settings.path,
                mode=self.mode,
                recursive=self.settings.recursive,
                poll_interval=self.settings.poll_interval,
                on_path=self.note_path,
                skip=self._not_watched,
            )
            self.mode = watcher.start()
            self.watcher = watcher
            if not self.available:
                event(
                    log,
                    "inbox-watching",
                    f"watching {self.settings.path} ({self.mode}"
                    f"{', file system ' + self.fs_type if self.fs_type else ''})",
                    inbox=self.name,
                    mode=self.mode,
                )
            self._next_rescan = 0.0  # scan now: files may have arrived while we were not looking
        self._identity = identity
        self.available = True
        return True

    # --- one step -------------------------------------------------------------------------------------

    def needs_step(self) -> bool:
        """Cheap check from the loop thread: is there anything for a step to do?"""
        return bool(self._dirty) or len(self.tracker) > 0 or self.clock() >= self._next_rescan

    def step(self, want: int, *, held: Sequence[Claim] = (), allow_claims: bool = True, adopt: bool = True) -> Step:
        """Observe changes, rescan when due, adopt abandoned claims, and claim up to ``want`` files.

        ``held`` are the claims the supervisor still works on; they are touched at every rescan
        so that daemons on other hosts can tell them from abandoned ones. ``adopt=False``: abandoned
        claims are left for others (a cluster host without workers, or cut off from Redis).
        """
        result = Step()
        try:
            return self._step(result, want, held, allow_claims, adopt)
        finally:
            result.discovered, self._discovered = self._discovered, 0

    def _step(self, result: Step, want: int, held: Sequence[Claim], allow_claims: bool, adopt: bool = True) -> Step:
        now = self.clock()
        if now >= self._next_rescan:
            self._next_rescan = now + self.rescan_interval
            if self._check_available():
                self._rescan()
                result.adopted = self._adopt_abandoned() if adopt else []
                for claim in held:
                    self.area.touch(claim)
            else:
                # Look again soon: a share that comes back should be used again quickly.
                self._next_rescan = now + min(self.rescan_interval, 5.0)
        if not self.available:
            return result
        self._observe_dirty()
        for rel in self.tracker.due_for_check(limit=5000):
            self._observe(rel, stat_candidate(self.settings.path, str(rel)))
        may_claim = allow_claims and want > 0 and now >= self.paused_until
        if may_claim and self.claimer.take(want, result) and (result.claims or result.rejected):
            self._resume()
        result.unsupported, self.claimer.unsupported_found = self.claimer.unsupported_found, 0
        return result

    def _observe(self, rel: str, found: Found | None) -> None:
        if found is None:
            self.tracker.forget(rel)
            self.claimer.unreadable.discard(rel)
            return
        if self.kept is not None and (found.rel, found.size, found.mtime_ns) in self.kept:
            self.tracker.forget(rel)
            return
        if rel not in self.tracker:
            self._discovered += 1
        self.tracker.observe(rel, found.size, found.mtime_ns)

    def _observe_dirty(self) -> None:
        with self._dirty_lock:
            dirty, self._dirty = self._dirty, set()
        root = self.settings.path.rstrip(os.sep) + os.sep
        for path in dirty:
            if not path.startswith(root):
                continue
            rel = path[len(root) :].replace(os.sep, "/")
            parts = rel.split("/")
            if parts[0] == STATE_DIR or any(is_ignored_name(part) for part in parts):
                continue
            if len(parts) > 1 and (
                not self.settings.recursive or any(path.startswith(p + os.sep) for p in self._exclude())
            ):
                continue
            if self.settings.recursive and os.path.isdir(path) and not os.path.islink(path):
                # A folder moved in whole brings no events for the files inside it: look now.
                self._observe_folder(rel)
                continue
            if not matches(parts[-1], self._find_patterns):
                continue
            self._observe(rel, stat_candidate(self.settings.path, rel))

    def _observe_folder(self, rel_dir: str) -> None:
        with contextlib.suppress(OSError):
            for found in walk(
                os.path.join(self.settings.path, rel_dir),
                recursive=True,
                patterns=self._find_patterns,
                exclude=self._exclude(),
            ):
                rel = f"{rel_dir}/{found.rel}"
                if rel not in self.tracker:
                    self._observe(rel, Found(rel, found.size, found.mtime_ns))

    def _rescan(self) -> None:
        seen: set[str] = set()
        skipped: set[str] = set()
        try:
            for found in walk(
                self.settings.path,
                recursive=self.settings.recursive,
                patterns=self._find_patterns,
                exclude=self._exclude(),
                skipped=skipped,
            ):
                seen.add(found.rel)
                if found.rel in self.tracker:
                    continue  # tracked: its own re-checks decide; a rescan must not reset the settle clock
                self._observe(found.rel, found)
        except OSError as exc:
            event(
                log,
                "inbox-unreadable",
                f"cannot list inbox {self.settings.path}: {exc.strerror}",
                level=logging.WARNING,
                inbox=self.name,
            )
            return
        for rel in self.tracker.tracked():
            if rel not in seen:
                self.tracker.forget(rel)
        self.claimer.unreadable &= seen
        for rel in sorted(skipped - self._skipped)[:100]:
            event(
                log,
                "file-ignored",
                f"ignoring {rel}: it does not match the inbox patterns ({' '.join(self.settings.patterns)})",
                inbox=self.name,
                file=rel,
            )
        if len(self._skipped) < MAX_REMEMBERED_SKIPS:
            self._skipped |= skipped

    def _adopt_abandoned(self) -> list[Claim]:
        adopted = []
        for folder in self.area.abandoned(self.stale_claim_after):
            with contextlib.suppress(OSError):
                claim = self.area.adopt(folder)
                if claim is not None:
                    event(
                        log,
                        "claim-recovered",
                        f"recovering {claim.rel or folder.name}, left in processing by {folder.name}",
                        inbox=self.name,
                        file=claim.rel,
                        stage=claim.record.stage,
                        attempts=claim.record.attempts,
                    )
                    adopted.append(claim)
        return adopted

    # --- claiming -------------------------------------------------------------------------------------

    @property
    def unreadable(self) -> set[str]:
        return self.claimer.unreadable

    def note_being_written(self, rel: str) -> None:
        """A file was handed back because its writer was not done: look for writers before taking it again."""
        if len(self.claimer.being_written) < MAX_REMEMBERED_SKIPS:
            self.claimer.being_written.add(rel)

    def _pause(self, reason: str) -> None:
        now = self.clock()
        first = self.paused_reason != reason
        self.paused_reason = reason
        self.paused_until = now + self._pause_backoff
        if first:
            event(log, "inbox-paused", f"{reason}; retrying with backoff", level=logging.ERROR, inbox=self.name)
        self._pause_backoff = min(self._pause_backoff * 2, self.retry_backoff_max)

    def pause_for_outputs(self, reason: str, seconds: float) -> None:
        """The supervisor could not write results to a folder: stop claiming until a retry succeeds."""
        self.paused_reason = reason
        self.outbox_problem = reason
        self.paused_until = self.clock() + seconds

    def _resume(self) -> None:
        if self.paused_reason is not None:
            event(log, "inbox-resumed", f"claiming again in {self.settings.path}", inbox=self.name)
        self.paused_reason = None
        self.paused_until = 0.0
        self._pause_backoff = 1.0

    def resume_outputs(self) -> None:
        self.outbox_problem = None
        self._resume()

    def waiting(self) -> int:
        """Files seen in the inbox that are not claimed yet."""
        return len(self.tracker)
