"""Which hosts' processes are dead, from heartbeat listings, and what they were writing."""

from __future__ import annotations

from pathlib import Path

from ocrd.daemon.cluster_leftovers import DeadWriters, remove_their_temps


def listing(*hosts: tuple[str, str | None]) -> list[dict[str, object]]:
    """Hosts as the queue lists them: a dead host's heartbeat (its owner too) is gone."""
    return [{"host": name, "alive": owner is not None, **({"owner": owner} if owner else {})} for name, owner in hosts]


def test_a_host_whose_heartbeat_stops_or_that_restarts_is_dead_once() -> None:
    writers = DeadWriters(me="a.1.x")
    assert writers.gone(listing(("a", "a.1.x"), ("b", "b.7.y"), ("c", "c.9.z"))) == set()
    assert writers.gone(listing(("a", "a.1.x"), ("b", "b.7.y"), ("c", None))) == {"c.9.z"}
    assert writers.gone(listing(("a", "a.1.x"), ("b", "b.8.w"), ("c", None))) == {"b.7.y"}  # restarted
    assert writers.gone(listing(("a", "a.1.x"), ("b", "b.8.w"), ("c", None))) == set()  # said once
    assert writers.gone(listing(("a", None), ("b", "b.8.w"))) == set()  # never this process itself


def test_a_host_never_seen_alive_is_left_to_the_age_rule() -> None:
    writers = DeadWriters(me="a.1.x")
    assert writers.gone(listing(("a", "a.1.x"), ("old", None))) == set()


def test_only_the_dead_owners_temporary_files_go(tmp_path: Path) -> None:
    outbox = tmp_path / "outbox"
    (outbox / "2026").mkdir(parents=True)
    dead = outbox / "2026" / ".x.pdf.json~c.9.z~0123456789ab.ocrd-tmp"
    live = outbox / ".y.pdf.json~b.8.w~0123456789ab.ocrd-tmp"
    result = outbox / "x.pdf.json"
    for path in (dead, live, result):
        path.write_text("{}")
    assert remove_their_temps([str(outbox)], {"c.9.z"}) == 1
    assert not dead.exists() and live.exists() and result.exists()
