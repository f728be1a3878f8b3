"""Claiming by rename: one winner per file, abandoned claims found and taken over, hand-back never overwrites."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from ocrd.daemon.claims import ClaimRecord, Owner, ProcessingArea, process_token
from tests.daemon_support import wait_until

REPO = Path(__file__).resolve().parents[1]

RACER = """
import json, os, sys, time
from pathlib import Path
from ocrd.daemon.claims import Owner, ProcessingArea
inbox, start, racers, names = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3]), sys.argv[4:]
area = ProcessingArea(inbox, Owner.current())
area.ensure()
(start.parent / f"ready-{os.getpid()}").touch()
while not start.exists():  # every racer is loaded before any claims: a real race, not a relay
    time.sleep(0.001)
won = []


def attempt(name):
    claim = area.claim(name)
    if claim is not None:
        won.append([name, str(claim.file)])


attempt(names[0])
# All racers try their first file before any goes on, so each starting end has its winner
# however the scheduler runs them; the rest is a free-for-all.
(start.parent / f"first-{os.getpid()}").touch()
while len(list(start.parent.glob("first-*"))) < racers:
    time.sleep(0.001)
for name in names[1:]:
    attempt(name)
print(json.dumps(won))
"""


def test_racing_processes_claim_every_file_exactly_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    names = [f"scan{index:03d}.pdf" for index in range(300)]
    for name in names:
        (inbox / name).write_bytes(name.encode())
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    signals = tmp_path / "signals"
    signals.mkdir()
    start = signals / "start"
    count = 4  # two start at each end of the list
    racers = [
        subprocess.Popen(
            [sys.executable, "-c", RACER, str(inbox), str(start), str(count), *(names if i % 2 else names[::-1])],
            stdout=subprocess.PIPE,
            env=env,
        )
        for i in range(count)
    ]
    wait_until(lambda: len(list(signals.glob("ready-*"))) == count, timeout=300, interval=0.01)
    start.touch()
    won = [json.loads(racer.communicate(timeout=300)[0]) for racer in racers]
    claimed = [name for racer in won for name, _ in racer]
    assert sorted(claimed) == names, "every file claimed exactly once"
    assert sum(1 for racer in won if racer) >= 2, "the race really had several winners"
    for racer in won:
        for name, path in racer:
            assert Path(path).read_bytes() == name.encode()
    assert [p for p in inbox.iterdir() if p.name != ".ocrd"] == []


def test_claim_keeps_the_relative_path_and_two_same_names_do_not_collide(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "dept").mkdir(parents=True)
    area = ProcessingArea(inbox, Owner.current("scanner-host.example.com"))
    area.ensure()
    (inbox / "dept" / "a.pdf").write_bytes(b"first")
    first = area.claim("dept/a.pdf")
    (inbox / "dept" / "a.pdf").write_bytes(b"second")  # the same name dropped again while the first runs
    second = area.claim("dept/a.pdf")
    assert first is not None and second is not None
    assert first.file.read_bytes() == b"first" and second.file.read_bytes() == b"second"
    assert first.folder.name.startswith("scanner-host-example-com.")
    assert area.claim("dept/a.pdf") is None, "a vanished file is skipped silently"


def test_hand_back_never_replaces_a_newer_file(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    area = ProcessingArea(inbox, Owner.current())
    area.ensure()
    (inbox / "a.pdf").write_bytes(b"old")
    claim = area.claim("a.pdf")
    assert claim is not None
    (inbox / "a.pdf").write_bytes(b"new")
    assert area.hand_back(claim) is False
    assert (inbox / "a.pdf").read_bytes() == b"new" and claim.file.read_bytes() == b"old"
    os.unlink(inbox / "a.pdf")
    assert area.hand_back(claim) is True
    assert (inbox / "a.pdf").read_bytes() == b"old" and not claim.folder.exists()


def test_claims_of_a_dead_process_are_abandoned_and_adopted_once(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "a.pdf").write_bytes(b"data")
    script = (
        "import sys; from ocrd.daemon.claims import *; "
        "area = ProcessingArea(sys.argv[1], Owner.current()); area.ensure(); "
        "c = area.claim('a.pdf'); c.record.attempts = 1; c.save()"
    )
    subprocess.run([sys.executable, "-c", script, str(inbox)], check=True, env={**os.environ, "PYTHONPATH": str(REPO)})
    ours = ProcessingArea(inbox, Owner.current())
    other = ProcessingArea(inbox, Owner("vm-that-is-not-us", 1, "deadbeef"))
    (abandoned,) = ours.abandoned(stale_after=3600)
    claim = ours.adopt(abandoned)
    assert claim is not None and claim.rel == "a.pdf" and claim.record.attempts == 1
    assert claim.file.read_bytes() == b"data"
    assert other.adopt(abandoned) is None, "only one daemon wins the takeover"
    assert ours.abandoned(stale_after=3600) == [], "our own live claims are never abandoned"


def test_live_claims_are_left_alone_and_other_hosts_go_stale_by_age(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / "mine.pdf").write_bytes(b"1")
    (inbox / "remote.pdf").write_bytes(b"2")
    me = Owner.current()
    sibling = ProcessingArea(inbox, Owner(me.node, os.getppid(), process_token(os.getppid()) or "x"))
    sibling.ensure()
    assert sibling.claim("mine.pdf") is not None
    remote = ProcessingArea(inbox, Owner("other-host", 4242, "cafe0000"))
    remote_claim = remote.claim("remote.pdf")
    assert remote_claim is not None
    observer = ProcessingArea(inbox, Owner(me.node, me.pid, me.token))
    assert observer.abandoned(stale_after=60) == [], "a live process on this host, a fresh remote claim"
    old = time.time() - 120
    os.utime(remote_claim.folder, (old, old))
    assert observer.abandoned(stale_after=60) == [remote_claim.folder]
    remote.touch(remote_claim)
    assert observer.abandoned(stale_after=60) == [], "touching keeps a remote claim alive"


def test_a_claim_without_its_record_is_rebuilt_from_the_folder(tmp_path: Path) -> None:
    inbox = tmp_path / "inbox"
    (inbox / "sub").mkdir(parents=True)
    (inbox / "sub" / "x.png").write_bytes(b"png")
    area = ProcessingArea(inbox, Owner.current())
    area.ensure()
    claim = area.claim("sub/x.png")
    assert claim is not None
    record = ProcessingArea.load_record(claim.folder)
    assert record == ClaimRecord(rel="sub/x.png", claimed_at=record.claimed_at)
    claim.record.attempts = 2
    claim.record.history.append("worker crashed")
    claim.save()
    assert ProcessingArea.load_record(claim.folder).history == ["worker crashed"]
