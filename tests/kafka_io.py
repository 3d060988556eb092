"""Write records to a topic and read a topic whole, for the tests that use the real broker."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from kafka.errors import KafkaError

from earful.kafkautil import consumer_lag, make_admin, read_to_end
from earful.settings import BaseWorkerSettings
from earful.state import state_reader
from earful.worker import make_producer

__all__ = ["lag", "produce", "read_all"]


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


def lag(
    settings: BaseWorkerSettings, group: str, topic: str, *, count_records: bool = False
) -> int:
    """How many records of ``topic`` ``group`` has not committed (:func:`consumer_lag`).

    Asks again for up to a minute while the broker cannot answer for groups yet
    (a fresh broker creates its offsets topic on the first group's request).
    """
    deadline = time.monotonic() + 60
    admin = make_admin(settings, role="test-lag")
    try:
        with state_reader(settings) as reader:
            while True:
                try:
                    measured = consumer_lag(
                        admin, reader, {group: [topic]}, count_records=count_records
                    )
                    return measured[(group, topic)]
                except KafkaError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.5)
    finally:
        admin.close()
