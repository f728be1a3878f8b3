"""Prometheus rules and the Grafana dashboard in deploy/: valid, tested, and about metrics ocrd really exports.

promtool (Debian package prometheus) checks the rules and config and runs the rules' unit tests.
Every dashboard query is also fed to promtool as a recording rule, so a PromQL typo fails here
rather than as an empty panel. Metric names are checked against the exposition of the daemon's
and web app's real metric classes here, and against a live `/metrics` scrape of an installed
daemon in test_deploy_ansible.py.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.paths import REPO

PROMETHEUS_DIR = REPO / "deploy" / "prometheus"
DASHBOARD = REPO / "deploy" / "grafana" / "dashboards" / "ocrd.json"
RULES = PROMETHEUS_DIR / "ocrd-alerts.yml"
# Exported by Prometheus itself for every target.
SCRAPE_METRICS = {"up"}
# Grafana variables and the values they stand for when a query is checked as plain PromQL.
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$job": ".*", "$instance": ".*", "$inbox": ".*"}
# Nothing is ignored any more: the outbox-disk metrics the alerts use are exported by the daemon.
REQUESTED_METRICS: set[str] = set()
OUTBOX_DISK_METRICS = {"ocrd_outbox_free_bytes", "ocrd_outbox_size_bytes"}


# --- helpers shared with test_deploy_ansible.py ----------------------------------------------------


def promtool() -> str:
    tool = shutil.which("promtool")
    if tool is None:
        pytest.fail("promtool is missing: install the Debian package prometheus (scripts/test-packages.txt)")
    return tool


def exported_names(exposition: str) -> set[str]:
    """Every series name a scrape of this exposition can contain, including histogram/counter suffixes."""
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "summary": ("_count", "_sum", "_created", ""),
        "gauge": ("",),
        "info": ("_info",),
    }
    names: set[str] = set()
    for family in text_string_to_metric_families(exposition):
        names.update(family.name + suffix for suffix in suffixes.get(family.type, ("",)))
        names.update(sample.name for sample in family.samples)
    return names


def exported_labels(exposition: str) -> dict[str, set[str]]:
    """Series name -> label names seen on its samples (only series with samples appear)."""
    labels: dict[str, set[str]] = {}
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            labels.setdefault(sample.name, set()).update(sample.labels)
    return labels


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression reads (ours all start with ocrd_; up comes from Prometheus)."""
    without_strings = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)
    return {
        name
        for name in re.findall(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*)\s*[{\[)\s]", without_strings + " ")
        if name.startswith("ocrd_") or name in SCRAPE_METRICS
    }


def selector_labels(expr: str) -> list[tuple[str, str]]:
    """(metric, label) for every label matcher written in a selector like metric{label=~"..."}."""
    pairs = []
    for metric, body in re.findall(r"\b(ocrd_[a-zA-Z0-9_]*)\{([^}]*)\}", expr):
        pairs.extend((metric, label) for label in re.findall(r"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)", body))
    return pairs


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, expr) for every query of every panel, rows included."""
    queries = []

    def walk(panels: Iterable[dict]) -> None:
        for panel in panels:
            for target in panel.get("targets", []):
                queries.append((panel["title"], target["expr"]))
            walk(panel.get("panels", []))

    walk(dashboard["panels"])
    return queries


def rule_queries() -> list[tuple[str, str]]:
    import yaml

    rules = yaml.safe_load(RULES.read_text())
    return [(rule["alert"], rule["expr"]) for group in rules["groups"] for rule in group["rules"]]


def check_names(queries: list[tuple[str, str]], exposition: str, ignore: set[str] = frozenset()) -> list[str]:
    """Problems: metric names or selector labels that the exposition does not have."""
    names = exported_names(exposition) | SCRAPE_METRICS
    labels = exported_labels(exposition)
    problems = []
    for title, expr in queries:
        for name in sorted(metric_names(expr) - names - ignore):
            problems.append(f"{title}: {name} is not exported")
        for metric, label in selector_labels(expr):
            known = labels.get(metric)
            if known is not None and label not in known | {"job", "instance"}:
                problems.append(f"{title}: {metric} has no label {label!r} (it has {sorted(known)})")
    return problems


def real_exposition() -> str:
    """What ocrd's /metrics serves before any file: the daemon's registry plus the web app's metrics."""
    from ocrd.daemon.cluster_link import ClusterMetrics
    from ocrd.daemon.metrics import DaemonMetrics
    from ocrd.web.metrics import http_metrics_for

    metrics = DaemonMetrics(CollectorRegistry())
    ClusterMetrics(metrics.registry)  # exported in cluster mode only (docs/cluster.md); alerts and panels use them
    http_metrics_for(metrics.registry).observe("/metrics", "GET", 200, 0.01)
    metrics.record_job("scans", "ok", 1.5, {"load": 10, "detect": 200, "total": 400}, 2, 1_700_000_000)
    metrics.queue_depth.labels("scans").set(3)
    metrics.inbox_available.labels("scans").set(1)
    metrics.worker_restarts.labels("crash").inc()
    metrics.retries.labels("scans", "write").inc()
    return generate_latest(metrics.registry).decode()


