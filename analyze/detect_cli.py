"""``earful detect``: the streaming window and detection worker."""

from __future__ import annotations

import argparse
from typing import Any

from earful.runtime import (
    add_common_options,
    add_worker_options,
    run_built_worker,
    settings_from_args,
)

__all__ = ["cmd_detect", "register"]


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "detect", help="window scored mentions and detect spikes, surges and outage bursts"
    )
    add_common_options(p)
    add_worker_options(p)
    p.set_defaults(func=cmd_detect)


def cmd_detect(args: argparse.Namespace) -> int:
    from earful.analyze.detect_worker import DetectSettings, build_detect_worker

    settings: DetectSettings = settings_from_args(DetectSettings, args)
    worker = build_detect_worker(settings, args.instance_id)
    return run_built_worker(args, worker)
