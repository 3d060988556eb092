"""A real Prometheus and Alertmanager watch the pipeline through the real broker.

First test: a running metrics sink consumes scored mentions, windows,
signals, reactions to official updates, dead letters and a malformed record
produced to Kafka in two rounds (so counters move between scrapes), with a
consumer group that never reads to make lag, a stale and a slow connector, and
a target that is down. Prometheus (Debian's package) scrapes every second and
evaluates deploy/prometheus/rules; every PromQL expression of every dashboard
panel, annotation and rule must return data, one series per label it
promises. Then the sink restarts mid-incident and every expression must
still return data, and counters that never moved read 0.

Second test: the bundled incident is replayed as fast as possible with its
event times rebased to now (so they run up to hours ahead of the clock)
through the real analyzer, detect, signal and notify workers; the detectors'
alerts must appear in a real Alertmanager's /api/v2/alerts, none refused.
Then the analyzer is killed and Prometheus, which scrapes every worker's
health port, must fire EarfulTargetDown into the same Alertmanager.

The alert rules' ``for`` durations are shortened to seconds here (the
rules themselves are the deployed ones); deploy/prometheus/tests checks the
real durations with promtool.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
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
from earful.health import HealthState, start_health_server
from earful.settings import BaseWorkerSettings
from earful.sinks.metrics import (
    MetricsProcessor,
    MetricsSinkSettings,
    PipelineMetrics,
    input_topics,
    prepare_state,
    start_lag_monitor,
)
from earful.topics import TOPIC_ROLES
from earful.worker import Worker, make_consumer, make_producer
from tests.deploy.test_dashboards import _by_labels, load
from tests.deploy.tools import (
    DASHBOARDS,
    DEPLOY,
    REPO,
    dashboard_exprs,
    observability_tool,
    render_grafana_vars,
)
from tests.ports import free_port
from tests.sinks.metrics_records import reaction, scored, signal, window

pytestmark = [pytest.mark.kafka, pytest.mark.observability]

RULE_FILES = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
RAW_BACKLOG = 1100  # over the 1000-record lag alert threshold
INCIDENT = REPO / "examples" / "acme-incident.jsonl"


def fast_rules(directory: Path) -> list[Path]:
    """The deployed rule files with every alert's ``for`` cut to 3 s (seconds, not minutes)."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = []
    for path in RULE_FILES:
        doc = yaml.safe_load(path.read_text())
        for group in doc["groups"]:
            for rule in group["rules"]:
                if "for" in rule:
                    rule["for"] = "3s"
        out = directory / path.name
        out.write_text(yaml.safe_dump(doc))
        paths.append(out)
    return paths


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
def start_prometheus(tmp_path: Path) -> Iterator[Callable[..., Prometheus]]:
    binary = observability_tool("prometheus")
    started: list[Prometheus] = []
    logs: list[Any] = []

    def start(scrape_configs: list[dict[str, Any]], alertmanager: str | None = None) -> Prometheus:
        config: dict[str, Any] = {
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(p) for p in fast_rules(tmp_path / "rules")],
            "scrape_configs": scrape_configs,
        }
        if alertmanager is not None:
            target = alertmanager.removeprefix("http://")
            config["alerting"] = {"alertmanagers": [{"static_configs": [{"targets": [target]}]}]}
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


