"""``earful demo``: the bundled example incident through a real broker, end to end.

It starts the local broker unless a bootstrap address is configured, creates
a fresh set of demo topics, starts each worker as its own process (as in
production), replays the incident at a speed-up, shows progress, waits until
every worker has caught up, and prints what a responder would see
(:mod:`earful.demo_summary`: the incident report's figures for each subject
the incident's mentions carry).

Every topic of a run is named ``earful-demo.<run id>.*``. The run ids this
command created are remembered per bootstrap address (``demo-runs.json`` in
the cache directory); a later run deletes only those runs' topics, so a demo
pointed at an existing cluster never touches a topic it did not create.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from earful.console import interrupt_summary
from earful.settings import BaseWorkerSettings, ReplaySettings, load_settings
from earful.topics import TOPIC_ROLES

__all__ = ["DEMO_FILE", "run_demo"]

log = logging.getLogger(__name__)

DEMO_FILE = Path(__file__).resolve().parent / "data" / "acme-incident.jsonl"


@dataclass
class _Proc:
    name: str
    group: str | None
    proc: subprocess.Popen[bytes]


def _demo_env(
    settings: BaseWorkerSettings, run: str, receiver_url: str, args: argparse.Namespace
) -> dict[str, str]:
    env = dict(os.environ)
    env["EARFUL_KAFKA_BOOTSTRAP"] = settings.kafka_bootstrap
    for field in TOPIC_ROLES:
        env[f"EARFUL_TOPIC_{field.upper()}"] = getattr(settings, f"topic_{field}")
    env["EARFUL_TOPIC_DELIVERIES"] = f"{_run_prefix(run)}deliveries"
    for _, _, group_var, _ in _WORKERS:
        env[group_var] = f"demo-{run}-{group_var.lower()}"
    env["EARFUL_NOTIFY_TARGETS"] = json.dumps(
        [
            {"name": "on-call", "kind": "console"},
            {"name": "comms", "kind": "console"},
            {"name": "webhook", "kind": "webhook", "url": receiver_url, "secret": _SECRET},
        ]
    )
    # As a real setup routes them: the silence alert to the comms team, never to on-call.
    env["EARFUL_NOTIFY_ROUTES"] = json.dumps(
        [
            {"kinds": ["comms_silence"], "targets": ["comms", "webhook"]},
            {"targets": ["on-call", "webhook"]},
        ]
    )
    # The demo compresses time: a 10-minute cooldown in event time is 600/speed seconds.
    env["EARFUL_NOTIFY_COOLDOWN_S"] = str(round(600 / max(args.speed, 1.0), 1))
    env.setdefault(
        "EARFUL_DASHBOARD_URL", "http://localhost:3000/d/earful-overview?var-subject={subject}"
    )
    env.setdefault("PYTHONUNBUFFERED", "1")
    env.setdefault("EARFUL_LOG_LEVEL", "WARNING")  # the demo's screen is for alerts
    return env


def _scrape_total(url: str, metric: str) -> float:
    import httpx

    try:
        body = httpx.get(url, timeout=2.0).text
    except httpx.HTTPError:
        return 0.0
    total = 0.0
    for line in body.splitlines():
        if line.startswith(metric + "{") or line.startswith(metric + " "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def _ensure_broker(args: argparse.Namespace) -> tuple[str, Any]:
    """The bootstrap address, and the local broker if this demo started it."""
    from earful.console import require_kafka

    bootstrap = args.bootstrap or os.environ.get("EARFUL_KAFKA_BOOTSTRAP")
    if bootstrap:
        require_kafka(str(bootstrap))
        return str(bootstrap), None
    from earful.localkafka import LocalKafka

    broker = LocalKafka(port=args.kafka_port, controller_port=args.kafka_controller_port)
    if broker.status() != "stopped":
        return broker.up(), None
    print("starting the local Kafka broker (the first start resolves jars with Maven)...")
    return broker.up(), broker


def _check_port_free(port: int, what: str) -> None:
    import socket

    from earful.errors import ConfigError

    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError as exc:
            raise ConfigError(
                f"port {port} for the {what} is in use ({exc.strerror}); "
                f"choose another with --{what.replace(' ', '-')}-port"
            ) from exc


def run_demo(args: argparse.Namespace) -> int:
    from earful.console import PathError

    source = args.file or DEMO_FILE
    if not source.exists():
        raise PathError(f"{source}: no such file")
    _check_port_free(args.metrics_port, "metrics")
    bootstrap, started_broker = _ensure_broker(args)
    try:
        return _run(args, source, bootstrap, broker_stays=started_broker is None or args.keep_kafka)
    finally:
        if started_broker is not None and not args.keep_kafka:
            print("stopping the local Kafka broker (--keep-kafka leaves it running)")
            started_broker.down()


#: The demo's workers: name, CLI arguments, group env var, the topics it consumes.
_WORKERS = (
    ("analyzer", ["analyze"], "EARFUL_ANALYZER_GROUP", ("raw",)),
    ("detect", ["detect"], "EARFUL_DETECT_GROUP", ("scored",)),
    ("conversation", ["conversation"], "EARFUL_CONVERSATION_GROUP", ("scored", "signals")),
    ("sink-signals", ["sink", "signals"], "EARFUL_SIGNAL_ALERTS_GROUP", ("signals",)),
    ("sink-notify", ["sink", "notify"], "EARFUL_NOTIFY_GROUP", ("alerts",)),
    (
        "sink-metrics",
        ["sink", "metrics"],
        "EARFUL_METRICS_GROUP",
        ("scored", "windows", "signals", "deadletter", "reactions"),
    ),
)
_SECRET = "whsec_" + "ZWFyZnVsLWRlbW8tc2lnbmluZy1rZXk="  # demo only: signs local webhooks


def _write_report_config(settings: BaseWorkerSettings) -> Path:
    """A settings file naming this run's topics, so ``earful report --config`` finds them."""
    from earful.localkafka import cache_dir

    path = cache_dir() / "demo-last.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    values = {"kafka_bootstrap": settings.kafka_bootstrap}
    values.update({f"topic_{k}": getattr(settings, f"topic_{k}") for k in TOPIC_ROLES})
    path.write_text(
        "# Written by `earful demo`: the topics of its last run.\n"
        + "".join(f"{key}: {value}\n" for key, value in values.items()),
        encoding="utf-8",
    )
    return path


