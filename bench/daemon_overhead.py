"""Benchmark: files per minute through inbox -> outbox (the daemon) versus the engine alone.

Both sides get the same files, the same number of worker processes and the same engine threads,
and both have their models loaded and warmed up before the clock starts:

* engine alone: N worker processes pull paths from a queue and call ``OcrPipeline.run_path``;
  nothing is written anywhere.
* daemon: ``ocrd run`` as a subprocess; the files are renamed into its inbox at once and the
  clock stops when the last sidecar pair (or error file) exists. This includes everything the
  daemon adds: noticing the file, the settle time, claiming, writing results durably (fsync),
  moving originals, logging and metrics.

The settle time is a deliberate wait (configurable, default 2 s in production), not work; it is
reported separately and the overhead figure is computed without it. Best of ``--rounds`` runs
per side, because other processes on the machine add noise to either side.

The documents are, by default, the evaluation sets' pages and images (A4 pages at 200 dpi,
photos, line crops; each copy made unique by one changed pixel), read in place from
../shared/eval. ``--small`` uses generated 360x200 scans instead (a few lines each, a quarter
of them two-page PDFs): there the engine needs only ~0.3 s a file, so the daemon's fixed cost
per file (claim, durable writes, moves: ~10-15 ms of CPU) weighs the most; it is the worst case.

    python bench/daemon_overhead.py                 # 100 documents of the eval sets, workers as configured
    python bench/daemon_overhead.py --files 120 --workers 2 --threads 1 --check
    python bench/daemon_overhead.py --small         # the worst case: tiny generated scans
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from ocrd.config import DaemonSettings, EngineSettings, effective_threads, effective_workers  # noqa: E402

# --- documents ---------------------------------------------------------------------------------------


def eval_documents(folder: Path, count: int) -> list[Path]:
    """``count`` unique copies of the evaluation sets' pages and images, in set order, cycled."""
    from bench.daemon_bench import make_documents as unique_copies
    from bench.inputs import DEFAULT_SETS, load_items

    missing = [str(path) for path in DEFAULT_SETS if not (path / "labels.jsonl").is_file()]
    if missing:
        raise SystemExit(f"evaluation sets not found: {', '.join(missing)}; use --small for generated documents")
    items = load_items(list(DEFAULT_SETS), None, folder / "rendered")
    # Alternate the sets so that any slice of the batch has pages and photos alike.
    by_set: dict[str, list[Path]] = {}
    for item in items:
        by_set.setdefault(item.set_name, []).extend(item.pages)
    mixed = [page for group in itertools.zip_longest(*by_set.values()) for page in group if page is not None]
    return unique_copies(mixed, count, folder / "copies")


def make_documents(folder: Path, count: int) -> list[Path]:
    """Small scans of varied text: one-page PNGs, and every fourth a two-page image-only PDF."""
    import io

    import pymupdf

    from ocrd import samples

    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(1, count + 1):
        lines = [f"发票号码 {number:05d}", f"Invoice {number:05d} total {number * 3.5:.2f}", "上海示例科技有限公司"]
        if number % 4:
            path = folder / f"scan{number:04d}.png"
            samples.make_sample_page_png(path, lines)
        else:
            path = folder / f"doc{number:04d}.pdf"
            document = pymupdf.open()
            for page_lines in (lines, [f"第2页 {number:05d}", "Page 2 of 2"]):
                with samples.text_page_pdf(page_lines, (360, 200)) as source:
                    image = samples.render_page(source[0]).convert("L")
                buffer = io.BytesIO()
                image.save(buffer, "PNG")
                page = document.new_page(width=360, height=200)
                page.insert_image(page.rect, stream=buffer.getvalue())
            document.save(path, garbage=3, deflate=True)
            document.close()
        paths.append(path)
    return paths


# --- engine alone ------------------------------------------------------------------------------------


def _engine_worker(settings: EngineSettings, jobs: multiprocessing.Queue, done: multiprocessing.Queue, ready) -> None:
    from ocrd.daemon.worker import build_pipeline, configure_process, warm_up

    configure_process(settings.threads)  # exactly as a daemon worker does
    pipeline = build_pipeline(settings)
    warm_up(pipeline)
    ready.wait()
    done.put("ready")
    while (path := jobs.get()) is not None:
        try:
            pipeline.run_path(path, source=Path(path).name)
            done.put("ok")
        except Exception as exc:  # same files as the daemon; a bad one is counted, not fatal
            done.put(f"error: {exc}")


