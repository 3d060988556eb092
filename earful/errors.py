"""Earful's exception tree, in one place.

::

    EarfulError
    ├── ConfigError            bad settings or tracking configuration; raised at start-up
    ├── RecordError            one record could not be processed (.reason)
    │   └── SchemaError        it does not match the event contract
    ├── KafkaUnavailableError  no broker answered at the configured address in time
    └── LocalKafkaError        the local development broker could not be set up or started
        ├── MissingToolError   Java or Maven is not installed
        └── PortInUseError     something else listens on the broker's port

Per-record errors (``SchemaError``, ``RecordError``) are data, not crashes: the
worker routes the record to the dead-letter topic with the error in its headers
and carries on.
"""

from __future__ import annotations

__all__ = [
    "ConfigError",
    "EarfulError",
    "KafkaUnavailableError",
    "LocalKafkaError",
    "MissingToolError",
    "PortInUseError",
    "RecordError",
    "SchemaError",
]


class EarfulError(Exception):
    """Root of every error Earful raises on purpose."""


class ConfigError(EarfulError):
    """The configuration is invalid; the message says where and why."""


class RecordError(EarfulError):
    """One record cannot be processed. ``reason`` is a short machine-readable tag."""

    def __init__(self, message: str, *, reason: str = "processing") -> None:
        super().__init__(message)
        self.reason = reason


class SchemaError(RecordError):
    """A record does not match the event contract (bad JSON, version, fields)."""


class KafkaUnavailableError(EarfulError):
    """No Kafka broker answered at the configured bootstrap address within the start-up wait.

    Raised only before a worker has ever connected: once running, a worker waits
    out a broker outage of any length instead.
    """


class LocalKafkaError(EarfulError):
    """The local development broker could not be prepared, started or stopped."""


class MissingToolError(LocalKafkaError):
    """A tool the local broker needs (java, mvn) is not on PATH."""


class PortInUseError(LocalKafkaError):
    """The broker's port is already taken by another process."""
