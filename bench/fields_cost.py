"""What the fields stage (QR codes + extraction) adds to a page's time.

    python -m bench.fields_cost [--eval-dir ../shared/eval] [--doc docs/benchmark.md] [--json FILE]

Every page is read twice in this one process, with the fields stage off and on (in alternating
order, so neither setting always runs on a warm cache), with the same models and threads. Two
figures per set: the stages' own milliseconds (``codes`` + ``fields`` in the result's timings,
measured inside the run, so not disturbed by the other reading) as a share of the page's time,
and the ratio of the two end-to-end times. Sets: the invoices of fields_dev (the stage's work)
and the pages of dev_pdf (documents that are not invoices: what everyone else pays).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench.machine import describe
from bench.tables import between_markers
from ocrd.config import EngineSettings, FieldsSettings

REPO = Path(__file__).resolve().parent.parent
START = "<!-- fields-cost:start -->"
END = "<!-- fields-cost:end -->"
SUFFIXES = (".png", ".jpg", ".jpeg", ".pdf")


def _pages(folder: Path, limit: int | None) -> list[Path]:
    paths = sorted(path for path in folder.iterdir() if path.suffix.lower() in SUFFIXES)
    return paths[:limit] if limit else paths


def _quantile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def measure(paths: list[Path], threads: int) -> dict[str, Any]:
    from ocrd.engine.pipeline import OcrPipeline

    pipeline = OcrPipeline(EngineSettings(threads=threads))
    off, on = FieldsSettings(mode="off"), FieldsSettings(mode="auto")
    pipeline.run_path(paths[0], fields=off)  # warm-up: first inference allocates its arenas
    stage_share, end_to_end, stage_ms = [], [], []
    for number, path in enumerate(paths):
        timed = {}
        for settings in (off, on) if number % 2 == 0 else (on, off):
            started = time.perf_counter()
            document = pipeline.run_path(path, fields=settings)
            timed[settings.mode] = ((time.perf_counter() - started) * 1000, document)
        total_on, document = timed["auto"]
        added = document.timings_ms.get("codes", 0.0) + document.timings_ms.get("fields", 0.0)
        stage_ms.append(added)
        stage_share.append(added / total_on)
        end_to_end.append(total_on / timed["off"][0])
    return {
        "pages": len(paths),
        "stage_ms_median": round(statistics.median(stage_ms), 1),
        "stage_ms_p95": round(_quantile(stage_ms, 0.95), 1),
        "stage_share_median": round(statistics.median(stage_share), 4),
        "stage_share_p95": round(_quantile(stage_share, 0.95), 4),
        "end_to_end_ratio_median": round(statistics.median(end_to_end), 3),
    }


def table(results: dict[str, dict[str, Any]], machine: dict[str, Any]) -> str:
    rows = [
        f"Measured on {machine['cpu']} ({machine['cores_usable']} usable cores), {machine['date']}; "
        f"`{machine['command']}`.",
        "",
        "| set | pages | fields stage ms (median / p95) | share of page time (median / p95) | time with ÷ without (median) |",
        "|---|---|---|---|---|",
    ]
    for name, result in results.items():
        rows.append(
            f"| {name} | {result['pages']} | {result['stage_ms_median']} / {result['stage_ms_p95']} | "
            f"{result['stage_share_median']:.1%} / {result['stage_share_p95']:.1%} | {result['end_to_end_ratio_median']:.3f} |"
        )
    return "\n".join(rows)


def replace_between_markers(doc: Path, text: str) -> None:
    doc.write_text(between_markers(doc.read_text(encoding="utf-8"), START, END, text, doc), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--doc", type=Path, help="write the table between the markers of this file")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument("--threads", type=int, default=0, help="inference threads (0: all cores)")
    parser.add_argument("--limit", type=int, help="pages per set at most (a quick look)")
    args = parser.parse_args(argv)
    machine = describe(sys.argv if argv is None else ["python", "-m", "bench.fields_cost", *argv])
    results = {
        "fields_dev (invoices)": measure(_pages(args.eval_dir / "fields_dev", args.limit), args.threads),
        "dev_pdf (other documents)": measure(_pages(args.eval_dir / "dev_pdf", args.limit), args.threads),
    }
    text = table(results, machine)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, ensure_ascii=False, indent=2) + "\n")
    if args.doc:
        replace_between_markers(args.doc, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
