"""A real redis-server (AOF on, loopback, free port) and ``ocrd run`` daemons in cluster mode, for the cluster tests."""

from __future__ import annotations

import contextlib
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import redis
import requests

from tests.daemon_support import Daemon, wait_until, write_config
from tests.web_server import free_port

REDIS_SERVER = "/usr/bin/redis-server"
PREFIX = "ocrdtest"


@dataclass
class RedisServer:
    folder: Path
    port: int
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=10)

    def start(self) -> RedisServer:
        self.folder.mkdir(parents=True, exist_ok=True)
        args = [REDIS_SERVER, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.folder)]
        args += ["--appendonly", "yes", "--appendfsync", "always", "--save", "", "--protected-mode", "no"]
        log = (self.folder / "redis.log").open("ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)

        def answers() -> bool:
            with contextlib.suppress(redis.RedisError):
                return bool(self.client().ping())
            return False

        wait_until(answers, timeout=30)
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # SIGTERM: Redis flushes the AOF and exits
            self.process.wait(30)


def cluster_config(root: Path, host: str, redis_url: str, folders: dict[str, Path], port: int, **cluster: Any) -> Path:
    return write_config(
        root / f"{host}.toml",
        [
            {
                "name": "shared",
                "path": folders["inbox"],
                "outbox": folders["outbox"],
                "done": folders["done"],
                "failed": folders["failed"],
                "settle": 0.2,
            }
        ],
        daemon={
            "workers": 1,
            "threads_per_worker": 1,
            "rescan_interval": 1.0,
            "stale_claim_after": 3.0,
            "grace_period": 20.0,
            "retry_backoff_max": 1.0,
            "log_level": "debug",
            "log_format": "json",
            "node_name": host,
            "data_dir": root / f"{host}-data",
        },
        web={"enabled": True, "host": "127.0.0.1", "port": port, "auth": "none"},
        results={"enabled": False},
        cluster={
            "url": redis_url,
            "host": host,
            "prefix": PREFIX,
            "claim_idle": 3.0,
            "heartbeat": 0.5,
            "max_deliveries": 3,
            "republish_after": 120.0,
            "connect_timeout": 1.0,
            **cluster,
        },
    )


@dataclass
class Host:
    name: str
    daemon: Daemon
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def readyz(self) -> requests.Response:
        return requests.get(self.url + "/readyz", timeout=30)

    def status(self) -> dict[str, Any]:
        response = requests.get(self.url + "/api/status", timeout=30)
        response.raise_for_status()
        return response.json()["data"]


def start_host(root: Path, name: str, redis_url: str, folders: dict[str, Path], **cluster: Any) -> Host:
    port = free_port()
    config = cluster_config(root, name, redis_url, folders, port, **cluster)
    daemon = Daemon(["--config", str(config)], root / f"{name}.log").start()
    return Host(name, daemon, port)


def pending(client: redis.Redis, stream: str = "files") -> int:
    return int(client.xpending(f"{PREFIX}:{stream}", "workers")["pending"])


def lag(client: redis.Redis, stream: str = "files") -> int:
    groups = client.xinfo_groups(f"{PREFIX}:{stream}")
    return int(groups[0].get("lag") or 0) if groups else 0


def settled_stream(client: redis.Redis) -> bool:
    """Every message taken and acknowledged (the group has nothing in flight or waiting)."""
    with contextlib.suppress(redis.RedisError):
        return pending(client) == 0 and lag(client) == 0
    return False


def poll(predicate: Any, timeout: float = 180.0) -> Any:
    return wait_until(predicate, timeout=timeout, interval=0.2)


def monotonic_deadline(seconds: float) -> float:
    return time.monotonic() + seconds
