"""``earful sink metrics``: serve Prometheus metrics from the pipeline's topics."""

from __future__ import annotations

import argparse
from typing import Any

from earful.console import wait_for_kafka
from earful.errors import ConfigError
from earful.runtime import add_common_options, add_worker_options, run_worker, settings_from_args

__all__ = ["cmd_sink_metrics", "register"]


def cmd_sink_metrics(args: argparse.Namespace) -> int:
    from prometheus_client import CollectorRegistry, start_http_server

    from earful.sinks.metrics import (
        MetricsProcessor,
        MetricsSinkSettings,
        PipelineMetrics,
        input_topics,
        prepare_state,
        start_lag_monitor,
    )

    settings = settings_from_args(MetricsSinkSettings, args, metrics_port=args.port)
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
        args,
        name="sink-metrics",
        settings=settings,
        group=settings.metrics_group,
        topics=input_topics(settings),
        processor=processor,
        produces=False,
        on_start=serve,
    )


def register(groups: dict[str, Any]) -> None:
    p = groups["sink"].add_parser(
        "metrics",
        help="serve Prometheus metrics from the scored, windows, signals, reactions and "
        "dead-letter topics",
    )
    p.add_argument("--port", type=int, help="metrics port (EARFUL_METRICS_PORT)")
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_sink_metrics)
