"""Sinks: Prometheus metrics and alerts for responders."""

__all__ = ["SETTINGS_MODULES"]

#: Modules whose settings classes read the shared config file (see earful.settings).
SETTINGS_MODULES = (
    "earful.sinks.metrics.settings",
    "earful.sinks.signal_alerts",
    "earful.sinks.delivery",
)