def produce_round(settings: MetricsSinkSettings, round_no: int, now: datetime) -> int:
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
    mentions.append(
        scored(base + 90, official=True, label="neutral", compound=0.0, created_at=recent)
    )
    # A connector far behind its network, and silent for two hours.
    mentions.append(
        scored(
            base + 91,
            subject="globex",
            source="rss",
            label="positive",
            compound=0.5,
            created_at=stale - timedelta(seconds=1200),
            ingest_delay_s=1200.0,
        )
    )
    minute = int((now - timedelta(minutes=3) - scored(0).mention.created_at).total_seconds() // 60)
    windows = [
        # The detect worker writes its volume expectation into subject-level windows.
        window(minute + round_no, mentions=50, negative=40, late=2, expected=12.0),
        window(minute + round_no, source="mastodon", mentions=50, negative=40),
    ]
    signals = [signal("sig-1", "open" if round_no == 0 else "update", severity="critical")]
    # The reaction to an update in both audiences the dashboard splits.
    reactions = [reaction(minute + round_no, audience=a) for a in ("all", "replies", "others")]
    producer = make_producer(settings)
    try:
        futures = [
            producer.send(settings.topic_scored, key=b"acme", value=encode(m)) for m in mentions
        ]
        futures += [producer.send(settings.topic_windows, value=encode(w)) for w in windows]
        futures += [producer.send(settings.topic_signals, value=encode(s)) for s in signals]
        futures += [producer.send(settings.topic_reactions, value=encode(r)) for r in reactions]
        futures.append(producer.send(settings.topic_scored, value=b"{not json"))
        futures.append(
            producer.send(
                settings.topic_deadletter,
                value=b"{",
                headers=[("earful.error.reason", b"not_json"), ("earful.worker", b"analyzer")],
            )
        )
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


@dataclass
class RunningSink:
    """One metrics-sink process, as the CLI runs it: restore, consume, serve."""

    worker: Worker
    runner: threading.Thread
    server: Any
    server_thread: threading.Thread
    stop_lag: threading.Event

    @classmethod
    def start(cls, settings: MetricsSinkSettings, port: int = 0) -> RunningSink:
        registry = CollectorRegistry()
        metrics = PipelineMetrics(registry)
        processor = MetricsProcessor(settings, metrics)
        prepare_state(settings, processor)
        worker = Worker(
            name="sink-metrics",
            settings=settings,
            consumer=make_consumer(
                settings, group=settings.metrics_group, topics=input_topics(settings)
            ),
            producer=make_producer(settings),
            processor=processor,
            transactional=False,
        )
        runner = threading.Thread(target=worker.run, name="sink-metrics", daemon=True)
        runner.start()
        server, server_thread = start_http_server(port, addr="127.0.0.1", registry=registry)
        return cls(worker, runner, server, server_thread, start_lag_monitor(settings, metrics))

    @property
    def port(self) -> int:
        port: int = self.server.server_port
        return port

    def stop(self) -> None:
        self.stop_lag.set()
        self.worker.request_stop("test over")
        self.runner.join(timeout=30)
        self.worker.close()
        self.server.shutdown()
        self.server.server_close()
        self.server_thread.join(timeout=5)


def with_data(prom: Prometheus, exprs: dict[str, str], timeout_s: float) -> set[str]:
    """Which of ``exprs`` return data within ``timeout_s`` (each asked until it does)."""
    pending = dict(exprs)
    deadline = time.monotonic() + timeout_s
    while pending:
        for where, expr in list(pending.items()):
            if prom.query(expr):
                del pending[where]
        if not pending or time.monotonic() > deadline:
            break
        time.sleep(1)
    return set(exprs) - set(pending)


def one_series_per_label(prom: Prometheus) -> list[str]:
    """Dashboard targets whose series do not each carry the labels the legend names."""
    problems = []
    for path in DASHBOARDS:
        for panel in load(path)["panels"]:
            for target in panel.get("targets", []):
                promised = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", target.get("legendFormat", "")))
                promised |= _by_labels(target["expr"])
                promised.discard("le")
                if panel["type"] == "heatmap" or not promised:
                    continue
                series = prom.query(render_grafana_vars(target["expr"]))
                keys = [tuple(s["metric"].get(label) for label in sorted(promised)) for s in series]
                if any(None in key for key in keys) or len(set(keys)) != len(keys):
                    where = f"{path.name} panel {panel['id']} {panel['title']!r}"
                    problems.append(f"{where}: {sorted(promised)} over {series}")
    return problems


def test_every_dashboard_and_rule_expression_returns_data_before_and_after_a_restart(
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    start_prometheus: Callable[..., Prometheus],
    alertmanager: str,
) -> None:
    base = settings_factory(MetricsSinkSettings)
    idle_group = unique_name("idle-group")
    settings = base.model_copy(
        update={
            "metrics_lag_groups": {idle_group: (base.topic_raw,)},
            "metrics_lag_interval_s": 1.0,
            "metrics_subjects": ("acme", "globex"),
        }
    )
    sink = RunningSink.start(settings)
    # A worker's health port: it never polls, so it is live and not ready.
    stuck = start_health_server(HealthState(), "127.0.0.1", 0)
    try:
        prom = start_prometheus(
            [
                {
                    "job_name": "earful-sink-metrics",
                    "static_configs": [{"targets": [f"127.0.0.1:{sink.port}"]}],
                },
                {
                    "job_name": "earful-workers",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{stuck.port}"], "labels": {"worker": "detect"}}
                    ],
                },
                # Nothing listens here: the worker-down alert has something to say.
                {
                    "job_name": "earful-ingest",
                    "static_configs": [{"targets": [f"127.0.0.1:{free_port()}"]}],
                },
                {
                    "job_name": "alertmanager",
                    "static_configs": [{"targets": [alertmanager.removeprefix("http://")]}],
                },
            ]
        )
        # Alertmanager refuses an alert without labels: its counter moves.
        prom.wait_for("sum(alertmanager_alerts_invalid_total)", 0)
        refused = httpx.post(f"{alertmanager}/api/v2/alerts", json=[{"labels": {}}], timeout=5)
        assert refused.status_code == 400
        now = datetime.now(UTC)
        # Counters that never move are there, at 0, from the first scrape.
        prom.wait_for('earful_window_late_records_total{subject="globex"}', 0)
        prom.wait_for(
            'earful_sink_rejected_records_total{reason="too_large",'
            f'topic="{settings.topic_windows}"}}',
            0,
        )
        # Two rounds, each seen by a scrape, so every counter visibly increases.
        valid = produce_round(settings, 0, now)
        prom.wait_for("sum(earful_mentions_scored_total)", valid)
        valid += produce_round(settings, 1, now)
        prom.wait_for("sum(earful_mentions_scored_total)", valid)

        # All but the notify sink's own delivery metrics, which the second test scrapes.
        exprs = {w: e for w, e in every_expression() if "earful_notify_" not in e}
        assert len(exprs) > 40
        without = set(exprs) - with_data(prom, exprs, timeout_s=90)
        assert not without, "expressions without data:\n" + "\n".join(
            f"  {where}: {exprs[where]}" for where in sorted(without)
        )
        assert one_series_per_label(prom) == []

        # Exact numbers through the whole path: broker -> sink -> scrape -> PromQL.
        (total,) = prom.query("sum(earful_mentions_scored_total)")
        assert float(total["value"][1]) == valid
        (lag,) = prom.query(f'earful_consumer_lag_records{{group="{idle_group}"}}')
        assert float(lag["value"][1]) == RAW_BACKLOG
        (rejected,) = prom.query("sum(earful_sink_rejected_records_total)")
        assert float(rejected["value"][1]) == 2
        # The first count of a series is visible to increase(): 2 symptoms named, one
        # ("payments") only in odd mentions, each series born with its first count.
        symptoms = prom.query(
            "sum by (symptom) ((increase(earful_outage_report_symptoms_total[1h]) + "
            "(min_over_time(earful_outage_report_symptoms_total[1h]) unless "
            "earful_outage_report_symptoms_total offset 1h)) "
            "or increase(earful_outage_report_symptoms_total[1h]))"
            # (the dashboard's third branch, a single sample so far, cannot occur here)
        )
        counted = {s["metric"]["symptom"]: float(s["value"][1]) for s in symptoms}
        assert counted.keys() == {"login", "payments"}
        # increase() extrapolates up to about a scrape interval beyond its first and last
        # samples (some percent over this short test); without the first counts it would
        # read about half: 50 and 25.
        assert 100 <= counted["login"] <= 130
        assert 50 <= counted["payments"] <= 65
        # The dashboards' variables have values to offer.
        assert "acme" in prom.label_values("subject", "earful_mentions_scored_total")
        assert idle_group in prom.label_values("group", "earful_consumer_lag_records")
        assert "rss" in prom.label_values("source", "earful_source_last_ingested_timestamp_seconds")

        # Restart mid-incident (the signal is still open), on the same port.
        had_data = with_data(prom, exprs, timeout_s=0)
        port = sink.port
        sink.stop()
        sink = RunningSink.start(settings, port=port)
        # The new process is scraped: its counters restarted at 0.
        prom.wait_for("sum(earful_mentions_scored_total)", 0)
        lost = had_data - with_data(prom, {w: exprs[w] for w in had_data}, timeout_s=20)
        assert not lost, "expressions that lost their data in the restart:\n" + "\n".join(
            f"  {where}: {exprs[where]}" for where in sorted(lost)
        )
        # Gauges from before the restart, at their values.
        (open_signals,) = prom.query(
            'earful_signals_open{subject="acme",kind="volume_spike",severity="critical"}'
        )
        assert float(open_signals["value"][1]) == 1
        (silent,) = prom.query(
            'time() - earful_source_last_ingested_timestamp_seconds{source="rss"}'
        )
        assert float(silent["value"][1]) > 7000  # the stale connector stays visibly silent
        assert prom.query('earful_signal_expected{subject="acme"}')
        assert one_series_per_label(prom) == []
    finally:
        sink.stop()
        stuck.shutdown()
        stuck.server_close()