def engine_alone(paths: list[Path], workers: int, settings: EngineSettings) -> tuple[float, float]:
    """(wall seconds, CPU seconds) for ``workers`` warmed-up engine processes to read all ``paths``."""
    context = multiprocessing.get_context("spawn")
    jobs, done = context.Queue(), context.Queue()
    ready = context.Barrier(workers + 1)
    processes = [
        context.Process(target=_engine_worker, args=(settings, jobs, done, ready), daemon=True) for _ in range(workers)
    ]
    for process in processes:
        process.start()
    ready.wait()  # every worker has loaded and warmed up its pipeline
    for _ in range(workers):
        assert done.get() == "ready"
    cpu_before = sum(_cpu_seconds(process.pid) for process in processes)
    started = time.perf_counter()
    for path in paths:
        jobs.put(str(path))
    for _ in paths:
        done.get()
    elapsed = time.perf_counter() - started
    cpu = sum(_cpu_seconds(process.pid) for process in processes) - cpu_before
    for _ in processes:
        jobs.put(None)
    for process in processes:
        process.join(30)
    return elapsed, cpu


# --- the daemon -------------------------------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_pids(pid: int) -> list[int]:
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    return [int(child) for child in children if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes()]


def through_daemon(paths: list[Path], workers: int, threads: int, settle: float, workdir: Path) -> dict[str, float]:
    folders = {name: workdir / name for name in ("inbox", "outbox", "done", "failed")}
    for folder in folders.values():
        shutil.rmtree(folder, ignore_errors=True)
    folders["inbox"].mkdir(parents=True)
    config = workdir / "ocrd.toml"
    config.write_text(
        "[daemon]\n"
        f'workers = {workers}\nthreads_per_worker = {threads}\nlog_format = "json"\n'
        "[web]\nenabled = false\n"
        "[[inbox]]\n"
        + "".join(
            f'{key} = "{folder}"\n'
            for key, folder in (
                ("path", folders["inbox"]),
                ("outbox", folders["outbox"]),
                ("done", folders["done"]),
                ("failed", folders["failed"]),
            )
        )
        + f"settle = {settle}\n"
    )
    log_path = workdir / "daemon.log"
    with log_path.open("wb") as log:
        daemon = subprocess.Popen(
            [sys.executable, "-m", "ocrd.daemon", "run", "--config", str(config)],
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, "PYTHONPATH": str(REPO), "OCRD_CONFIG": "none"},
        )
        try:
            while '"event": "ready"' not in log_path.read_text():
                if daemon.poll() is not None:
                    raise SystemExit(f"the daemon exited early:\n{log_path.read_text()}")
                time.sleep(0.1)
            staging = workdir / "staging"
            shutil.rmtree(staging, ignore_errors=True)
            staging.mkdir()
            for path in paths:  # same file system as the inbox, so "dropping" is a rename
                shutil.copy(path, staging / path.name)
            workers_pids = _worker_pids(daemon.pid)
            cpu_before = _cpu_seconds(daemon.pid)
            workers_before = sum(_cpu_seconds(pid) for pid in workers_pids)
            started = time.perf_counter()
            for path in paths:
                os.rename(staging / path.name, folders["inbox"] / path.name)
            while True:
                finished = len(list(folders["outbox"].glob("*.json"))) + len(
                    list(folders["failed"].glob("*.error.json"))
                )
                if finished >= len(paths):
                    break
                time.sleep(0.02)
            elapsed = time.perf_counter() - started
            supervisor_cpu = _cpu_seconds(daemon.pid) - cpu_before
            workers_cpu = sum(_cpu_seconds(pid) for pid in workers_pids) - workers_before
        finally:
            daemon.terminate()
            daemon.wait(60)
    events = [json.loads(line) for line in log_path.read_text().splitlines() if '"event": "file"' in line]
    return {
        "seconds": elapsed,
        "supervisor_cpu_seconds": supervisor_cpu,
        "workers_cpu_seconds": workers_cpu,
        "failed": sum(event["outcome"] != "ok" for event in events),
        "mean_write_ms": sum(event["write_ms"] for event in events) / max(1, len(events)),
    }


