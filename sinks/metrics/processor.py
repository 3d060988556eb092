"""Records to metrics: the sink's processor, and the gauges it keeps as state."""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from prometheus_client import Gauge

from earful.errors import SchemaError
from earful.events import (
    DECODE_REASONS,
    SOURCES,
    ReactionStats,
    ScoredMention,
    Severity,
    Signal,
    SignalKind,
    UpdateReaction,
    WindowStats,
    decode,
    now_utc,
)
from earful.sinks.metrics.families import OTHER, BoundedLabel, PipelineMetrics
from earful.sinks.metrics.settings import MetricsSinkSettings, input_topics
from earful.state import state_record
from earful.worker import Clock, ConsumedRecord, Output

__all__ = ["REACTION_MEASURES", "MetricsProcessor", "StateKey"]

log = logging.getLogger(__name__)

_SIGNAL_KINDS: tuple[str, ...] = get_args(SignalKind)
_SEVERITIES: tuple[str, ...] = get_args(Severity)
_SENTIMENT_LABELS = ("negative", "neutral", "positive", "unscored")
#: Why the contract decoder refuses a record (earful.events.decode).
_SCHEMA_REASONS = DECODE_REASONS
_STATE_VERSION = 1


@dataclass(frozen=True, slots=True)
class _OpenSignal:
    subject: str
    kind: str
    severity: str
    detector: str
    observed: float = 0.0
    expected: float = 0.0
    score: float = 0.0


@dataclass(frozen=True, slots=True)
class _Window:
    end: float
    mentions: float
    unique_authors: float
    negative_ratio: float
    outage_reports: float
    expected: float | None = None  # the volume detector's, subject-level windows only


#: A key of the sink's restorable state: ("ingested", source), ("official", subject),
#: ("window", subject, source), ("signal", signal id), ("reaction", subject, span, audience).
StateKey = tuple[str, ...]


