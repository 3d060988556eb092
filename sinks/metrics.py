"""``earful sink metrics``: Prometheus metrics from the scored and dead-letter topics.

Labels are bounded: ``subject`` comes from the tracking configuration,
``source`` and ``label`` from closed sets. Nothing is labelled per author,
text or URL.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

# Counters also export a *_created series per label set unless told not to.
os.environ.setdefault("PROMETHEUS_DISABLE_CREATED_SERIES", "True")

from prometheus_client import CollectorRegistry, Counter, Histogram

from earful.events import ScoredMention, decode, now_utc
from earful.settings import MetricsSinkSettings
from earful.worker import Clock, ConsumedRecord, Output

__all__ = ["LATENCY_BUCKETS", "MetricsProcessor", "PipelineMetrics"]

LATENCY_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0)
# Edges at VADER's label thresholds (+-0.05) and its strong-sentiment mark (+-0.5).
COMPOUND_BUCKETS = (-0.75, -0.5, -0.25, -0.05, 0.05, 0.25, 0.5, 0.75, 1.0)


class PipelineMetrics:
    """The metric families of the first slice, registered on an injected registry."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.mentions = Counter(
            "earful_mentions_scored_total",
            "Scored mentions by subject, source and sentiment label.",
            ["subject", "source", "label"],
            registry=registry,
        )
        self.outage_reports = Counter(
            "earful_outage_reports_total",
            "Mentions recognised as outage reports, by subject.",
            ["subject"],
            registry=registry,
        )
        self.compound = Histogram(
            "earful_sentiment_compound",
            "Distribution of Earful's compound sentiment score.",
            ["subject"],
            buckets=COMPOUND_BUCKETS,
            registry=registry,
        )
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
        self.deadletters = Counter(
            "earful_deadletter_records_total",
            "Records routed to the dead-letter topic, by reason and worker.",
            ["reason", "worker"],
            registry=registry,
        )


class MetricsProcessor:
    """Updates metrics from scored mentions and dead letters; produces nothing."""

    def __init__(
        self, settings: MetricsSinkSettings, metrics: PipelineMetrics, clock: Clock = now_utc
    ) -> None:
        self.settings = settings
        self.metrics = metrics
        self.clock = clock

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        if record.topic == self.settings.topic_deadletter:
            headers = {k: v for k, v in (record.headers or [])}
            reason = headers.get("earful.error.reason", b"unknown").decode("utf-8", "replace")
            worker = headers.get("earful.worker", b"unknown").decode("utf-8", "replace")
            self.metrics.deadletters.labels(reason=reason[:64], worker=worker[:64]).inc()
            return ()
        scored = decode(ScoredMention, record.value)
        m = scored.mention
        label = scored.sentiment.label if scored.sentiment is not None else "unscored"
        self.metrics.mentions.labels(subject=scored.subject, source=m.source, label=label).inc()
        if scored.sentiment is not None:
            self.metrics.compound.labels(subject=scored.subject).observe(scored.sentiment.compound)
        if scored.outage is not None and scored.outage.is_report:
            self.metrics.outage_reports.labels(subject=scored.subject).inc()
        self.metrics.ingest_to_scored.observe(
            max(0.0, (scored.scored_at - m.ingested_at).total_seconds())
        )
        self.metrics.event_to_scored.observe(
            max(0.0, (scored.scored_at - m.created_at).total_seconds())
        )
        return ()
