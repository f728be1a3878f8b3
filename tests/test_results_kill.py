"""A daemon killed (SIGKILL) while corrections stream in loses none it acknowledged.

After the restart every acknowledged correction is in the database and in the sidecar, the
sidecar is complete JSON of the newest committed version, and the original sidecar is kept.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
import requests

from ocrd import samples
from tests.web_server import TOKEN, start_daemon, stop_daemon

pytestmark = pytest.mark.slow


def test_corrections_acknowledged_before_a_kill_are_in_the_database_and_the_sidecar(tmp_path: Path) -> None:
    daemon = start_daemon(tmp_path / "daemon")
    auth = {"Authorization": f"Bearer {TOKEN}"}
    try:
        made = samples.make_sample_page_png(tmp_path / "killed.png", ["Invoice No. 12345678"]).path
        (daemon.inbox / made.name).write_bytes(made.read_bytes())
        sidecar = daemon.outbox / f"{made.name}.json"
        deadline = time.monotonic() + 180
        items: list = []
        while not items and time.monotonic() < deadline:
            answer = requests.get(daemon.url + "/api/results", params={"q": made.name}, headers=auth, timeout=30)
            items = answer.json()["data"]["items"]
            time.sleep(0.2)
        assert items and sidecar.is_file()
        result_id = items[0]["id"]
        original = sidecar.read_text(encoding="utf-8")
        acknowledged: list[str] = []
        stop = threading.Event()

        def stream() -> None:
            number = 0
            while not stop.is_set():
                number += 1
                text = f"Invoice No. {number:08d}"
                try:
                    response = requests.put(
                        f"{daemon.url}/api/results/{result_id}/pages/0/lines/0",
                        json={"text": text},
                        headers=auth,
                        timeout=30,
                    )
                except requests.RequestException:
                    return  # the daemon is gone: this one was not acknowledged
                if response.status_code == 200:
                    acknowledged.append(text)

        thread = threading.Thread(target=stream)
        thread.start()
        deadline = time.monotonic() + 60
        while len(acknowledged) < 15 and time.monotonic() < deadline:
            time.sleep(0.01)
        os.kill(daemon.process.pid, signal.SIGKILL)
        daemon.process.wait()
        stop.set()
        thread.join(timeout=60)
        assert len(acknowledged) >= 15
    finally:
        stop_daemon(daemon)

    restarted = start_daemon(tmp_path / "daemon")
    try:
        database = sqlite3.connect(tmp_path / "daemon" / "data" / "results" / "results.sqlite3")
        stored = [row[0] for row in database.execute("SELECT new_text FROM corrections ORDER BY number")]
        (current,) = database.execute("SELECT version FROM results WHERE id = ?", (result_id,)).fetchone()
        database.close()
        assert set(acknowledged) <= set(stored)
        written = json.loads(sidecar.read_text(encoding="utf-8"))  # complete JSON, not half a file
        assert written["version"] == current == len(stored) + 1
        assert [item["new_text"] for item in written["corrections"]] == stored
        assert written["pages"][0]["lines"][0]["text"] == stored[-1]
        assert (daemon.outbox / f"{made.name.removesuffix('.png')}.png.orig.json").read_text(
            encoding="utf-8"
        ) == original
        assert (daemon.outbox / f"{made.name}.txt").read_text(encoding="utf-8").splitlines()[0] == stored[-1]
        detail = requests.get(f"{restarted.url}/api/results/{result_id}", headers=auth, timeout=30).json()["data"]
        assert [item["new_text"] for item in detail["corrections"]] == stored
    finally:
        stop_daemon(restarted)


@pytest.mark.parametrize(
    ("point", "outcome"),
    [("original-moved", "done"), ("error-written", "failed")],
)
def test_a_file_finished_by_crash_recovery_is_in_the_index(tmp_path: Path, point: str, outcome: str) -> None:
    """Killed after the file's results were complete, before its claim was released (and so before
    it was indexed): the next start finishes the file and the index then holds it, once."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    root = tmp_path / "daemon"
    killed = start_daemon(root, extra_env={"OCRD_CRASH_AT": point})
    try:
        if outcome == "done":
            made = samples.make_sample_page_png(tmp_path / "recovered.png", ["Receipt No. 20240315"]).path
            data = made.read_bytes()
        else:
            data = b"\x89PNG\r\n\x1a\n" + b"cut off here"  # a PNG signature and nothing after it
        name = "recovered.png"
        (killed.inbox / name).write_bytes(data)
        assert killed.process.wait(timeout=180) == -signal.SIGKILL, killed.log_text()
    finally:
        stop_daemon(killed)
    assert (root / outcome / name).read_bytes() == data, "killed after the original moved, before the release"

    restarted = start_daemon(root)
    try:
        deadline = time.monotonic() + 120
        items: list = []
        while time.monotonic() < deadline:
            answer = requests.get(restarted.url + "/api/results", params={"q": name}, headers=auth, timeout=30)
            items = answer.json()["data"]["items"]
            if items:
                break
            time.sleep(0.2)
        assert [item["outcome"] for item in items] == [outcome], restarted.log_text()
        assert "file-recovered" in restarted.log_text()
        assert (root / outcome / name).read_bytes() == data
        detail = requests.get(f"{restarted.url}/api/results/{items[0]['id']}", headers=auth, timeout=30).json()["data"]
        if outcome == "done":
            assert "20240315" in json.dumps(detail["result"], ensure_ascii=False)
            assert detail["page_image"], "the original in done/ still shows the page"
        else:
            assert detail["error"]
        # Recovered once, its claim gone (indexing comes after the release): nothing left that
        # could add it a second time.
        assert restarted.log_text().count('"file-recovered"') == 1, restarted.log_text()
        assert list((root / "inbox" / ".ocrd" / "processing").iterdir()) == []
        again = requests.get(restarted.url + "/api/results", params={"q": name}, headers=auth, timeout=30)
        assert len(again.json()["data"]["items"]) == 1
    finally:
        stop_daemon(restarted)
