"""``earful sink metrics``: Prometheus metrics from the pipeline's topics.

The sink reads the scored, windows, signals and dead-letter topics and keeps
one family per question a responder or an operator asks:

* what people say: mentions by subject, source and sentiment label, the
  compound-score distribution, outage reports by symptom, place and platform,
  official updates (their event time drives Grafana's annotations) and the
  measured reaction to each (before, after and expected, per span and audience);
* what the detectors see: the latest window per subject (and source), and
  each open signal's observed versus expected value, open signals by severity;
* whether the pipeline is healthy: event-time-to-scored latency, how far each
  connector is behind its network, dead letters, consumer lag
  (:class:`ConsumerLagMonitor`, refreshed in its own thread).

Label cardinality is bounded by configuration (:class:`BoundedLabel`):
subjects, places, symptoms and detectors come from configured lists or, when
no list is configured, the first ``metrics_max_label_values`` values seen;
everything else is folded into ``other``. Nothing is labelled per author, text
or URL.
"""

from __future__ import annotations

import contextlib
import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, get_args

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from pydantic import Field

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
from earful.kafkautil import consumer_lag
from earful.settings import MetricsSinkSettings
from earful.worker import Clock, ConsumedRecord, Output

__all__ = [
    "COMPOUND_BUCKETS",
    "LATENCY_BUCKETS",
    "OTHER",
    "BoundedLabel",
    "ConsumerLagMonitor",
    "MetricsProcessor",
    "PipelineMetrics",
    "SinkMetricsSettings",
    "ensure_state_topic",
    "input_topics",
    "lag_targets",
    "load_state",
    "prepare_state",
    "start_lag_monitor",
]

log = logging.getLogger(__name__)

OTHER = "other"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# How far a connector runs behind its network: seconds to an hour and more.
SOURCE_DELAY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)
# Edges at VADER's label thresholds (+-0.05) and its strong-sentiment mark (+-0.5).
COMPOUND_BUCKETS = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75, 1.0)
_MAX_LABEL_CHARS = 64
_SIGNAL_KINDS: tuple[str, ...] = get_args(SignalKind)
_SEVERITIES: tuple[str, ...] = get_args(Severity)
_SENTIMENT_LABELS = ("negative", "neutral", "positive", "unscored")
#: Why the contract decoder refuses a record (earful.events.decode).
_SCHEMA_REASONS = DECODE_REASONS
_STATE_VERSION = 1


class SinkMetricsSettings(MetricsSinkSettings):
    """``earful sink metrics`` with its label bounds and the lag it watches.

    Lists come from the YAML config file or as JSON in the environment, e.g.
    ``EARFUL_METRICS_SUBJECTS='["acme", "acmepay"]'``.
    """

    metrics_subjects: tuple[str, ...] = Field(
        default=(),
        description="Subjects labelled by name (the tracking configuration's subjects); "
        "others are 'other'. Empty: the first metrics_max_label_values seen.",
    )
    metrics_places: tuple[str, ...] = Field(
        default=(), description="Places labelled by name; empty: the first ones seen."
    )
    metrics_symptoms: tuple[str, ...] = Field(
        default=(), description="Symptoms labelled by name; empty: the first ones seen."
    )
    metrics_max_label_values: int = Field(
        default=50, ge=1, le=1000, description="Distinct values per label when no list is set."
    )
    metrics_lag_groups: dict[str, tuple[str, ...]] = Field(
        default_factory=dict,
        description="Consumer groups whose lag to export, each with its input topics. "
        "The sink's own group is always watched.",
    )
    metrics_lag_interval_s: float = Field(default=15.0, gt=0)
    metrics_state_topic: str | None = Field(
        default=None,
        description="Compacted topic of the sink's latest gauge values, re-read on start "
        "so a restarted sink shows at once what it showed before; "
        "default '<topic_signals>.metrics-state'.",
    )

    @property
    def state_topic(self) -> str:
        # Named after the signals topic, as detect's changelog is: a renamed set of
        # topics (a demo run, a test) gets its own state.
        return self.metrics_state_topic or f"{self.topic_signals}.metrics-state"


