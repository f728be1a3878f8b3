"""The benchmark: ocrd and its peers on the same pages, interleaved, at 1 and 2 cores.

    bench/run.sh                                   # from a clean checkout: sets everything up, runs all
    python -m bench.run --limit 5 --cores 2        # a quick look
    python -m bench.run --engines ocrd --ocrd-variant fast:use_orientation=false
    python -m bench.run --daemon                   # also the daemon end to end and POST /ocr latency

Prints the tables and writes them, with every figure as JSON, to bench/results/latest.{txt,json}.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

from bench import results as figures
from bench.daemon_bench import benchmark_daemon
from bench.engines import (
    DEFAULT_ENGINES,
    PEERS,
    REPO_DIR,
    EngineSpec,
    install_peers,
    is_installed,
    ocrd_spec,
    peer_spec,
)
from bench.inputs import DEFAULT_SETS, load_items
from bench.machine import describe
from bench.runner import BenchFailure, EngineRun, check_readings, run_round
from bench.tables import format_results
from ocrd.config import EngineSettings
from ocrd.errors import UsageError

RESULTS_DIR = REPO_DIR / "bench" / "results"


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--set",
        dest="sets",
        action="append",
        type=Path,
        metavar="DIR",
        help="labelled set (a folder with labels.jsonl); repeatable; default: ../shared/eval/dev_pdf and ../shared/eval/dev",
    )
    parser.add_argument(
        "--engines",
        default=",".join(DEFAULT_ENGINES),
        help=f"comma-separated, from: ocrd, {', '.join(PEERS)} (default: all)",
    )
    parser.add_argument("--cores", default="1,2", help="comma-separated core counts, one round each (default: 1,2)")
    parser.add_argument("--limit", type=int, metavar="N", help="only N items of each set, spread over it (a quick run)")
    parser.add_argument(
        "--ocrd-arg",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="an EngineSettings field for every ocrd engine, e.g. dpi=150; repeatable",
    )
    parser.add_argument(
        "--ocrd-variant",
        action="append",
        default=[],
        metavar="NAME:KEY=VALUE[,KEY=VALUE]",
        help="one more ocrd engine, 'ocrd-NAME', with these settings (e.g. fast:use_orientation=false)",
    )
    parser.add_argument("--no-setup", action="store_true", help="fail instead of installing missing peers")
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the results as JSON here")
    parser.add_argument(
        "--out",
        type=Path,
        default=RESULTS_DIR,
        metavar="DIR",
        help="where latest.txt, latest.json and the workers' logs go (default: bench/results)",
    )
    daemon = parser.add_argument_group("daemon end to end (needs `ocrd run`)")
    daemon.add_argument("--daemon", action="store_true", help="also run the daemon benchmark")
    daemon.add_argument("--daemon-only", action="store_true", help="only the daemon benchmark")
    daemon.add_argument("--documents", type=int, default=200, help="documents in the inbox batch (default: 200)")
    daemon.add_argument(
        "--chunks",
        type=int,
        default=4,
        help="parts the batch is dropped in, alternating with the engine alone (default: 4)",
    )
    daemon.add_argument("--workers", type=int, default=2, help="daemon worker processes (default: 2)")
    daemon.add_argument(
        "--requests", type=int, default=48, help="POST /ocr requests per concurrency level (default: 48)"
    )
    return parser.parse_args(argv)


def _value(text: str) -> Any:
    """Command-line text to the JSON value it spells (true, 150, 0.5), else the text itself."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_settings(pairs: list[str], where: str) -> dict[str, Any]:
    known = {f.name for f in dataclasses.fields(EngineSettings)} - {"limits", "threads"}
    settings = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in known:
            raise UsageError(f"{where}: {pair!r} is not KEY=VALUE with KEY one of {', '.join(sorted(known))}")
        settings[key] = _value(value.strip())
    return settings


def engine_specs(args: argparse.Namespace) -> list[EngineSpec]:
    common = parse_settings(args.ocrd_arg, "--ocrd-arg")
    specs = []
    for name in (n.strip() for n in args.engines.split(",") if n.strip()):
        if name == "ocrd":
            specs.append(ocrd_spec("ocrd", common))
        elif name in PEERS:
            specs.append(peer_spec(name))
        else:
            raise UsageError(f"--engines: unknown engine {name!r}; choose from ocrd, {', '.join(PEERS)}")
    for variant in args.ocrd_variant:
        label, sep, pairs = variant.partition(":")
        if not sep or not label.strip():
            raise UsageError(f"--ocrd-variant: {variant!r} is not NAME:KEY=VALUE[,KEY=VALUE]")
        settings = {**common, **parse_settings(pairs.split(","), f"--ocrd-variant {label}")}
        specs.append(ocrd_spec(f"ocrd-{label.strip()}", settings))
    if not specs:
        raise UsageError("--engines: name at least one engine")
    return specs


