"""Overlapping spans: how lines too wide for one network input are cut into pieces."""

from __future__ import annotations

import itertools

import pytest

from ocrd.engine.spans import overlapping_spans


@pytest.mark.parametrize("length", [*range(1100, 1300, 7), 1921, 2127, 2400, 3840, 5000, 9999, 28_801])
@pytest.mark.parametrize(("longest", "overlap", "step"), [(1152, 144, 48), (1920, 144, 48)])
def test_spans_cover_the_length_overlap_and_stay_within_the_longest(
    length: int, longest: int, overlap: int, step: int
) -> None:
    spans = overlapping_spans(length, longest, overlap, step)
    assert spans[0][0] == 0 and spans[-1][1] == length  # exactly the input: no invented pixels
    if length <= longest:
        assert spans == [(0, length)]
        return
    for (start, end), (next_start, _) in itertools.pairwise(spans):
        assert end - next_start >= overlap  # every seam has context on both sides
        assert next_start > start
    assert all(start % step == 0 for start, _ in spans[:-1])  # on the network's grid
    assert len({end - start for start, end in spans}) == 1  # one size: the arena reuses its blocks
    assert spans[0][1] <= longest and spans[0][1] % step == 0
