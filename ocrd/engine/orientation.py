"""Text-line orientation: is a crop upside down? (PP-LCNet 0/180 degree classifier)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np

from ocrd.engine.session import open_session

_DEFAULT_SHAPE = (3, 48, 192)


class OrientationClassifier:
    def __init__(self, model_path: Path, threads: int, *, threshold: float = 0.9) -> None:
        self.session = open_session(model_path, threads)
        model_input = self.session.get_inputs()[0]
        self.input_name = model_input.name
        dims = [d if isinstance(d, int) and d > 0 else None for d in model_input.shape[1:]]
        self.channels, self.height, self.width = (d or default for d, default in zip(dims, _DEFAULT_SHAPE, strict=True))
        self.threshold = threshold

    def _to_tensor(self, crop: np.ndarray) -> np.ndarray:
        h, w = crop.shape[:2]
        width = min(self.width, max(1, int(np.ceil(self.height * w / max(h, 1)))))
        resized = cv2.resize(crop, (width, self.height), interpolation=cv2.INTER_LINEAR)
        tensor = np.zeros((self.channels, self.height, self.width), dtype=np.float32)
        tensor[:, :, :width] = resized.astype(np.float32).transpose(2, 0, 1) / 127.5 - 1.0
        return tensor

    def upside_down(self, crops: Sequence[np.ndarray], batch_size: int = 16) -> list[bool]:
        flags: list[bool] = []
        for start in range(0, len(crops), batch_size):
            tensor = np.stack([self._to_tensor(c) for c in crops[start : start + batch_size]])
            probs = self.session.run(None, {self.input_name: tensor})[0]
            flags.extend(bool(p[1] > self.threshold and p[1] > p[0]) for p in probs)
        return flags