def input_topics(settings: SinkMetricsSettings) -> list[str]:
    """The topics the metrics sink consumes."""
    return [
        settings.topic_scored,
        settings.topic_windows,
        settings.topic_signals,
        settings.topic_deadletter,
        settings.topic_reactions,
    ]


def lag_targets(settings: SinkMetricsSettings) -> dict[str, tuple[str, ...]]:
    """Consumer group -> topics to measure lag on: the configured ones plus the sink's own."""
    targets = {settings.metrics_group: tuple(input_topics(settings))}
    targets.update(settings.metrics_lag_groups)
    return targets


class BoundedLabel:
    """Maps raw values to at most a configured set of label values; the rest is ``other``.

    With ``allowed`` the set is fixed; without it the first ``limit`` distinct
    values seen are admitted, so cardinality is bounded either way.
    """

    def __init__(self, allowed: Iterable[str] = (), *, limit: int = 50) -> None:
        self._fixed = frozenset(v[:_MAX_LABEL_CHARS] for v in allowed)
        self._seen: set[str] = set()
        self._limit = limit

    def __call__(self, value: str | None) -> str:
        if not value:
            return OTHER
        value = value[:_MAX_LABEL_CHARS]
        if self._fixed:
            return value if value in self._fixed else OTHER
        if value in self._seen:
            return value
        if len(self._seen) < self._limit:
            self._seen.add(value)
            return value
        return OTHER


