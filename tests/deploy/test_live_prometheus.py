"""A real Prometheus scrapes a running metrics sink fed through the real broker.

The sink consumes scored mentions, windows, signals, reactions to official
updates, dead letters and a malformed record produced to Kafka in two rounds
(so counters move between scrapes), with a consumer group that never reads to
make lag, a stale and a slow connector, and a target that is down. Prometheus (Debian's package)
scrapes every second and evaluates deploy/prometheus/rules; then every PromQL
expression of every dashboard panel, annotation and rule must return data.
"""

from __future__ import annotations

import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry, start_http_server

from earful.events import encode
from earful.worker import Worker, make_consumer, make_producer
from sinks.metrics import (
    MetricsProcessor,
    PipelineMetrics,
    SinkMetricsSettings,
    input_topics,
    start_lag_monitor,
)
from tests.deploy.test_dashboards import load
from tests.deploy.tools import (
    DASHBOARDS,
    DEPLOY,
    dashboard_exprs,
    observability_tool,
    render_grafana_vars,
)
from tests.ports import free_port
from tests.sinks.metrics_records import reaction, scored, signal, window

pytestmark = pytest.mark.kafka

RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
RAW_BACKLOG = 1100  # over the 1000-record lag alert threshold


@dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log: Path

    def wait_for(self, expr: str, value: float, timeout_s: float = 60) -> None:
        """Until ``expr`` (one series) equals ``value``: the scrape has seen a round."""
        deadline = time.monotonic() + timeout_s
        seen: list[dict[str, Any]] = []
        while time.monotonic() < deadline:
            seen = self.query(expr)
            if len(seen) == 1 and float(seen[0]["value"][1]) == value:
                return
            time.sleep(0.5)
        pytest.fail(f"{expr} never reached {value} in {timeout_s}s: {seen}")

    def query(self, expr: str) -> list[dict[str, Any]]:
        response = httpx.get(f"{self.url}/api/v1/query", params={"query": expr}, timeout=10)
        body = response.json()
        assert body.get("status") == "success", f"{expr}: {body}"
        result: list[dict[str, Any]] = body["data"]["result"]
        return result

    def label_values(self, label: str, metric: str) -> list[str]:
        response = httpx.get(
            f"{self.url}/api/v1/label/{label}/values", params={"match[]": metric}, timeout=10
        )
        values: list[str] = response.json()["data"]
        return values


