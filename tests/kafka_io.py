"""Write records to a topic and read a topic whole, for the tests that use the real broker."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from earful.kafkautil import read_to_end
from earful.settings import BaseWorkerSettings
from earful.state import state_reader
from earful.worker import make_producer

__all__ = ["produce", "read_all"]


def produce(
    settings: BaseWorkerSettings, topic: str, records: Iterable[tuple[bytes | None, bytes | None]]
) -> None:
    """Send ``(key, value)`` records (a ``None`` value is a tombstone) and wait for every ack."""
    producer = make_producer(settings)
    try:
        futures = [producer.send(topic, key=key, value=value) for key, value in records]
        producer.flush()
        for future in futures:
            future.get(timeout=30)
    finally:
        producer.close(timeout=10)


def read_all(settings: BaseWorkerSettings, topic: str) -> list[Any]:
    """Every committed record of ``topic``, from the beginning to its current end."""
    with state_reader(settings) as reader:
        return list(read_to_end(reader, topic))
