"""The consumer-lag monitor on an in-memory log: what it watches, what it exports."""

from __future__ import annotations

import threading
from typing import NoReturn

from prometheus_client import CollectorRegistry

from earful.sinks.metrics import (
    ConsumerLagMonitor,
    MetricsSinkSettings,
    PipelineMetrics,
    input_topics,
    lag_targets,
)
from tests.earful.test_kafkautil import A0, A1, B0, FakeAdmin, lag_log


def test_lag_targets_include_the_sink_itself_and_configured_groups() -> None:
    settings = MetricsSinkSettings(metrics_lag_groups={"earful-analyzer": ("earful.mentions.raw",)})
    targets = lag_targets(settings)
    assert targets["earful-analyzer"] == ("earful.mentions.raw",)
    assert targets[settings.metrics_group] == tuple(input_topics(settings))


def test_each_group_and_topic_is_exported() -> None:
    registry = CollectorRegistry()
    monitor = ConsumerLagMonitor(
        admin=FakeAdmin({"reader": {A0: 4, A1: 9, B0: 7}}),
        offsets=lag_log(),
        targets={"reader": ["a", "b"]},
        metrics=PipelineMetrics(registry),
    )
    assert monitor.refresh() == {("reader", "a"): 7, ("reader", "b"): 0}
    lag = "earful_consumer_lag_records"
    assert registry.get_sample_value(lag, {"group": "reader", "topic": "a"}) == 7
    assert registry.get_sample_value(lag, {"group": "reader", "topic": "b"}) == 0


class OneRound(threading.Event):
    """A stop event that ends the monitor's loop at its first wait."""

    def __init__(self) -> None:
        super().__init__()
        self.waited: list[float | None] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waited.append(timeout)
        self.set()
        return True


def test_a_failed_refresh_is_counted_and_the_monitor_waits_for_the_next() -> None:
    class Unreachable:
        def list_group_offsets(self, groups: list[str]) -> NoReturn:
            raise ConnectionError("no broker")

    registry = CollectorRegistry()
    monitor = ConsumerLagMonitor(
        admin=Unreachable(),
        offsets=lag_log(),
        targets={"reader": ["a"]},
        metrics=PipelineMetrics(registry),
    )
    stop = OneRound()
    monitor.run(stop, interval_s=15.0)
    refreshes = "earful_consumer_lag_refreshes_total"
    assert registry.get_sample_value(refreshes, {"outcome": "error"}) == 1
    assert registry.get_sample_value(refreshes, {"outcome": "ok"}) is None
    assert stop.waited == [15.0]
