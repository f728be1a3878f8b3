"""OcrPipeline: one page image in, lines of text in reading order out.

    pad → detect → (turn a sideways page) → crop → recognize → fix orientation (of lines, of an upside-down page)
      → decide line-vs-page → reading order → boxes back onto the page as it arrived

The engine knows nothing about folders, HTTP or metrics. One instance holds the
loaded models and is reused for every page a process reads.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocrd import __version__
from ocrd.checksums import sha256_of
from ocrd.config import EngineSettings, FieldsSettings
from ocrd.engine.charsets import allowed_characters
from ocrd.engine.crop import crop_quad
from ocrd.engine.detect import DetectedBox, DetectionSettings, Detector
from ocrd.engine.detection_scale import finer_side, smaller_side
from ocrd.engine.engine_pack import load_engine_pack
from ocrd.engine.layout import OrderedLine, TextBox, order_lines
from ocrd.engine.orientation import OrientationClassifier
from ocrd.engine.page_orientation import from_turned, sideways_turn, turn_image, upside_down
from ocrd.engine.preprocess import apply_steps, check_steps
from ocrd.engine.read_document import read_pages
from ocrd.engine.recognize import Recognized, Recognizer
from ocrd.result import Document, Line, LinePart

if TYPE_CHECKING:
    from ocrd.documents import PageImage

# Lines the recognizer is less sure of than this are noise (texture, stamps, photos).
MIN_LINE_CONFIDENCE = 0.5
MAX_CACHED_MASKS = 32  # per-call languages and allow-lists remembered (API callers may send many)


@dataclass
class PageReading:
    lines: list[Line]
    timings_ms: dict[str, float]
    rotation: int = 0  # clockwise degrees the page was turned to be read (ocrd.engine.page_orientation)


def _line_parts(line: OrderedLine) -> list[LinePart]:
    """The pieces a line was joined from (table cells, words far apart), when there are several."""
    if len(line.parts) < 2:
        return []
    return [LinePart(part.text, part.confidence, part.quad.tolist()) for part in line.parts]


class _Stopwatch:
    def __init__(self) -> None:
        self.timings: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.timings[stage] = self.timings.get(stage, 0.0) + (now - self._last) * 1000
        self._last = now


def _border_color(image: np.ndarray) -> tuple[int, int, int]:
    edges = np.concatenate([image[0], image[-1], image[:, 0], image[:, -1]])
    return tuple(int(v) for v in np.median(edges, axis=0))  # type: ignore[return-value]


def pad_for_detection(image: np.ndarray) -> tuple[np.ndarray, int]:
    """Add a border in the image's own background colour.

    The detector was trained on text surrounded by background; text touching the frame
    (a cropped word, a plate, a single line) is often missed without this margin.
    """
    pad = int(min(64, max(8, min(image.shape[:2]) // 4)))
    padded = cv2.copyMakeBorder(image, pad, pad, pad, pad, cv2.BORDER_CONSTANT, value=_border_color(image))
    return padded, pad


def _score(reading: Recognized) -> float:
    """Confidently read characters: the measure used to choose between two readings."""
    return reading.confidence * len(reading.text.strip())


def _total_score(boxes: list[TextBox]) -> float:
    return sum(b.confidence * len(b.text.strip()) for b in boxes)


def _mean_confidence(items: list[Recognized]) -> float:
    chars = sum(len(r.text) for r in items)
    return sum(r.confidence * len(r.text) for r in items) / chars if chars else 0.0


class OcrPipeline:
    def __init__(self, settings: EngineSettings | None = None, detection: DetectionSettings | None = None) -> None:
        self.settings = settings or EngineSettings()
        check_steps(self.settings.preprocess)
        started = time.perf_counter()
        self.pack = load_engine_pack(self.settings.model_dir or self.settings.pack, self.settings.precision)
        threads = self.settings.threads
        self.detector = Detector(self.pack.det, threads, detection)
        self.recognizer = Recognizer(self.pack.rec, self.pack.dictionary, threads)
        self.orientation = (
            OrientationClassifier(self.pack.cls, threads)
            if self.pack.cls is not None and self.settings.use_orientation
            else None
        )
        # Pages turned a quarter or half are read upright; the line classifier is one of the signals.
        self.orient_pages = self.orientation is not None
        self.default_mask = self.recognizer.class_mask(
            allowed_characters(self.settings.lang, self.settings.allowlist, self.recognizer.charset)
        )
        self._masks: dict[tuple[str | None, str | None], np.ndarray | None] = {}
        self.load_seconds = time.perf_counter() - started

    @property
    def engine_info(self) -> dict[str, str]:
        return {
            "name": "ocrd",
            "version": __version__,
            "models": self.pack.name,
            "precision": self.pack.precision or "",
        }

    def mask_for(self, lang: str | None, allowlist: str | None) -> np.ndarray | None:
        if lang is None and allowlist is None:
            return self.default_mask
        key = (lang, allowlist)
        if key not in self._masks:
            # Built over the whole dictionary (18,000+ classes): once per language and allow-list,
            # not for every page of every file an inbox with its own language sends.
            if len(self._masks) >= MAX_CACHED_MASKS:
                self._masks.clear()
            mask = self.recognizer.class_mask(
                allowed_characters(
                    lang or self.settings.lang, allowlist or self.settings.allowlist, self.recognizer.charset
                )
            )
            if mask is not None:
                mask.flags.writeable = False  # shared by every later call
            self._masks[key] = mask
        return self._masks[key]

    # -- one page ---------------------------------------------------------------------------

    def _recognize_crops(
        self,
        crops: list[np.ndarray],
        mask: np.ndarray | None,
        clock: _Stopwatch,
        flags: list[bool] | None = None,
    ) -> list[Recognized]:
        """Read the crops; ``flags``: the classifier's upside-down votes on them, if cast already."""
        results = self.recognizer.recognize(crops, mask)
        clock.lap("recognize")
        if self.orientation is not None and crops:
            # The classifier sees a line squeezed into a small fixed window and is sometimes
            # wrong on long lines, so it only nominates suspects: a flagged line is read
            # both ways and the reading the recognizer is surer of wins.
            if flags is None:
                flags = self.orientation.upside_down(crops)
                clock.lap("orient")
            suspects = [i for i, flip in enumerate(flags) if flip]
            if suspects:
                turned = [np.ascontiguousarray(crops[i][::-1, ::-1]) for i in suspects]
                for index, second in zip(suspects, self.recognizer.recognize(turned, mask), strict=True):
                    if _score(second) > _score(results[index]):
                        results[index] = second
                clock.lap("recognize")
        return results

    def _detect(self, padded: np.ndarray, clock: _Stopwatch, max_side: int | None = None) -> list[DetectedBox]:
        """Detect at the configured size; pages of small print get a second, finer look
        (ocrd.engine.detection_scale)."""
        boxes = self.detector.detect(padded, max_side)
        clock.lap("detect")
        if max_side is not None:
            return boxes
        finer = finer_side(boxes, max(padded.shape[:2]), self.detector.settings.max_side)
        if finer is None:
            return boxes
        boxes = self.detector.detect(padded, finer)
        clock.lap("detect")
        return boxes

    def _read_boxes(
        self,
        padded: np.ndarray,
        pad: int,
        mask: np.ndarray | None,
        clock: _Stopwatch,
        max_side: int | None = None,
        *,
        boxes: list[DetectedBox] | None = None,
        upside_down_page: list[bool] | None = None,
    ) -> list[TextBox]:
        """Detect (unless ``boxes`` are given) and read; ``upside_down_page`` receives whether
        the page would read better turned 180 (only when it is given), and then a page that
        would comes back unread (no boxes): its reading would only be thrown away."""
        if boxes is None:
            boxes = self._detect(padded, clock, max_side)
        crops = [crop_quad(padded, box.quad) for box in boxes]
        clock.lap("crop")
        flags: list[bool] | None = None
        if upside_down_page is not None and self.orientation is not None and crops:
            # The votes come before the reading, so an upside-down page is read once, turned.
            flags = self.orientation.upside_down(crops)
            clock.lap("orient")
            turned = upside_down(crops, flags, lambda lines: self._lines_score(lines, mask))
            clock.lap("orient page")
            upside_down_page.append(turned)
            if turned:
                return []
        results = self._recognize_crops(crops, mask, clock, flags)
        return [
            TextBox(box.quad - pad, r.text, r.confidence)
            for box, r in zip(boxes, results, strict=True)
            if r.text.strip() and r.confidence >= MIN_LINE_CONFIDENCE
        ]

    def _lines_score(self, crops: list[np.ndarray], mask: np.ndarray | None) -> float:
        return sum(_score(r) for r in self.recognizer.recognize(crops, mask))

    def _read_upright(
        self, work: np.ndarray, mask: np.ndarray | None, clock: _Stopwatch
    ) -> tuple[list[TextBox], np.ndarray, np.ndarray, int, int]:
        """Detect and read ``work`` the way up it reads (see ocrd.engine.page_orientation).

        Returns the boxes in the upright page's pixels, that page padded and not, its padding and
        the clockwise turn applied. An upright page costs only the box-shape test and the votes the
        line classifier cast anyway.
        """
        padded, pad = pad_for_detection(work)
        boxes = self._detect(padded, clock)
        rotation = 0
        if self.orient_pages and self.orientation is not None:
            rotation = sideways_turn(padded, boxes, self.orientation)
            clock.lap("orient page")
            if rotation:
                work = turn_image(work, rotation)
                padded, pad = pad_for_detection(work)
                boxes = self._detect(padded, clock)
        turn: list[bool] | None = [] if self.orient_pages else None
        found = self._read_boxes(padded, pad, mask, clock, boxes=boxes, upside_down_page=turn)
        if turn and turn[0]:
            # Detected again rather than the boxes turned: the detector's resampling grid is not
            # symmetric, and turned boxes merged cardinal.pdf's two columns into one (CER 0.37).
            rotation = (rotation + 180) % 360
            work, padded = turn_image(work, 180), turn_image(padded, 180)
            found = self._read_boxes(padded, pad, mask, clock)
        return found, work, padded, pad, rotation

    def _smaller_scale(self, padded: np.ndarray, found: list[TextBox]) -> int | None:
        heights = [float(np.ptp(b.quad[:, 1])) for b in found]
        return smaller_side(heights, max(padded.shape[:2]), self.detector.settings.max_side)

    def read_image(
        self,
        image: np.ndarray,
        *,
        lang: str | None = None,
        allowlist: str | None = None,
        preprocess: Sequence[str] | None = None,
    ) -> PageReading:
        """One page; ``lang``, ``allowlist`` and ``preprocess`` (steps) replace the settings' for this call."""
        clock = _Stopwatch()
        mask = self.mask_for(lang, allowlist)
        steps = self.settings.preprocess if preprocess is None else check_steps(preprocess)
        work, matrix = apply_steps(image, steps)
        clock.lap("preprocess")

        arrived = work.shape[1], work.shape[0]
        found, work, padded, pad, rotation = self._read_upright(work, mask, clock)
        smaller = self._smaller_scale(padded, found)
        if smaller is not None:
            second = self._read_boxes(padded, pad, mask, clock, max_side=smaller)
            if _total_score(second) > _total_score(found):
                found = second
        whole = self._whole_image_reading(work, found, mask, clock)
        if whole is not None:
            found = [whole]

        # Reading order belongs to the upright page: a turned page is ordered before its boxes go back.
        placed: list[TextBox] | list[OrderedLine] = order_lines(found) if rotation else found
        # A joined line's parts go back with it: their boxes are where each piece of text is.
        boxes = [part for line in placed for part in [line, *getattr(line, "parts", [])] if part is not None]
        if rotation:
            for box in boxes:
                # Corners keep the text's order: on a turned page the first is where the line starts.
                box.quad = from_turned(box.quad, rotation, *arrived)
        if matrix is not None:  # preprocessing moved pixels: map boxes back to the original page
            inverse = cv2.invertAffineTransform(matrix)
            for box in boxes:
                box.quad = cv2.transform(box.quad[None].astype(np.float64), inverse)[0].astype(np.float32)
        ordered = placed if rotation else order_lines(found)
        clock.lap("layout")
        lines = [Line(o.text, o.confidence, o.quad.tolist(), _line_parts(o)) for o in ordered]
        return PageReading(lines, clock.timings, rotation)

    def _whole_image_reading(
        self, image: np.ndarray, found: list[TextBox], mask: np.ndarray | None, clock: _Stopwatch
    ) -> TextBox | None:
        """Read the whole image as one line when that is more plausible than what detection found.

        Text that fills the frame (a word crop, a plate, a single scanned line) is often
        missed or cut into pieces by the detector. If the image has the shape of a text
        line and detection found at most one row of text, recognise the whole image too
        and keep whichever reading the recognizer is more confident of.
        """
        h, w = image.shape[:2]
        if w < h * 1.2 or h > 200:
            return None
        if found:
            centers = sorted((b.quad[:, 1].mean(), np.ptp(b.quad[:, 1])) for b in found)
            one_row = all(abs(c - centers[0][0]) < 0.5 * max(centers[0][1], 1) for c, _ in centers)
            if not one_row:
                return None
        whole = self._recognize_crops([image], mask, clock)[0]
        if not whole.text.strip():
            return None
        detected = [Recognized(b.text, b.confidence) for b in found]
        if found and whole.confidence < _mean_confidence(detected):
            return None
        quad = np.array([[0, 0], [w - 1, 0], [w - 1, h - 1], [0, h - 1]], dtype=np.float32)
        return TextBox(quad, whole.text, whole.confidence)

    # -- documents --------------------------------------------------------------------------

    def run_pages(
        self,
        pages: Iterable[PageImage],
        *,
        source: str = "",
        sha256: str | None = None,
        fields: FieldsSettings | None = None,
        lang: str | None = None,
        preprocess: Sequence[str] | None = None,
    ) -> Document:
        """Every page read, then the fields (ocrd.engine.read_document.read_pages)."""
        return read_pages(self, pages, source=source, sha256=sha256, fields=fields, lang=lang, preprocess=preprocess)

    def run_path(
        self,
        path: str | Path,
        *,
        source: str | None = None,
        fields: FieldsSettings | None = None,
        lang: str | None = None,
        preprocess: Sequence[str] | None = None,
    ) -> Document:
        from ocrd.documents import count_pages, iter_pages

        path = Path(path)
        started = time.perf_counter()
        s = self.settings
        # Cheap header checks first (size, format, pages, password): a 300 MB or 10,000-page
        # file is refused before a single byte of it is hashed or decoded.
        count_pages(path, s.limits)
        digest = sha256_of(path)
        pages = iter_pages(path, limits=s.limits, dpi=s.dpi, force_ocr=s.force_ocr)
        document = self.run_pages(
            pages, source=source or path.name, sha256=digest, fields=fields, lang=lang, preprocess=preprocess
        )
        document.timings_ms["total"] = (time.perf_counter() - started) * 1000
        return document
