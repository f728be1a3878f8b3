"""Coordination cost of one file job through Redis Streams: round trips, bytes and milliseconds.

Starts a throwaway redis-server (AOF on, like production) on a free loopback port, then runs N
jobs through the real RedisQueue: publish (watcher), read + acknowledge (worker). Prints the
per-job figures that docs/cluster.md's sizing is based on.

    python bench/cluster_cost.py [--jobs 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import platform
import socket
import subprocess
import tempfile
import time

from ocrd.cluster.messages import FILES, FileMessage
from ocrd.cluster.redis_queue import RedisQueue
from ocrd.config import ClusterSettings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


async def _measure(url: str, jobs: int) -> dict[str, float]:
    queue = RedisQueue(ClusterSettings(url=url, host="bench", prefix="bench"))
    await queue.connect()
    before = await queue.redis.info("stats")
    began, trips = time.perf_counter(), queue.round_trips
    for number in range(jobs):
        message = FileMessage(
            "scans", f"2026/11/scan-{number:06d}.pdf", "ab" * 32, 123_456, 1_700_000_000 + number, "w"
        )
        await queue.publish_file(message, dedupe_for=600)
    for _ in range(jobs):
        (delivery,) = await queue.read(FILES, 1)
        await queue.ack(delivery)
    seconds = time.perf_counter() - began
    after = await queue.redis.info("stats")
    await queue.close()
    moved = (after["total_net_input_bytes"] - before["total_net_input_bytes"]) + (
        after["total_net_output_bytes"] - before["total_net_output_bytes"]
    )
    return {
        "round_trips_per_job": (queue.round_trips - trips) / jobs,
        "bytes_per_job": moved / jobs,
        "ms_per_job": seconds * 1000 / jobs,
        "jobs_per_second_one_client": jobs / seconds,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2000)
    args = parser.parse_args()
    port = _free_port()
    with tempfile.TemporaryDirectory() as folder:
        server = subprocess.Popen(
            ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--dir", folder, "--appendonly", "yes"],
            stdout=subprocess.DEVNULL,
        )
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.05)
            figures = asyncio.run(_measure(f"redis://127.0.0.1:{port}/0", args.jobs))
        finally:
            server.terminate()
            server.wait()
    print(f"cpu: {platform.processor() or platform.machine()}, jobs: {args.jobs}")
    for name, value in figures.items():
        print(f"{name}: {value:.3f}")


if __name__ == "__main__":
    main()
