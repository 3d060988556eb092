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
import logging
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from pydantic import Field

from earful.errors import SchemaError
from earful.events import (
    SOURCES,
    ReactionStats,
    ScoredMention,
    Signal,
    UpdateReaction,
    WindowStats,
    decode,
    now_utc,
)
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
    "input_topics",
    "lag_targets",
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


class MetricsProcessor:
    """Updates metrics from the records it consumes; produces nothing."""

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
        self._latest_window: dict[tuple[str, str], datetime] = {}
        self._last_ingested: dict[str, float] = {}
        self._last_official: dict[str, float] = {}
        self._latest_reaction: dict[tuple[str, str, str], datetime] = {}
        self._handlers: Mapping[str, Callable[[ConsumedRecord], None]] = {
            settings.topic_scored: self._scored,
            settings.topic_windows: self._window,
            settings.topic_signals: self._signal,
            settings.topic_deadletter: self._deadletter,
            settings.topic_reactions: self._reaction,
        }

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
        if m.is_official:
            self.metrics.official_updates.labels(subject=subject, source=source).inc()
            self._set_latest(
                self._last_official, subject, m.created_at.timestamp(),
                self.metrics.official_update_time.labels(subject=subject),
            )  # fmt: skip
        self.metrics.ingest_to_scored.observe(
            max(0.0, (scored.scored_at - m.ingested_at).total_seconds())
        )
        self.metrics.event_to_scored.observe(
            max(0.0, (scored.scored_at - m.created_at).total_seconds())
        )
        self.metrics.source_delay.labels(source=source).observe(
            max(0.0, (m.ingested_at - m.created_at).total_seconds())
        )
        self._set_latest(
            self._last_ingested, source, m.ingested_at.timestamp(),
            self.metrics.source_last_ingested.labels(source=source),
        )  # fmt: skip

    @staticmethod
    def _set_latest(latest: dict[str, float], key: str, value: float, gauge: Any) -> None:
        # Partitions interleave, so only move a timestamp gauge forward.
        if value > latest.get(key, float("-inf")):
            latest[key] = value
            gauge.set(value)

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
        if newest is not None and stats.window_end < newest:
            return  # an older window (re-emitted or out of order): the gauges show the latest
        self._latest_window[key] = stats.window_end
        labels = {"subject": subject, "source": source}
        self.metrics.window_mentions.labels(**labels).set(stats.mentions)
        self.metrics.window_unique_authors.labels(**labels).set(stats.unique_authors)
        self.metrics.window_negative_ratio.labels(**labels).set(stats.negative_share)
        self.metrics.window_outage_reports.labels(**labels).set(stats.outage_reports)
        self.metrics.window_end.labels(**labels).set(stats.window_end.timestamp())

    # -- signals ----------------------------------------------------------------

    def _signal(self, record: ConsumedRecord) -> None:
        signal = decode(Signal, record.value)
        current = _OpenSignal(
            subject=self.subject(signal.subject),
            kind=signal.kind,
            severity=signal.severity,
            detector=self.detector(signal.detector),
        )
        previous = self._open.get(signal.id)
        per_detector = (current.subject, current.kind, current.detector)
        if signal.state == "resolved":
            if previous is None:
                return  # never seen open (redelivery, or opened before this sink started)
            del self._open[signal.id]
            self.metrics.signals.labels(
                previous.subject, previous.kind, previous.severity, "resolved"
            ).inc()
            closed = (previous.subject, previous.kind, previous.detector)
            if all((s.subject, s.kind, s.detector) != closed for s in self._open.values()):
                # Observed and expected exist only while a signal is open.
                for gauge in self._per_detector_gauges():
                    gauge.remove(*closed)
        else:
            if previous is None:
                self.metrics.signals.labels(
                    current.subject, current.kind, current.severity, "open"
                ).inc()
            self._open[signal.id] = current
            self.metrics.signal_observed.labels(*per_detector).set(signal.observed)
            self.metrics.signal_expected.labels(*per_detector).set(signal.expected)
            self.metrics.signal_score.labels(*per_detector).set(signal.score)
        self._refresh_open_counts()

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
        self._latest_reaction[key] = reaction.update_at
        periods: tuple[tuple[str, ReactionStats | None], ...] = (
            ("before", reaction.before),
            ("after", reaction.after),
            ("expected", reaction.expected),
        )
        for period, stats in periods:
            for measure, value in _reaction_measures(stats):
                labels = (subject, span, reaction.audience, period, measure)
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
        from kafka import TopicPartition

        tps_by_topic = {
            topic: [
                TopicPartition(topic, p)
                for p in sorted(self.offsets.partitions_for_topic(topic) or ())
            ]
            for topics in self.targets.values()
            for topic in topics
        }
        every_tp = [tp for tps in tps_by_topic.values() for tp in tps]
        ends = self.offsets.end_offsets(every_tp)
        starts = self.offsets.beginning_offsets(every_tp)
        committed = self.admin.list_group_offsets(list(self.targets))
        lag: dict[tuple[str, str], int] = {}
        for group, topics in self.targets.items():
            done = committed.get(group, {})
            for topic in topics:
                behind = 0
                for tp in tps_by_topic[topic]:
                    position = done[tp].offset if tp in done else starts[tp]
                    behind += max(0, ends[tp] - max(position, starts[tp]))
                lag[(group, topic)] = behind
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
