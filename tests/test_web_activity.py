"""The status page's "last hour": counted from the daemon's ever-growing jobs counter."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter

from ocrd.web.activity import RecentActivity, counter_totals


def test_last_hour_counts_only_what_finished_within_the_hour() -> None:
    jobs = Counter("ocrd_jobs", "files finished", ["inbox", "outcome"], registry=CollectorRegistry())
    now = [0.0]
    jobs.labels("scans", "ok").inc(5)  # before the web app started: not "the last hour" once an hour has passed
    activity = RecentActivity(lambda: counter_totals(jobs), window=3600, every=30, clock=lambda: now[0])
    assert activity.last_hour() == {"scans": {"ok": 0}}

    for minute in range(1, 121):  # two hours: 2 files per minute in scans, one failure every 10 minutes
        now[0] = minute * 60.0
        jobs.labels("scans", "ok").inc(2)
        if minute % 10 == 0:
            jobs.labels("upload", "failed").inc()
        if activity.due():
            activity.sample()
    counts = activity.last_hour()
    assert counts["scans"]["ok"] == 120  # 60 minutes x 2, to the sampling interval
    assert counts["upload"]["failed"] == 6
    assert len(activity.samples) <= 3600 / 30 + 2  # memory stays bounded however long it runs
