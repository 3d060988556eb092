"""The metrics sink's state topic: created on start, read back into the processor."""

from __future__ import annotations

import logging
from typing import Any

from earful.sinks.metrics.processor import MetricsProcessor
from earful.sinks.metrics.settings import MetricsSinkSettings
from earful.state import ensure_compacted_topic, read_latest, state_reader

__all__ = ["ensure_state_topic", "load_state", "prepare_state"]

log = logging.getLogger(__name__)


def ensure_state_topic(settings: MetricsSinkSettings) -> bool:
    """Create the sink's compacted state topic if it is missing (one partition: it is small).

    Compaction keeps the latest value per key; ``delete`` after 30 days drops
    what nothing has refreshed for that long (a source silent for a month).
    """
    return ensure_compacted_topic(
        settings,
        settings.state_topic,
        partitions=1,
        configs={"cleanup.policy": "compact,delete", "retention.ms": str(30 * 24 * 3600 * 1000)},
    )


def load_state(
    settings: MetricsSinkSettings,
    processor: MetricsProcessor,
    reader: Any,
    *,
    timeout_s: float = 60.0,
) -> int:
    """Restore the processor's gauges from the state topic; returns how many were restored.

    ``reader``: a consumer with no group and no subscription.
    """
    latest = read_latest(reader, settings.state_topic, timeout_s=timeout_s)
    return processor.restore(record.value for record in latest.values())


def prepare_state(settings: MetricsSinkSettings, processor: MetricsProcessor) -> int:
    """Create the state topic if needed and restore from it (the CLI's start-up step)."""
    try:
        ensure_state_topic(settings)
        with state_reader(settings) as reader:
            restored = load_state(settings, processor, reader)
    except Exception as exc:  # the sink still counts; the gauges fill as records arrive
        log.warning(
            "sink-metrics: could not restore gauges from %s (%s); starting without them",
            settings.state_topic,
            exc,
        )
        return 0
    log.info("sink-metrics: restored %d gauge value(s) from %s", restored, settings.state_topic)
    return restored