def _run(args: argparse.Namespace, source: Path, bootstrap: str, *, broker_stays: bool) -> int:
    from earful.demo_summary import (
        held_back,
        incident_subjects,
        incident_summary,
        load_reports,
        receiver_summary,
    )
    from earful.ingest.replay import ReplayStats, replay_file
    from earful.sinks.notify.receiver import LocalReceiver
    from earful.topics import create_topics
    from earful.worker import make_producer

    subjects = incident_subjects(source)
    run = uuid.uuid4().hex[:6]
    prefix = _run_prefix(run)
    topics = {f"topic_{k}": f"{prefix}{k}" for k in TOPIC_ROLES}
    settings = load_settings(
        ReplaySettings,
        config=args.config,
        kafka_bootstrap=bootstrap,
        replay_speed=args.speed,
        # One partition keeps the replay in event-time order end to end; with
        # several, a fast replay interleaves partitions and windows see late data.
        topic_partitions=1,
        **topics,
    )
    _drop_earlier_runs(settings)
    _remember_run(settings.kafka_bootstrap, run)
    create_topics(settings)
    receiver = LocalReceiver(secret=_SECRET).start()
    env = _demo_env(settings, run, receiver.url, args)
    metrics_url = f"http://127.0.0.1:{args.metrics_port}/metrics"
    cli = [sys.executable, "-m", "earful.cli"]
    procs = []
    for name, argv, group_var, _ in _WORKERS:
        extra = ["--port", str(args.metrics_port)] if name == "sink-metrics" else []
        cmd = [*cli, *argv, *extra, "--instance-id", f"demo-{run}"]
        procs.append(_Proc(name, env[group_var], subprocess.Popen(cmd, env=env)))
    progress = _CountingProducer(None, settings.topic_raw)

    def done() -> str:
        return f"the demo replayed {progress.sent:,} mentions before it was stopped"

    with interrupt_summary(done):
        try:
            print(
                f"Earful demo: replaying {source.name} at {args.speed:g}x through Kafka at "
                f"{bootstrap}\nmetrics: {metrics_url}   alerts also go to a signed webhook at "
                f"{receiver.url}\n",
                flush=True,
            )
            producer = progress
            producer.wrap(make_producer(settings))
            stop = threading.Event()
            ticker = threading.Thread(
                target=_show_progress, args=(producer, metrics_url, stop), daemon=True
            )
            ticker.start()
            try:
                stats: ReplayStats = replay_file(source, settings, producer, rebase=True)
            finally:
                stop.set()
                ticker.join()
                producer.close(timeout=10)
            print(
                f"\nreplayed {stats.produced} mentions; waiting for the workers to catch up...",
                flush=True,
            )
            _wait_caught_up(settings, procs)
            reports = load_reports(settings, subjects, now=datetime.now(UTC))
            print()
            print(incident_summary(reports))
            held = held_back(settings, env["EARFUL_TOPIC_DELIVERIES"], "webhook")
            print()
            print(receiver_summary(receiver, held))
            print()
            if args.follow:
                print(f"metrics: {metrics_url}")
            if broker_stays:
                config = _write_report_config(settings)
                for subject in subjects:
                    print(f"report: earful report --subject {subject} --config {config}")
            if args.follow:
                print("--follow: workers keep running; Ctrl-C to stop.", flush=True)
                _wait_forever(procs)
        finally:
            _stop_all(procs)
            receiver.stop()
    failed = [p.name for p in procs if p.proc.returncode not in (0, -signal.SIGTERM)]
    if failed:
        print(f"earful demo: worker(s) failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


class _CountingProducer:
    """Wraps the replay's producer so the progress line can count what was sent."""

    def __init__(self, producer: Any, raw_topic: str) -> None:
        self._producer = producer
        self._raw_topic = raw_topic
        self.sent = 0
        self.deadlettered = 0

    def wrap(self, producer: Any) -> None:
        self._producer = producer

    def send(self, topic: str, *args: Any, **kwargs: Any) -> Any:
        if topic == self._raw_topic:
            self.sent += 1
        else:
            self.deadlettered += 1
        return self._producer.send(topic, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._producer, name)


def _show_progress(counter: _CountingProducer, metrics_url: str, stop: threading.Event) -> None:
    """A line rewritten each second on a terminal; nothing in a pipe or CI.

    The analyzer writes one scored record per subject a mention matches, so
    "scored" can run ahead of "replayed".
    """
    from earful.console import Progress

    bar = Progress("demo", unit="mentions replayed", stream=sys.stdout, interval_s=0.9)
    if not bar.enabled:
        return
    with bar:
        while not stop.wait(1.0):
            scored = _scrape_total(metrics_url, "earful_mentions_scored_total")
            alerts = _scrape_total(metrics_url, "earful_alerts_total")
            note = f"scored {int(scored):,} (one per subject)"
            note += f", dead letters {counter.deadlettered}" if counter.deadlettered else ""
            note += f", alerts {int(alerts)}" if alerts else ""
            bar.update(counter.sent, note)


def _wait_caught_up(
    settings: BaseWorkerSettings, procs: list[_Proc], timeout_s: float = 180
) -> None:
    inputs = {
        name: [getattr(settings, f"topic_{t}") for t in topics] for name, _, _, topics in _WORKERS
    }
    deadline = time.monotonic() + timeout_s
    pending = [p for p in procs if p.group]
    # Workers downstream catch up only after those upstream; check in pipeline order,
    # twice in a row, so a record still in flight between two stages is not missed.
    stable = 0
    while stable < 2 and time.monotonic() < deadline:
        for p in procs:
            if p.proc.poll() is not None:
                raise SystemExit(f"earful demo: {p.name} exited with {p.proc.returncode}")
        lag = _lag(settings, {p.group: inputs[p.name] for p in pending if p.group})
        log.debug("lag per group and topic: %s", lag)
        stable = stable + 1 if lag is not None and not any(lag.values()) else 0
        time.sleep(1.0)


def _lag(
    settings: BaseWorkerSettings, targets: dict[str, list[str]]
) -> dict[tuple[str, str], int] | None:
    """Committed records each group has still to read on its topics; None if unknown now."""
    from kafka import KafkaAdminClient, KafkaConsumer
    from kafka.errors import KafkaError

    from earful.kafkautil import consumer_lag

    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="earful-demo")
    consumer = KafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap,
        isolation_level="read_committed",
        enable_auto_commit=False,
    )
    try:
        # Counted records, not offsets: transaction markers would never let a group reach 0.
        return consumer_lag(admin, consumer, targets, count_records=True)
    except KafkaError:
        return None
    finally:
        consumer.close()
        admin.close()


