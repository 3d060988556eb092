"""Sinks: Prometheus metrics and alerts for responders."""

__all__: list[str] = []
