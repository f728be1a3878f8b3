"""Which classic preprocessing steps help the neural pipeline? Accuracy on the eval sets, one step at a time.

    python bench/preprocess_ablation.py [--sets DIR ...] [--steps none,grayscale,...]

Prints one row per (step, set): line CER and exact-line accuracy, page bag recall/precision.
The README's preprocessing table comes from this script. Not a test: it takes minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from ocrd.config import PREPROCESS_STEPS, EngineSettings
from ocrd.engine.pipeline import OcrPipeline
from ocrd.evaluation import run_eval

DEFAULT_SETS = [Path(__file__).resolve().parents[2] / "shared" / "eval" / name for name in ("dev", "dev_pdf")]


def figures(report_dict: dict) -> dict[str, float | None]:
    groups = {(g["kind"], g["lang"]): g for g in report_dict["groups"]}
    line = groups.get(("line", "all"), {})
    page = groups.get(("page", "all"), {})
    return {
        "line_cer": line.get("cer"),
        "line_exact": line.get("exact_accuracy"),
        "page_recall": page.get("bag_recall"),
        "page_precision": page.get("bag_precision"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", nargs="+", type=Path, default=DEFAULT_SETS)
    parser.add_argument("--steps", default=",".join(("none", *PREPROCESS_STEPS)))
    parser.add_argument("--threads", type=int, default=0)
    parser.add_argument("--json", type=Path, help="also write the rows here")
    args = parser.parse_args()
    rows = []
    print(f"{'step':<10} {'set':<8} {'line CER':>8} {'exact':>6} {'recall':>7} {'precision':>9} {'seconds':>8}")
    for step in args.steps.split(","):
        steps = () if step == "none" else (step,)
        pipeline = OcrPipeline(EngineSettings(threads=args.threads, preprocess=steps))
        for set_dir in args.sets:
            started = time.perf_counter()
            report = run_eval(set_dir, lambda path, p=pipeline: p.run_path(path).to_text())
            row = {"step": step, "set": set_dir.name, **figures(report.to_dict())}
            row["seconds"] = round(time.perf_counter() - started, 1)
            rows.append(row)

            def show(value: float | None) -> str:
                return "-" if value is None else f"{value:.3f}"

            print(
                f"{step:<10} {set_dir.name:<8} {show(row['line_cer']):>8} {show(row['line_exact']):>6} "
                f"{show(row['page_recall']):>7} {show(row['page_precision']):>9} {row['seconds']:>8}",
                flush=True,
            )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