# --- Prometheus ------------------------------------------------------------------------------------


def run_promtool(*args: str, cwd: Path = PROMETHEUS_DIR) -> subprocess.CompletedProcess[str]:
    return subprocess.run([promtool(), *args], capture_output=True, text=True, timeout=120, cwd=cwd)


def test_alert_rules_are_valid() -> None:
    result = run_promtool("check", "rules", "ocrd-alerts.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS: 10 rules found" in result.stdout


def test_alert_rules_pass_their_unit_tests() -> None:
    result = run_promtool("test", "rules", "ocrd-alerts.test.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


def test_alert_rule_tests_catch_a_wrong_rule(tmp_path: Path) -> None:
    """The unit tests fail when a rule is wrong: here the stall check loses its 'unless work finished'."""
    shutil.copy(PROMETHEUS_DIR / "ocrd-alerts.test.yml", tmp_path)
    broken = RULES.read_text().replace("unless on (job, instance, inbox)", "or on (job, instance, inbox)")
    (tmp_path / "ocrd-alerts.yml").write_text(broken)
    result = run_promtool("test", "rules", "ocrd-alerts.test.yml", cwd=tmp_path)
    assert result.returncode != 0
    assert "alertname: OcrdStalled" in result.stdout + result.stderr


def test_every_required_alert_exists() -> None:
    alerts = {name for name, _ in rule_queries()}
    # The issue's four: daemon down, stalled with a queue, failure ratio, outbox disk almost full.
    assert {"OcrdDown", "OcrdStalled", "OcrdFailureRatioHigh", "OcrdOutboxDiskAlmostFull"} <= alerts


def test_scrape_config_is_valid() -> None:
    result = run_promtool("check", "config", "prometheus.yml")
    assert result.returncode == 0, result.stdout + result.stderr


def test_alert_rules_use_only_exported_metrics() -> None:
    assert check_names(rule_queries(), real_exposition(), ignore=REQUESTED_METRICS) == []


def test_outbox_disk_metrics_are_exported() -> None:
    assert exported_names(real_exposition()) >= OUTBOX_DISK_METRICS


# --- Grafana -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dashboard() -> dict:
    return json.loads(DASHBOARD.read_text())


def test_dashboard_is_provisionable_from_a_file(dashboard: dict) -> None:
    # Import-wizard placeholders (__inputs, ${DS_...}) do not work with file provisioning.
    assert "__inputs" not in dashboard
    assert "${DS_" not in DASHBOARD.read_text()
    variables = {v["name"]: v for v in dashboard["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    assert dashboard["uid"] == "ocrd-overview"
    assert dashboard.get("id") is None


def test_every_panel_uses_the_datasource_variable(dashboard: dict) -> None:
    ids = []
    for panel in dashboard["panels"]:
        ids.append(panel["id"])
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert panel["targets"], panel["title"]
        for target in panel["targets"]:
            assert target["datasource"]["uid"] == "${datasource}", panel["title"]
    assert len(ids) == len(set(ids)), "panel ids must be unique"


def test_dashboard_shows_what_operators_need(dashboard: dict) -> None:
    exprs = " ".join(expr for _, expr in dashboard_queries(dashboard))
    assert "rate(ocrd_jobs_total" in exprs  # throughput
    assert 'outcome="failed"' in exprs  # failures
    assert "ocrd_queue_depth" in exprs  # queue depth
    assert "histogram_quantile(0.95, sum by (le, stage) (rate(ocrd_stage_duration_seconds_bucket" in exprs
    assert "histogram_quantile(0.5, sum by (le, stage) (rate(ocrd_stage_duration_seconds_bucket" in exprs
    assert "ocrd_workers_busy" in exprs and "ocrd_workers{" in exprs  # utilisation
    assert "ocrd_last_success_timestamp_seconds" in exprs  # last success per inbox


def test_dashboard_queries_are_valid_promql(dashboard: dict, tmp_path: Path) -> None:
    import yaml

    rules = []
    for number, (_, expr) in enumerate(dashboard_queries(dashboard)):
        for variable, value in GRAFANA_VARIABLES.items():
            expr = expr.replace(variable, value)
        assert "$" not in expr, f"unknown Grafana variable in {expr}"
        rules.append({"record": f"dashboard:query_{number}", "expr": expr})
    (tmp_path / "queries.yml").write_text(yaml.safe_dump({"groups": [{"name": "dashboard", "rules": rules}]}))
    result = run_promtool("check", "rules", "queries.yml", cwd=tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dashboard_uses_only_exported_metrics(dashboard: dict) -> None:
    assert check_names(dashboard_queries(dashboard), real_exposition()) == []


def test_name_check_catches_a_misspelt_metric() -> None:
    problems = check_names([("panel", 'sum(rate(ocrd_job_total{inbox=~"$inbox"}[5m]))')], real_exposition())
    assert problems == ["panel: ocrd_job_total is not exported"]
    problems = check_names([("panel", 'ocrd_queue_depth{stage="x"}')], real_exposition())
    assert problems == ["panel: ocrd_queue_depth has no label 'stage' (it has ['inbox'])"]


def test_dashboard_has_a_cluster_row_last_and_collapsed(dashboard: dict) -> None:
    """Cluster panels (docs/cluster.md) sit in a collapsed last row: single hosts never see them empty."""
    row = dashboard["panels"][-1]
    assert row["type"] == "row" and row["title"] == "Cluster" and row["collapsed"] is True
    exprs = " ".join(target["expr"] for panel in row["panels"] for target in panel["targets"])
    for needed in ("ocrd_cluster_backlog", "ocrd_cluster_pending", "ocrd_cluster_stuck", "ocrd_cluster_hosts"):
        assert f"max by (stream) ({needed}{{" in exprs or f"max by (instance) ({needed}{{" in exprs, needed
    assert 'ocrd_cluster_taken_total{job=~"$job", instance=~"$instance", how="taken-over"}' in exprs
    assert "min by (instance) (ocrd_cluster_connected" in exprs
    ids = [panel["id"] for panel in dashboard["panels"]] + [panel["id"] for panel in row["panels"]]
    assert len(ids) == len(set(ids)), "panel ids must be unique, nested ones included"
    for panel in row["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}, panel["title"]
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"]), panel["title"]
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24 and grid["y"] > row["gridPos"]["y"], panel["title"]


def test_cluster_panels_use_real_cluster_labels(dashboard: dict) -> None:
    """With stream-labelled cluster samples present, every selector label of the cluster panels exists."""
    from ocrd.cluster.messages import FILES
    from ocrd.daemon.cluster_link import ClusterMetrics

    registry = CollectorRegistry()
    cluster = ClusterMetrics(registry)
    for gauge in (cluster.backlog, cluster.pending, cluster.stuck):
        gauge.labels(FILES).set(1)
    cluster.connected.set(1)
    cluster.hosts.set(2)
    queries = [(panel["title"], t["expr"]) for panel in dashboard["panels"][-1]["panels"] for t in panel["targets"]]
    assert check_names(queries, generate_latest(registry).decode()) == []
