"""What every command's process shares: options, settings from flags, running a worker.

The command modules of the stages build on these; the dispatcher
(:mod:`earful.cli`) only finds the command and runs it. Nothing here imports a
stage.
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from earful.settings import BaseWorkerSettings

# Settings (pydantic) are imported inside the functions that use them, so that
# building a command's parser stays cheap.

__all__ = [
    "add_common_options",
    "add_worker_options",
    "run_built_worker",
    "run_worker",
    "settings_from_args",
    "start_health",
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
            settings,
            group=group,
            instance_id=args.instance_id,
            transactional=transactional,
            topics=topics,
            **(consumer_overrides or {}),
        )

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
        worker.name,
        stats.stopped_by,
        stats.consumed,
        stats.produced,
        stats.deadlettered,
        stats.recoveries,
    )
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
