"""The plain-text form of the results (the README's tables are pasted from it)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from bench.engines import REFERENCE_ACCURATE, REFERENCE_FAST

SPEED_COLUMNS = (
    "set",
    "engine",
    "cores",
    "pages",
    "pages/min",
    "p50 s",
    "p95 s",
    f"×{REFERENCE_ACCURATE}",
    f"×{REFERENCE_FAST}",
)
PROCESS_COLUMNS = ("engine", "cores", "load s", "models s", "peak MB", "version", "models")
ACCURACY_COLUMNS = ("set", "kind", "engine", "items", "full", "CER", "exact", "bag rec", "bag prec", "refused")


def table(columns: Sequence[str], rows: Sequence[Sequence[str]], left: int = 1) -> list[str]:
    """Aligned columns: the first ``left`` columns to the left, the others (numbers) to the right."""
    widths = [max(len(str(row[i])) for row in [columns, *rows]) for i in range(len(columns))]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(
            str(c).ljust(w) if i < left else str(c).rjust(w) for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    return [line(columns), line(["-" * w for w in widths]), *(line(row) for row in rows)]


def number(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def times(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}×"


def format_results(results: dict[str, Any]) -> str:
    meta = results["meta"]
    out = [
        "ocrd benchmark",
        f"  machine: {meta['cpu']} ({meta['arch']}), {meta['cores_online']} cores online, {meta['system']}, Python {meta['python']}",
        f"  date:    {meta['date']}; load average at start {meta['load_average_at_start']}, "
        f"at end {meta.get('load_average_at_end', '-')}",
        f"  command: {meta['command']}",
    ]
    if results["speed"]:
        out += _engine_lines(results)
    if results.get("daemon"):
        out += ["", *format_daemon(results["daemon"])]
    return "\n".join(out) + "\n"


def _engine_lines(results: dict[str, Any]) -> list[str]:
    out = [
        "  sets:    " + ", ".join(f"{s['name']} ({s['items']} items, {s['pages']} pages)" for s in results["sets"]),
        "",
        "Speed: seconds per page are the engine's own time from file path to text (model load excluded);",
        "engines read the same pages in turn, pinned to the same cores; × = pages/min ratio in the same round.",
        "",
    ]
    speed = results["speed"]
    out += table(
        SPEED_COLUMNS,
        [
            (
                r["set"],
                r["engine"],
                str(r["cores"]),
                str(r["pages"]),
                number(r["pages_per_minute"], 1),
                number(r["p50_seconds"], 3),
                number(r["p95_seconds"], 3),
                times(r["vs_accurate"]),
                times(r["vs_fast"]),
            )
            for r in sorted(speed, key=lambda r: (_set_order(results, r["set"]), r["cores"]))
        ],
        left=2,
    )
    out += [
        "",
        "Processes: load = importing the engine and building its models; models = building the models alone",
        "(where the engine reports it); peak = the worker's maximum resident memory over the round.",
        "",
    ]
    out += table(
        PROCESS_COLUMNS,
        [
            (
                p["engine"],
                str(p["cores"]),
                number(p["load_seconds"]),
                number(p["models_seconds"]),
                f"{p['peak_mb']:.0f}",
                p["version"],
                p["models"],
            )
            for p in results["processes"]
        ],
        left=1,
    )
    accuracy = results["accuracy"]
    if accuracy:
        top = max(r["cores"] for r in accuracy)
        out += [
            "",
            f"Accuracy (ocrd eval's scorer; round with {top} core(s)): CER and exact on full-coverage items,",
            "bag recall on all items, bag precision on full-coverage ones; refused = files the engine failed on.",
            "",
        ]
        rows = [r for r in accuracy if r["cores"] == top]
        out += table(
            ACCURACY_COLUMNS,
            [
                (
                    r["set"],
                    r["kind"],
                    r["engine"],
                    str(r["items"]),
                    str(r["full_items"]),
                    number(r["cer"], 3),
                    number(r["exact"], 3),
                    number(r["bag_recall"], 3),
                    number(r["bag_precision"], 3),
                    str(r["refused"]),
                )
                for r in sorted(rows, key=lambda r: (_set_order(results, r["set"]), r["kind"]))
            ],
            left=3,
        )
    for note in results.get("text_differences", []):
        out.append(
            f"note: {note['engine']} read {len(note['items'])} item(s) differently at {note['cores'][0]} and "
            f"{note['cores'][1]} cores: {', '.join(note['items'][:5])}"
        )
    out += _stage_lines(results["stages"])
    if results["targets"]:
        out += [
            "",
            "Checks against the peers: speed on all sets together, in each round; accuracy on the round with most cores.",
            "",
        ]
        out += table(
            ("check", "value", "target", "met"),
            [(t["what"], t["value"], t["target"], "yes" if t["met"] else "NO") for t in results["targets"]],
            left=1,
        )
    return out


def _stage_lines(stages: list[dict[str, Any]]) -> list[str]:
    if not stages:
        return []
    keys = sorted({(s["engine"], s["cores"], s["set"]) for s in stages})
    names = sorted({s["stage"] for s in stages if s["stage"] != "total"}, key=_stage_order)
    rows = []
    for engine, cores, set_name in keys:
        found = {
            s["stage"]: s["ms"] for s in stages if (s["engine"], s["cores"], s["set"]) == (engine, cores, set_name)
        }
        rows.append(
            (engine, str(cores), set_name, *(number(found.get(n), 0) for n in names), number(found.get("total"), 0))
        )
    lines = ["", "Where ocrd spends its time: mean ms per page by stage (Document.timings_ms).", ""]
    return lines + table(("engine", "cores", "set", *names, "total"), rows, left=3)


_STAGES = ("load", "preprocess", "detect", "crop", "recognize", "orient", "layout")


def _stage_order(name: str) -> tuple[int, str]:
    return (_STAGES.index(name) if name in _STAGES else len(_STAGES), name)


def _set_order(results: dict[str, Any], name: str) -> int:
    names = [s["name"] for s in results["sets"]]
    return names.index(name) if name in names else len(names)


def format_daemon(daemon: dict[str, Any]) -> list[str]:
    out = ["Daemon end to end:"]
    batch = daemon.get("batch")
    if batch:
        out.append(
            f"  inbox → outbox: {batch['documents']} documents in {batch['parts']} part(s), {batch['workers']} worker(s), "
            f"{number(batch['seconds'], 1)} s = {number(batch['files_per_minute'], 1)} files/min"
        )
        if batch.get("engine_alone_seconds"):
            out.append(
                f"  engine alone on the same files: {number(batch['engine_alone_seconds'], 1)} s; "
                f"daemon overhead {number(batch['overhead_percent'], 1)} %, "
                f"{number(batch['overhead_without_settle_percent'], 1)} % without the settle waits ({batch['settle_seconds']:g} s) "
                "(target < 5 %)"
            )
        if batch.get("worker_peak_mb"):
            out.append(f"  daemon worker peak memory: {batch['worker_peak_mb']:.0f} MB")
    latency = daemon.get("latency", [])
    if latency:
        out += ["", "  POST /ocr latency:", ""]
        out += [
            "  " + line
            for line in table(
                ("image", "clients", "requests", "p50 ms", "p95 ms", "req/s", "errors", "engine alone p50 ms"),
                [
                    (
                        r["image"],
                        str(r["clients"]),
                        str(r["requests"]),
                        number(r["p50_ms"], 0),
                        number(r["p95_ms"], 0),
                        number(r["requests_per_second"], 1),
                        str(r["errors"]),
                        number(r.get("engine_alone_p50_ms"), 0),
                    )
                    for r in latency
                ],
                left=1,
            )
        ]
    for note in daemon.get("notes", []):
        out.append(f"  note: {note}")
    return out


def between_markers(document: str, start: str, end: str, block: str, where: object) -> str:
    """``document`` with what lies between the marker comments ``start`` and ``end`` replaced by ``block``."""
    first, last = document.find(start), document.find(end)
    if first < 0 or last < first:
        raise SystemExit(f"{where}: needs the marker comments {start} and {end} around the table")
    return document[: first + len(start)] + "\n" + block + "\n" + document[last:]