# --- main --------------------------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--small", action="store_true", help="tiny generated scans instead of the eval sets")
    parser.add_argument("--workers", type=int, default=0, help="0: the daemon's default for this machine")
    parser.add_argument("--threads", type=int, default=0, help="engine threads per worker; 0: the default")
    parser.add_argument("--settle", type=float, default=0.5, help="the daemon's settle time in seconds")
    parser.add_argument("--rounds", type=int, default=2, help="runs per side; the best counts")
    parser.add_argument("--check", action="store_true", help="exit 1 if the overhead is 5%% or more")
    args = parser.parse_args()

    daemon_settings = DaemonSettings(workers=args.workers, threads_per_worker=args.threads)
    workers, threads = effective_workers(daemon_settings), effective_threads(daemon_settings)
    workdir = Path(tempfile.mkdtemp(prefix="ocrd-bench-"))
    try:
        make = make_documents if args.small else eval_documents
        paths = make(workdir / "documents", args.files)
        settings = EngineSettings(threads=threads)
        engine_runs, daemon_runs = [], []
        for number in range(1, args.rounds + 1):  # alternate, so a noisy neighbour hurts both sides alike
            engine_runs.append(engine_alone(paths, workers, settings))
            daemon_runs.append(through_daemon(paths, workers, threads, args.settle, workdir / "daemon"))
            print(
                f"round {number}: engine alone {engine_runs[-1][0]:.2f} s ({engine_runs[-1][1]:.1f} CPU s), "
                f"daemon {daemon_runs[-1]['seconds']:.2f} s "
                f"({daemon_runs[-1]['supervisor_cpu_seconds'] + daemon_runs[-1]['workers_cpu_seconds']:.1f} CPU s)",
                flush=True,
            )
        engine = min(wall for wall, _ in engine_runs)
        daemon = min(daemon_runs, key=lambda run: run["seconds"])
        engine_cpu = min(cpu for _, cpu in engine_runs)
        daemon_cpu = min(run["supervisor_cpu_seconds"] + run["workers_cpu_seconds"] for run in daemon_runs)
        net = daemon["seconds"] - args.settle
        engine_rate = args.files / engine * 60
        daemon_rate = args.files / daemon["seconds"] * 60
        net_rate = args.files / net * 60
        overhead = (net - engine) / engine * 100
        kind = "generated 360x200 scans" if args.small else "copies of the eval sets' pages and images"
        print(f"documents: {args.files} {kind} ({workers} worker(s) x {threads} thread(s), {os.cpu_count()} cores)")
        print(
            f"engine alone:    {engine:7.2f} s   {engine_rate:7.1f} files/min   runs: "
            + ", ".join(f"{run:.2f}" for run, _ in engine_runs)
        )
        print(
            f"inbox -> outbox: {daemon['seconds']:7.2f} s   {daemon_rate:7.1f} files/min   runs: "
            + ", ".join(f"{run['seconds']:.2f}" for run in daemon_runs)
        )
        print(f"  without the {args.settle:g} s settle wait: {net:.2f} s, {net_rate:.1f} files/min")
        print(
            f"  supervisor process CPU: {daemon['supervisor_cpu_seconds'] * 1000 / args.files:.1f} ms per file; "
            f"mean durable write {daemon['mean_write_ms']:.1f} ms per file; failed: {daemon['failed']:.0f}"
        )
        cpu_overhead = (daemon_cpu - engine_cpu) / engine_cpu * 100
        print(
            f"CPU seconds: engine alone {engine_cpu:.1f}, daemon (supervisor + workers) {daemon_cpu:.1f}: "
            f"{cpu_overhead:+.1f}% (less sensitive to other load on the machine than wall time)"
        )
        verdict = "OK" if overhead < 5 else "TOO HIGH"
        print(f"daemon overhead (wall time): {overhead:+.1f}% ({verdict}; the bar is 5%)")
        return 1 if args.check and overhead >= 5 else 0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
