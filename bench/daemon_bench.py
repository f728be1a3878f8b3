"""The daemon end to end: an inbox batch, the engine alone on the same files, and POST /ocr latency.

1. N unique documents (the sets' images, each with one pixel changed so no two are the same
   bytes) are renamed into the inbox of a running ``ocrd run`` at once; the clock runs from the
   first rename to the last sidecar in the outbox (files whose result is an error file count too).
2. The engine alone reads the same files with the same number of worker processes and threads,
   fed from one queue: the daemon's overhead is its batch time over this one.
3. ``POST /ocr`` (multipart field ``image``) with a one-line image and an A4 page, from 1, 4 and
   16 concurrent clients, each client sending its next request as soon as the last one returned.

Everything talks to 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import queue
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from bench.engines import REPO_DIR, ocrd_spec
from bench.inputs import DEFAULT_SETS, load_items
from bench.stats import per_minute, percentile
from bench.workers import Worker

CLIENT_COUNTS = (1, 4, 16)
READY_TIMEOUT = 300.0
# The production default: a file is read once it stayed unchanged this long. It is a deliberate wait,
# paid once for a batch dropped at once, so the overhead is also given without it.
SETTLE_SECONDS = 2.0
BATCH_SECONDS_PER_DOCUMENT = 60.0  # a limit for a hung daemon, far above any real page
# The one-line image: Chinese in the CJK font, then digits and English in Helvetica (the CJK
# font's Latin glyphs are full-width and would run off the line).
LINE_PARTS = (("发票号码", "china-s"), (" 06825401 Invoice No. 2024", "helv"))


def benchmark_daemon(args: argparse.Namespace) -> dict[str, Any]:
    set_dirs = args.sets or list(DEFAULT_SETS)
    log_dir = args.out / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    cores = len(os.sched_getaffinity(0))
    threads = max(1, cores // args.workers)
    args.chunks = max(1, min(args.chunks, args.documents))
    notes = [
        f"{args.workers} worker(s) × {threads} thread(s) on {cores} cores; results on the same disk as the inbox",
        f"the batch is dropped in {args.chunks} part(s), each read by the daemon and by the engine alone in turn "
        "(order alternating), so changes in machine load fall on both sides",
    ]
    with tempfile.TemporaryDirectory(prefix="ocrd-bench-daemon-") as scratch:
        root = Path(scratch)
        items = load_items(set_dirs, None, root / "rendered")
        sources = [page for item in items for page in item.pages]
        documents = make_documents(sources, args.documents, root / "staging")
        a4_page = next(page for item in items if item.item.kind == "page" for page in item.pages)
        line_image = make_line_image(root / "line.png")
        folders = {name: root / name for name in ("inbox", "outbox", "done", "failed")}
        for folder in folders.values():
            folder.mkdir()

        pool = EnginePool(args.workers, threads, log_dir)
        daemon = start_daemon(folders, args.workers, threads, port := free_port(), log_dir / "daemon.log")
        try:
            pool.start(documents[0])
            wait_ready(port, daemon)
            alone = batch_seconds = 0.0
            parts = [documents[i :: args.chunks] for i in range(args.chunks)]
            for number, part in enumerate(parts):
                _progress(f"daemon: part {number + 1}/{len(parts)}: {len(part)} documents, daemon and engine alone ...")
                for side in ("alone", "daemon") if number % 2 == 0 else ("daemon", "alone"):
                    if side == "alone":
                        alone += pool.read_all(part)
                    else:
                        batch_seconds += run_batch(part, folders, daemon)
            latency = []
            for label, image in (("one line", line_image), ("A4 page", a4_page)):
                engine_ms = _ms(percentile(pool.read_repeatedly(image, 8 if label == "one line" else 3), 0.5))
                for clients in CLIENT_COUNTS:
                    requests = max(args.requests if label == "one line" else args.requests // 4, clients)
                    _progress(f"daemon: POST /ocr {label}, {clients} client(s), {requests} requests ...")
                    row = asyncio.run(measure_latency(port, image, label, clients, requests))
                    latency.append({**row, "engine_alone_p50_ms": engine_ms})
            worker_peak_mb = _children_peak_mb(daemon.pid)
        finally:
            stop_daemon(daemon)
            pool.stop()
    settle_total = SETTLE_SECONDS * args.chunks
    return {
        "batch": {
            "documents": len(documents),
            "parts": args.chunks,
            "workers": args.workers,
            "threads": threads,
            "seconds": batch_seconds,
            "files_per_minute": per_minute(len(documents), batch_seconds),
            "engine_alone_seconds": alone,
            "settle_seconds": settle_total,
            "overhead_percent": (batch_seconds / alone - 1) * 100 if alone else None,
            "overhead_without_settle_percent": ((batch_seconds - settle_total) / alone - 1) * 100 if alone else None,
            "worker_peak_mb": worker_peak_mb,
        },
        "latency": latency,
        "notes": notes,
    }


def make_documents(sources: list[Path], count: int, staging: Path) -> list[Path]:
    """``count`` files cycling through ``sources``, each made unique by one changed pixel."""
    import cv2

    staging.mkdir(parents=True)
    documents = []
    for index in range(count):
        source = sources[index % len(sources)]
        image = cv2.imread(str(source), cv2.IMREAD_COLOR)
        # A corner pixel, nudged by the copy number: invisible to OCR, different bytes for dedupe.
        image[0, 0] = [(index * 37 + channel) % 256 for channel in (0, 1, 2)]
        target = (
            staging / f"doc{index:04d}-{source.stem}{'.jpg' if source.suffix.lower() in ('.jpg', '.jpeg') else '.png'}"
        )
        cv2.imwrite(str(target), image)
        documents.append(target)
    return documents


def make_line_image(target: Path) -> Path:
    """One printed line of Chinese and English, rendered at 200 dpi with a small margin."""
    import pymupdf

    size = 14
    widths = [pymupdf.get_text_length(text, fontname=font, fontsize=size) for text, font in LINE_PARTS]
    with pymupdf.open() as document:
        page = document.new_page(width=sum(widths) + 16, height=30)
        x = 8.0
        for (text, font), width in zip(LINE_PARTS, widths, strict=True):
            page.insert_text((x, 21), text, fontname=font, fontsize=size)
            x += width
        page.get_pixmap(dpi=200).save(target)
    return target


class EnginePool:
    """``workers`` ocrd worker processes with the daemon's thread count, outside the daemon."""

    def __init__(self, workers: int, threads: int, log_dir: Path) -> None:
        cores = sorted(os.sched_getaffinity(0))
        self.workers = [
            Worker(ocrd_spec("ocrd"), cores, log_dir, threads=threads, tag=f"-alone{i}") for i in range(workers)
        ]

    def start(self, warm_up: Path) -> None:
        for worker in self.workers:
            worker.start()
            worker.read(warm_up)  # as the daemon's workers do before they report ready

    def read_all(self, documents: list[Path]) -> float:
        """Wall seconds for the workers to read ``documents`` from one shared queue."""
        todo: queue.SimpleQueue[Path] = queue.SimpleQueue()
        for document in documents:
            todo.put(document)
        failures: list[BaseException] = []

        def drain(worker: Worker) -> None:
            try:
                while True:
                    try:
                        document = todo.get_nowait()
                    except queue.Empty:
                        return
                    reading = worker.read(document)
                    if reading.error is not None:  # a failed read takes no time and would flatter this side
                        raise RuntimeError(f"the engine alone could not read {document.name}: {reading.error}")
            except BaseException as exc:
                failures.append(exc)

        started = time.perf_counter()
        runners = [threading.Thread(target=drain, args=(worker,)) for worker in self.workers]
        for runner in runners:
            runner.start()
        for runner in runners:
            runner.join()
        if failures:
            raise failures[0]
        return time.perf_counter() - started

    def read_repeatedly(self, path: Path, times: int) -> list[float]:
        """The engine's own seconds for one file, read ``times`` times by one worker."""
        return [self.workers[0].read(path).seconds for _ in range(times)]

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_daemon(folders: dict[str, Path], workers: int, threads: int, port: int, log: Path) -> subprocess.Popen[bytes]:
    # The console script, as the systemd unit starts it: what a spawned worker imports (and so its
    # memory) depends on the main script of the process that spawns it.
    command = [str(Path(sys.executable).parent / "ocrd"), "run"]
    for name, folder in folders.items():
        command += [f"--{name}", str(folder)]
    command += ["--workers", str(workers), "--threads", str(threads), "--web", f"127.0.0.1:{port}"]
    command += ["--settle", str(SETTLE_SECONDS), "--log-level", "info"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(REPO_DIR), os.environ.get("PYTHONPATH")) if p)}
    env.pop("OCRD_CONFIG", None)  # the benchmark's folders, not whatever this shell points at
    with log.open("wb") as sink:
        return subprocess.Popen(command, stdout=sink, stderr=subprocess.STDOUT, env=env, cwd=REPO_DIR)


