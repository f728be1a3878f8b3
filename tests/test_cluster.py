"""Acceptance: several hosts share the work through Redis Streams, nothing lost or done twice.

One redis-server (AOF on) and four real ``ocrd run`` daemons serve every scenario in order:
host-a, host-b, host-c with all roles on one shared inbox, host-w with roles web + watch only
(no work of its own). The documents are text-layer PDFs, read without OCR, so the scenarios
measure coordination, not recognition.
"""

from __future__ import annotations

import itertools
import json
import os
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from ocrd.checksums import sha256_of
from ocrd.cluster.messages import FileMessage
from tests.cluster_support import PREFIX, Host, RedisServer, pending, poll, settled_stream, start_host
from tests.daemon_support import (
    Sample,
    assert_exactly_once,
    drop,
    failures,
    files_under,
    inbox_folders,
    lines_for,
    text_pdf_bytes,
)
from tests.paths import REPO
from tests.web_server import free_port

pytestmark = pytest.mark.slow

_numbers = itertools.count(1)
DROPPED: list[Sample] = []  # every document of the module: the folders are checked as a whole


def batch(count: int, stem: str) -> list[Sample]:
    samples = []
    for _ in range(count):
        number = next(_numbers)
        samples.append(Sample(f"{stem}-{number:04d}.pdf", text_pdf_bytes(lines_for(number)), lines_for(number)))
    DROPPED.extend(samples)
    return samples


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        (root / "share").mkdir()
        self.folders = inbox_folders(root / "share")
        self.redis = RedisServer(root / "redis", free_port())
        self.hosts: dict[str, Host] = {}

    def all_done(self) -> bool:
        finished = len([p for p in files_under(self.folders["done"])]) + len(failures(self.folders["failed"]))
        return finished >= len(DROPPED) and not files_under(self.folders["inbox"])

    def handled(self) -> Counter[str]:
        return Counter(e["file"] for host in self.hosts.values() for e in host.daemon.events("file"))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    cluster = Cluster(tmp_path_factory.mktemp("cluster"))
    cluster.redis.start()
    try:
        for name in ("host-a", "host-b", "host-c"):
            cluster.hosts[name] = start_host(cluster.root, name, cluster.redis.url, cluster.folders)
        cluster.hosts["host-w"] = start_host(
            cluster.root, "host-w", cluster.redis.url, cluster.folders, roles=["web", "watch"]
        )
        for host in cluster.hosts.values():
            host.daemon.wait_ready()
        yield cluster
    finally:
        for host in cluster.hosts.values():
            if host.daemon.process is not None and host.daemon.process.poll() is None:
                host.daemon.stop()
        cluster.redis.stop()


def wait_finished(cluster: Cluster, timeout: float = 240.0) -> None:
    poll(cluster.all_done, timeout)
    poll(lambda: settled_stream(cluster.redis.client()), timeout)


def test_three_hosts_process_200_documents_exactly_once(cluster: Cluster) -> None:
    samples = batch(200, "doc")
    for sample in samples:
        drop(cluster.folders["inbox"], sample)
    wait_finished(cluster)
    assert_exactly_once(DROPPED, **{k: v for k, v in cluster.folders.items()})
    handled = cluster.handled()
    assert set(handled) == {s.name for s in samples} and max(handled.values()) == 1
    workers = {name for name, host in cluster.hosts.items() if host.daemon.events("file")}
    assert workers <= {"host-a", "host-b", "host-c"} and len(workers) >= 2, workers
    client = cluster.redis.client()
    assert pending(client) == 0
    info = client.xinfo_groups(f"{PREFIX}:files")[0]
    assert info["lag"] == 0 and info["pending"] == 0
    # Four watchers saw each document; Redis kept about one message each (a file still waiting after
    # republish_after is published again, harmlessly: its second delivery finds it gone).
    assert len(samples) <= client.xlen(f"{PREFIX}:files") < 2 * len(samples)
    # The status API shows the cluster as of host-a's last heartbeat.
    poll(lambda: cluster.hosts["host-a"].status()["cluster"]["streams"]["files"]["pending"] == 0)
    status = cluster.hosts["host-a"].status()["cluster"]
    assert {h["host"] for h in status["hosts"] if h["alive"]} == set(cluster.hosts)
    assert status["connected"] and status["streams"]["files"]["backlog"] == 0