class PipelineMetrics:
    """Every metric family of the sink, registered on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # Counters and histograms would also export a *_created series per label
        # set; the switch is process-wide and read when a series is created.
        disable_created_metrics()  # type: ignore[no-untyped-call]
        # -- what people say ----------------------------------------------------
        self.mentions = Counter(
            "earful_mentions_scored_total",
            "Scored mentions by subject, source and sentiment label.",
            ["subject", "source", "label"],
            registry=registry,
        )
        self.compound = Histogram(
            "earful_sentiment_compound",
            "Distribution of Earful's incident-aware compound sentiment score.",
            ["subject"],
            buckets=COMPOUND_BUCKETS,
            registry=registry,
        )
        self.outage_reports = Counter(
            "earful_outage_reports_total",
            "Mentions recognised as outage reports, by subject and source.",
            ["subject", "source"],
            registry=registry,
        )
        self.outage_symptoms = Counter(
            "earful_outage_report_symptoms_total",
            "Symptoms named in outage reports (a report may name several).",
            ["subject", "symptom"],
            registry=registry,
        )
        self.outage_places = Counter(
            "earful_outage_report_places_total",
            "Places named in outage reports.",
            ["subject", "place"],
            registry=registry,
        )
        self.outage_platforms = Counter(
            "earful_outage_report_platforms_total",
            "Platforms (iOS, Android, web...) named in outage reports.",
            ["subject", "platform"],
            registry=registry,
        )
        self.official_updates = Counter(
            "earful_official_updates_total",
            "Posts by the organisation itself (official accounts, status pages).",
            ["subject", "source"],
            registry=registry,
        )
        self.official_update_time = Gauge(
            "earful_official_update_timestamp_seconds",
            "Event time of the latest official update per subject.",
            ["subject"],
            registry=registry,
        )
        self.reaction = Gauge(
            "earful_update_reaction",
            "The latest measured reaction to an official update: a measure of the span "
            "before it, after it, or the baseline's expectation for the after span "
            "(observed before/after, not a proven effect).",
            ["subject", "span_minutes", "audience", "period", "measure"],
            registry=registry,
        )
        self.reaction_update_time = Gauge(
            "earful_update_reaction_update_timestamp_seconds",
            "Event time of the update the latest reaction gauges describe.",
            ["subject", "span_minutes"],
            registry=registry,
        )
        self.reactions = Counter(
            "earful_update_reactions_total",
            "Reactions measured (one per update, span and audience).",
            ["subject", "span_minutes", "audience"],
            registry=registry,
        )
        # -- what the detectors see --------------------------------------------
        self.window_mentions = Gauge(
            "earful_window_mentions",
            "Mentions in the latest closed window (source 'all' for every source).",
            ["subject", "source"],
            registry=registry,
        )
        self.window_unique_authors = Gauge(
            "earful_window_unique_authors",
            "Distinct authors in the latest closed window.",
            ["subject", "source"],
            registry=registry,
        )
        self.window_negative_ratio = Gauge(
            "earful_window_negative_ratio",
            "Share of negative mentions in the latest closed window (0-1).",
            ["subject", "source"],
            registry=registry,
        )
        self.window_outage_reports = Gauge(
            "earful_window_outage_reports",
            "Outage reports (one per author) in the latest closed window.",
            ["subject", "source"],
            registry=registry,
        )
        self.window_expected_mentions = Gauge(
            "earful_window_expected_mentions",
            "The volume detector's expected mentions for the latest closed window (all sources).",
            ["subject"],
            registry=registry,
        )
        self.window_end = Gauge(
            "earful_window_end_timestamp_seconds",
            "End (event time) of the latest closed window.",
            ["subject", "source"],
            registry=registry,
        )
        self.window_late = Counter(
            "earful_window_late_records_total",
            "Records that arrived after their window closed.",
            ["subject"],
            registry=registry,
        )
        self.signals = Counter(
            "earful_signals_total",
            "Signal transitions (open, resolved) by subject, kind and severity.",
            ["subject", "kind", "severity", "state"],
            registry=registry,
        )
        self.signals_open = Gauge(
            "earful_signals_open",
            "Signals open now, by subject, kind and severity.",
            ["subject", "kind", "severity"],
            registry=registry,
        )
        self.signal_observed = Gauge(
            "earful_signal_observed",
            "The open signal's observed value, per detector.",
            ["subject", "kind", "detector"],
            registry=registry,
        )
        self.signal_expected = Gauge(
            "earful_signal_expected",
            "The value the detector expected for the open signal's window.",
            ["subject", "kind", "detector"],
            registry=registry,
        )
        self.signal_score = Gauge(
            "earful_signal_anomaly_score",
            "The open signal's anomaly score (0-1).",
            ["subject", "kind", "detector"],
            registry=registry,
        )
        # -- pipeline health -----------------------------------------------------
        self.ingest_to_scored = Histogram(
            "earful_ingest_to_scored_seconds",
            "Time from ingestion to scoring of a mention.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.event_to_scored = Histogram(
            "earful_event_to_scored_seconds",
            "Time from the post's creation (event time) to scoring.",
            buckets=LATENCY_BUCKETS,
            registry=registry,
        )
        self.source_delay = Histogram(
            "earful_source_delay_seconds",
            "How far behind its network a connector runs: ingestion time minus event time.",
            ["source"],
            buckets=SOURCE_DELAY_BUCKETS,
            registry=registry,
        )
        self.event_time_ahead = Counter(
            "earful_event_time_ahead_records_total",
            "Mentions whose event time was after their ingestion or scoring (a replay "
            "rebased ahead of the clock, or a source's skewed clock): left out of the "
            "latency histograms, where they would read as zero.",
            registry=registry,
        )
        self.latest_event_time = Gauge(
            "earful_latest_event_timestamp_seconds",
            "The latest event time seen in a scored mention: the pipeline's event clock "
            "(ahead of the wall clock in an accelerated replay).",
            registry=registry,
        )
        self.source_last_ingested = Gauge(
            "earful_source_last_ingested_timestamp_seconds",
            "When the latest mention from each source was ingested (connector health).",
            ["source"],
            registry=registry,
        )
        self.deadletters = Counter(
            "earful_deadletter_records_total",
            "Records routed to the dead-letter topic, by reason and worker.",
            ["reason", "worker"],
            registry=registry,
        )
        self.rejected = Counter(
            "earful_sink_rejected_records_total",
            "Records this sink could not read (already in Kafka, so counted, not re-sent).",
            ["topic", "reason"],
            registry=registry,
        )
        self.consumer_lag = Gauge(
            "earful_consumer_lag_records",
            "Records not yet committed by a consumer group, per topic.",
            ["group", "topic"],
            registry=registry,
        )
        self.lag_refreshes = Counter(
            "earful_consumer_lag_refreshes_total",
            "Consumer-lag refreshes by outcome (ok, error).",
            ["outcome"],
            registry=registry,
        )


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
    before the batch's offsets, and :func:`load_state` restores them on start,
    so a restarted sink shows at once what it showed before.
    """

    def __init__(
        self, settings: SinkMetricsSettings, metrics: PipelineMetrics, clock: Clock = now_utc
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
                record.topic, record.partition, record.offset, exc,
            )  # fmt: skip
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
                self._last_official, subject, created,
                self.metrics.official_update_time.labels(subject=subject),
            ):  # fmt: skip
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
            self._last_ingested, source, ingested,
            self.metrics.source_last_ingested.labels(source=source),
        ):  # fmt: skip
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
            value = b"" if entry is None else json.dumps(entry, separators=(",", ":")).encode()
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
            entry["window"] = [w.end, w.mentions, w.unique_authors, w.negative_ratio,
                               w.outage_reports, w.expected]  # fmt: skip
        elif kind == "signal":
            s = self._open.get(labels[0])
            if s is None:
                return None
            entry["signal"] = [s.subject, s.kind, s.severity, s.detector, s.observed,
                               s.expected, s.score]  # fmt: skip
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
                self._last_ingested, source, float(entry["ts"]),
                m.source_last_ingested.labels(source=source),
            )  # fmt: skip
        elif kind == "official":
            subject = self._admit(self.subject, str(labels[0]))
            self._set_latest(
                self._last_official, subject, float(entry["ts"]),
                m.official_update_time.labels(subject=subject),
            )  # fmt: skip
        elif kind == "event_clock":
            self._latest_event = max(self._latest_event, float(entry["ts"]))
            m.latest_event_time.set(self._latest_event)
        elif kind == "window":
            subject = self._admit(self.subject, str(labels[0]))
            values = entry["window"]
            end, mentions, authors, negative, outages = (float(x) for x in values[:5])
            window = _Window(
                end, mentions, authors, negative, outages,
                # absent in a state written before the field existed
                float(values[5]) if len(values) > 5 and values[5] is not None else None,
            )  # fmt: skip
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


