"""The files a benchmark run reads: the items of one or more labelled sets, as page images.

Every engine is given the same page images. A PDF item is rendered once, up front, at 200 dpi
(what ocrd does for scanned PDFs), because the peers do not read PDFs; its text is the pages'
texts joined, as ocrd's is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.engines import REPO_DIR
from ocrd.errors import UsageError
from ocrd.evaluation import EvalItem, load_eval_set

PDF_DPI = 200
EVAL_DIR = REPO_DIR.parent / "shared" / "eval"
DEFAULT_SETS = (EVAL_DIR / "dev_pdf", EVAL_DIR / "dev")


@dataclass(frozen=True)
class BenchItem:
    set_name: str
    set_dir: Path
    item: EvalItem
    pages: tuple[Path, ...]  # what the engines read

    @property
    def name(self) -> str:
        return f"{self.set_name}/{self.item.name}"


def spread(items: list[EvalItem], limit: int | None) -> list[EvalItem]:
    """``limit`` items spread evenly over the set (its first items are often all of one kind)."""
    if limit is None or limit >= len(items):
        return items
    if limit <= 0:
        return []
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


def load_items(set_dirs: list[Path], limit: int | None, render_dir: Path) -> list[BenchItem]:
    """Every set's items (``limit`` of each), their pages ready to read; ``UsageError`` when there is nothing.

    Relative set folders are taken from the current directory here, once: the workers start in
    folders of their own, so every path they are given is absolute.
    """
    items: list[BenchItem] = []
    for given in set_dirs:
        set_dir = given.resolve()
        set_name = set_dir.name
        for item in spread(load_eval_set(set_dir), limit):
            pages = _render_pdf(item.image, render_dir / set_name) if _is_pdf(item.image) else (item.image,)
            items.append(BenchItem(set_name, set_dir, item, pages))
    if not items:
        raise UsageError(
            f"no items to read in {', '.join(map(str, set_dirs))} (--limit {limit}); give --limit 1 or more"
        )
    return items


def _is_pdf(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(5) == b"%PDF-"


def _render_pdf(path: Path, out_dir: Path) -> tuple[Path, ...]:
    import pymupdf

    out_dir.mkdir(parents=True, exist_ok=True)
    pages = []
    with pymupdf.open(path) as document:
        for index, page in enumerate(document):
            target = out_dir / f"{path.stem}.p{index + 1}.png"
            if not target.is_file():
                page.get_pixmap(dpi=PDF_DPI).save(target)
            pages.append(target)
    return tuple(pages)