def _owner_of(cluster: Cluster, name: str) -> str:
    """The process a host's heartbeat names (node.pid.token, as in its temporary files' names)."""
    client = cluster.redis.client()
    return poll(lambda: (client.hget(f"{PREFIX}:host:{name}", "owner") or b"").decode())


def test_a_host_killed_mid_batch_has_its_jobs_taken_over(cluster: Cluster) -> None:
    victim = cluster.hosts["host-c"]
    before = len(victim.daemon.events("file"))
    # What a kill in the middle of writing a result leaves: the other hosts remove it once they see
    # the host's heartbeat stop (it is too young for the stale_claim_after rule).
    interrupted = cluster.folders["outbox"] / f".doc.pdf.txt~{_owner_of(cluster, 'host-c')}~0123456789ab.ocrd-tmp"
    interrupted.write_bytes(b"half a sidecar")
    samples = batch(40, "kill")
    for sample in samples:
        drop(cluster.folders["inbox"], sample)
    poll(lambda: len(victim.daemon.events("file")) > before)
    victim.daemon.kill9()
    try:
        consumers = {
            c["name"].decode(): c["pending"]
            for c in cluster.redis.client().xinfo_consumers(f"{PREFIX}:files", "workers")
        }
        left_behind = consumers.get("host-c", 0)
        poll(lambda: not interrupted.exists())
        survivors = [cluster.hosts[name].daemon for name in ("host-a", "host-b")]
        poll(lambda: any(d.events("temp-files-removed") for d in survivors))  # logged once the file is gone
        wait_finished(cluster)
        assert_exactly_once(DROPPED, **cluster.folders)
        handled = cluster.handled()
        assert max(handled.values()) == 1, [name for name, n in handled.items() if n > 1]
        if left_behind:  # host-c died holding jobs: another host took them over
            assert any(d.events("cluster-take-over") for d in survivors)
    finally:
        cluster.hosts.pop("host-c")  # dead: the later tests run with the two others


def test_a_redis_restart_mid_batch_still_completes_the_batch(cluster: Cluster) -> None:
    samples = batch(40, "restart")
    done_before = len(files_under(cluster.folders["done"]))
    for sample in samples:
        drop(cluster.folders["inbox"], sample)
    poll(lambda: len(files_under(cluster.folders["done"])) > done_before + 3)
    cluster.redis.stop()
    cluster.redis.start()
    wait_finished(cluster)
    assert_exactly_once(DROPPED, **cluster.folders)
    assert max(cluster.handled().values()) == 1


def test_redis_away_stops_new_claims_and_readyz_says_why(cluster: Cluster) -> None:
    host = cluster.hosts["host-a"]
    cluster.redis.stop()
    poll(lambda: host.readyz().status_code == 503)
    body = host.readyz().json()
    assert re.search(rf"Redis at redis://127\.0\.0\.1:{cluster.redis.port}/0 does not answer", body["msg"]), body
    assert "no new files are taken until it is back" in body["msg"]
    samples = batch(10, "away")
    for sample in samples:
        drop(cluster.folders["inbox"], sample)
    # Every host has seen them settle (their inbox trackers hold them) and still none was claimed.
    poll(lambda: all(h.status()["inboxes"][0]["queue_depth"] >= 10 for h in cluster.hosts.values()))
    assert sorted(p.name for p in files_under(cluster.folders["inbox"])) == sorted(s.name for s in samples)
    assert not list((cluster.folders["inbox"] / ".ocrd" / "processing").iterdir())
    cluster.redis.start()
    wait_finished(cluster)
    poll(lambda: host.readyz().status_code == 200)
    assert_exactly_once(DROPPED, **cluster.folders)