# -- an accelerated replay through the real workers, a real Alertmanager ---------------------


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """Debian's Alertmanager with one receiver that sends nowhere: its API is what we read."""
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        yaml.safe_dump(
            {
                "route": {"receiver": "nowhere", "group_wait": "1s", "group_interval": "1s"},
                "receivers": [{"name": "nowhere"}],
            }
        )
    )
    port = free_port()
    log = (tmp_path / "alertmanager.log").open("wb")
    proc = subprocess.Popen(
        [
            observability_tool("prometheus-alertmanager"),
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'am-data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while not _answers(f"{url}/-/ready"):
            assert proc.poll() is None and time.monotonic() < deadline, (
                tmp_path / "alertmanager.log"
            ).read_text()[-2000:]
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=15)
        log.close()


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _invalid_alerts(alertmanager: str) -> float:
    text = httpx.get(f"{alertmanager}/metrics", timeout=5).text
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("alertmanager_alerts_invalid_total")
    )


def _received(alertmanager: str) -> float:
    """Alerts Alertmanager accepted (each pushed alert of each post counts once)."""
    text = httpx.get(f"{alertmanager}/metrics", timeout=5).text
    return sum(
        float(line.split()[-1])
        for line in text.splitlines()
        if line.startswith("alertmanager_alerts_received_total")
    )


