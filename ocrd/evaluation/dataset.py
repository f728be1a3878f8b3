"""Reading an evaluation set: a folder holding ``labels.jsonl`` and the images it names.

The format is the one of /work/shared/eval/dev and dev_pdf (see their README.md): one JSON object
per line with at least ``image``, ``kind`` and ``text``. The fields the scorer uses are lifted into
``EvalItem``; everything else (boxes, provenance, ``ignore`` lists) stays available in ``raw``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd.errors import UsageError

LABELS_FILE = "labels.jsonl"
KINDS = ("line", "page")
MATCH_MODES = ("exact", "ignore_space", "case_insensitive", "fuzzy")
COVERAGES = ("full", "partial")
REQUIRED_FIELDS = ("image", "kind", "text")


@dataclass
class EvalItem:
    """One labelled image.

    kind: ``line`` (a crop holding one text line) or ``page`` (a whole image, GT lines joined by "\\n").
    match: how strictly the text is compared (see ``normalise``); coverage: ``full`` when every
    visible text is labelled, ``partial`` when some is not (then extra predicted text is not an error).
    """

    image: Path
    kind: str
    lang: str
    text: str
    match: str
    coverage: str
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.image.name


def load_eval_set(set_dir: Path) -> list[EvalItem]:
    """All items of the set in file order; ``UsageError`` naming the file and line for anything wrong."""
    set_dir = Path(set_dir)
    if not set_dir.is_dir():
        raise UsageError("is not a folder: give the folder that holds labels.jsonl and its images", path=set_dir)
    labels_path = set_dir / LABELS_FILE
    if not labels_path.is_file():
        raise UsageError(
            f"no {LABELS_FILE} here: an eval set is a folder with {LABELS_FILE} (one JSON object per "
            "line: image, kind, text, ...) and the images it names",
            path=set_dir,
        )
    try:
        lines = labels_path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"cannot read it as UTF-8 text ({exc})", path=labels_path) from exc

    items = [
        _parse_item(line, set_dir, labels_path, number) for number, line in enumerate(lines, start=1) if line.strip()
    ]
    if not items:
        raise UsageError("holds no items: add one JSON object per line", path=labels_path)
    return items


def _parse_item(line: str, set_dir: Path, labels_path: Path, number: int) -> EvalItem:
    where = f"{labels_path}:{number}"
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(data).__name__}")

    missing = [name for name in REQUIRED_FIELDS if not isinstance(data.get(name), str)]
    if missing:
        raise UsageError(f"{where}: missing or non-string field(s) {', '.join(missing)}")
    kind = data["kind"]
    match = data.get("match", "exact")
    coverage = data.get("gt_coverage", "full")
    for name, value, allowed in (
        ("kind", kind, KINDS),
        ("match", match, MATCH_MODES),
        ("gt_coverage", coverage, COVERAGES),
    ):
        if value not in allowed:
            raise UsageError(f"{where}: {name} is {value!r}; use one of {', '.join(allowed)}")

    image = set_dir / data["image"]
    if not image.is_file():
        raise UsageError(f"{where}: image {data['image']!r} not found in {set_dir}")
    return EvalItem(
        image=image,
        kind=kind,
        lang=str(data.get("lang") or "und"),
        text=data["text"],
        match=match,
        coverage=coverage,
        raw=data,
    )
