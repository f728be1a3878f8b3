"""Scoring predictions against labels, and aggregating the scores.

Per item, on the normalised texts (see ``normalise``):

- CER = Levenshtein(reference, prediction) / len(reference), on the texts in reading order. For a
  ``line`` item the prediction is everything the engine read in the image (the engine is not told
  the kind), its lines joined by the whitespace rule: nothing for Chinese / ``ignore_space``, one
  space otherwise. Page texts are the lines joined by "\\n", which normalisation turns into the
  same separator. ``fuzzy`` items (the source only required ~0.8-0.9 similarity, so the label may
  differ in punctuation) are scored like the others: they just cannot reach CER 0 in some cases.
- exact: the normalised texts are equal.
- bag of characters (order-free, whitespace not counted): matched = size of the multiset
  intersection; recall = matched / reference characters, precision = matched / predicted characters.

Aggregation, per (kind, lang) and per kind over all languages ("all"):

- CER is micro-averaged: total edits / total reference characters, so long items weigh by their
  length; ``cer_mean`` (mean of item CERs) is reported beside it so one hard short line is visible.
- Bag recall and precision are micro-averaged over characters.
- Items with ``gt_coverage: partial`` have unlabelled text in the image (seals, logos, formulas;
  dev_pdf lists them as ``ignore`` / ``image_regions`` / ``ignore_texts``), so whatever extra the
  engine reads there would be counted as an error. They count for bag recall only: they are left
  out of CER, exact accuracy and precision. (Every dev_pdf item with such lists is ``partial``, so no
  masking by boxes is needed; the engine's boxes are not part of the scoring interface either.)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ocrd.errors import InputError
from ocrd.evaluation.dataset import KINDS, EvalItem, load_eval_set
from ocrd.evaluation.distance import levenshtein
from ocrd.evaluation.normalise import drops_whitespace, normalise

Recogniser = Callable[[Path], str]
# Reads files ahead (several at once) and returns the seconds each took to read; the recogniser
# then answers from what was read. Without one, each file is timed as it is recognised.
Prefetch = Callable[[list[Path]], dict[Path, float]]
ALL_LANGS = "all"


@dataclass
class ItemScore:
    """How one prediction compares with its label; the counts make micro-aggregation exact."""

    image: str
    kind: str
    lang: str
    match: str
    coverage: str
    reference: str  # normalised
    predicted: str  # normalised
    edits: int
    exact: bool
    bag_reference: int
    bag_predicted: int
    bag_matched: int
    error: str | None = None  # the engine refused the file; scored as an empty prediction
    seconds: float | None = None  # time the recogniser took (informational, never a bar)

    @property
    def full_coverage(self) -> bool:
        return self.coverage == "full"

    @property
    def reference_chars(self) -> int:
        return len(self.reference)

    @property
    def cer(self) -> float:
        if not self.reference:
            return 0.0 if not self.predicted else 1.0
        return self.edits / len(self.reference)

    @property
    def bag_recall(self) -> float:
        return self.bag_matched / self.bag_reference if self.bag_reference else 1.0

    @property
    def bag_precision(self) -> float | None:
        """None for partial items: their unlabelled text makes extra characters unjudgeable."""
        if not self.full_coverage:
            return None
        return self.bag_matched / self.bag_predicted if self.bag_predicted else 1.0

    @property
    def badness(self) -> float:
        """What "worst" sorts by: CER for lines; for pages the weaker of bag recall and precision."""
        if self.kind == "line":
            return self.cer
        precision = self.bag_precision
        return 1.0 - min(self.bag_recall, 1.0 if precision is None else precision)

    def to_dict(self) -> dict[str, Any]:
        return {
            "image": self.image,
            "kind": self.kind,
            "lang": self.lang,
            "match": self.match,
            "coverage": self.coverage,
            "cer": _round(self.cer),
            "edits": self.edits,
            "reference_chars": self.reference_chars,
            "exact": self.exact,
            "bag_recall": _round(self.bag_recall),
            "bag_precision": _round(self.bag_precision),
            "bag_reference": self.bag_reference,
            "bag_predicted": self.bag_predicted,
            "bag_matched": self.bag_matched,
            "reference": self.reference,
            "predicted": self.predicted,
            "error": self.error,
            "seconds": _round(self.seconds, 3),
        }


def score_item(item: EvalItem, predicted_text: str) -> ItemScore:
    """Compare one prediction (the engine's text for the whole image, in reading order) with its label."""
    drop = drops_whitespace(item.text, lang=item.lang, match=item.match)
    reference = normalise(item.text, lang=item.lang, match=item.match, drop_whitespace=drop)
    predicted = normalise(predicted_text, lang=item.lang, match=item.match, drop_whitespace=drop)
    reference_bag = _bag(reference)
    predicted_bag = _bag(predicted)
    return ItemScore(
        image=item.name,
        kind=item.kind,
        lang=item.lang,
        match=item.match,
        coverage=item.coverage,
        reference=reference,
        predicted=predicted,
        edits=levenshtein(reference, predicted),
        exact=reference == predicted,
        bag_reference=sum(reference_bag.values()),
        bag_predicted=sum(predicted_bag.values()),
        bag_matched=sum((reference_bag & predicted_bag).values()),
    )


def _bag(text: str) -> Counter[str]:
    return Counter(char for char in text if not char.isspace())


@dataclass
class GroupStats:
    """Aggregates over the items of one kind (and one language, or ``all``); None = nothing to measure."""

    kind: str
    lang: str
    items: int
    full_items: int  # the ones CER, exact accuracy and precision are measured on
    cer: float | None
    cer_mean: float | None
    exact_accuracy: float | None
    bag_recall: float | None
    bag_precision: float | None

    @classmethod
    def of(cls, kind: str, lang: str, scores: list[ItemScore]) -> GroupStats:
        full = [score for score in scores if score.full_coverage]
        reference_chars = sum(score.reference_chars for score in full)
        bag_reference = sum(score.bag_reference for score in scores)
        bag_predicted = sum(score.bag_predicted for score in full)
        return cls(
            kind=kind,
            lang=lang,
            items=len(scores),
            full_items=len(full),
            cer=_ratio(sum(score.edits for score in full), reference_chars),
            cer_mean=_ratio(sum(score.cer for score in full), len(full)),
            exact_accuracy=_ratio(sum(score.exact for score in full), len(full)),
            bag_recall=_ratio(sum(score.bag_matched for score in scores), bag_reference),
            bag_precision=_ratio(sum(score.bag_matched for score in full), bag_predicted),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "lang": self.lang,
            "items": self.items,
            "full_items": self.full_items,
            "cer": _round(self.cer),
            "cer_mean": _round(self.cer_mean),
            "exact_accuracy": _round(self.exact_accuracy),
            "bag_recall": _round(self.bag_recall),
            "bag_precision": _round(self.bag_precision),
        }


@dataclass
class EvalReport:
    set_dir: Path
    items: list[ItemScore]
    recognise_seconds: float = 0.0
    groups: list[GroupStats] = field(init=False)

    def __post_init__(self) -> None:
        self.groups = summarise(self.items)

    def group(self, kind: str, lang: str = ALL_LANGS) -> GroupStats | None:
        return next((g for g in self.groups if g.kind == kind and g.lang == lang), None)

    def worst(self, kind: str, count: int) -> list[ItemScore]:
        """The ``count`` worst items of a kind (see ``ItemScore.badness``), perfect ones left out."""
        of_kind = [score for score in self.items if score.kind == kind and score.badness > 0]
        return sorted(of_kind, key=lambda score: (-score.badness, -score.cer, score.image))[:count]

    @property
    def errors(self) -> list[ItemScore]:
        return [score for score in self.items if score.error]

    def to_dict(self) -> dict[str, Any]:
        return {
            "set": str(self.set_dir),
            "items": len(self.items),
            "recognise_seconds": _round(self.recognise_seconds, 2),
            "groups": [group.to_dict() for group in self.groups],
            "scores": [score.to_dict() for score in self.items],
        }


def summarise(scores: Iterable[ItemScore]) -> list[GroupStats]:
    """Per kind: the ``all`` group first, then one group per language (alphabetical)."""
    scores = list(scores)
    groups = []
    for kind in KINDS:
        of_kind = [score for score in scores if score.kind == kind]
        if not of_kind:
            continue
        groups.append(GroupStats.of(kind, ALL_LANGS, of_kind))
        for lang in sorted({score.lang for score in of_kind}):
            groups.append(GroupStats.of(kind, lang, [s for s in of_kind if s.lang == lang]))
    return groups


def run_eval(set_dir: Path, recognise: Recogniser, *, prefetch: Prefetch | None = None) -> EvalReport:
    """Recognise every item of the set and score it.

    ``recognise(path)`` returns the engine's text for the file in reading order (lines joined by
    "\\n"). A file the engine refuses (``InputError``) is scored as an empty prediction with the
    error recorded, so one bad item shows up in the report instead of hiding all the others.
    """
    items = load_eval_set(Path(set_dir))
    read_seconds = prefetch([item.image for item in items]) if prefetch is not None else {}
    scores = []
    recognise_seconds = 0.0
    for item in items:
        started = time.perf_counter()
        error = None
        try:
            predicted = recognise(item.image)
        except InputError as exc:
            predicted, error = "", str(exc)
        seconds = read_seconds.get(item.image, time.perf_counter() - started)
        recognise_seconds += seconds
        score = score_item(item, predicted)
        score.error, score.seconds = error, seconds
        scores.append(score)
    return EvalReport(set_dir=Path(set_dir), items=scores, recognise_seconds=recognise_seconds)


def _ratio(numerator: float, denominator: float) -> float | None:
    return numerator / denominator if denominator else None


def _round(value: float | None, digits: int = 4) -> float | None:
    return None if value is None else round(value, digits)
