"""The ``earful`` command: one entry point for every worker and tool.

Each worker is its own process: ``earful ingest replay``, ``earful analyze``,
``earful sink metrics``, ``earful detect``. Common flags: ``--config``
(YAML settings file), ``--bootstrap`` (overrides ``EARFUL_KAFKA_BOOTSTRAP``),
and for workers the burst mode ``--max-messages`` / ``--idle-timeout``.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import os
import socket
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from earful.console import require_kafka, wait_for_kafka
from earful.errors import ConfigError

if TYPE_CHECKING:
    from earful.settings import BaseWorkerSettings

# Settings (pydantic) are imported inside the functions that use them: main()
# must be reached quickly so that even an early Ctrl-C is one line.

__all__ = [
    "COMMAND_MODULES",
    "add_common_options",
    "add_worker_options",
    "main",
    "run_worker",
    "settings_from_args",
]

log = logging.getLogger("earful")


def add_common_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", type=Path, help="YAML settings file (or EARFUL_CONFIG)")
    p.add_argument("--bootstrap", help="Kafka bootstrap servers (or EARFUL_KAFKA_BOOTSTRAP)")
    p.add_argument("-v", "--verbose", action="store_true", help="debug logging, tracebacks")
    p.add_argument(
        "--log-format",
        choices=("text", "json"),
        help="log lines as text (default) or one JSON object each (EARFUL_LOG_FORMAT)",
    )


def add_worker_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--max-messages", type=int, help="stop after consuming this many records")
    p.add_argument(
        "--idle-timeout", type=float, help="stop after this many seconds without records"
    )
    p.add_argument(
        "--at-least-once", action="store_true", help="commit after acks instead of transactions"
    )
    p.add_argument(
        "--instance-id",
        default=os.environ.get("EARFUL_INSTANCE_ID") or socket.gethostname(),
        help="stable id of this replica (transactional id suffix); default: hostname",
    )


def settings_from_args(cls: type[Any], args: argparse.Namespace, **extra: Any) -> Any:
    overrides = {"kafka_bootstrap": args.bootstrap, **extra}
    if getattr(args, "at_least_once", False):
        overrides["exactly_once"] = False
    from earful.settings import load_settings

    return load_settings(cls, config=args.config, **overrides)


# -- commands -----------------------------------------------------------------


def cmd_kafka(args: argparse.Namespace) -> int:
    from earful.localkafka import LocalKafka

    broker = LocalKafka(port=args.port, controller_port=args.controller_port)
    if args.action == "up":
        print(f"starting Kafka on {broker.bootstrap} (first start resolves jars with Maven)...")
        bootstrap = broker.up(fresh=args.fresh)
        print(f"Kafka is up at {bootstrap} (logs: {broker.log_file})")
    elif args.action == "down":
        print("stopped" if broker.down() else "not running")
    else:
        state = broker.status()
        print(f"{state} ({broker.bootstrap})")
        return 0 if state == "running" else 3
    return 0


def cmd_topics(args: argparse.Namespace) -> int:
    from earful.settings import BaseWorkerSettings
    from earful.topics import create_topics, topic_specs

    settings = settings_from_args(BaseWorkerSettings, args, topic_partitions=args.partitions)
    require_kafka(settings.kafka_bootstrap)
    created = create_topics(settings)
    for spec in topic_specs(settings):
        state = "created" if spec.name in created else "exists"
        print(f"{spec.name:32} {spec.partitions:>3} partitions  {state}")
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from earful.console import Progress, interrupt_summary, progress_enabled
    from earful.ingest.replay import ReplayStats, check_replay_file, replay_file
    from earful.settings import ReplaySettings
    from earful.worker import make_producer

    settings = settings_from_args(ReplaySettings, args, replay_speed=args.speed)
    check_replay_file(args.file)  # the wrong kind of file is refused before connecting
    require_kafka(settings.kafka_bootstrap)
    total = _count_lines(args.file) if progress_enabled() else None
    latest = ReplayStats()

    def done() -> str:
        return (
            f"{latest.produced:,} mentions of {args.file} sent to {settings.topic_raw} "
            f"({latest.deadlettered:,} to dead letters, after line {latest.lines:,})"
        )

    with Progress("replay", total=total, unit="lines") as bar, interrupt_summary(done):

        def progress(stats: ReplayStats) -> None:
            nonlocal latest
            latest = stats
            bar.update(stats.lines, f"{stats.produced:,} sent, {stats.deadlettered:,} dead letters")

        producer = make_producer(settings)
        try:
            stats = replay_file(
                args.file, settings, producer, rebase=args.rebase, progress=progress
            )
        finally:
            producer.close(timeout=10)
    print(
        f"replayed {stats.produced} mentions from {args.file} "
        f"({stats.deadlettered} to dead letters, {stats.skipped_blank} blank lines)"
    )
    return 0


def _count_lines(path: Path) -> int | None:
    if path.suffix.lower() == ".csv":
        return None  # a CSV row may span lines
    with path.open("rb") as fh:
        return sum(chunk.count(b"\n") for chunk in iter(lambda: fh.read(1 << 20), b""))


def run_worker(
    args: argparse.Namespace,
    *,
    name: str,
    settings: BaseWorkerSettings,
    group: str,
    topics: Sequence[str],
    processor: Any,
    produces: bool,
    hook: Any = None,
    on_start: Callable[[], None] | None = None,
    on_connect: Callable[[], None] | None = None,
    consumer_overrides: dict[str, Any] | None = None,
) -> int:
    """Run one worker process: clients, health server, signals, burst mode.

    ``produces``: the processor writes outputs, so they commit in one transaction
    with the offsets (unless ``--at-least-once``). Every worker gets a producer,
    at least for its dead letters. ``on_connect`` runs each time the worker
    (re)connects, before its consumer joins: where a stage reloads state it
    keeps outside a changelog listener.
    """
    from earful.worker import Worker, connect_group_member

    transactional = produces and settings.exactly_once

    def connect() -> tuple[Any, Any]:
        if on_connect is not None:
            on_connect()
        return connect_group_member(
            settings, group=group, instance_id=args.instance_id, transactional=transactional,
            topics=topics, **(consumer_overrides or {}),
        )  # fmt: skip

    worker = Worker(
        name=name,
        settings=settings,
        connect=connect,
        processor=processor,
        transactional=transactional,
        hook=hook,
    )
    return run_built_worker(args, worker, on_start=on_start)


def run_built_worker(
    args: argparse.Namespace, worker: Any, *, on_start: Callable[[], None] | None = None
) -> int:
    """Run a built worker as its process's main loop: health, signals, burst mode, summary."""
    worker.health = start_health(args)  # /livez and /readyz when EARFUL_HEALTH_PORT is set
    worker.install_signal_handlers()
    if on_start is not None:
        on_start()
    try:
        stats = worker.run(max_messages=args.max_messages, idle_timeout_s=args.idle_timeout)
    finally:
        worker.close()
    log.info(
        "%s stopped (%s): consumed %d, produced %d, dead letters %d, batches read again %d",
        worker.name, stats.stopped_by, stats.consumed, stats.produced, stats.deadlettered,
        stats.recoveries,
    )  # fmt: skip
    return 0


