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

The package: :mod:`.settings` (what the sink reads and watches),
:mod:`.families` (every metric family, and :class:`BoundedLabel`),
:mod:`.processor` (records to metrics, and the gauges it keeps as state),
:mod:`.state` (that state's compacted topic) and :mod:`.lag` (consumer lag).
"""

from earful.sinks.metrics.families import (
    COMPOUND_BUCKETS,
    LATENCY_BUCKETS,
    OTHER,
    SOURCE_DELAY_BUCKETS,
    BoundedLabel,
    PipelineMetrics,
)
from earful.sinks.metrics.lag import ConsumerLagMonitor, start_lag_monitor
from earful.sinks.metrics.processor import REACTION_MEASURES, MetricsProcessor
from earful.sinks.metrics.settings import MetricsSinkSettings, input_topics, lag_targets
from earful.sinks.metrics.state import ensure_state_topic, load_state, prepare_state

__all__ = [
    "COMPOUND_BUCKETS",
    "LATENCY_BUCKETS",
    "OTHER",
    "REACTION_MEASURES",
    "SOURCE_DELAY_BUCKETS",
    "BoundedLabel",
    "ConsumerLagMonitor",
    "MetricsProcessor",
    "MetricsSinkSettings",
    "PipelineMetrics",
    "ensure_state_topic",
    "input_topics",
    "lag_targets",
    "load_state",
    "prepare_state",
    "start_lag_monitor",
]
