"""The corrections as data sets: an ``ocrd eval`` line set, PaddleOCR recognition labels, whole pages.

    DIR/labels.jsonl        one line crop per corrected line (kind "line"; the corrected text is the truth)
    DIR/lines/*.png         the crops, cut from the kept originals along the lines' boxes
    DIR/rec_gt.txt          PaddleOCR's recognition format: "lines/<name>.png<TAB>text" per line
    DIR/pages/labels.jsonl  every page with a corrected line (kind "page": its lines, corrected, joined by "\\n")
    DIR/pages/*.png         those pages as the engine saw them

``ocrd eval DIR`` scores the current models on what people corrected; ``ocrd eval DIR/pages`` on the pages.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ocrd.config import Limits
from ocrd.errors import OcrdError, UsageError
from ocrd.results.crops import line_crop, page_images, write_png
from ocrd.results.store import DATABASE, connect

log = logging.getLogger("ocrd.results")

CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass
class ExportSummary:
    lines: int = 0
    pages: int = 0
    results: int = 0
    skipped: int = 0  # corrected results whose original is no longer kept (or cannot be read)


def _lang(text: str) -> str:
    return "zh" if CJK.search(text) else "en"


def _corrected(conn: sqlite3.Connection) -> list[sqlite3.Row]:
    return conn.execute(
        "SELECT * FROM results WHERE corrections > 0 AND outcome = 'done' AND current_result IS NOT NULL "
        "ORDER BY created_at"
    ).fetchall()


def _corrections(conn: sqlite3.Connection, result_id: str) -> dict[tuple[int, int], list[sqlite3.Row]]:
    found: dict[tuple[int, int], list[sqlite3.Row]] = {}
    for row in conn.execute("SELECT * FROM corrections WHERE result_id = ? ORDER BY number", (result_id,)):
        found.setdefault((row["page"], row["line"]), []).append(row)
    return found


def export(folder: Path, target: Path, limits: Limits = Limits()) -> ExportSummary:  # noqa: B008 - frozen
    """Write the sets for every corrected result of the index in ``folder`` into ``target``."""
    if not (folder / DATABASE).is_file():
        raise UsageError(
            "no results database here: run `ocrd run` with the same --config first, or check [daemon] data_dir",
            path=folder,
        )
    if target.exists() and any(target.iterdir()):
        raise UsageError("is not empty: export into a new or empty folder, so no old labels mix in", path=target)
    conn, _ = connect(folder)
    summary = ExportSummary()
    lines_dir, pages_dir = target / "lines", target / "pages"
    for path in (lines_dir, pages_dir):
        path.mkdir(parents=True, exist_ok=True)
    try:
        with (
            (target / "labels.jsonl").open("w", encoding="utf-8") as labels,
            (target / "rec_gt.txt").open("w", encoding="utf-8") as rec,
            (pages_dir / "labels.jsonl").open("w", encoding="utf-8") as page_labels,
        ):
            for row in _corrected(conn):
                writers = (labels, rec, page_labels)
                if _export_result(row, _corrections(conn, row["id"]), target, writers, limits, summary):
                    summary.results += 1
                else:
                    summary.skipped += 1
    finally:
        conn.close()
    if not summary.pages:
        shutil.rmtree(pages_dir)  # an empty labels file is not a set `ocrd eval` can read
    return summary


def _export_result(
    row: sqlite3.Row,
    corrections: dict[tuple[int, int], list[sqlite3.Row]],
    target: Path,
    writers: tuple[Any, Any, Any],
    limits: Limits,
    summary: ExportSummary,
) -> bool:
    labels, rec, page_labels = writers
    original = Path(row["original_path"]) if row["original_path"] else None
    if original is None or not original.is_file():
        log.warning("results: %s has corrections but its original is no longer kept; skipped", row["source"])
        return False
    current = json.loads(row["current_result"])
    first = json.loads(row["original_result"])
    wanted = {page for page, _ in corrections}
    try:
        images = list(page_images(original, current, wanted, limits))
    except OcrdError as error:
        log.warning("results: the original of %s cannot be read (%s); skipped", row["source"], error)
        return False
    for index, image in images:
        page = current["pages"][index]
        stem = f"{row['id']}-p{index}"
        for number, line in enumerate(page["lines"]):
            history = corrections.get((index, number))
            if not history:
                continue
            name = f"{stem}-l{number}.png"
            write_png(target / "lines" / name, line_crop(image, line["box"]))
            item = {
                "image": f"lines/{name}",
                "kind": "line",
                "lang": _lang(line["text"]),
                "text": line["text"],
                "match": "exact",
                "gt_coverage": "full",
                "read_as": first["pages"][index]["lines"][number]["text"],
                "result_id": row["id"],
                "source": row["source"],
                "page": index,
                "line": number,
                "by": history[-1]["by"],
                "sha256": row["sha256"],
                "models": row["model_pack"],
                "ocrd_version": row["model_version"],
            }
            labels.write(json.dumps(item, ensure_ascii=False) + "\n")
            rec.write(f"lines/{name}\t{line['text']}\n")
            summary.lines += 1
        write_png(target / "pages" / f"{stem}.png", image)
        text = "\n".join(line["text"] for line in page["lines"])
        page_item = {
            "image": f"{stem}.png",
            "kind": "page",
            "lang": _lang(text),
            "text": text,
            "match": "exact",
            "gt_coverage": "full",
            "result_id": row["id"],
            "source": row["source"],
            "page": index,
            "lines": [{"text": line["text"], "box": line["box"]} for line in page["lines"]],
        }
        page_labels.write(json.dumps(page_item, ensure_ascii=False) + "\n")
        summary.pages += 1
    return True