def start_health(args: argparse.Namespace) -> Any:
    """The /livez and /readyz server, when a port is configured (EARFUL_HEALTH_PORT).

    Off by default so several local workers do not fight over one port; the
    container image and the manifests set it.
    """
    from earful.health import HealthSettings, HealthState, start_health_server
    from earful.settings import load_settings

    hs = load_settings(HealthSettings, config=args.config)
    if "health_port" not in hs.model_fields_set:
        return None
    health = HealthState.from_settings(hs)
    server = start_health_server(health, hs.health_host, hs.health_port)
    log.info("health on http://%s:%d/livez and /readyz", hs.health_host, server.server_port)
    return health


def cmd_analyze(args: argparse.Namespace) -> int:
    from earful.analyze.score_worker import AnalyzerProcessor
    from earful.analyze.scoring import Scorer
    from earful.settings import AnalyzerSettings

    settings = settings_from_args(AnalyzerSettings, args)
    # Before the scorer's lexicons load: no broker is said in seconds, not after them.
    wait_for_kafka(settings.kafka_bootstrap, wait_s=settings.kafka_startup_wait_s)
    processor = AnalyzerProcessor(settings, Scorer(cache_size=settings.score_cache_size))
    return run_worker(
        args, name="analyzer", settings=settings, group=settings.analyzer_group,
        topics=[settings.topic_raw], processor=processor, produces=True,
    )  # fmt: skip