def core_sets(text: str) -> list[list[int]]:
    usable = sorted(os.sched_getaffinity(0))
    rounds = []
    for part in (p.strip() for p in text.split(",") if p.strip()):
        if not part.isdigit() or not 1 <= int(part) <= len(usable):
            raise UsageError(f"--cores: {part!r} is not a core count between 1 and {len(usable)} (this machine)")
        rounds.append(usable[: int(part)])
    return rounds


def ensure_installed(specs: list[EngineSpec], allow_setup: bool) -> None:
    missing = [spec.peer for spec in specs if spec.peer and not is_installed(spec)]
    if not missing:
        return
    if not allow_setup:
        raise UsageError(f"not installed: {', '.join(missing)}; run bench/setup_peers.sh {' '.join(missing)}")
    install_peers(missing)  # type: ignore[arg-type]
    still = [spec.peer for spec in specs if spec.peer and not is_installed(spec)]
    if still:
        raise UsageError(f"setup did not install {', '.join(still)}: see the messages above")


def benchmark_engines(args: argparse.Namespace, specs: list[EngineSpec]) -> dict[str, Any]:
    set_dirs = args.sets or list(DEFAULT_SETS)
    with tempfile.TemporaryDirectory(prefix="ocrd-bench-") as scratch:
        items = load_items(set_dirs, args.limit, Path(scratch))
        set_names = list(dict.fromkeys(item.set_name for item in items))
        runs: list[EngineRun] = []
        for cores in core_sets(args.cores):
            round_runs = run_round(specs, items, cores, args.out / "logs")
            check_readings(round_runs, args.out / "logs")  # before another round is spent on it
            runs += round_runs
    reports = {(run.engine, run.cores): figures.score_run(items, run) for run in runs}
    speed = figures.speed_rows(runs, set_names)
    processes = figures.process_rows(runs)
    accuracy = figures.accuracy_rows(runs, reports)
    return {
        "sets": [
            {
                "name": name,
                "dir": str(next(i.set_dir for i in items if i.set_name == name)),
                "items": sum(1 for i in items if i.set_name == name),
                "pages": sum(len(i.pages) for i in items if i.set_name == name),
            }
            for name in set_names
        ],
        "speed": speed,
        "processes": processes,
        "accuracy": accuracy,
        "stages": figures.stage_rows(runs),
        "targets": figures.targets(speed, processes, accuracy),
        "text_differences": figures.text_differences(runs),
        "errors": {f"{run.engine}@{run.cores}": run.errors for run in runs if run.errors},
        "texts": {f"{run.engine}@{run.cores}": run.texts for run in runs},
    }


def from_caller(args: argparse.Namespace, caller_dir: Path) -> None:
    """Relative paths on the command line are the caller's: bench/run.sh changes directory first."""
    if args.sets:
        args.sets = [caller_dir / path for path in args.sets]
    args.out = caller_dir / args.out
    if args.json:
        args.json = caller_dir / args.json


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    from_caller(args, Path(os.environ.get("BENCH_CALLER_DIR") or Path.cwd()))
    try:
        entry = os.environ.get("BENCH_ENTRY", "python -m bench.run").split()  # bench/run.sh names itself
        results: dict[str, Any] = {"meta": describe([*entry, *argv])}
        empty = {"sets": [], "speed": [], "processes": [], "accuracy": [], "stages": [], "targets": []}
        if args.daemon_only:
            results.update(empty)
        else:
            specs = engine_specs(args)
            ensure_installed(specs, allow_setup=not args.no_setup)
            results.update(benchmark_engines(args, specs))
        if args.daemon or args.daemon_only:
            results["daemon"] = benchmark_daemon(args)
    except UsageError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 2
    except BenchFailure as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    results["meta"]["load_average_at_end"] = [round(v, 2) for v in os.getloadavg()]
    text = format_results(results)
    print(text, end="")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "latest.txt").write_text(text, encoding="utf-8")
    payload = json.dumps(results, ensure_ascii=False, indent=1)
    (args.out / "latest.json").write_text(payload, encoding="utf-8")
    if args.json:
        args.json.write_text(payload, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