class ConsumerLagMonitor:
    """Exports each watched group's lag: end offsets minus committed offsets.

    Runs in its own thread with its own Kafka clients (``admin``: a
    ``KafkaAdminClient``; ``offsets``: a group-less ``KafkaConsumer`` with
    ``read_committed``), so a slow broker never stalls the worker loop. A group
    with no committed offset on a partition is behind by the whole partition.
    """

    def __init__(
        self,
        *,
        admin: Any,
        offsets: Any,
        targets: Mapping[str, Sequence[str]],
        metrics: PipelineMetrics,
    ) -> None:
        self.admin = admin
        self.offsets = offsets
        self.targets = dict(targets)
        self.metrics = metrics

    def refresh(self) -> dict[tuple[str, str], int]:
        """Measure and export the lag once; return it per (group, topic)."""
        lag = consumer_lag(self.admin, self.offsets, self.targets)
        for (group, topic), behind in lag.items():
            self.metrics.consumer_lag.labels(group=group, topic=topic).set(behind)
        return lag

    def run(self, stop: threading.Event, interval_s: float) -> None:
        """Refresh every ``interval_s`` until ``stop`` is set; errors are counted, not raised."""
        while not stop.is_set():
            try:
                self.refresh()
                self.metrics.lag_refreshes.labels(outcome="ok").inc()
            except Exception:  # a broker hiccup must not kill the thread
                log.warning("sink-metrics: consumer lag refresh failed", exc_info=True)
                self.metrics.lag_refreshes.labels(outcome="error").inc()
            stop.wait(interval_s)