class MetricsProcessor:
    """Updates metrics from the records it consumes; its only outputs are its own state.

    Counters count since the process started (Prometheus's ``rate`` and
    ``increase`` handle the reset of a restart). Gauges that say what is true
    now (open signals and their observed and expected values, the latest
    window, the latest official update and reaction, when each source last
    delivered) are also kept as state: each batch's changes go to the
    compacted ``metrics_state_topic`` (:meth:`checkpoint_outputs`), committed
    before the batch's offsets, and :meth:`restore` shows them again on start
    (:mod:`earful.sinks.metrics.state` reads them), so a restarted sink shows at
    once what it showed before.
    """

    def __init__(
        self, settings: MetricsSinkSettings, metrics: PipelineMetrics, clock: Clock = now_utc
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock
        limit = settings.metrics_max_label_values
        self.subject = BoundedLabel(settings.metrics_subjects, limit=limit)
        self.place = BoundedLabel(settings.metrics_places, limit=limit)
        self.symptom = BoundedLabel(settings.metrics_symptoms, limit=limit)
        self.platform = BoundedLabel(limit=limit)
        self.detector = BoundedLabel(limit=limit)
        self.reason = BoundedLabel(limit=limit)
        self.worker = BoundedLabel(limit=limit)
        self._open: dict[str, _OpenSignal] = {}
        self._open_keys: set[tuple[str, str, str]] = set()
        self._latest_window: dict[tuple[str, str], _Window] = {}
        self._last_ingested: dict[str, float] = {}
        self._last_official: dict[str, float] = {}
        self._latest_event = float("-inf")
        self._latest_reaction: dict[tuple[str, str, str], datetime] = {}
        self._reaction_values: dict[tuple[str, str, str], dict[str, dict[str, float | None]]] = {}
        self._dirty: set[StateKey] = set()
        self._handlers: Mapping[str, Callable[[ConsumedRecord], None]] = {
            settings.topic_scored: self._scored,
            settings.topic_windows: self._window,
            settings.topic_signals: self._signal,
            settings.topic_deadletter: self._deadletter,
            settings.topic_reactions: self._reaction,
        }
        self._zero_series()

    def _zero_series(self) -> None:
        """Create at 0 every series whose label values are known before any record.

        A counter series that first appears with the value 1 has no earlier
        sample, so ``rate`` and ``increase`` cannot see that first count, and a
        counter that never moved would show "No data" instead of 0. Known
        values: the configured subjects, places and symptoms, and the closed
        sets (sources, sentiment labels, signal kinds and severities, the
        topics the sink reads and why a record can be refused).
        """
        m = self.metrics
        subjects = [self.subject(s) for s in self.settings.metrics_subjects]
        for subject in subjects:
            m.compound.labels(subject=subject)
            m.window_late.labels(subject=subject)
            for source in SOURCES:
                m.outage_reports.labels(subject=subject, source=source)
                m.official_updates.labels(subject=subject, source=source)
                for label in _SENTIMENT_LABELS:
                    m.mentions.labels(subject=subject, source=source, label=label)
            for symptom in self.settings.metrics_symptoms:
                m.outage_symptoms.labels(subject, self.symptom(symptom))
            for place in self.settings.metrics_places:
                m.outage_places.labels(subject, self.place(place))
            for kind in _SIGNAL_KINDS:
                for severity in _SEVERITIES:
                    self._open_keys.add((subject, kind, severity))
                    m.signals_open.labels(subject, kind, severity).set(0)
                    for state in ("open", "resolved"):
                        m.signals.labels(subject, kind, severity, state)
        for source in SOURCES:
            m.source_delay.labels(source=source)
        for topic in input_topics(self.settings):
            for reason in _SCHEMA_REASONS:
                m.rejected.labels(topic=topic, reason=reason)
        for outcome in ("ok", "error"):
            m.lag_refreshes.labels(outcome=outcome)

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        handler = self._handlers.get(record.topic)
        if handler is None:
            return ()
        try:
            handler(record)
        except SchemaError as exc:
            # The record is already in Kafka; re-sending it as a dead letter
            # would only copy it. Count it so the rate can alert.
            self.metrics.rejected.labels(topic=record.topic, reason=exc.reason).inc()
            log.warning(
                "sink-metrics: unreadable record %s[%d]@%d: %s",
                record.topic,
                record.partition,
                record.offset,
                exc,
            )
        return ()

    # -- scored mentions --------------------------------------------------------

    def _scored(self, record: ConsumedRecord) -> None:
        scored = decode(ScoredMention, record.value)
        m = scored.mention
        subject = self.subject(scored.subject)
        source = m.source if m.source in SOURCES else OTHER
        label = scored.sentiment.label if scored.sentiment is not None else "unscored"
        self.metrics.mentions.labels(subject=subject, source=source, label=label).inc()
        if scored.sentiment is not None:
            self.metrics.compound.labels(subject=subject).observe(scored.sentiment.compound)
        outage = scored.outage
        if outage is not None and outage.is_report:
            self.metrics.outage_reports.labels(subject=subject, source=source).inc()
            for symptom in set(outage.symptoms):
                self.metrics.outage_symptoms.labels(subject, self.symptom(symptom)).inc()
            for place in set(outage.places):
                self.metrics.outage_places.labels(subject, self.place(place)).inc()
            for platform in set(outage.platforms):
                self.metrics.outage_platforms.labels(subject, self.platform(platform)).inc()
        created = m.created_at.timestamp()
        if m.is_official:
            self.metrics.official_updates.labels(subject=subject, source=source).inc()
            if self._set_latest(
                self._last_official,
                subject,
                created,
                self.metrics.official_update_time.labels(subject=subject),
            ):
                self._dirty.add(("official", subject))
        if created > self._latest_event:
            self._latest_event = created
            self.metrics.latest_event_time.set(created)
            self._dirty.add(("event_clock",))
        ingested = m.ingested_at.timestamp()
        scored_at = scored.scored_at.timestamp()
        self.metrics.ingest_to_scored.observe(max(0.0, scored_at - ingested))
        if created > ingested or created > scored_at:
            # Event time ahead of the clock: a rebased replay, not a fast pipeline.
            self.metrics.event_time_ahead.inc()
        else:
            self.metrics.event_to_scored.observe(scored_at - created)
            self.metrics.source_delay.labels(source=source).observe(ingested - created)
        if self._set_latest(
            self._last_ingested,
            source,
            ingested,
            self.metrics.source_last_ingested.labels(source=source),
        ):
            self._dirty.add(("ingested", source))

    @staticmethod
    def _set_latest(latest: dict[str, float], key: str, value: float, gauge: Any) -> bool:
        # Partitions interleave, so only move a timestamp gauge forward.
        if value > latest.get(key, float("-inf")):
            latest[key] = value
            gauge.set(value)
            return True
        return False

    # -- windows ------------------------------------------------------------------

    def _window(self, record: ConsumedRecord) -> None:
        stats = decode(WindowStats, record.value)
        subject = self.subject(stats.subject)
        source = "all" if stats.source is None else stats.source
        source = source if source == "all" or source in SOURCES else OTHER
        if stats.late:
            self.metrics.window_late.labels(subject=subject).inc(stats.late)
        key = (subject, source)
        newest = self._latest_window.get(key)
        end = stats.window_end.timestamp()
        if newest is not None and end < newest.end:
            return  # an older window (re-emitted or out of order): the gauges show the latest
        latest = _Window(
            end=end,
            mentions=stats.mentions,
            unique_authors=stats.unique_authors,
            negative_ratio=stats.negative_share,
            outage_reports=stats.outage_reports,
            expected=stats.expected_mentions,
        )
        self._show_window(subject, source, latest)
        self._dirty.add(("window", subject, source))

    def _show_window(self, subject: str, source: str, window: _Window) -> None:
        self._latest_window[(subject, source)] = window
        labels = {"subject": subject, "source": source}
        self.metrics.window_mentions.labels(**labels).set(window.mentions)
        self.metrics.window_unique_authors.labels(**labels).set(window.unique_authors)
        self.metrics.window_negative_ratio.labels(**labels).set(window.negative_ratio)
        self.metrics.window_outage_reports.labels(**labels).set(window.outage_reports)
        self.metrics.window_end.labels(**labels).set(window.end)
        if source == "all":
            expected = self.metrics.window_expected_mentions
            if window.expected is not None:
                expected.labels(subject=subject).set(window.expected)
            else:  # the latest window says nothing: show nothing rather than an older value
                with contextlib.suppress(KeyError):
                    expected.remove(subject)

    # -- signals ----------------------------------------------------------------

    def _signal(self, record: ConsumedRecord) -> None:
        signal = decode(Signal, record.value)
        current = _OpenSignal(
            subject=self.subject(signal.subject),
            kind=signal.kind,
            severity=signal.severity,
            detector=self.detector(signal.detector),
            observed=signal.observed,
            expected=signal.expected,
            score=signal.score,
        )
        previous = self._open.get(signal.id)
        if signal.state == "resolved":
            if previous is None:
                return  # never seen open (redelivery, or opened before this sink started)
            del self._open[signal.id]
            self._dirty.add(("signal", signal.id))
            self.metrics.signals.labels(
                previous.subject, previous.kind, previous.severity, "resolved"
            ).inc()
            closed = (previous.subject, previous.kind, previous.detector)
            if all((s.subject, s.kind, s.detector) != closed for s in self._open.values()):
                # Observed and expected exist only while a signal is open.
                for gauge in self._per_detector_gauges():
                    with contextlib.suppress(KeyError):
                        gauge.remove(*closed)
        else:
            if previous is None:
                self.metrics.signals.labels(
                    current.subject, current.kind, current.severity, "open"
                ).inc()
            self._show_signal(signal.id, current)
            self._dirty.add(("signal", signal.id))
        self._refresh_open_counts()

    def _show_signal(self, signal_id: str, signal: _OpenSignal) -> None:
        self._open[signal_id] = signal
        per_detector = (signal.subject, signal.kind, signal.detector)
        self.metrics.signal_observed.labels(*per_detector).set(signal.observed)
        self.metrics.signal_expected.labels(*per_detector).set(signal.expected)
        self.metrics.signal_score.labels(*per_detector).set(signal.score)

    def _per_detector_gauges(self) -> tuple[Gauge, ...]:
        m = self.metrics
        return (m.signal_observed, m.signal_expected, m.signal_score)

    def _refresh_open_counts(self) -> None:
        counts: dict[tuple[str, str, str], int] = {}
        for s in self._open.values():
            key = (s.subject, s.kind, s.severity)
            counts[key] = counts.get(key, 0) + 1
        # Keep a series at 0 once it existed, so "no open signals" is a value, not a gap.
        self._open_keys |= counts.keys()
        for key in self._open_keys:
            self.metrics.signals_open.labels(*key).set(counts.get(key, 0))

    # -- reactions to official updates ------------------------------------------------

    def _reaction(self, record: ConsumedRecord) -> None:
        reaction = decode(UpdateReaction, record.value)
        subject = self.subject(reaction.subject)
        span = str(reaction.span_minutes)
        self.metrics.reactions.labels(subject, span, reaction.audience).inc()
        key = (subject, span, reaction.audience)
        newest = self._latest_reaction.get(key)
        if newest is not None and reaction.update_at < newest:
            return  # an earlier update's reaction, measured late: the gauges show the latest
        periods: tuple[tuple[str, ReactionStats | None], ...] = (
            ("before", reaction.before),
            ("after", reaction.after),
            ("expected", reaction.expected),
        )
        values = {period: dict(_reaction_measures(stats)) for period, stats in periods}
        self._show_reaction(key, reaction.update_at, values)
        self._dirty.add(("reaction", *key))

    def _show_reaction(
        self,
        key: tuple[str, str, str],
        update_at: datetime,
        values: Mapping[str, Mapping[str, float | None]],
    ) -> None:
        subject, span, audience = key
        self._latest_reaction[key] = update_at
        self._reaction_values[key] = {p: dict(v) for p, v in values.items()}
        for period, measures in values.items():
            for measure, value in measures.items():
                labels = (subject, span, audience, period, measure)
                if value is None:
                    # No value (cold baseline, nothing scored): no series, not a fake 0.
                    with contextlib.suppress(KeyError):
                        self.metrics.reaction.remove(*labels)
                else:
                    self.metrics.reaction.labels(*labels).set(value)
        newest_of_span = max(
            t for (s, sp, _), t in self._latest_reaction.items() if (s, sp) == (subject, span)
        )
        self.metrics.reaction_update_time.labels(subject, span).set(newest_of_span.timestamp())

    # -- dead letters ---------------------------------------------------------------

    def _deadletter(self, record: ConsumedRecord) -> None:
        headers = {k: v for k, v in (record.headers or [])}
        reason = headers.get("earful.error.reason", b"unknown").decode("utf-8", "replace")
        worker = headers.get("earful.worker", b"unknown").decode("utf-8", "replace")
        self.metrics.deadletters.labels(self.reason(reason), self.worker(worker)).inc()

    # -- state: what a restarted sink shows at once -----------------------------------

    def checkpoint_outputs(self) -> list[Output]:
        """One state record per key changed since the last call (the worker commits them
        before the batch's offsets). An empty value forgets a key (a resolved signal)."""
        outputs = []
        for key in sorted(self._dirty):
            entry = self._state_entry(key)
            value = b"" if entry is None else state_record(entry)
            outputs.append(
                Output(
                    topic=self.settings.state_topic,
                    key=json.dumps(key, separators=(",", ":")).encode("utf-8"),
                    value=value,
                )
            )
        self._dirty.clear()
        return outputs

    def _state_entry(self, key: StateKey) -> dict[str, Any] | None:
        kind, *labels = key
        entry: dict[str, Any] = {"v": _STATE_VERSION, "key": list(key)}
        if kind == "ingested":
            entry["ts"] = self._last_ingested[labels[0]]
        elif kind == "official":
            entry["ts"] = self._last_official[labels[0]]
        elif kind == "event_clock":
            entry["ts"] = self._latest_event
        elif kind == "window":
            w = self._latest_window[(labels[0], labels[1])]
            entry["window"] = [
                w.end,
                w.mentions,
                w.unique_authors,
                w.negative_ratio,
                w.outage_reports,
                w.expected,
            ]
        elif kind == "signal":
            s = self._open.get(labels[0])
            if s is None:
                return None
            entry["signal"] = [
                s.subject,
                s.kind,
                s.severity,
                s.detector,
                s.observed,
                s.expected,
                s.score,
            ]
        elif kind == "reaction":
            reaction_key = (labels[0], labels[1], labels[2])
            entry["update_at"] = self._latest_reaction[reaction_key].timestamp()
            entry["values"] = self._reaction_values[reaction_key]
        return entry

    def restore(self, entries: Iterable[bytes]) -> int:
        """Show the state records' values again (gauges only: counters restart at 0).

        ``entries``: the latest value of each key, oldest first. Returns how many
        were restored; an entry this version cannot read is skipped with a warning.
        """
        restored = 0
        for raw in entries:
            if not raw:
                continue
            try:
                self._restore_one(json.loads(raw))
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                log.warning("sink-metrics: skipping an unreadable state record: %s", exc)
                continue
            restored += 1
        self._refresh_open_counts()
        return restored

    def _admit(self, label: BoundedLabel, value: str) -> str:
        # A restored label value takes its slot again (a fixed list admits only its own).
        return value if value == OTHER else label(value)

    def _restore_one(self, entry: dict[str, Any]) -> None:
        if entry["v"] != _STATE_VERSION:
            raise ValueError(f"state version {entry['v']!r}")
        kind, *labels = entry["key"]
        m = self.metrics
        if kind == "ingested":
            source = str(labels[0])
            self._set_latest(
                self._last_ingested,
                source,
                float(entry["ts"]),
                m.source_last_ingested.labels(source=source),
            )
        elif kind == "official":
            subject = self._admit(self.subject, str(labels[0]))
            self._set_latest(
                self._last_official,
                subject,
                float(entry["ts"]),
                m.official_update_time.labels(subject=subject),
            )
        elif kind == "event_clock":
            self._latest_event = max(self._latest_event, float(entry["ts"]))
            m.latest_event_time.set(self._latest_event)
        elif kind == "window":
            subject = self._admit(self.subject, str(labels[0]))
            values = entry["window"]
            end, mentions, authors, negative, outages = (float(x) for x in values[:5])
            window = _Window(
                end,
                mentions,
                authors,
                negative,
                outages,
                # absent in a state written before the field existed
                float(values[5]) if len(values) > 5 and values[5] is not None else None,
            )
            self._show_window(subject, str(labels[1]), window)
        elif kind == "signal":
            subject, signal_kind, severity, detector, observed, expected, score = entry["signal"]
            signal = _OpenSignal(
                subject=self._admit(self.subject, str(subject)),
                kind=str(signal_kind),
                severity=str(severity),
                detector=self._admit(self.detector, str(detector)),
                observed=float(observed),
                expected=float(expected),
                score=float(score),
            )
            self._show_signal(str(labels[0]), signal)
        elif kind == "reaction":
            subject = self._admit(self.subject, str(labels[0]))
            key = (subject, str(labels[1]), str(labels[2]))
            update_at = datetime.fromtimestamp(float(entry["update_at"]), UTC)
            self._show_reaction(key, update_at, entry["values"])
        else:
            raise ValueError(f"unknown state kind {kind!r}")


def _reaction_measures(stats: ReactionStats | None) -> tuple[tuple[str, float | None], ...]:
    if stats is None:
        return tuple((name, None) for name in REACTION_MEASURES)
    return (
        ("per_minute", stats.per_minute),
        ("negative_share", stats.negative_share),
        ("outage_reports_per_minute", stats.outage_reports_per_minute),
        ("question_share", stats.question_share),
    )


#: The measures ``earful_update_reaction`` exports for each period.
REACTION_MEASURES = ("per_minute", "negative_share", "outage_reports_per_minute", "question_share")
