"""Page orientation: what the step costs on upright pages, and how often it finds the right turn.

Cost: every dev_pdf page is read with and without the orientation step in the same process,
the order alternating from page to page so that neither side always runs warm. Accuracy: copies
of the dev_pdf and dev images turned by a quarter, a half and three quarters (made here, the
files are read in place) and the upright originals; a decision is right when the reported
rotation turns the copy back upright.

    python -m bench.orientation [--write-docs] [--limit N]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from bench.machine import describe
from bench.tables import table
from ocrd.config import EngineSettings
from ocrd.engine.pipeline import OcrPipeline

REPO = Path(__file__).resolve().parent.parent
EVAL_DIR = REPO.parent / "shared" / "eval"
DOC = REPO / "docs" / "engine.md"
START = "<!-- orientation-table:start -->"
END = "<!-- orientation-table:end -->"
# How each copy is made (cv2) and the rotation that reads it (the opposite clockwise turn).
ARRIVALS = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg")


def images(folder: Path, limit: int | None) -> list[Path]:
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return paths[:limit] if limit else paths


def timed(pipeline: OcrPipeline, image: np.ndarray, orient: bool) -> tuple[float, int, float]:
    """Seconds for the page, its rotation, and milliseconds in the orientation step's own stage."""
    pipeline.orient_pages = orient
    started = time.perf_counter()
    reading = pipeline.read_image(image)
    return time.perf_counter() - started, reading.rotation, reading.timings_ms.get("orient page", 0.0)


def cost(pipeline: OcrPipeline, paths: list[Path]) -> tuple[list[float], list[float], list[float], int]:
    """Seconds per page without and with the step, the step's own ms, and how many upright pages it turned."""
    without, with_step, step_ms, false_turns = [], [], [], 0
    for index, path in enumerate(paths):
        image = cv2.imread(str(path))
        order = (False, True) if index % 2 == 0 else (True, False)
        for orient in order:
            seconds, rotation, ms = timed(pipeline, image, orient)
            (with_step if orient else without).append(seconds)
            if orient:
                step_ms.append(ms)
                false_turns += rotation != 0
    pipeline.orient_pages = True
    return without, with_step, step_ms, false_turns


def dev_kinds(folder: Path) -> dict[str, str]:
    """Image name to its labelled kind ("page" or "line")."""
    kinds = {}
    for row in (folder / "labels.jsonl").read_text(encoding="utf-8").splitlines():
        if row.strip():
            item = json.loads(row)
            kinds[item["image"]] = item.get("kind", "page")
    return kinds


def accuracy(pipeline: OcrPipeline, paths: list[Path]) -> dict[int, tuple[int, int, list[str]]]:
    """Per rotation: right decisions, copies, and the names of the wrong ones."""
    pipeline.orient_pages = True
    found: dict[int, tuple[int, int, list[str]]] = {}
    for rotation, code in ARRIVALS.items():
        right, wrong = 0, []
        for path in paths:
            reading = pipeline.read_image(np.ascontiguousarray(cv2.rotate(cv2.imread(str(path)), code)))
            if reading.rotation == rotation:
                right += 1
            else:
                wrong.append(f"{path.name}→{reading.rotation}")
        found[rotation] = (right, len(paths), wrong)
    return found


COST_COLUMNS = [
    "upright dev_pdf pages",
    "pages",
    "mean s without",
    "mean s with",
    "median ratio",
    "total ratio",
    "step ms (mean)",
    "step share",
    "turned",
]


def report(
    machine: dict, without: list[float], with_step: list[float], step_ms: list[float], false_turns: int, sets: dict
) -> str:
    ratios = [w / o for w, o in zip(with_step, without, strict=True)]
    cost_row = [
        "read with / without the step",
        str(len(without)),
        f"{statistics.mean(without):.2f}",
        f"{statistics.mean(with_step):.2f}",
        f"{statistics.median(ratios):.3f}",
        f"{sum(with_step) / sum(without):.3f}",
        f"{statistics.mean(step_ms):.1f}",
        f"{sum(step_ms) / 1000 / sum(with_step):.2%}",
        str(false_turns),
    ]
    rows = []
    for name, found in sets.items():
        for rotation, (right, total, wrong) in found.items():
            shown = ", ".join(wrong[:4]) + (" …" if len(wrong) > 4 else "")
            rows.append([name, f"{rotation}°", f"{right}/{total}", shown])
    return "\n".join(
        [
            f"Measured {machine['date']} on {machine['cpu']} ({machine['cores_usable']} cores, load average at start "
            f"{machine['load_average_at_start'][0]}), `ppocrv6-small`, all threads.",
            "",
            "```text",
            *table(COST_COLUMNS, [cost_row]),
            "",
            *table(["turned copies", "rotation to find", "right", "wrong (reported rotation)"], rows),
            "```",
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="only the first N images of each set")
    parser.add_argument("--pdf-limit", type=int, help="only the first N dev_pdf pages (they cost seconds each)")
    parser.add_argument("--write-docs", action="store_true", help=f"put the table into {DOC.name}")
    args = parser.parse_args()
    machine = describe(sys.argv)
    pipeline = OcrPipeline(EngineSettings(threads=0))
    pdf_pages = images(EVAL_DIR / "dev_pdf", args.pdf_limit or args.limit)
    without, with_step, step_ms, false_turns = cost(pipeline, pdf_pages)
    kinds = dev_kinds(EVAL_DIR / "dev")
    dev = images(EVAL_DIR / "dev", args.limit)
    sets = {
        "dev_pdf": accuracy(pipeline, pdf_pages),
        "dev pages": accuracy(pipeline, [p for p in dev if kinds.get(p.name) == "page"]),
        "dev lines": accuracy(pipeline, [p for p in dev if kinds.get(p.name) == "line"]),
    }
    text = report(machine, without, with_step, step_ms, false_turns, sets)
    print(text)
    if args.write_docs:
        document = DOC.read_text(encoding="utf-8")
        start, end = document.find(START), document.find(END)
        if start < 0 or end < start:
            raise SystemExit(f"{DOC}: needs the marker comments {START} and {END}")
        DOC.write_text(document[: start + len(START)] + "\n" + text + "\n" + document[end:], encoding="utf-8")


if __name__ == "__main__":
    main()
