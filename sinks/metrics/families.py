"""Every metric family the sink exports, and the bound on their label values."""

from __future__ import annotations

from collections.abc import Iterable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics

__all__ = [
    "COMPOUND_BUCKETS",
    "LATENCY_BUCKETS",
    "OTHER",
    "SOURCE_DELAY_BUCKETS",
    "BoundedLabel",
    "PipelineMetrics",
]

OTHER = "other"
LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# How far a connector runs behind its network: seconds to an hour and more.
SOURCE_DELAY_BUCKETS = (1.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0, 900.0, 1800.0, 3600.0)
# Edges at VADER's label thresholds (+-0.05) and its strong-sentiment mark (+-0.5).
COMPOUND_BUCKETS = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75, 1.0)
_MAX_LABEL_CHARS = 64


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
