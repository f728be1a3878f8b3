"""Metrics: one registry per daemon, nothing defined at import time, the agreed names."""

from __future__ import annotations

import importlib

from prometheus_client import REGISTRY, generate_latest

import ocrd.daemon.metrics
from ocrd.daemon.metrics import DaemonMetrics


def test_nothing_is_registered_globally_at_import() -> None:
    before = set(REGISTRY._names_to_collectors)
    importlib.reload(ocrd.daemon.metrics)
    assert set(REGISTRY._names_to_collectors) == before
    assert not any(name.startswith("ocrd_") for name in REGISTRY._names_to_collectors)


def test_each_instance_has_its_own_registry_with_the_agreed_names() -> None:
    first, second = DaemonMetrics(), DaemonMetrics()
    first.record_job("invoices", "ok", 2.5, {"detect": 800.0, "recognize": 1200.0, "total": 2100.0}, 3, 1_700_000_000)
    first.queue_depth.labels("invoices").set(7)
    first.workers_busy.set(2)
    value = first.registry.get_sample_value
    assert value("ocrd_jobs_total", {"inbox": "invoices", "outcome": "ok"}) == 1
    assert value("ocrd_pages_total", {"inbox": "invoices"}) == 3
    assert value("ocrd_job_duration_seconds_count", {"inbox": "invoices"}) == 1
    assert value("ocrd_stage_duration_seconds_sum", {"stage": "detect"}) == 0.8
    assert value("ocrd_stage_duration_seconds_count", {"stage": "total"}) is None, "the total is not a stage"
    assert value("ocrd_last_success_timestamp_seconds", {"inbox": "invoices"}) == 1_700_000_000
    assert value("ocrd_queue_depth", {"inbox": "invoices"}) == 7 and value("ocrd_workers_busy") == 2
    assert second.registry.get_sample_value("ocrd_jobs_total", {"inbox": "invoices", "outcome": "ok"}) is None
    text = generate_latest(first.registry).decode()
    for name in ("ocrd_build_info", "ocrd_worker_restarts_total", "ocrd_retries_total", "ocrd_inbox_available"):
        assert f"# TYPE {name.removesuffix('_total')}" in text


def test_a_failure_does_not_move_the_last_success_time() -> None:
    metrics = DaemonMetrics()
    metrics.record_job("scans", "failed", 0.1, {}, 0, 1_700_000_000)
    assert metrics.registry.get_sample_value("ocrd_last_success_timestamp_seconds", {"inbox": "scans"}) is None
    assert metrics.registry.get_sample_value("ocrd_jobs_total", {"inbox": "scans", "outcome": "failed"}) == 1
