"""Consumer lag: each watched group's backlog, measured in a thread of its own."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from earful.kafkautil import consumer_lag, make_admin
from earful.sinks.metrics.families import PipelineMetrics
from earful.sinks.metrics.settings import MetricsSinkSettings, lag_targets

__all__ = ["ConsumerLagMonitor", "start_lag_monitor"]

log = logging.getLogger(__name__)


class ConsumerLagMonitor:
    """Exports each watched group's lag (:func:`~earful.kafkautil.consumer_lag`).

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


def start_lag_monitor(settings: MetricsSinkSettings, metrics: PipelineMetrics) -> threading.Event:
    """Run a :class:`ConsumerLagMonitor` in a daemon thread; set the returned event to stop it."""
    stop = threading.Event()

    def loop() -> None:
        from earful.worker import make_consumer

        while not stop.is_set():
            try:
                admin = make_admin(settings, role="lag")
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