def start_lag_monitor(settings: SinkMetricsSettings, metrics: PipelineMetrics) -> threading.Event:
    """Run a :class:`ConsumerLagMonitor` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        from kafka import KafkaAdminClient

        from earful.worker import make_consumer

        while not stop.is_set():
            try:
                admin = KafkaAdminClient(
                    bootstrap_servers=settings.kafka_bootstrap,
                    client_id=f"{settings.kafka_client_id}-lag",
                )
            except Exception:  # broker not reachable yet: try again later
                log.warning("sink-metrics: cannot reach Kafka for consumer lag", exc_info=True)
                metrics.lag_refreshes.labels(outcome="error").inc()
                stop.wait(settings.metrics_lag_interval_s)
                continue
            offsets = make_consumer(settings, group=None, topics=[])
            try:
                monitor = ConsumerLagMonitor(
                    admin=admin, offsets=offsets, targets=lag_targets(settings), metrics=metrics
                )
                monitor.run(stop, settings.metrics_lag_interval_s)
            finally:
                offsets.close()
                admin.close()

    threading.Thread(target=loop, name="earful-consumer-lag", daemon=True).start()
    return stop


def ensure_state_topic(settings: SinkMetricsSettings) -> None:
    """Create the sink's compacted state topic if it is missing (one partition: it is small).

    Compaction keeps the latest value per key; ``delete`` after 30 days drops
    what nothing has refreshed for that long (a source silent for a month).
    """
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.kafka_client_id}-admin"
    )
    try:
        if settings.state_topic in set(admin.list_topics()):
            return
        admin.create_topics(
            [
                NewTopic(
                    settings.state_topic,
                    1,
                    settings.topic_replication,
                    topic_configs={
                        "cleanup.policy": "compact,delete",
                        "retention.ms": str(30 * 24 * 3600 * 1000),
                        "min.compaction.lag.ms": "60000",
                    },
                )
            ],
            raise_errors=False,
            wait_for_metadata=True,
        )
    finally:
        admin.close()


def load_state(
    settings: SinkMetricsSettings,
    processor: MetricsProcessor,
    reader: Any,
    *,
    timeout_s: float = 60.0,
) -> int:
    """Restore the processor's gauges from the state topic; returns how many were restored.

    ``reader``: a consumer with no group and no subscription.
    """
    from earful.kafkautil import read_to_end

    latest: dict[bytes, bytes] = {}
    for record in read_to_end(reader, settings.state_topic, timeout_s=timeout_s):
        if record.key is None:
            continue
        latest.pop(record.key, None)  # re-insert: the dict keeps the order of last writes
        latest[record.key] = record.value or b""
    return processor.restore(latest.values())


def prepare_state(settings: SinkMetricsSettings, processor: MetricsProcessor) -> int:
    """Create the state topic if needed and restore from it (the CLI's start-up step)."""
    from earful.worker import make_consumer

    try:
        ensure_state_topic(settings)
        reader = make_consumer(settings, group=None, topics=[])
        try:
            restored = load_state(settings, processor, reader)
        finally:
            reader.close(autocommit=False)
    except Exception as exc:  # the sink still counts; the gauges fill as records arrive
        log.warning(
            "sink-metrics: could not restore gauges from %s (%s); starting without them",
            settings.state_topic, exc,
        )  # fmt: skip
        return 0
    log.info("sink-metrics: restored %d gauge value(s) from %s", restored,
             settings.state_topic)  # fmt: skip
    return restored
