"""``earful detect``: the streaming window and detection worker."""

from __future__ import annotations

import argparse
import logging
from typing import Any

from earful.cli import add_common_options, add_worker_options, settings_from_args, start_health

__all__ = ["cmd_detect", "register"]

log = logging.getLogger(__name__)


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "detect", help="window scored mentions and detect spikes, surges and outage bursts"
    )
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_detect)


def cmd_detect(args: argparse.Namespace) -> int:
    from analyze.detect_worker import DetectSettings, build_detect_worker

    settings: DetectSettings = settings_from_args(DetectSettings, args)
    worker = build_detect_worker(settings, args.instance_id)
    worker.health = start_health(args)  # /livez and /readyz when EARFUL_HEALTH_PORT is set
    worker.install_signal_handlers()
    try:
        stats = worker.run(max_messages=args.max_messages, idle_timeout_s=args.idle_timeout)
    finally:
        worker.close()
    log.info(
        "detect stopped (%s): consumed %d, produced %d, dead letters %d",
        stats.stopped_by, stats.consumed, stats.produced, stats.deadlettered,
    )  # fmt: skip
    return 0
