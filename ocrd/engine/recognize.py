"""Text-line recognition: CRNN-family CTC models, batched by aspect ratio.

Everything the recognizer needs to know comes from the files: the input height and
channel count from the ONNX input shape, the number of classes from its output
shape, the characters from the dictionary. The class layout is PaddleOCR's: class 0
is the CTC blank, then the dictionary in order, then optionally a space.

Long lines are read in overlapping pieces (ocrd.engine.spans) whose per-frame
labels are joined where both pieces see a gap between characters, then decoded as
one line: a worker's memory stays bounded by the piece width, not by the widest
line of a page.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import onnxruntime as ort

from ocrd.engine.models import read_dictionary
from ocrd.engine.session import open_session
from ocrd.engine.spans import overlapping_spans
from ocrd.errors import ModelError

DEFAULT_HEIGHT = 48
# Network-input width of one piece of a long line, in multiples of the input height (1,920 px).
# Measured on PP-OCRv5 mobile at 1 thread: memory grows ~90 MB per 1,000 px of input width (the
# 18k-class output alone is 9 KB per pixel) and time per pixel is lowest at 1,024-1,536 px (85 ms
# per 1,000 px, 114 at 3,840). Pieces of 1,152 px were tried: English lost spaces between words
# (the model sets a borderline space better with the whole line in view; en CER 0.007 -> 0.012 on
# dev_pdf). At 1,920 px nearly every line of an A4 page is read whole, both eval sets give the
# same text as reading every line whole, and a worker's peak on the heaviest pages fell from 453
# to ~370 MB.
MAX_PIECE_HEIGHTS = 40
# Context each of two neighbouring pieces sees beyond their joint, in input heights: a
# character cut by a piece's edge is read whole by the other piece.
OVERLAP_HEIGHTS = 3
# Longest line read at all (in input heights, ~600 CJK characters): anything longer is squeezed.
MAX_LINE_HEIGHTS = 600


def lanes_for(threads: int) -> int:
    """Lines read at once: the thread count, or every core this process may use for 0."""
    return threads if threads > 0 else len(os.sched_getaffinity(0))


@dataclass
class Recognized:
    text: str
    confidence: float


def _static_dim(value: object) -> int | None:
    return value if isinstance(value, int) and value > 0 else None


def build_charset(dictionary: list[str], num_classes: int | None, model: Path) -> list[str]:
    """Class index -> character ("" for the blank)."""
    if num_classes is None or num_classes == len(dictionary) + 1:
        return ["", *dictionary]
    if num_classes == len(dictionary) + 2:
        return ["", *dictionary, " "]
    raise ModelError(
        f"recognizer {model} has {num_classes} output classes but its dictionary has {len(dictionary)} "
        f"characters; expected {len(dictionary) + 1} (blank + dictionary) or {len(dictionary) + 2} "
        "(blank + dictionary + space): the dictionary does not belong to this model"
    )


def frame_labels(probs: np.ndarray, mask: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """Best class and its probability per time step.

    ``mask`` (bool per class) restricts the output to allowed characters, so a field like an
    invoice number can only contain digits; the blank is always allowed. Only the frames whose
    best class is not allowed are searched again among the allowed ones: the same labels as an
    argmax over masked scores, without copying the (frames x 18,710) scores of every line.
    """
    best = probs.argmax(axis=1)
    if mask is not None:
        refused = ~mask[best]
        if refused.any():
            best[refused] = np.where(mask[None, :], probs[refused], -np.inf).argmax(axis=1)
    return best, probs[np.arange(len(best)), best]


def collapse(best: np.ndarray, best_prob: np.ndarray, charset: Sequence[str]) -> Recognized:
    """CTC best path: merge repeats, drop blanks; confidence = mean probability of the kept steps."""
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    indices = best[keep]
    if len(indices) == 0:
        return Recognized("", 0.0)
    text = "".join(charset[i] for i in indices)
    return Recognized(text, float(best_prob[keep].mean()))


def joint_frame(blank_left: np.ndarray, blank_right: np.ndarray) -> int:
    """Where to pass from the left piece's labels to the right one's, within their shared frames.

    Both arrays hold the blank probability of the shared frames as each piece read them. The
    joint goes where both pieces are surest there is no character (on the frame and the one
    before it), preferring the middle, where each piece has the most context.
    """
    frames = len(blank_left)
    both = np.minimum(blank_left, blank_right)
    around = np.minimum(both, np.concatenate([both[:1], both[:-1]]))
    centre = (frames - 1) / 2
    preference = around - 0.02 * np.abs(np.arange(frames) - centre) / max(centre, 1)
    return int(preference.argmax())


# Per time step of one piece: best class, its probability, the blank's probability.
_Labels = tuple[np.ndarray, np.ndarray, np.ndarray]


@dataclass
class _Piece:
    line: int
    start: int  # in network-input pixels of the whole line
    tensor: np.ndarray


class Recognizer:
    def __init__(
        self,
        model_path: Path,
        dictionary_path: Path,
        threads: int,
        *,
        batch_size: int = 1,
        max_padding_waste: float = 0.25,
    ) -> None:
        self.session = open_session(model_path, threads)
        # A page's lines are many small inputs, on which onnxruntime's threads scale poorly (1.56x on
        # 2 cores): with several threads, lines are read in parallel "lanes" (dev_pdf at 2 threads:
        # 12 % less time, same text). A lone input keeps all threads.
        # The lanes run on this same session (onnxruntime's Run is thread-safe), not on a second,
        # single-threaded one: a second session held a second copy of the recognizer's weights,
        # +23 MB with PP-OCRv5 mobile, +27-33 MB with PP-OCRv6 small, and put a 2-thread worker on
        # v6 small over 400 MB (2-core AMD EPYC Zen 3, dev_pdf pages: ru_maxrss 416-421 MB with two
        # sessions, 387-395 MB with one). Cost: recognition 3-7 % slower in the same pairs of runs
        # (the lanes share one intra-op pool), about 2 % of a page.
        self.lanes = lanes_for(threads)
        self._lane_session = self.session
        self._executor: ThreadPoolExecutor | None = None
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        shape = model_input.shape
        if len(shape) != 4:
            raise ModelError(f"recognizer {model_path} expects a {len(shape)}-d input; a CRNN/CTC model takes NCHW")
        self.channels = _static_dim(shape[1]) or 3
        self.height = _static_dim(shape[2]) or DEFAULT_HEIGHT
        self.fixed_width = _static_dim(shape[3])
        num_classes = _static_dim(self.session.get_outputs()[0].shape[-1])
        self.charset = build_charset(read_dictionary(dictionary_path), num_classes, model_path)
        self.batch_size = max(1, batch_size)
        self.max_padding_waste = max_padding_waste
        self.max_piece = self.height * MAX_PIECE_HEIGHTS
        self.overlap = self.height * OVERLAP_HEIGHTS

    def class_mask(self, allowed: str | None) -> np.ndarray | None:
        if allowed is None:
            return None
        allowed_set = set(allowed)
        mask = np.array([i == 0 or ch in allowed_set for i, ch in enumerate(self.charset)], dtype=bool)
        if mask.sum() == 1:
            raise ModelError(f"none of the allowed characters {allowed!r} is in the recognizer's dictionary")
        return mask

    def target_width(self, crop: np.ndarray) -> int:
        """Network-input width of a line: its aspect ratio at the model's input height."""
        if self.fixed_width:
            return self.fixed_width
        h, w = crop.shape[:2]
        return max(self.height // 2, min(math.ceil(self.height * w / max(h, 1)), self.height * MAX_LINE_HEIGHTS))

    def input_tensor(self, crop: np.ndarray) -> np.ndarray:
        """The whole line as the network sees it: C x H x target width, scaled to [-1, 1]."""
        resized = cv2.resize(crop, (self.target_width(crop), self.height), interpolation=cv2.INTER_LINEAR)
        if self.channels == 1:
            resized = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY)[:, :, None]
        return (resized.astype(np.float32).transpose(2, 0, 1) / 127.5) - 1.0

    def network_inputs(self, crop: np.ndarray) -> list[tuple[int, np.ndarray]]:
        """The line as the network reads it: (start, C x H x w tensor) of each overlapping piece."""
        tensor = self.input_tensor(crop)
        if self.fixed_width:
            return [(0, tensor)]
        # Boundaries on a grid of the input height: a multiple of any CRNN's width stride.
        spans = overlapping_spans(tensor.shape[2], self.max_piece, self.overlap, self.height)
        return [(start, tensor[:, :, start:end]) for start, end in spans]

    def _pieces(self, line: int, crop: np.ndarray) -> list[_Piece]:
        return [_Piece(line, start, tensor) for start, tensor in self.network_inputs(crop)]

    def _batches(self, widths: list[int]) -> list[list[int]]:
        """Group inputs of similar width (indices sorted by width) so padding wastes little work."""
        order = sorted(range(len(widths)), key=lambda i: widths[i])
        batches: list[list[int]] = []
        current: list[int] = []
        for index in order:
            candidate = [*current, index]
            padded = widths[index] * len(candidate)
            useful = sum(widths[i] for i in candidate)
            if current and (len(candidate) > self.batch_size or padded > useful * (1 + self.max_padding_waste)):
                batches.append(current)
                candidate = [index]
            current = candidate
        if current:
            batches.append(current)
        return batches

    def _join(self, pieces: list[_Piece], labels: list[_Labels]) -> Recognized:
        """One line's pieces, left to right, as one sequence of frame labels, then decoded."""
        best_parts: list[np.ndarray] = []
        prob_parts: list[np.ndarray] = []
        taken_from = 0  # frame of the current piece where its labels start being used
        for k, (piece, (best, best_prob, blank)) in enumerate(zip(pieces, labels, strict=True)):
            if k + 1 == len(pieces):
                best_parts.append(best[taken_from:])
                prob_parts.append(best_prob[taken_from:])
                break
            following = pieces[k + 1]
            px_per_frame = piece.tensor.shape[2] / len(best)
            shared_from = round((following.start - piece.start) / px_per_frame)
            next_blank = labels[k + 1][2]
            shared = min(len(best) - shared_from, len(next_blank))
            joint = shared_from + joint_frame(blank[shared_from : shared_from + shared], next_blank[:shared])
            best_parts.append(best[taken_from:joint])
            prob_parts.append(best_prob[taken_from:joint])
            taken_from = joint - shared_from
        return collapse(np.concatenate(best_parts), np.concatenate(prob_parts), self.charset)

    def _read_batch(
        self, batch: list[int], pieces: list[_Piece], mask: np.ndarray | None, session: ort.InferenceSession
    ) -> list[_Labels]:
        widths = [pieces[i].tensor.shape[2] for i in batch]
        padded_width = max(widths)
        tensor = np.zeros((len(batch), self.channels, self.height, padded_width), dtype=np.float32)
        for row, index in enumerate(batch):
            tensor[row, :, :, : widths[row]] = pieces[index].tensor
        probs = session.run(None, {self.input_name: tensor})[0]
        labels = []
        for row, width in enumerate(widths):
            # Frames of the padding are dropped: they would read as blanks past the line's end.
            piece_probs = probs[row, : math.ceil(probs.shape[1] * width / padded_width)]
            labels.append((*frame_labels(piece_probs, mask), piece_probs[:, 0].copy()))
        # Only the labels leave: the class scores (9 KB per pixel of width) are freed here.
        return labels

    def recognize(self, crops: Sequence[np.ndarray], mask: np.ndarray | None = None) -> list[Recognized]:
        pieces = [piece for line, crop in enumerate(crops) for piece in self._pieces(line, crop)]
        batches = self._batches([piece.tensor.shape[2] for piece in pieces])
        if self.lanes > 1 and len(batches) > 1:
            # Widest first, so the last inputs to finish are short ones and the lanes end together.
            batches.sort(key=lambda batch: -pieces[batch[-1]].tensor.shape[2])
            lane = self._lane_session
            read = list(self._pool().map(lambda batch: self._read_batch(batch, pieces, mask, lane), batches))
        else:
            read = [self._read_batch(batch, pieces, mask, self.session) for batch in batches]
        labels: list[_Labels] = [None] * len(pieces)  # type: ignore[list-item]
        for batch, batch_labels in zip(batches, read, strict=True):
            for index, piece_labels in zip(batch, batch_labels, strict=True):
                labels[index] = piece_labels
        by_line: dict[int, list[int]] = {}
        for index, piece in enumerate(pieces):
            by_line.setdefault(piece.line, []).append(index)
        results = [Recognized("", 0.0)] * len(crops)
        for line, indices in by_line.items():
            results[line] = self._join([pieces[i] for i in indices], [labels[i] for i in indices])
        return results

    def _pool(self) -> ThreadPoolExecutor:
        if self._executor is None:
            self._executor = ThreadPoolExecutor(self.lanes, thread_name_prefix="ocrd-recognize")
        return self._executor
