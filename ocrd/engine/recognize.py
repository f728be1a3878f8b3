"""Text-line recognition: CRNN-family CTC models, batched by aspect ratio.

Everything the recognizer needs to know comes from the files: the input height and
channel count from the ONNX input shape, the number of classes from its output
shape, the characters from the dictionary. The class layout is PaddleOCR's: class 0
is the CTC blank, then the dictionary in order, then optionally a space.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from ocrd.engine.models import read_dictionary
from ocrd.engine.session import open_session
from ocrd.errors import ModelError

DEFAULT_HEIGHT = 48


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


def ctc_greedy_decode(probs: np.ndarray, charset: Sequence[str], mask: np.ndarray | None) -> Recognized:
    """Best path: argmax per time step, merge repeats, drop blanks.

    ``mask`` (bool per class) restricts the output to allowed characters by zeroing the
    others before the argmax, so a field like an invoice number can only contain digits;
    the blank is always allowed.
    """
    if mask is not None:
        probs = np.where(mask[None, :], probs, 0.0)
    best = probs.argmax(axis=1)
    best_prob = probs[np.arange(len(best)), best]
    keep = best != 0
    keep[1:] &= best[1:] != best[:-1]
    indices = best[keep]
    if len(indices) == 0:
        return Recognized("", 0.0)
    text = "".join(charset[i] for i in indices)
    return Recognized(text, float(best_prob[keep].mean()))


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

    def class_mask(self, allowed: str | None) -> np.ndarray | None:
        if allowed is None:
            return None
        allowed_set = set(allowed)
        mask = np.array([i == 0 or ch in allowed_set for i, ch in enumerate(self.charset)], dtype=bool)
        if mask.sum() == 1:
            raise ModelError(f"none of the allowed characters {allowed!r} is in the recognizer's dictionary")
        return mask

    def _target_width(self, crop: np.ndarray) -> int:
        if self.fixed_width:
            return self.fixed_width
        h, w = crop.shape[:2]
        return max(self.height // 2, min(math.ceil(self.height * w / max(h, 1)), self.height * 80))

    def _to_tensor(self, crop: np.ndarray, width: int, padded_width: int) -> np.ndarray:
        resized = cv2.resize(crop, (width, self.height), interpolation=cv2.INTER_LINEAR)
        if self.channels == 1:
            resized = cv2.cvtColor(resized, cv2.COLOR_BGR2GRAY)[:, :, None]
        tensor = np.zeros((self.channels, self.height, padded_width), dtype=np.float32)
        tensor[:, :, :width] = (resized.astype(np.float32).transpose(2, 0, 1) / 127.5) - 1.0
        return tensor

    def _batches(self, widths: list[int]) -> list[list[int]]:
        """Group crops of similar width (indices sorted by width) so padding wastes little work."""
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

    def recognize(self, crops: Sequence[np.ndarray], mask: np.ndarray | None = None) -> list[Recognized]:
        results: list[Recognized] = [Recognized("", 0.0)] * len(crops)
        widths = [self._target_width(crop) for crop in crops]
        for batch in self._batches(widths):
            padded_width = max(widths[i] for i in batch)
            tensor = np.stack([self._to_tensor(crops[i], widths[i], padded_width) for i in batch])
            probs = self.session.run(None, {self.input_name: tensor})[0]
            for row, index in enumerate(batch):
                results[index] = ctc_greedy_decode(probs[row], self.charset, mask)
        return results
