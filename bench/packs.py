"""Accuracy of every named model pack at every model precision, on the dev and dev_pdf sets.

    python -m bench.packs [--eval-dir ../shared/eval] [--doc docs/models.md] [--json FILE]

One reading = one pack at one precision over both sets, with one inference thread; readings run
in parallel processes (``--jobs``, default: one per usable core), so the seconds are comparable
with each other but are not a throughput figure. The derived models (optimized FP32, INT8) are
built into the cache first, one pack at a time, so no reading pays for a build or races another.

The markdown table replaces what is between the marker comments of ``--doc``; the JSON (every
item's reference, normalised and raw reading) goes to ``--json``. Both say which CPU measured them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.tables import between_markers
from ocrd.config import MODEL_PRECISIONS, EngineSettings, cpu_count
from ocrd.engine.precision import int8_instructions
from ocrd.packs import pack_names

REPO = Path(__file__).resolve().parent.parent
SETS = ("dev_pdf", "dev")
START = "<!-- packs-table:start -->"
END = "<!-- packs-table:end -->"
COLUMNS = (
    "pack",
    "precision",
    "dev_pdf page CER",
    "bag rec",
    "bag prec",
    "dev line CER",
    "exact",
    "dev page CER",
    "bag rec",
    "bag prec",
    "seconds",
)


def reading(pack: str, precision: str, set_dirs: list[str]) -> dict[str, Any]:
    """One pack at one precision over the sets, in this process, with one inference thread."""
    from ocrd.engine.pipeline import OcrPipeline
    from ocrd.evaluation import run_eval

    pipeline = OcrPipeline(EngineSettings(pack=pack, precision=precision, threads=1))
    raw: dict[str, str] = {}

    def recognise(path: Path) -> str:
        text = pipeline.run_path(path, source=path.name).to_text()
        raw[path.name] = text  # the scorer keeps only the normalised text; the study needs both
        return text

    sets = {}
    for set_dir in set_dirs:
        scored = run_eval(Path(set_dir), recognise)
        report = scored.to_dict()
        # The table's figures unrounded: to_dict rounds to 4 places, and rounding twice can move the 3rd.
        report["figures"] = {group.kind: asdict(group) for group in scored.groups if group.lang == "all"}
        for score in report["scores"]:
            score["raw"] = raw[score["image"]]
        sets[Path(set_dir).name] = report
    return {
        "pack": pack,
        "precision": pipeline.pack.precision,
        "precision_reason": pipeline.pack.precision_reason,
        "engine": pipeline.engine_info,
        "seconds": round(sum(report["recognise_seconds"] for report in sets.values()), 1),
        "sets": sets,
    }


def _group(report: dict[str, Any], kind: str) -> dict[str, Any]:
    return report["figures"][kind]


def _figure(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def table_row(result: dict[str, Any]) -> list[str]:
    pdf_page = _group(result["sets"]["dev_pdf"], "page")
    dev_line = _group(result["sets"]["dev"], "line")
    dev_page = _group(result["sets"]["dev"], "page")
    return [
        f"`{result['pack']}`",
        result["precision"],
        *(_figure(pdf_page[key]) for key in ("cer", "bag_recall", "bag_precision")),
        *(_figure(dev_line[key]) for key in ("cer", "exact_accuracy")),
        *(_figure(dev_page[key]) for key in ("cer", "bag_recall", "bag_precision")),
        f"{result['seconds']:.0f}",
    ]


def real_cpu_flags() -> frozenset[str]:
    """The flags /proc/cpuinfo lists (ocrd.engine.precision.cpu_flags honours an override; not here)."""
    for line in Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace").splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):
            return frozenset(value.split())
    return frozenset()


def cpu_line(machine: dict[str, Any]) -> str:
    found = int8_instructions(real_cpu_flags())
    dot = f"has int8 dot-product instructions ({found})" if found else "no int8 dot-product instructions (no VNNI)"
    return f"{machine['cpu']}, {machine['cores_usable']} cores usable, {dot}"


def markdown(results: list[dict[str, Any]], machine: dict[str, Any], jobs: int) -> str:
    rows = [COLUMNS, ["---"] * len(COLUMNS), *(table_row(result) for result in results)]
    lines = [
        f"Measured {machine['date']} on {cpu_line(machine)}; one inference thread per reading, "
        f"{jobs} readings at a time. Seconds: recognition time of both sets "
        f"(load average at the start: {machine['load_average_at_start'][0]:.1f}).",
        "",
        *("| " + " | ".join(row) + " |" for row in rows),
    ]
    return "\n".join(lines)


def replace_between_markers(document: str, block: str, where: Path) -> str:
    return between_markers(document, START, END, block, where)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--doc", type=Path, default=REPO / "docs" / "models.md")
    parser.add_argument("--json", type=Path, default=REPO / "bench" / "results" / "packs.json")
    parser.add_argument("--packs", default=",".join(pack_names()), help="comma-separated pack names")
    parser.add_argument("--precisions", default=",".join(MODEL_PRECISIONS), help="comma-separated")
    parser.add_argument("--jobs", type=int, default=0, help="readings at a time (0: one per usable core)")
    args = parser.parse_args(argv)

    from ocrd.engine.derived import prepare_models

    packs = [name for name in args.packs.split(",") if name]
    precisions = [name for name in args.precisions.split(",") if name]
    set_dirs = [str(args.eval_dir / name) for name in SETS]
    for set_dir in set_dirs:
        if not (Path(set_dir) / "labels.jsonl").is_file():
            raise SystemExit(f"{set_dir}: no labels.jsonl; give --eval-dir the folder holding {' and '.join(SETS)}")
    replace_between_markers(args.doc.read_text(encoding="utf-8"), "", args.doc)  # fail now, not after the run
    for pack in packs:
        print(f"derived models of {pack}: {', '.join(precisions)}", file=sys.stderr, flush=True)
        prepare_models(pack, tuple(precisions))

    jobs = args.jobs or cpu_count()
    machine = describe(sys.argv if argv is None else ["bench/packs.py", *argv])
    started = time.perf_counter()
    # spawn: each reading starts from a fresh interpreter, not a fork of one that loaded onnxruntime
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        futures = [pool.submit(reading, pack, precision, set_dirs) for pack in packs for precision in precisions]
        results = []
        for future in futures:
            results.append(future.result())
            done = results[-1]
            print(f"{done['pack']} {done['precision']}: {done['seconds']:.0f} s", file=sys.stderr, flush=True)

    block = markdown(results, machine, jobs)
    args.doc.write_text(replace_between_markers(args.doc.read_text(encoding="utf-8"), block, args.doc), "utf-8")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    payload = {"machine": {**machine, "cpu_line": cpu_line(machine)}, "jobs": jobs, "readings": results}
    args.json.write_text(json.dumps(payload, ensure_ascii=False, indent=2), encoding="utf-8")
    print(block)
    print(f"\n{len(results)} readings in {time.perf_counter() - started:.0f} s; {args.json}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
