"""``earful report``: the incident communications report; ``earful report export``: a JSONL export.

earful report --subject acme --since 2026-11-20T10:00Z --until 2026-11-20T12:00Z
earful report --subject acme --since ... --until ... --input export.jsonl --output out/
earful report export --output export.jsonl          # the report's four topics
earful report export --mentions --output m.jsonl    # scored mentions, for earful backtest
"""

from __future__ import annotations

import argparse
import logging
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from earful.console import InputError, check_output
from earful.errors import ConfigError
from earful.events import now_utc
from earful.runtime import add_common_options, settings_from_args
from earful.settings import BaseWorkerSettings

__all__ = ["cmd_export", "cmd_report", "default_output", "parse_time", "register"]

log = logging.getLogger(__name__)

_SHOWN_PROBLEMS = 20


_RELATIVE = re.compile(r"^-(\d+(?:\.\d+)?)([mhd])$")
_UNIT_MINUTES = {"m": 1.0, "h": 60.0, "d": 24 * 60.0}


def parse_time(text: str, *, now: Callable[[], datetime] = now_utc) -> datetime:
    """An ISO 8601 time (UTC without an offset), ``now``, or ``-90m``/``-2h``/``-1d`` ago."""
    text = text.strip()
    if text == "now":
        return now()
    relative = _RELATIVE.match(text)
    if relative:
        minutes = float(relative.group(1)) * _UNIT_MINUTES[relative.group(2)]
        return now() - timedelta(minutes=minutes)
    try:
        value = datetime.fromisoformat(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not an ISO 8601 time (e.g. 2026-11-20T10:00Z), 'now' or '-2h'"
        ) from exc
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def default_output(subject: str, since: datetime) -> Path:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in subject)
    return Path(f"earful-report-{safe}-{since:%Y%m%dT%H%MZ}")


def _consumer(settings: BaseWorkerSettings) -> Any:
    from earful.console import require_kafka
    from earful.worker import make_consumer

    require_kafka(settings.kafka_bootstrap)
    return make_consumer(settings, group=None, topics=[])


