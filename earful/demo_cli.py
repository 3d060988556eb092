"""``earful demo``: the whole pipeline on the bundled incident (see :mod:`earful.demo`)."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from earful.runtime import add_common_options

__all__ = ["cmd_demo", "register"]


def cmd_demo(args: argparse.Namespace) -> int:
    from earful.demo import run_demo

    return run_demo(args)


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "demo", help="run the pipeline end to end on the bundled example incident"
    )
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
