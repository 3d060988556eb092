"""Prometheus metrics of the ingest workers, one label set per connector.

All on an injected :class:`~prometheus_client.CollectorRegistry`:

================================================  =====================================
``earful_ingest_fetched_total{connector}``        posts the source returned
``earful_ingest_produced_total{connector}``       mentions Kafka acknowledged
``earful_ingest_dropped_total{connector,reason}`` ``no_match``, ``duplicate``,
                                                  ``malformed`` (unparseable payload),
                                                  ``invalid`` (parsed, not a valid mention)
``earful_ingest_errors_total{connector,kind}``    ``rate_limited``, ``transient``,
                                                  ``source`` (lasting), ``unexpected``,
                                                  ``kafka``
``earful_ingest_reposts_total{connector}``        reposts and boosts produced
``earful_ingest_near_duplicates_total{connector}`` mentions flagged as flood copies
``earful_ingest_last_success_timestamp_seconds``  last page fetched and made durable
``earful_ingest_lag_seconds{connector}``          now minus the event time the cursor
                                                  stands at (0 when caught up)
================================================  =====================================
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from prometheus_client import CollectorRegistry, Counter, Gauge

__all__ = ["DROP_REASONS", "ERROR_KINDS", "ConnectorTally", "IngestMetrics", "RunnerStats"]

DROP_REASONS = ("no_match", "duplicate", "malformed", "invalid")
ERROR_KINDS = ("rate_limited", "transient", "source", "unexpected", "kafka")


class IngestMetrics:
    """The counters and gauges; ``for_connector`` pre-creates a connector's series at zero."""

    def __init__(self, registry: CollectorRegistry) -> None:
        # Every series is earful_ingest_<name>, on the injected registry.
        counter = partial(Counter, namespace="earful", subsystem="ingest", registry=registry)
        gauge = partial(Gauge, namespace="earful", subsystem="ingest", registry=registry)
        connector = ["connector"]
        self.fetched = counter("fetched", "Posts the source returned.", connector)
        self.produced = counter(
            "produced", "Mentions produced and acknowledged by Kafka.", connector
        )
        self.dropped = counter("dropped", "Posts not produced, by reason.", ["connector", "reason"])
        self.errors = counter("errors", "Failed fetches or writes, by kind.", ["connector", "kind"])
        self.reposts = counter("reposts", "Reposts and boosts produced (kind 'repost').", connector)
        self.near_duplicates = counter(
            "near_duplicates", "Mentions flagged as copies in a flood.", connector
        )
        self.last_success = gauge(
            "last_success_timestamp_seconds",
            "When a page was last fetched and made durable.",
            connector,
        )
        self.lag = gauge(
            "lag_seconds", "How far behind the source the connector is, in event time.", connector
        )

    def for_connector(self, connector: str) -> None:
        """Create every series of ``connector`` at zero so dashboards see it from the start."""
        for counter in (self.fetched, self.produced, self.reposts, self.near_duplicates):
            counter.labels(connector)
        for reason in DROP_REASONS:
            self.dropped.labels(connector, reason)
        for kind in ERROR_KINDS:
            self.errors.labels(connector, kind)
        self.lag.labels(connector)
        self.last_success.labels(connector)


@dataclass
class RunnerStats:
    """What one run of a connector did, for its caller (burst mode, tests, the exit line)."""

    pages: int = 0
    fetched: int = 0
    produced: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    stopped_by: str = ""


class ConnectorTally:
    """Counts a connector's drops and errors twice: in its :class:`RunnerStats` and its metrics."""

    def __init__(self, connector: str, metrics: IngestMetrics, stats: RunnerStats) -> None:
        self.connector = connector
        self.metrics = metrics
        self.stats = stats
        metrics.for_connector(connector)

    def drop(self, reason: str, n: int = 1) -> None:
        self.stats.dropped[reason] = self.stats.dropped.get(reason, 0) + n
        self.metrics.dropped.labels(self.connector, reason).inc(n)

    def error(self, kind: str) -> None:
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1
        self.metrics.errors.labels(self.connector, kind).inc()