def cmd_report(args: argparse.Namespace) -> int:
    from earful.comms.report.data import (
        EARLIEST,
        LATEST,
        Selection,
        fit_period,
        load_export,
        load_topics,
    )
    from earful.comms.report.render import FORMATS, write_report
    from earful.comms.report.summary import build_report

    if args.subject is None:
        raise ConfigError("earful report needs --subject")
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    if not formats or set(formats) - set(FORMATS):
        raise ConfigError(f"--format takes a comma-separated list of {', '.join(FORMATS)}")
    try:
        spans = tuple(int(s) for s in args.spans.split(","))
    except ValueError as exc:
        raise ConfigError(f"--spans: {exc}") from exc
    try:
        # An omitted bound is fitted to the subject's records once they are loaded.
        selection = Selection(args.subject, args.since or EARLIEST, args.until or LATEST)
    except ValueError as exc:
        raise ConfigError(str(exc)) from exc
    if args.output is None:
        # The default directory goes in the current one: check it before the work.
        check_output(default_output(args.subject, datetime.now(UTC)), "dir")
    if args.input:
        data = load_export(args.input, selection)
        if data.records_read and len(data.problems) == data.records_read:
            first = data.problems[0]
            raise InputError(
                f"{', '.join(map(str, args.input))} holds no report records ({first.where}: "
                f"{first.reason}); `earful report export` writes them"
            )
    else:
        settings = settings_from_args(BaseWorkerSettings, args)
        consumer = _consumer(settings)
        try:
            data = load_topics(settings, consumer, selection)
        finally:
            consumer.close(autocommit=False)
    try:
        data = fit_period(data)
    except ValueError as exc:  # nothing of the subject in the data: the input, not the flags
        raise InputError(str(exc)) from exc
    for problem in data.problems[:_SHOWN_PROBLEMS]:
        print(f"earful report: skipped {problem}", file=sys.stderr)
    if len(data.problems) > _SHOWN_PROBLEMS:
        print(
            f"earful report: ... and {len(data.problems) - _SHOWN_PROBLEMS} more skipped",
            file=sys.stderr,
        )
    report = build_report(
        data, now=datetime.now(UTC), spans_minutes=spans, reaction_source=args.reactions
    )
    output = args.output or default_output(args.subject, data.selection.since)
    written = write_report(report, output, formats)
    print(
        f"report on {args.subject}: {report.mentions} mentions, {len(report.updates)} official "
        f"updates, {len(report.episodes)} signals; {len(data.problems)} unreadable records skipped"
    )
    for name in ("md", "html"):
        if name in written:
            print(f"  {written[name]}")
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    from earful.comms.report.data import export_topics, report_topics

    settings = settings_from_args(BaseWorkerSettings, args)
    topics = (
        [t.strip() for t in args.topics.split(",") if t.strip()]
        if args.topics
        else [topic for topic, _ in report_topics(settings)]
    )
    if args.mentions:
        topics, values = [settings.topic_scored], True
    else:
        values = args.values
    consumer = _consumer(settings)
    try:
        if str(args.output) == "-":
            stats = export_topics(consumer, topics, sys.stdout, values_only=values)
        else:
            with Path(args.output).open("w", encoding="utf-8") as out:
                stats = export_topics(consumer, topics, out, values_only=values)
    finally:
        consumer.close(autocommit=False)
    per_topic = ", ".join(f"{t}: {n}" for t, n in stats.per_topic.items())
    print(
        f"exported {stats.written} records ({per_topic}); {stats.skipped} non-JSON skipped",
        file=sys.stderr,
    )
    return 0


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "report",
        help="write the incident communications report (Markdown, HTML, PNG charts)",
        description="Write the incident communications report of one subject and period, "
        "from the Kafka topics or from JSONL exports. 'earful report export' writes such an "
        "export.",
    )
    p.add_argument("--subject", help="the tracked subject, e.g. acme")
    p.add_argument(
        "--since",
        type=parse_time,
        help="start of the period: ISO 8601 (UTC default), 'now' or '-2h' (ago); "
        "default: the subject's first record",
    )
    p.add_argument(
        "--until",
        type=parse_time,
        help="end of the period (exclusive), same forms as --since; default: after the last record",
    )
    p.add_argument(
        "--output", type=Path, help="directory to write (default ./earful-report-<subject>-<since>)"
    )
    p.add_argument(
        "--input",
        type=Path,
        nargs="+",
        help="JSONL export file(s) to read instead of the Kafka topics",
    )
    p.add_argument("--format", default="md,html", help="md, html or md,html (default)")
    p.add_argument(
        "--reactions",
        choices=["computed", "recorded"],
        default="computed",
        help="compute the reactions from the mentions (default) or use the reactions topic's",
    )
    p.add_argument("--spans", default="15,30,60", help="reaction spans in minutes")
    add_common_options(p)
    p.set_defaults(func=cmd_report, output_kinds={"output": "dir"})
    actions = p.add_subparsers(dest="report_action", required=False, metavar="{export}")
    e = actions.add_parser("export", help="export the report's topics to a JSONL file")
    e.add_argument("--output", type=Path, required=True, help="JSONL file to write ('-': stdout)")
    e.add_argument("--topics", help="comma-separated topics (default: the report's four topics)")
    e.add_argument(
        "--values",
        action="store_true",
        help="write each record's value alone instead of a {topic, partition, offset, key, "
        "value} envelope",
    )
    e.add_argument(
        "--mentions",
        action="store_true",
        help="only the scored mentions, values alone: what `earful backtest --mentions` reads",
    )
    add_common_options(e)
    e.set_defaults(func=cmd_export, output_kinds={"output": "file"})