def _run_prefix(run: str) -> str:
    return f"earful-demo.{run}."


def _runs_file() -> Path:
    from earful.localkafka import cache_dir

    return cache_dir() / "demo-runs.json"


def _read_runs() -> dict[str, list[str]]:
    try:
        data = json.loads(_runs_file().read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _remember_run(bootstrap: str, run: str) -> None:
    """Record a run before its topics exist, so a crash cannot leave them unowned."""
    runs = _read_runs()
    runs[bootstrap] = [*runs.get(bootstrap, []), run]
    path = _runs_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(runs, indent=1), encoding="utf-8")


def _drop_earlier_runs(settings: BaseWorkerSettings) -> None:
    """Delete the topics of earlier demo runs on this cluster, and nothing else.

    Only runs this command recorded for this bootstrap address count; a topic
    is deleted only when its name starts with such a run's prefix.
    """
    from kafka import KafkaAdminClient

    runs = _read_runs().get(settings.kafka_bootstrap, [])
    if not runs:
        return
    prefixes = tuple(_run_prefix(r) for r in runs)
    admin = KafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap, client_id="earful-demo")
    try:
        ours = [t for t in admin.list_topics() if t.startswith(prefixes)]
        if ours:
            admin.delete_topics(ours)
    finally:
        admin.close()
    remaining = _read_runs()
    remaining.pop(settings.kafka_bootstrap, None)
    _runs_file().write_text(json.dumps(remaining, indent=1), encoding="utf-8")


def _wait_forever(procs: list[_Proc]) -> None:
    try:
        while all(p.proc.poll() is None for p in procs):
            time.sleep(1)
    except KeyboardInterrupt:
        pass


def _stop_all(procs: list[_Proc], timeout_s: float = 30) -> None:
    for p in procs:
        if p.proc.poll() is None:
            p.proc.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout_s
    for p in procs:
        try:
            p.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            p.proc.kill()
            p.proc.wait()
