"""OcrPipeline: one page image in, lines of text in reading order out.

    pad → detect → (turn a sideways page) → crop → recognize → fix orientation (of lines, of an upside-down page)
      → decide line-vs-page → reading order → boxes back onto the page as it arrived

The engine knows nothing about folders, HTTP or metrics. One instance holds the
loaded models and is reused for every page a process reads.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import cv2
import numpy as np

from ocrd import __version__
from ocrd.checksums import sha256_of
from ocrd.config import PREPROCESS_STEPS, EngineSettings, FieldsSettings
from ocrd.engine.charsets import allowed_characters
from ocrd.engine.codes import read_codes
from ocrd.engine.crop import crop_quad
from ocrd.engine.detect import DetectedBox, DetectionSettings, Detector, line_pitch
from ocrd.engine.engine_pack import load_engine_pack
from ocrd.engine.layout import OrderedLine, TextBox, order_lines
from ocrd.engine.orientation import OrientationClassifier
from ocrd.engine.page_orientation import from_turned, sideways_turn, turn_image, upside_down
from ocrd.engine.preprocess import apply_steps
from ocrd.engine.recognize import Recognized, Recognizer
from ocrd.errors import UsageError
from ocrd.fields.extract import extract_fields
from ocrd.result import Code, Document, Line, LinePart, Page

if TYPE_CHECKING:
    from ocrd.documents import PageImage

log = logging.getLogger(__name__)

# Lines the recognizer is less sure of than this are noise (texture, stamps, photos).
MIN_LINE_CONFIDENCE = 0.5
# Text taller than this (network-input pixels) is re-detected at a smaller scale ...
LARGE_TEXT_HEIGHT = 72
# ... chosen so that text ends up about this tall.
COMFORTABLE_TEXT_HEIGHT = 32
# Text shorter than this at the network's scale is detected again at a finer scale ...
SMALL_TEXT_HEIGHT = 8
# ... so that it becomes about this tall (5-pt print on an A4 scan: 7 px at 960, read at 12).
FINE_TEXT_HEIGHT = 12
# ... but never with a network input larger than this (memory and time stay bounded).
MAX_DETECTION_SIDE = 2560
# Lines closer together than this (centre to centre, network pixels) also get the finer look,
# so that they end up this far apart. Box heights depend on the detector: PP-OCRv6 draws the
# same 5-pt line 10 px tall where PP-OCRv5 draws it 7, and at 960 px it merged 4 of 24 such
# lines 9 px apart into their neighbours; the distance between lines is the page's own.
SMALL_LINE_PITCH = 10
FINE_LINE_PITCH = 16
# Text-layer pages rendered to look for QR codes, per document (see OcrPipeline._page_codes).
MAX_TEXT_PAGES_RENDERED_FOR_CODES = 2
MAX_CACHED_MASKS = 32  # per-call languages and allow-lists remembered (API callers may send many)
INVOICE_WORD = "发票"  # printed in every title the fields stage reads (增值税…发票, 电子发票)


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


def check_steps(steps: Sequence[str]) -> tuple[str, ...]:
    """The preprocessing steps, or UsageError naming the unknown ones."""
    unknown = [step for step in steps if step not in PREPROCESS_STEPS]
    if unknown:
        raise UsageError(
            f"unknown preprocessing step(s) {', '.join(unknown)}; choose from {', '.join(PREPROCESS_STEPS)}"
        )
    return tuple(steps)


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
        """Detect at the configured size; pages of small print get a second, finer look.

        Most pages read as well at a 960-pixel network input as at twice that (measured on the
        eval sets, see README) for a quarter of the cost. Small print is the exception: when the
        median line is under SMALL_TEXT_HEIGHT pixels at the network's scale, detection runs again
        at the scale that makes it FINE_TEXT_HEIGHT, up to the page's own resolution.
        """
        boxes = self.detector.detect(padded, max_side)
        clock.lap("detect")
        if max_side is not None or not boxes:
            return boxes
        long_side = max(padded.shape[:2])
        scale = min(1.0, self.detector.settings.max_side / long_side)
        median = max(float(np.median([np.ptp(b.quad[:, 1]) for b in boxes])) * scale, 1.0)
        pitch = line_pitch(boxes) * scale
        if (median >= SMALL_TEXT_HEIGHT and pitch >= SMALL_LINE_PITCH) or scale >= 1.0:
            return boxes
        enlarge = max(FINE_TEXT_HEIGHT / median, FINE_LINE_PITCH / pitch if pitch < SMALL_LINE_PITCH else 0.0)
        finer = min(long_side, MAX_DETECTION_SIDE, int(long_side * scale * enlarge))
        if finer <= self.detector.settings.max_side * 1.2:
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
        """A network input size that brings over-large text back to the size the detector knows.

        The detector was trained on text a few dozen pixels high; letters hundreds of pixels
        tall (a poster, a sign, a zoomed screenshot) fall apart into strokes. When detection
        finds nothing or only huge boxes, one more try at a smaller scale settles it.
        """
        long_side = max(padded.shape[:2])
        scale = min(1.0, self.detector.settings.max_side / long_side)
        if found:
            heights = [float(np.ptp(b.quad[:, 1])) * scale for b in found]
            median = float(np.median(heights))
            if median <= LARGE_TEXT_HEIGHT:
                return None
            target = int(long_side * scale * COMFORTABLE_TEXT_HEIGHT / median)
        else:
            target = int(long_side * scale / 2)
        return target if target >= 128 else None

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

    def _page_codes(self, page_image: PageImage, lines: list[Line], rendered_for_codes: int) -> list[Code]:
        """QR codes on the page, when the fields stage wants them.

        Only invoices' codes are used, and a page that is one says so (发票), so only such pages
        get the decoder's retries, and a text-layer page is rendered for its code only then, for
        the first few of a document: a 500-page text PDF must not cost 500 renders. Other OCR'd
        pages get one decoder call: their pixels are there anyway.
        """
        invoice_like = any(INVOICE_WORD in line.text for line in lines)
        image = page_image.image
        if image is None:
            if not invoice_like or page_image.render is None:
                return []
            if rendered_for_codes >= MAX_TEXT_PAGES_RENDERED_FOR_CODES:
                return []
            try:
                image = page_image.render()
            except Exception:  # the text layer was good; a page that fails to render loses only its code
                log.debug("page %d could not be rendered to look for codes", page_image.index + 1, exc_info=True)
                return []
        return [Code(code.text, code.box, code.symbology) for code in read_codes(image, retries=invoice_like)]

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
        """Read every page, then extract fields. ``fields``, ``lang`` and ``preprocess`` (else the
        pipeline's own settings) change per call: an inbox's rules, language or preprocessing need
        no second copy of the models."""
        if lang is not None:
            self.mask_for(lang, None)  # an unknown language or step is refused before any page is read
        if preprocess is not None:
            check_steps(preprocess)
        document = Document(source=source, sha256=sha256, engine=self.engine_info)
        totals: dict[str, float] = {}
        fields = fields or self.settings.fields
        want_codes = fields.mode != "off" and fields.qr
        rendered_for_codes = 0
        clock = time.perf_counter()
        for page_image in pages:
            totals["load"] = totals.get("load", 0.0) + (time.perf_counter() - clock) * 1000
            if page_image.text_lines is not None:
                page = Page(
                    page_image.index,
                    page_image.width,
                    page_image.height,
                    "text-layer",
                    page_image.text_lines,
                    dpi=page_image.dpi,
                )
            else:
                assert page_image.image is not None
                reading = self.read_image(page_image.image, lang=lang, preprocess=preprocess)
                for stage, ms in reading.timings_ms.items():
                    totals[stage] = totals.get(stage, 0.0) + ms
                page = Page(
                    page_image.index,
                    page_image.width,
                    page_image.height,
                    "ocr",
                    reading.lines,
                    rotation=reading.rotation,
                    dpi=page_image.dpi,
                )
            if want_codes:
                started = time.perf_counter()
                page.codes = self._page_codes(page_image, page.lines, rendered_for_codes)
                rendered_for_codes += page_image.image is None and page_image.render is not None
                totals["codes"] = totals.get("codes", 0.0) + (time.perf_counter() - started) * 1000
            document.pages.append(page)
            clock = time.perf_counter()
        started = time.perf_counter()
        document.fields = extract_fields(document, fields)
        if document.fields is not None:
            totals["fields"] = (time.perf_counter() - started) * 1000
        totals["total"] = sum(totals.values())
        document.timings_ms = totals
        return document

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