def test_a_job_delivered_too_often_goes_to_failed(cluster: Cluster) -> None:
    """A message some host took K times without finishing (here a ghost consumer) is filed, with why."""
    (sample,) = batch(1, "poison")
    aside = cluster.root / sample.name
    aside.write_bytes(sample.data)
    os.utime(aside, ns=(1_700_000_000_000_000_000, 1_700_000_000_000_000_000))
    info = aside.stat()
    message = FileMessage("shared", sample.name, sha256_of(aside), info.st_size, info.st_mtime_ns, "ghost")
    client = cluster.redis.client()
    client.set(f"{PREFIX}:seen:{message.job}", "ghost", ex=600)  # so the watchers do not publish their own
    os.rename(aside, cluster.folders["inbox"] / sample.name)
    pipe = client.pipeline(transaction=True)
    pipe.xadd(f"{PREFIX}:files", message.to_fields())
    pipe.xreadgroup("workers", "ghost", {f"{PREFIX}:files": ">"}, count=1)
    results = pipe.execute()
    message_id = results[0]
    for _ in range(3):  # the ghost "takes it again" after each crash: 4 deliveries > max_deliveries = 3
        client.xclaim(f"{PREFIX}:files", "workers", "ghost", 0, [message_id])
    wait_finished(cluster)
    (failure,) = failures(cluster.folders["failed"])[sample.name]
    assert "max_deliveries" in failure["error"]["message"], failure
    assert_exactly_once(DROPPED, **cluster.folders)


def test_an_upload_to_a_host_without_workers_is_read_by_another(cluster: Cluster) -> None:
    web_host = cluster.hosts["host-w"]
    lines = lines_for(next(_numbers))
    response = requests.post(
        web_host.url + "/ocr", files={"image": ("远程.pdf", text_pdf_bytes(lines), "application/pdf")}, timeout=120
    )
    assert response.status_code == 200, response.text
    texts = [item["text"] for item in response.json()["data"]]
    assert any("Item" in text for text in texts), texts
    readers = [
        h for h in cluster.hosts.values() if any(e.get("by") == "host-w" for e in h.daemon.events("cluster-upload"))
    ]
    assert [h.name for h in readers] != [] and web_host not in readers
    poll(lambda: pending(cluster.redis.client(), "uploads") == 0)
    assert not web_host.daemon.events("file"), "host-w has no work role: it read nothing itself"


def test_cluster_metrics_are_exported_as_docs_cluster_md_lists_them(cluster: Cluster) -> None:
    text = requests.get(cluster.hosts["host-a"].url + "/metrics", timeout=30).text
    exported = set(re.findall(r"^# TYPE (ocrd_cluster_\w+) (\w+)", text, re.M))
    page = (REPO / "docs" / "cluster.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `(ocrd_cluster_\w+)` \| (\w+) \|", page, re.M))
    assert exported == documented
    assert 'ocrd_cluster_backlog{stream="files"} 0.0' in text
    assert json.loads(requests.get(cluster.hosts["host-a"].url + "/api/status", timeout=30).text)["data"]["cluster"]


def test_status_page_shows_the_cluster_hosts_and_queues(cluster: Cluster) -> None:
    """The status page's Cluster section in real headless Chromium (the Debian package, never a download)."""
    from playwright.sync_api import expect

    from tests.browser import chromium

    web_host = cluster.hosts["host-w"]
    errors: list[str] = []
    with chromium() as browser:
        page = browser.new_context(locale="en-GB").new_page()
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(web_host.url + "/")
        expect(page.locator("body")).to_have_attribute("data-ready", "true")
        expect(page.locator("#cluster")).to_be_visible()
        expect(page.locator("#cluster-summary")).to_contain_text("Redis connected")
        own = page.locator("#cluster-hosts tr", has_text="host-w")
        expect(own).to_contain_text("this host")
        expect(own).to_contain_text("web, watch")
        expect(own).to_contain_text(re.compile(r"\d+ s ago"))
        expect(page.locator("#cluster-hosts tr", has_text="host-a")).to_contain_text("watch, work, web")
        streams = page.locator("#cluster-streams tr")
        expect(streams.filter(has_text="Inbox files")).to_have_count(1)
        expect(streams.filter(has_text="Uploads")).to_have_count(1)
        page.click("#ui-language")
        expect(page.locator("#cluster h2")).to_have_text("集群")
        expect(own).to_contain_text("本机")
    assert errors == []