def cmd_sink_metrics(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    from earful.sinks.metrics import (
        MetricsProcessor,
        PipelineMetrics,
        SinkMetricsSettings,
        input_topics,
        prepare_state,
        start_lag_monitor,
    )

    settings = settings_from_args(SinkMetricsSettings, args, metrics_port=args.port)
    # Restoring the gauges reads Kafka before the worker's own start-up wait.
    wait_for_kafka(settings.kafka_bootstrap, wait_s=settings.kafka_startup_wait_s)
    registry = CollectorRegistry()
    metrics = PipelineMetrics(registry)
    processor = MetricsProcessor(settings, metrics)
    # The gauges it showed before a restart, before the first scrape.
    prepare_state(settings, processor)

    def serve() -> None:
        try:
            server, _ = start_http_server(
                settings.metrics_port, addr=settings.metrics_host, registry=registry
            )
        except OSError as exc:
            raise ConfigError(
                f"cannot serve metrics on {settings.metrics_host}:{settings.metrics_port}: "
                f"{exc.strerror or exc}; choose another with --port or EARFUL_METRICS_PORT"
            ) from exc
        print(f"metrics at http://{settings.metrics_host}:{server.server_port}/metrics", flush=True)
        start_lag_monitor(settings, metrics)

    return run_worker(
        args, name="sink-metrics", settings=settings, group=settings.metrics_group,
        topics=input_topics(settings), processor=processor,
        produces=False, on_start=serve,
    )  # fmt: skip


def cmd_schemas(args: argparse.Namespace) -> int:
    from earful.schemas import write_schemas

    for path in write_schemas(args.dir):
        print(path)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from earful.demo import run_demo

    return run_demo(args)


# -- parser -------------------------------------------------------------------

#: Modules that add their own commands. Each defines ``register(groups)`` where
#: ``groups`` maps "root", "ingest" and "sink" to their subparser actions; every
#: parser it adds sets ``func=callable(args) -> int``. They reuse
#: ``add_common_options``, ``add_worker_options``, ``settings_from_args`` and
#: ``run_worker`` from here. A module that does not exist yet is skipped.
COMMAND_MODULES = (
    "earful.analyze.score_cli",
    "earful.analyze.backtest_cli",
    "earful.analyze.detect_cli",
    "earful.ingest.cli",
    "earful.sinks.notify_cli",
    "earful.sinks.observability_cli",
    "earful.analyze.conversation_cli",
    "earful.sinks.report_cli",
    "earful.analyze.tone_cli",
)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line that points at ``--help`` (subcommands inherit this class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="earful", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("kafka", help="run a local Apache Kafka broker for development")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--port", type=int, default=9092)
    p.add_argument("--controller-port", type=int, default=9093)
    p.add_argument("--fresh", action="store_true", help="wipe the broker's data before starting")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_kafka)

    p = sub.add_parser("topics", help="manage the pipeline's topics")
    p.add_argument("action", choices=["create"])
    p.add_argument("--partitions", type=int, help="partitions per topic (EARFUL_TOPIC_PARTITIONS)")
    add_common_options(p)
    p.set_defaults(func=cmd_topics)

    ingest = sub.add_parser("ingest", help="ingest workers").add_subparsers(
        dest="source", required=True
    )
    p = ingest.add_parser("replay", help="replay a JSONL file of mentions to the raw topic")
    p.add_argument("file", type=Path)
    p.add_argument("--speed", type=float, help="event-time speed-up (0: as fast as possible)")
    p.add_argument("--rebase", action="store_true", help="shift event times to start now")
    add_common_options(p)
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("analyze", help="score raw mentions into the scored topic")
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_analyze)

    sinks = sub.add_parser("sink", help="sink workers").add_subparsers(dest="sink", required=True)
    p = sinks.add_parser(
        "metrics",
        help="serve Prometheus metrics from the scored, windows, signals, reactions and "
        "dead-letter topics",
    )
    p.add_argument("--port", type=int, help="metrics port (EARFUL_METRICS_PORT)")
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_sink_metrics)

    p = sub.add_parser("schemas", help="write the JSON Schema files of the event contract")
    p.add_argument("action", choices=["write"])
    p.add_argument("--dir", type=Path, default=Path("schemas"))
    p.set_defaults(func=cmd_schemas)

    p = sub.add_parser("demo", help="run the pipeline end to end on the bundled example incident")
    p.add_argument("--speed", type=float, default=120.0, help="event-time speed-up (default 120)")
    p.add_argument("--follow", action="store_true", help="keep the workers running at the end")
    p.add_argument(
        "--keep-kafka", action="store_true", help="leave the local broker running afterwards"
    )
    p.add_argument(
        "--metrics-port", type=int, default=9464, help="the metrics sink's port (default 9464)"
    )
    p.add_argument(
        "--kafka-port",
        type=int,
        default=9092,
        help="port of the local broker the demo starts (default 9092; not with --bootstrap)",
    )
    p.add_argument(
        "--kafka-controller-port",
        type=int,
        default=9093,
        help="its controller port (default 9093)",
    )
    p.add_argument("--file", type=Path, help="mentions to replay (default: the bundled incident)")
    add_common_options(p)
    p.set_defaults(func=cmd_demo)

    groups = {"root": sub, "ingest": ingest, "sink": sinks}
    for name in COMMAND_MODULES:
        if importlib.util.find_spec(name) is not None:
            importlib.import_module(name).register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from earful import console

    try:
        # Building the parser imports every command's module: Ctrl-C may land here.
        args = build_parser().parse_args(argv)
    except KeyboardInterrupt:
        print("earful: interrupted", file=sys.stderr)
        return console.EXIT_INTERRUPTED
    try:
        console.configure_logging(
            verbose=bool(getattr(args, "verbose", False)), fmt=getattr(args, "log_format", None)
        )
    except ConfigError as exc:
        print(f"earful: configuration error: {exc}", file=sys.stderr)
        return console.EXIT_USAGE
    return console.run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
