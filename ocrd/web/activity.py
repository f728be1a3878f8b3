"""Files finished in the last hour, per inbox and outcome, for the status page.

The daemon's ``ocrd_jobs_total`` counter only grows; sampling it every ``every`` seconds and
subtracting the sample from an hour ago gives the last hour without keeping a record per file
(so a busy day costs the same memory as a quiet one). Accurate to one sampling interval.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable

from prometheus_client import Counter

Totals = dict[tuple[str, str], float]  # (inbox, outcome) -> count since the daemon started


def counter_totals(counter: Counter) -> Totals:
    totals: Totals = {}
    for metric in counter.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                totals[(sample.labels["inbox"], sample.labels["outcome"])] = sample.value
    return totals


class RecentActivity:
    def __init__(
        self,
        read: Callable[[], Totals],
        *,
        window: float = 3600.0,
        every: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.read = read
        self.window = window
        self.every = every
        self.clock = clock
        self.samples: deque[tuple[float, Totals]] = deque()
        self.sample()

    def sample(self) -> None:
        now = self.clock()
        self.samples.append((now, self.read()))
        # Keep one sample older than the window: it is the baseline.
        while len(self.samples) > 2 and self.samples[1][0] <= now - self.window:
            self.samples.popleft()

    def due(self) -> bool:
        return self.clock() - self.samples[-1][0] >= self.every

    def last_hour(self) -> dict[str, dict[str, int]]:
        now = self.clock()
        baseline = self.samples[0][1]
        for when, totals in self.samples:
            if when <= now - self.window:
                baseline = totals
        result: dict[str, dict[str, int]] = {}
        for (inbox, outcome), value in self.read().items():
            count = int(value - baseline.get((inbox, outcome), 0.0))
            result.setdefault(inbox, {})[outcome] = max(0, count)
        return result