def wait_ready(port: int, daemon: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if daemon.poll() is not None:
            raise RuntimeError(f"ocrd run exited with status {daemon.returncode} before it was ready; see its log")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=5) as reply:
                if reply.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.5)
    raise RuntimeError(f"ocrd run was not ready after {READY_TIMEOUT:.0f} s")


def run_batch(documents: list[Path], folders: dict[str, Path], daemon: subprocess.Popen[bytes]) -> float:
    """Seconds from the first document entering the inbox to the last one's result (or error file)."""
    # Copies, made before the clock starts: the engine alone reads the originals, possibly after this
    # batch (the order alternates), so the daemon must not take them away.
    drop = folders["inbox"].parent / "drop"
    drop.mkdir(exist_ok=True)
    copies = [Path(shutil.copy2(document, drop / document.name)) for document in documents]
    before = _finished(folders)
    expected = before + len(documents)
    started = time.perf_counter()
    for copy in copies:
        os.replace(copy, folders["inbox"] / copy.name)  # same file system: atomic, as a scanner's rename
    limit = BATCH_SECONDS_PER_DOCUMENT * len(documents)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if _finished(folders) >= expected:
            return time.perf_counter() - started
        if daemon.poll() is not None:
            raise RuntimeError(f"ocrd run exited with status {daemon.returncode} during the batch; see its log")
        time.sleep(0.1)
    raise RuntimeError(f"the batch did not finish in {limit:.0f} s")


