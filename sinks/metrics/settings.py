"""What the metrics sink reads, the label bounds it keeps and the consumer groups it watches."""

from __future__ import annotations

from pydantic import Field

from earful.settings import BaseWorkerSettings

__all__ = ["MetricsSinkSettings", "input_topics", "lag_targets"]


class MetricsSinkSettings(BaseWorkerSettings):
    """``earful sink metrics``: where it serves, its label bounds and the lag it watches.

    Lists come from the YAML config file or as JSON in the environment, e.g.
    ``EARFUL_METRICS_SUBJECTS='["acme", "acmepay"]'``.
    """

    metrics_group: str = "earful-sink-metrics"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)
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


def input_topics(settings: MetricsSinkSettings) -> list[str]:
    """The topics the metrics sink consumes."""
    return [
        settings.topic_scored,
        settings.topic_windows,
        settings.topic_signals,
        settings.topic_deadletter,
        settings.topic_reactions,
    ]


def lag_targets(settings: MetricsSinkSettings) -> dict[str, tuple[str, ...]]:
    """Consumer group -> topics to measure lag on: the configured ones plus the sink's own."""
    targets = {settings.metrics_group: tuple(input_topics(settings))}
    targets.update(settings.metrics_lag_groups)
    return targets