#: The stack's workers: name -> earful command.
PIPELINE = {
    "analyzer": ("analyze",),
    "detect": ("detect",),
    "conversation": ("conversation",),
    "sink-signals": ("sink", "signals"),
    "sink-notify": ("sink", "notify"),
    "sink-metrics": ("sink", "metrics"),
}


def start_worker(
    name: str, env: dict[str, str], log: Path, health_port: int
) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "earful.cli", *PIPELINE[name], "--instance-id", name],
            env={**env, "EARFUL_HEALTH_PORT": str(health_port)},
            cwd=REPO,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def test_the_bundled_incident_replayed_fast_reaches_alertmanager_survives_a_sink_restart(
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    start_prometheus: Callable[..., Prometheus],
    alertmanager: str,
    tmp_path: Path,
) -> None:
    settings = settings_factory(BaseWorkerSettings)
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update({f"EARFUL_TOPIC_{k.upper()}": getattr(settings, f"topic_{k}") for k in TOPIC_ROLES})
    groups = ("analyzer", "detect", "conversation", "signal_alerts", "notify", "metrics")
    env.update({f"EARFUL_{g.upper()}_GROUP": unique_name(g) for g in groups})
    env.update(
        EARFUL_KAFKA_BOOTSTRAP=settings.kafka_bootstrap,
        EARFUL_TOPIC_DELIVERIES=unique_name("deliveries"),
        EARFUL_TOPIC_PARTITIONS=str(settings.topic_partitions),
        EARFUL_HEALTH_HOST="127.0.0.1",
        EARFUL_METRICS_HOST="127.0.0.1",
        EARFUL_METRICS_PORT=str(free_port()),
        EARFUL_METRICS_SUBJECTS=json.dumps(["acme", "acme-pay"]),
        EARFUL_NOTIFY_TARGETS=json.dumps(
            [
                {"name": "alertmanager", "kind": "alertmanager", "url": alertmanager},
                # A webhook that answers 404 for good: its deliveries are rejected.
                {
                    "name": "broken-hook",
                    "kind": "webhook",
                    "url": f"{alertmanager}/no-such-hook",
                    "secret": "whsec_" + "dGVzdC1vbmx5LXNpZ25pbmcta2V5",
                },
            ]
        ),
        EARFUL_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    procs: dict[str, tuple[subprocess.Popen[bytes], Path, int]] = {}
    try:
        for name in PIPELINE:
            log, port = tmp_path / f"{name}.log", free_port()
            procs[name] = (start_worker(name, env, log, port), log, port)
        prom = start_prometheus(
            [
                {
                    "job_name": "earful-workers",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{port}"], "labels": {"worker": name}}
                        for name, (_, _, port) in procs.items()
                    ],
                },
                {
                    "job_name": "earful-sink-metrics",
                    "static_configs": [{"targets": [f"127.0.0.1:{env['EARFUL_METRICS_PORT']}"]}],
                },
            ],
            alertmanager=alertmanager,
        )
        deadline = time.monotonic() + 180  # 2 shared cores, six workers importing at once
        while len(prom.query("earful_worker_ready == 1")) < len(procs):
            for name, (proc, log, _) in procs.items():
                assert proc.poll() is None, f"{name} exited:\n{log.read_text()[-3000:]}"
            assert time.monotonic() < deadline, prom.query("earful_worker_ready")
            time.sleep(1)

        # Rebased to start now and 600x faster: two hours of incident in 12 s, its event
        # times up to two hours ahead of the clock (the compose demo replays at 60x).
        replay = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "earful.cli",
                "ingest",
                "replay",
                str(INCIDENT),
                "--rebase",
                "--speed",
                "600",
            ],
            env=env,
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        # Each alert is active for seconds of wall time: look often, keep what was seen.
        seen: dict[str, dict[str, Any]] = {}
        received, quiet_since = -1.0, time.monotonic()
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            for alert in httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json():
                if alert["labels"].get("source") == "earful":
                    seen.setdefault(alert["fingerprint"], alert)
            now_received = _received(alertmanager)
            if now_received != received:
                received, quiet_since = now_received, time.monotonic()
            # Done when the replay is over and sink-notify has posted nothing for 5 s.
            if replay.poll() is not None and seen and time.monotonic() - quiet_since > 5:
                break
            time.sleep(0.25)
        _, replay_err = replay.communicate(timeout=60)
        assert replay.returncode == 0, replay_err.decode()[-3000:]
        logs = {name: log.read_text()[-1500:] for name, (_, log, _) in procs.items()}
        assert seen, f"no detector alert was ever active in Alertmanager: {logs}"
        pushed = list(seen.values())
        assert "acme" in {a["labels"]["subject"] for a in pushed}
        for alert in pushed:
            starts = datetime.fromisoformat(alert["startsAt"].replace("Z", "+00:00"))
            assert starts <= datetime.now(UTC)  # never ahead of the clock
            assert "event_starts_at" in alert["annotations"]
        # The event time, kept as an annotation, was ahead of the clock: refused before.
        assert any(
            datetime.fromisoformat(a["annotations"]["event_starts_at"].replace("Z", "+00:00"))
            > datetime.fromisoformat(a["startsAt"].replace("Z", "+00:00")) + timedelta(minutes=5)
            for a in pushed
        )
        # Every post sink-notify made was accepted: none refused, none dead-lettered.
        assert _invalid_alerts(alertmanager) == 0
        assert "to alertmanager: rejected" not in procs["sink-notify"][1].read_text()
        # The broken webhook's refusals, counted on sink-notify's health port, fire their alert.
        prom_deadline = time.monotonic() + 60
        failed: list[dict[str, Any]] = []
        while not failed and time.monotonic() < prom_deadline:
            failed = prom.query('ALERTS{alertname="EarfulAlertDeliveryFailed",alertstate="firing"}')
            time.sleep(1)
        assert [(a["metric"]["target"], a["metric"]["outcome"]) for a in failed] == [
            ("broken-hook", "rejected")
        ]

        # The metrics sink, run as the stack runs it, restarts after the incident: every
        # expression with data before has it after, one series per label value.
        exprs = {w: e for w, e in every_expression() if "earful_notify_" not in e}
        had_data = with_data(prom, exprs, timeout_s=0)
        assert len(had_data) > 30
        assert one_series_per_label(prom) == []
        sink, sink_log, sink_port = procs["sink-metrics"]
        sink.terminate()
        assert sink.wait(timeout=40) == 0, sink_log.read_text()[-3000:]
        procs["sink-metrics"] = (
            start_worker("sink-metrics", env, sink_log, sink_port),
            sink_log,
            sink_port,
        )
        # The new process is scraped: its counters restarted at 0, and it is ready.
        prom.wait_for("sum(earful_mentions_scored_total)", 0, timeout_s=120)
        prom.wait_for('earful_worker_ready{worker="sink-metrics"}', 1, timeout_s=120)
        lost = had_data - with_data(prom, {w: exprs[w] for w in had_data}, timeout_s=20)
        assert not lost, "expressions that lost their data in the restart:\n" + "\n".join(
            f"  {where}: {exprs[where]}" for where in sorted(lost)
        )
        assert one_series_per_label(prom) == []
        assert "restored" in sink_log.read_text()

        # Kill the analyzer outright: Prometheus fires EarfulTargetDown into Alertmanager.
        analyzer = procs["analyzer"][0]
        analyzer.kill()
        analyzer.wait(timeout=10)
        deadline = time.monotonic() + 90
        down: list[dict[str, Any]] = []
        while not down and time.monotonic() < deadline:
            shown = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
            down = [a for a in shown if a["labels"].get("alertname") == "EarfulTargetDown"]
            time.sleep(1)
        assert [a["labels"]["worker"] for a in down] == ["analyzer"]
        assert down[0]["labels"]["severity"] == "critical"
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc, _, _ in procs.values():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
