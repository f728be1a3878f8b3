"""What a searchable PDF costs per page: time to write it and bytes added, beside the page's OCR time.

    python -m bench.pdf_cost [--eval-dir ../shared/eval] [--doc docs/pdf.md] [--json FILE]

The densest Chinese A4 page of dev_pdf (page 2 of the PRC Data Security Law, 830
characters) in the containers scans arrive in: made to look scanned (``ocrd.samples.
scan_effect``: grey paper, a slight tilt, noise) as a JPEG, its clean render as a PNG,
and that JPEG inside an image-only PDF; each at 200 dpi (as in dev_pdf) and at 300 dpi
(the same page scaled up 1.5 times, which costs the OCR and the writer what a 300 dpi
scan costs them). Every page is read once (the OCR time is that
run's) and written three times; the write time is the median. "Added" is output size
minus input size: the text layer, its font subset and, for PNG, the pixels' container.

The figures in docs/pdf.md were measured on an AMD EPYC (lscpu: "AMD EPYC", 2 cores, one
thread per core), shared with other work: OCR times there are slower than on an idle
machine, and write times are a few hundred milliseconds at most either way.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import pymupdf
from PIL import Image

from bench.machine import describe
from bench.tables import between_markers
from ocrd.samples import scan_effect

REPO = Path(__file__).resolve().parent.parent
START = "<!-- pdf-cost:start -->"
END = "<!-- pdf-cost:end -->"
PAGE = "prc_data_security_law_p2"
WRITES = 3


def inputs(eval_dir: Path, folder: Path) -> dict[str, Path]:
    """The page in each container at 200 and 300 dpi, written into ``folder``."""
    render = Image.open(eval_dir / "dev_pdf" / f"{PAGE}.png").convert("RGB")
    scan = scan_effect(render)
    made: dict[str, Path] = {}
    for dpi in (200, 300):
        scale = dpi / 200
        scan_at = scan if dpi == 200 else scan.resize((round(scan.width * scale), round(scan.height * scale)))
        render_at = render if dpi == 200 else render.resize((round(render.width * scale), round(render.height * scale)))
        jpeg = folder / f"scan-{dpi}.jpg"
        scan_at.save(jpeg, "JPEG", quality=85, dpi=(dpi, dpi))
        png = folder / f"render-{dpi}.png"
        render_at.save(png, "PNG", dpi=(dpi, dpi))
        pdf = folder / f"scan-{dpi}.pdf"
        with pymupdf.open() as doc:
            page = doc.new_page(width=scan_at.width * 72 / dpi, height=scan_at.height * 72 / dpi)
            page.insert_image(page.rect, stream=jpeg.read_bytes())
            doc.save(pdf)
        made[f"JPEG scan, {dpi} dpi"] = jpeg
        made[f"PNG render, {dpi} dpi"] = png
        made[f"PDF of the JPEG scan, {dpi} dpi"] = pdf
    return made


def measure(paths: dict[str, Path], folder: Path) -> dict[str, dict[str, Any]]:
    from ocrd.config import EngineSettings
    from ocrd.engine.pipeline import OcrPipeline
    from ocrd.outputs.pdf import write_searchable_pdf

    pipeline = OcrPipeline(EngineSettings())
    pipeline.run_path(next(iter(paths.values())))  # warm-up: the first inference allocates its arenas
    results = {}
    for name, path in paths.items():
        started = time.perf_counter()
        document = pipeline.run_path(path)
        ocr_ms = (time.perf_counter() - started) * 1000
        target = folder / f"{path.name}.pdf"
        write_ms = []
        for _ in range(WRITES):
            started = time.perf_counter()
            write_searchable_pdf(path, document, target)
            write_ms.append((time.perf_counter() - started) * 1000)
        size_in, size_out = path.stat().st_size, target.stat().st_size
        pages = len(document.pages)
        results[name] = {
            "pages": pages,
            "characters": sum(len(line.text) for line in document.lines),
            "ocr_ms_per_page": round(ocr_ms / pages),
            "write_ms_per_page": round(statistics.median(write_ms) / pages),
            "input_bytes": size_in,
            "output_bytes": size_out,
            "added_bytes_per_page": round((size_out - size_in) / pages),
        }
    return results


def table(results: dict[str, dict[str, Any]], machine: dict[str, Any]) -> str:
    rows = [
        f"Measured on {machine['cpu']} ({machine['cores_usable']} usable cores, load average "
        f"{machine['load_average_at_start'][0]} at the start), {machine['date']}; `{machine['command']}`.",
        "",
        "| input (one A4 page) | characters | OCR ms | PDF write ms | write ÷ OCR | input KB | PDF KB | added KB |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        rows.append(
            f"| {name} | {r['characters']} | {r['ocr_ms_per_page']} | {r['write_ms_per_page']} | "
            f"{r['write_ms_per_page'] / r['ocr_ms_per_page']:.1%} | {r['input_bytes'] / 1024:.0f} | "
            f"{r['output_bytes'] / 1024:.0f} | {r['added_bytes_per_page'] / 1024:+.0f} |"
        )
    return "\n".join(rows)


def replace_between_markers(doc: Path, text: str) -> None:
    doc.write_text(between_markers(doc.read_text(encoding="utf-8"), START, END, text, doc), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--eval-dir", type=Path, default=REPO.parent / "shared" / "eval")
    parser.add_argument("--doc", type=Path, help="write the table between the markers of this file")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    machine = describe(["python", "-m", "bench.pdf_cost", *(sys.argv[1:] if argv is None else argv)])
    with tempfile.TemporaryDirectory(prefix="pdf-cost-") as folder:
        results = measure(inputs(args.eval_dir, Path(folder)), Path(folder))
    text = table(results, machine)
    print(text)
    if args.json:
        args.json.write_text(json.dumps({"machine": machine, "results": results}, ensure_ascii=False, indent=2) + "\n")
    if args.doc:
        replace_between_markers(args.doc, text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
