"""``earful ingest replay``: a JSONL or CSV file of mentions to the raw topic."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from earful.console import require_kafka
from earful.runtime import add_common_options, settings_from_args

__all__ = ["cmd_replay", "register"]


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


def register(groups: dict[str, Any]) -> None:
    p = groups["ingest"].add_parser(
        "replay", help="replay a JSONL file of mentions to the raw topic"
    )
    p.add_argument("file", type=Path)
    p.add_argument("--speed", type=float, help="event-time speed-up (0: as fast as possible)")
    p.add_argument("--rebase", action="store_true", help="shift event times to start now")
    add_common_options(p)
    p.set_defaults(func=cmd_replay)
