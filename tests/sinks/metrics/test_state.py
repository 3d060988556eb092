"""The metrics sink's state topic on the real broker: what a restarted sink shows again."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from earful.sinks.metrics import (
    MetricsProcessor,
    MetricsSinkSettings,
    PipelineMetrics,
    ensure_state_topic,
    prepare_state,
)
from tests.kafka_io import produce
from tests.sinks.metrics.test_processor import feed, gauges
from tests.sinks.metrics_records import signal, window

pytestmark = pytest.mark.kafka


def test_a_restarted_sink_reads_its_gauges_back_from_the_state_topic(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = settings_factory(MetricsSinkSettings, metrics_state_topic=unique_name("state"))
    registry = CollectorRegistry()
    processor = MetricsProcessor(settings, PipelineMetrics(registry))
    assert ensure_state_topic(settings)
    assert not ensure_state_topic(settings)  # already there
    feed(processor, settings.topic_windows, window(3), window(4, source="bluesky"))
    feed(processor, settings.topic_signals, signal("a", "open"), signal("b", "open"))
    outputs = processor.checkpoint_outputs()
    feed(processor, settings.topic_windows, window(5))  # a later value of the same key
    feed(processor, settings.topic_signals, signal("b", "resolved"))  # forgets signal b
    outputs += processor.checkpoint_outputs()
    produce(settings, settings.state_topic, [(out.key, out.value) for out in outputs])

    restarted_registry = CollectorRegistry()
    restarted = MetricsProcessor(settings, PipelineMetrics(restarted_registry))
    # The latest window of each source and the open signal; b's empty record is skipped.
    assert prepare_state(settings, restarted) == 3
    assert gauges(restarted_registry) == gauges(registry)
