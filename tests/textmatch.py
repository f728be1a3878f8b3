"""Comparing recognised text with what a test document shows, tolerant only where OCR may differ."""

from __future__ import annotations

import difflib
import re
import unicodedata


def squash(text: str) -> str:
    """NFKC, no whitespace: "¥1, 234.50" and "￥1,234.50" compare equal."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, squash(a), squash(b)).ratio()


def best_match(expected: str, candidates: list[str]) -> float:
    return max((similarity(expected, c) for c in candidates), default=0.0)


def assert_lines_read(expected: list[str], recognised: list[str], min_similarity: float = 0.85) -> None:
    poor = [(line, best_match(line, recognised)) for line in expected]
    poor = [(line, round(score, 2)) for line, score in poor if score < min_similarity]
    assert not poor, f"lines not read well enough: {poor}\nrecognised: {recognised}"