def _finished(folders: dict[str, Path]) -> int:
    """Documents with a result: a JSON sidecar in the outbox, or an error file in failed/."""
    return sum(1 for _ in folders["outbox"].glob("*.json")) + sum(1 for _ in folders["failed"].glob("*.error.json"))


async def measure_latency(port: int, image: Path, label: str, clients: int, requests: int) -> dict[str, Any]:
    import aiohttp

    url = f"http://127.0.0.1:{port}/ocr"
    body = image.read_bytes()
    latencies: list[float] = []
    errors = 0
    remaining = [requests]

    async def post(session: aiohttp.ClientSession) -> tuple[float, bool]:
        form = aiohttp.FormData()
        form.add_field("image", body, filename=image.name, content_type="application/octet-stream")
        began = time.perf_counter()
        async with session.post(url, data=form) as reply:
            payload = await reply.json(content_type=None)
        return time.perf_counter() - began, reply.status == 200 and payload.get("code") == 0

    async def client(session: aiohttp.ClientSession) -> None:
        nonlocal errors
        while remaining[0] > 0:
            remaining[0] -= 1
            seconds, ok = await post(session)
            if ok:
                latencies.append(seconds)
            else:
                errors += 1

    timeout = aiohttp.ClientTimeout(total=900)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        await post(session)  # warm-up: first upload of its kind
        started = time.perf_counter()
        await asyncio.gather(*(client(session) for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return {
        "image": label,
        "clients": clients,
        "requests": requests,
        "p50_ms": _ms(percentile(latencies, 0.50)),
        "p95_ms": _ms(percentile(latencies, 0.95)),
        "requests_per_second": requests / elapsed if elapsed > 0 else None,
        "errors": errors,
    }


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else seconds * 1000


def _children_peak_mb(pid: int) -> float | None:
    """The largest peak RSS among the daemon's child processes (its workers)."""
    peaks = []
    for child in _children(pid):
        try:
            for line in Path(f"/proc/{child}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peaks.append(int(line.split()[1]) / 1024)
        except OSError:
            continue
    return max(peaks) if peaks else None


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            found += [int(c) for c in (task / "children").read_text().split()]
        except OSError:
            continue
    return found + [grandchild for child in found for grandchild in _children(child)]


def stop_daemon(daemon: subprocess.Popen[bytes]) -> None:
    if daemon.poll() is None:
        daemon.send_signal(signal.SIGTERM)
        try:
            daemon.wait(timeout=120)
        except subprocess.TimeoutExpired:
            daemon.kill()
            daemon.wait()


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)
