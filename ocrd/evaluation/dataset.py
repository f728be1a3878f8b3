"""Reading an evaluation set: a folder holding ``labels.jsonl`` and the images it names.

Two kinds of set share the folder layout. A text set (/work/shared/eval/dev and dev_pdf, see their
README.md) has one JSON object per line with at least ``image``, ``kind`` and ``text``. A fields set
(/work/shared/eval/fields_dev) has ``image``, ``doc_id``, ``kind`` (a document kind such as
``fully_digital``), ``fields`` (the true values) and ``degraded``; ``is_fields_set`` tells them apart.
The fields the scorers use are lifted into ``EvalItem`` / ``FieldsItem``; everything else (boxes,
provenance, ``ignore`` lists, QR payloads) stays available in ``raw``. An ``image`` may be an
absolute path, so a subset of a set can be written elsewhere without copying its images.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd.errors import UsageError
from ocrd.fields.model import KINDS as DOCUMENT_KINDS

LABELS_FILE = "labels.jsonl"
KINDS = ("line", "page")
MATCH_MODES = ("exact", "ignore_space", "case_insensitive", "fuzzy")
COVERAGES = ("full", "partial")
REQUIRED_FIELDS = ("image", "kind", "text")
FIELDS_REQUIRED = ("image", "doc_id", "kind")


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
    """All items of a text set in file order; ``UsageError`` naming the file and line for anything wrong."""
    set_dir = Path(set_dir)
    labels_path, lines = _read_labels(set_dir)
    return [_parse_item(data, set_dir, f"{labels_path}:{number}") for number, data in lines]


def is_fields_set(set_dir: Path) -> bool:
    """Whether the set's items carry ``fields`` (true values to score the fields stage against)."""
    _, lines = _read_labels(Path(set_dir))
    return any("fields" in data for _, data in lines)


def load_fields_set(set_dir: Path) -> list[FieldsItem]:
    """All items of a fields set in file order; every line must carry ``fields``."""
    set_dir = Path(set_dir)
    labels_path, lines = _read_labels(set_dir)
    return [_parse_fields_item(data, set_dir, f"{labels_path}:{number}") for number, data in lines]


def _read_labels(set_dir: Path) -> tuple[Path, list[tuple[int, dict[str, Any]]]]:
    """The labels file and its non-blank lines as (line number, JSON object)."""
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

    parsed = [
        (number, _parse_json(line, f"{labels_path}:{number}"))
        for number, line in enumerate(lines, start=1)
        if line.strip()
    ]
    if not parsed:
        raise UsageError("holds no items: add one JSON object per line", path=labels_path)
    return labels_path, parsed


def _parse_json(line: str, where: str) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not valid JSON ({exc.msg} at column {exc.colno})") from exc
    if not isinstance(data, dict):
        raise UsageError(f"{where}: expected a JSON object, got {type(data).__name__}")
    return data


def _parse_item(data: dict[str, Any], set_dir: Path, where: str) -> EvalItem:
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

    return EvalItem(
        image=_image(data, set_dir, where),
        kind=kind,
        lang=str(data.get("lang") or "und"),
        text=data["text"],
        match=match,
        coverage=coverage,
        raw=data,
    )


@dataclass
class FieldsItem:
    """One labelled invoice image of a fields set.

    fields: the true values by field name (``None`` where the invoice does not print the field);
    degraded: a scan-like copy, scored apart from the clean renderings.
    """

    image: Path
    doc_id: str
    kind: str
    fields: dict[str, Any]
    degraded: bool
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def name(self) -> str:
        return self.image.name


def _parse_fields_item(data: dict[str, Any], set_dir: Path, where: str) -> FieldsItem:
    missing = [name for name in FIELDS_REQUIRED if not isinstance(data.get(name), str)]
    if missing:
        raise UsageError(f"{where}: missing or non-string field(s) {', '.join(missing)}")
    if not isinstance(data.get("fields"), dict):
        raise UsageError(f'{where}: a fields set needs "fields" (an object of true values) on every line')
    if data["kind"] not in DOCUMENT_KINDS:
        raise UsageError(f"{where}: kind is {data['kind']!r}; use one of {', '.join(DOCUMENT_KINDS)}")
    degraded = data.get("degraded", False)
    if not isinstance(degraded, bool):
        raise UsageError(f"{where}: degraded is {degraded!r}; use true or false")
    return FieldsItem(
        image=_image(data, set_dir, where),
        doc_id=data["doc_id"],
        kind=data["kind"],
        fields=data["fields"],
        degraded=degraded,
        raw=data,
    )


def _image(data: dict[str, Any], set_dir: Path, where: str) -> Path:
    image = set_dir / data["image"]  # an absolute path replaces set_dir
    if not image.is_file():
        raise UsageError(f"{where}: image {data['image']!r} not found in {set_dir}")
    return image
