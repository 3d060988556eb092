"""Prometheus configuration and rules, checked by promtool; the sink's exposition linted."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from earful.events import encode
from earful.health import HealthState, start_health_server
from earful.sinks.metrics import MetricsProcessor, MetricsSinkSettings, PipelineMetrics
from tests.deploy.tools import DEPLOY, observability_tool, run
from tests.sinks.metrics_records import FakeRecord, scored, signal, window

#: Needs Debian's Prometheus tools (make test installs them; make unit leaves these out).
pytestmark = pytest.mark.observability

PROMETHEUS = DEPLOY / "prometheus"
RULE_FILES = sorted((PROMETHEUS / "rules").glob("*.yml"))
RULE_TESTS = sorted((PROMETHEUS / "tests").glob("*.yml"))


def test_config_and_its_rule_files_are_valid() -> None:
    promtool = observability_tool("promtool")
    result = run(promtool, "check", "config", str(PROMETHEUS / "prometheus.yml"))
    assert result.returncode == 0, result.stdout + result.stderr
    # check config also checks every rule file it references: all of them.
    for path in RULE_FILES:
        assert f"Checking {path}" in result.stdout


@pytest.mark.parametrize("path", RULE_FILES, ids=lambda p: p.name)
def test_rules_are_valid(path: Path) -> None:
    result = run(observability_tool("promtool"), "check", "rules", str(path))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize("path", RULE_TESTS, ids=lambda p: p.name)
def test_rule_unit_tests_pass(path: Path) -> None:
    result = run(observability_tool("promtool"), "test", "rules", str(path), cwd=path.parent)
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_alert_has_a_unit_test_and_a_severity() -> None:
    alerts = {
        rule["alert"]: rule
        for path in RULE_FILES
        for group in yaml.safe_load(path.read_text())["groups"]
        for rule in group["rules"]
        if "alert" in rule
    }
    tested = {
        case["alertname"]
        for path in RULE_TESTS
        for test in yaml.safe_load(path.read_text())["tests"]
        for case in test.get("alert_rule_test", [])
        if case.get("exp_alerts")
    }
    assert alerts, "no alerting rules found"
    assert set(alerts) <= tested, f"alerts never shown firing in a test: {set(alerts) - tested}"
    for name, rule in alerts.items():
        assert rule["labels"]["severity"] in {"critical", "warning", "info"}, name
        assert rule["annotations"]["summary"], name


def populated_registry() -> CollectorRegistry:
    """A registry where every family of the sink has at least one series."""
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    proc = MetricsProcessor(MetricsSinkSettings(), metrics)
    s = proc.settings
    records = [
        (s.topic_scored, scored(1, symptoms=("login",), places=("Paris",), platforms=("ios",))),
        (s.topic_scored, scored(2, official=True)),
        (s.topic_windows, window(0, late=1)),
        (s.topic_signals, signal("s1", "open")),
    ]
    for topic, record in records:
        proc.process(FakeRecord(topic=topic, value=encode(record)))
    proc.process(FakeRecord(topic=s.topic_deadletter, value=b"x"))
    proc.process(FakeRecord(topic=s.topic_scored, value=b"{"))
    metrics.consumer_lag.labels(group="g", topic="t").set(3)
    metrics.lag_refreshes.labels(outcome="ok").inc()
    return registry


def scrape(registry: CollectorRegistry) -> str:
    server, thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    try:
        response = httpx.get(f"http://127.0.0.1:{server.server_port}/metrics", timeout=5)
        response.raise_for_status()
        return response.text
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_real_scrape_passes_promtool_check_metrics() -> None:
    promtool = observability_tool("promtool")
    body = scrape(populated_registry())
    result = subprocess.run(
        [promtool, "check", "metrics"], input=body, capture_output=True, text=True, timeout=30
    )
    # promtool prints one line per naming problem and exits non-zero on any.
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == ""
    assert "_created" not in body


def worker_health_metric_names() -> set[str]:
    """What every worker's health port serves at /metrics."""
    server = start_health_server(HealthState(), "127.0.0.1", 0)
    try:
        text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5).text
    finally:
        server.shutdown()
        server.server_close()
    return {line.split("{")[0].split()[0] for line in text.splitlines() if line[:1].isalpha()}


def notify_metric_names() -> set[str]:
    """What the notify sink exports beside the worker metrics (its NotifyMetrics)."""
    from earful.sinks.delivery import NotifyMetrics

    registry = CollectorRegistry()
    NotifyMetrics(registry, ["hook"])
    return {sample.name for family in registry.collect() for sample in family.samples}


def test_rules_only_use_metrics_the_sink_and_the_workers_export() -> None:
    exported = (
        {sample.name for family in populated_registry().collect() for sample in family.samples}
        | worker_health_metric_names()
        | notify_metric_names()
    )
    assert "earful_worker_ready" in exported
    recorded = set()
    used = set()
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                if "record" in rule:
                    recorded.add(rule["record"])
                used |= set(re.findall(r"\bearful_[a-z_]+\b", rule["expr"]))
    assert used, "no earful_ metric found in the rules"
    # A token inside a recorded name (level:metric:ops) is not a metric by itself.
    bare = {name for name in used if not any(f":{name}:" in r for r in recorded)}
    assert bare <= exported, f"rules use metrics the sink does not export: {bare - exported}"