@pytest.fixture
def start_prometheus(tmp_path: Path) -> Iterator[Callable[[list[dict[str, Any]]], Prometheus]]:
    binary = observability_tool("prometheus")
    started: list[Prometheus] = []
    logs: list[Any] = []

    def start(scrape_configs: list[dict[str, Any]]) -> Prometheus:
        config = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in RULE_FILES],
            "scrape_configs": scrape_configs,
        }
        config_file = tmp_path / "prometheus.yml"
        config_file.write_text(yaml.safe_dump(config))
        port = free_port()
        log = tmp_path / "prometheus.log"
        log_file = log.open("wb")
        logs.append(log_file)
        process = subprocess.Popen(
            [
                binary,
                f"--config.file={config_file}",
                f"--storage.tsdb.path={tmp_path / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        prom = Prometheus(url=f"http://127.0.0.1:{port}", process=process, log=log)
        started.append(prom)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            assert process.poll() is None, f"prometheus exited: {log.read_text()[-2000:]}"
            try:
                if httpx.get(f"{prom.url}/-/ready", timeout=1).status_code == 200:
                    return prom
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        pytest.fail(f"prometheus not ready in 30s: {log.read_text()[-2000:]}")

    yield start
    for prom in started:
        prom.process.terminate()
        try:
            prom.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            prom.process.kill()
            prom.process.wait()
    for log_file in logs:
        log_file.close()
    shutil.rmtree(tmp_path / "data", ignore_errors=True)


def produce_round(settings: SinkMetricsSettings, round_no: int, now: datetime) -> int:
    """One round of every kind of record; returns the number of valid scored mentions."""
    base = round_no * 1000
    recent = now - timedelta(minutes=1)
    stale = now - timedelta(hours=2)
    mentions = [
        scored(
            base + i,
            label="negative" if i < 40 else "positive" if i < 45 else "neutral",
            compound=-0.6 if i < 40 else 0.6 if i < 45 else 0.0,
            symptoms=("login", "payments") if i % 2 else ("login",),
            places=("Paris",),
            platforms=("ios",),
            created_at=recent,
            score_delay_s=45.0,  # slow scoring: the latency alert's condition
        )
        for i in range(50)
    ]
    mentions.append(scored(base + 90, official=True, label="neutral", compound=0.0,
                           created_at=recent))  # fmt: skip
    # A connector far behind its network, and silent for two hours.
    mentions.append(
        scored(base + 91, subject="globex", source="rss", label="positive", compound=0.5,
               created_at=stale - timedelta(seconds=1200), ingest_delay_s=1200.0)
    )  # fmt: skip
    minute = int((now - timedelta(minutes=3) - scored(0).mention.created_at).total_seconds() // 60)
    windows = [
        window(minute + round_no, mentions=50, negative=40, late=2),
        window(minute + round_no, source="mastodon", mentions=50, negative=40),
    ]
    signals = [signal("sig-1", "open" if round_no == 0 else "update", severity="critical")]
    # The reaction to an update in both audiences the dashboard splits.
    reactions = [reaction(minute + round_no, audience=a) for a in ("all", "replies", "others")]
    producer = make_producer(settings)
    try:
        futures = [producer.send(settings.topic_scored, key=b"acme", value=encode(m))
                   for m in mentions]  # fmt: skip
        futures += [producer.send(settings.topic_windows, value=encode(w)) for w in windows]
        futures += [producer.send(settings.topic_signals, value=encode(s)) for s in signals]
        futures += [producer.send(settings.topic_reactions, value=encode(r)) for r in reactions]
        futures.append(producer.send(settings.topic_scored, value=b"{not json"))
        futures.append(
            producer.send(
                settings.topic_deadletter, value=b"{",
                headers=[("earful.error.reason", b"not_json"), ("earful.worker", b"analyzer")],
            )
        )  # fmt: skip
        if round_no == 0:
            futures += [producer.send(settings.topic_raw, value=b"x") for _ in range(RAW_BACKLOG)]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)
    return len(mentions)


def every_expression() -> list[tuple[str, str]]:
    exprs = [
        (f"{path.name} {where}", render_grafana_vars(expr))
        for path in DASHBOARDS
        for where, expr in dashboard_exprs(load(path))
    ]
    for path in RULE_FILES:
        for group in yaml.safe_load(path.read_text())["groups"]:
            for rule in group["rules"]:
                name = rule.get("record") or rule.get("alert")
                exprs.append((f"{path.name} {name}", rule["expr"]))
    return exprs


def test_every_dashboard_and_rule_expression_returns_data(
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    start_prometheus: Callable[[list[dict[str, Any]]], Prometheus],
) -> None:
    base = settings_factory(SinkMetricsSettings)
    idle_group = unique_name("idle-group")
    settings = base.model_copy(
        update={
            "metrics_lag_groups": {idle_group: (base.topic_raw,)},
            "metrics_lag_interval_s": 1.0,
        }
    )
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    worker = Worker(
        name="sink-metrics",
        settings=settings,
        consumer=make_consumer(
            settings, group=settings.metrics_group, topics=input_topics(settings)
        ),
        producer=make_producer(settings),
        processor=MetricsProcessor(settings, metrics),
        transactional=False,
    )
    runner = threading.Thread(target=worker.run, name="sink-metrics", daemon=True)
    runner.start()
    server, server_thread = start_http_server(0, addr="127.0.0.1", registry=registry)
    stop_lag = start_lag_monitor(settings, metrics)
    try:
        prom = start_prometheus(
            [
                {"job_name": "earful-sink-metrics",
                 "static_configs": [{"targets": [f"127.0.0.1:{server.server_port}"]}]},
                # Nothing listens here: the worker-down alert has something to say.
                {"job_name": "earful-ingest",
                 "static_configs": [{"targets": [f"127.0.0.1:{free_port()}"]}]},
            ]
        )  # fmt: skip
        now = datetime.now(UTC)
        # Two rounds, each seen by a scrape, so every counter visibly increases.
        valid = produce_round(settings, 0, now)
        prom.wait_for("sum(earful_mentions_scored_total)", valid)
        valid += produce_round(settings, 1, now)
        prom.wait_for("sum(earful_mentions_scored_total)", valid)

        pending = dict(every_expression())
        assert len(pending) > 40
        deadline = time.monotonic() + 90
        while pending and time.monotonic() < deadline:
            for where, expr in list(pending.items()):
                if prom.query(expr):
                    del pending[where]
            if pending:
                time.sleep(1)
        assert not pending, "expressions without data:\n" + "\n".join(
            f"  {where}: {expr}" for where, expr in pending.items()
        )

        # Exact numbers through the whole path: broker -> sink -> scrape -> PromQL.
        (total,) = prom.query("sum(earful_mentions_scored_total)")
        assert float(total["value"][1]) == valid
        (lag,) = prom.query(f'earful_consumer_lag_records{{group="{idle_group}"}}')
        assert float(lag["value"][1]) == RAW_BACKLOG
        (rejected,) = prom.query("sum(earful_sink_rejected_records_total)")
        assert float(rejected["value"][1]) == 2
        # The dashboards' variables have values to offer.
        assert "acme" in prom.label_values("subject", "earful_mentions_scored_total")
        assert idle_group in prom.label_values("group", "earful_consumer_lag_records")
        assert "rss" in prom.label_values("source", "earful_source_last_ingested_timestamp_seconds")
    finally:
        stop_lag.set()
        worker.request_stop("test over")
        runner.join(timeout=30)
        worker.close()
        server.shutdown()
        server.server_close()
        server_thread.join(timeout=5)
