"""The core's own commands: ``earful kafka``, ``earful topics``, ``earful schemas``."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from earful.console import require_kafka
from earful.runtime import add_common_options, settings_from_args

__all__ = ["cmd_kafka", "cmd_schemas", "cmd_topics", "register"]


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


def cmd_schemas(args: argparse.Namespace) -> int:
    from earful.schemas import write_schemas

    for path in write_schemas(args.dir):
        print(path)
    return 0


def register(groups: dict[str, Any]) -> None:
    root = groups["root"]
    p = root.add_parser("kafka", help="run a local Apache Kafka broker for development")
    p.add_argument("action", choices=["up", "down", "status"])
    p.add_argument("--port", type=int, default=9092)
    p.add_argument("--controller-port", type=int, default=9093)
    p.add_argument("--fresh", action="store_true", help="wipe the broker's data before starting")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_kafka)

    p = root.add_parser("topics", help="manage the pipeline's topics")
    p.add_argument("action", choices=["create"])
    p.add_argument("--partitions", type=int, help="partitions per topic (EARFUL_TOPIC_PARTITIONS)")
    add_common_options(p)
    p.set_defaults(func=cmd_topics)

    p = root.add_parser("schemas", help="write the JSON Schema files of the event contract")
    p.add_argument("action", choices=["write"])
    p.add_argument("--dir", type=Path, default=Path("schemas"))
    p.set_defaults(func=cmd_schemas)
