"""What a report is made of, loaded from the Kafka topics or from a JSONL export of them.

Four record types feed a report: :class:`~earful.events.ScoredMention`,
:class:`~earful.events.Signal`, :class:`~earful.events.OfficialUpdate` and
:class:`~earful.events.UpdateReaction`. They come either from the topics
(``topic_scored``, ``topic_signals``, ``topic_updates``, ``topic_reactions``,
read from the beginning to their end with a group-less ``read_committed``
consumer) or from JSONL export files.

**Export format.** One record a line, either the contract record itself or an
envelope ``{"topic": ..., "partition": ..., "offset": ..., "key": ...,
"value": {...}}`` as ``earful report export`` writes it. Either way the type
is recognised by the record's fields, never by the topic's name (topic names
are configurable): ``update_id`` + ``before`` is a reaction, ``mention`` a
scored mention, ``detector`` + ``kind`` a signal, ``author`` + ``text`` +
``subject`` an official update. Raw mentions, window stats and alerts are
recognised and ignored (counted); any other line is a problem: reported with
its line number, skipped, counted, and the rest is read.

Records are kept for one subject and a period of event time, with a look-back
before the period for the mentions (so the span before an early update is
full), and deduplicated the way the contract says consumers must.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any, Final

from earful.errors import SchemaError
from earful.events import (
    OfficialUpdate,
    ScoredMention,
    Signal,
    UpdateReaction,
    decode,
)
from earful.settings import BaseWorkerSettings

__all__ = [
    "DEFAULT_LOOKBACK",
    "EARLIEST",
    "LATEST",
    "ExportStats",
    "LoadProblem",
    "ReportData",
    "ReportRecord",
    "Selection",
    "classify",
    "export_topics",
    "fit_period",
    "load_export",
    "load_topics",
    "report_topics",
]

ReportRecord = ScoredMention | Signal | OfficialUpdate | UpdateReaction

#: Mentions this long before the period are kept for the reaction's "before" spans.
DEFAULT_LOOKBACK: Final = timedelta(minutes=60)

#: The bounds used when a period's start or end is left open (see fit_period).
EARLIEST: Final = datetime(1970, 1, 1, tzinfo=UTC)
LATEST: Final = datetime(9999, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Selection:
    """Which records a report covers: one subject, event time in ``[since, until)``."""

    subject: str
    since: datetime
    until: datetime
    lookback: timedelta = DEFAULT_LOOKBACK

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("since and until must be timezone-aware")
        if self.until <= self.since:
            raise ValueError(f"until ({self.until}) must be after since ({self.since})")

    def covers(self, at: datetime) -> bool:
        return self.since <= at < self.until


@dataclass(frozen=True, slots=True)
class LoadProblem:
    """A record that could not be read: where it was and why."""

    where: str
    reason: str

    def __str__(self) -> str:
        return f"{self.where}: {self.reason}"


@dataclass
class ReportData:
    """The records of one subject and period, deduplicated, in event-time order.

    ``mentions`` include the look-back before ``since`` (for the reactions);
    :meth:`period_mentions` are the ones inside the period.
    """

    selection: Selection
    mentions: list[ScoredMention] = field(default_factory=list)
    signals: list[Signal] = field(default_factory=list)
    updates: list[OfficialUpdate] = field(default_factory=list)
    reactions: list[UpdateReaction] = field(default_factory=list)
    records_read: int = 0
    ignored: int = 0
    problems: list[LoadProblem] = field(default_factory=list)

    def period_mentions(self) -> list[ScoredMention]:
        return [m for m in self.mentions if self.selection.covers(m.mention.created_at)]


# -- recognising records ---------------------------------------------------------------


def classify(obj: dict[str, Any]) -> type[ReportRecord] | str | None:
    """The contract type of a decoded JSON object by its fields.

    Returns the model for the four report types, a name for recognised types the
    report does not use, None for anything else.
    """
    if "update_id" in obj and "before" in obj:
        return UpdateReaction
    if "mention" in obj:
        return ScoredMention
    if "detector" in obj and "kind" in obj:
        return Signal
    if "dedup_key" in obj:
        return "alert"
    if "native_id" in obj and "subjects" in obj:
        return "raw mention"
    if "window_start" in obj and "mentions" in obj:
        return "window stats"
    if {"author", "text", "subject", "created_at"} <= obj.keys():
        return OfficialUpdate
    return None


class _Collector:
    """Filters, deduplicates and sorts records into a :class:`ReportData`."""

    def __init__(self, selection: Selection) -> None:
        self.data = ReportData(selection=selection)
        self._mentions: dict[tuple[str, str], ScoredMention] = {}
        self._signals: dict[tuple[str, str, datetime], Signal] = {}
        self._updates: dict[tuple[str, str], OfficialUpdate] = {}
        self._reactions: dict[tuple[str, int, str], UpdateReaction] = {}

    def add(self, record: ReportRecord) -> None:
        sel = self.data.selection
        if record.subject != sel.subject:
            return
        if isinstance(record, ScoredMention):
            at = record.mention.created_at
            if sel.since - sel.lookback <= at < sel.until:
                self._mentions.setdefault((record.mention.id, record.subject), record)
        elif isinstance(record, Signal):
            end = record.resolved_at or record.updated_at
            if record.opened_at < sel.until and end >= sel.since:
                self._signals.setdefault((record.id, record.state, record.updated_at), record)
        elif isinstance(record, OfficialUpdate):
            if sel.covers(record.created_at):
                self._updates.setdefault((record.id, record.subject), record)
        elif sel.covers(record.update_at):
            key = (record.update_id, record.span_minutes, record.audience)
            known = self._reactions.get(key)
            if known is None or record.computed_at > known.computed_at:
                self._reactions[key] = record

    def finish(self) -> ReportData:
        data = self.data
        data.mentions = sorted(self._mentions.values(), key=lambda m: m.mention.created_at)
        data.signals = sorted(self._signals.values(), key=lambda s: (s.opened_at, s.updated_at))
        data.updates = sorted(self._updates.values(), key=lambda u: (u.created_at, u.id))
        data.reactions = sorted(
            self._reactions.values(), key=lambda r: (r.update_at, r.span_minutes, r.audience)
        )
        return data


# -- JSONL export ----------------------------------------------------------------------


def _parse_line(raw: bytes) -> ReportRecord | str:
    """One export line to a record, or the name of an ignored type; SchemaError if bad."""
    try:
        obj: Any = json.loads(raw)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"not JSON: {exc}", reason="not_json") from exc
    if not isinstance(obj, dict):
        raise SchemaError(f"JSON {type(obj).__name__}, expected an object", reason="not_object")
    if "value" in obj and "topic" in obj:
        obj = obj["value"]
        if not isinstance(obj, dict):
            raise SchemaError("envelope 'value' is not a JSON object", reason="not_object")
        raw = json.dumps(obj).encode("utf-8")
    kind = classify(obj)
    if kind is None:
        raise SchemaError(
            "not a recognised record (scored mention, signal, official update or reaction)",
            reason="unknown_type",
        )
    if isinstance(kind, str):
        return kind
    return decode(kind, raw)


def load_export(paths: Sequence[Path], selection: Selection) -> ReportData:
    """Read JSONL export files; bad lines become :class:`LoadProblem` entries."""
    collector = _Collector(selection)
    data = collector.data
    for path in paths:
        with path.open("rb") as stream:
            for line_no, raw in enumerate(stream, start=1):
                if not raw.strip():
                    continue
                data.records_read += 1
                try:
                    parsed = _parse_line(raw)
                except SchemaError as exc:
                    data.problems.append(LoadProblem(f"{path}:{line_no}", str(exc)))
                    continue
                if isinstance(parsed, str):
                    data.ignored += 1
                else:
                    collector.add(parsed)
    return collector.finish()


# -- Kafka -----------------------------------------------------------------------------


def report_topics(settings: BaseWorkerSettings) -> list[tuple[str, type[ReportRecord]]]:
    """The topics a report reads, with the record type each carries."""
    return [
        (settings.topic_scored, ScoredMention),
        (settings.topic_signals, Signal),
        (settings.topic_updates, OfficialUpdate),
        (settings.topic_reactions, UpdateReaction),
    ]


def _read(consumer: Any, topic: str, timeout_s: float) -> Iterator[Any]:
    from earful.kafkautil import read_to_end

    return read_to_end(consumer, topic, timeout_s=timeout_s)


def load_topics(
    settings: BaseWorkerSettings,
    consumer: Any,
    selection: Selection,
    *,
    timeout_s: float = 60.0,
) -> ReportData:
    """Read the report's topics to their end with ``consumer`` (no group, no subscription).

    The subject is the topics' key, so records of other subjects are skipped
    before they are parsed.
    """
    collector = _Collector(selection)
    data = collector.data
    subject_key = selection.subject.encode("utf-8")
    for topic, model in report_topics(settings):
        for record in _read(consumer, topic, timeout_s):
            if record.key is not None and record.key != subject_key:
                continue
            data.records_read += 1
            try:
                collector.add(decode(model, record.value))
            except SchemaError as exc:
                where = f"{topic}[{record.partition}]@{record.offset}"
                data.problems.append(LoadProblem(where, str(exc)))
    return collector.finish()


@dataclass
class ExportStats:
    written: int = 0
    skipped: int = 0
    per_topic: dict[str, int] = field(default_factory=dict)


def export_topics(
    consumer: Any,
    topics: Iterable[str],
    out: IO[str],
    *,
    timeout_s: float = 60.0,
    values_only: bool = False,
) -> ExportStats:
    """Write every record of ``topics`` as envelope lines; non-JSON values are skipped.

    ``values_only``: each line is the record's value alone (the event contract's
    JSON), which the report reads too and which ``earful backtest --mentions``
    reads when the only topic is the scored one.
    """
    stats = ExportStats()
    for topic in topics:
        stats.per_topic[topic] = 0
        for record in _read(consumer, topic, timeout_s):
            try:
                value = json.loads(record.value) if record.value is not None else None
            except (UnicodeDecodeError, json.JSONDecodeError):
                value = None
            if not isinstance(value, dict):
                stats.skipped += 1
                continue
            key = record.key.decode("utf-8", "replace") if record.key is not None else None
            line: dict[str, Any] = value
            if not values_only:
                line = {
                    "topic": topic,
                    "partition": record.partition,
                    "offset": record.offset,
                    "key": key,
                    "value": value,
                }
            out.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")) + "\n")
            stats.written += 1
            stats.per_topic[topic] += 1
    return stats


def fit_period(data: ReportData) -> ReportData:
    """Narrow an open-ended period to the subject's own records, in whole minutes.

    Data loaded with an open start (``EARLIEST``) or end (``LATEST``) gets the
    minute of its first record as ``since`` and the minute after its last one as
    ``until``, so a report can be asked for "everything about acme" without
    knowing when it happened. Raises ``ValueError`` when there is no record.
    """
    sel = data.selection
    if sel.since != EARLIEST and sel.until != LATEST:
        return data
    times = [m.mention.created_at for m in data.mentions]
    times += [u.created_at for u in data.updates]
    times += [s.opened_at for s in data.signals]
    if not times:
        raise ValueError(f"no records of subject {sel.subject!r} in the input")
    since = sel.since
    if since == EARLIEST:
        since = min(times).replace(second=0, microsecond=0)
    until = sel.until
    if until == LATEST:
        until = max(times).replace(second=0, microsecond=0) + timedelta(minutes=1)
    return replace(data, selection=replace(sel, since=since, until=until))
