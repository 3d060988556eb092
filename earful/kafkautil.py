"""Small Kafka helpers shared by workers and tests."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

__all__ = ["read_to_end"]


def read_to_end(consumer: Any, topic: str, *, timeout_s: float = 30.0) -> Iterator[Any]:
    """Yield every record of ``topic`` from the beginning to its current end.

    ``consumer`` must have no group and no subscription; it is assigned all
    partitions here. With ``read_committed`` the end is the last stable offset,
    so aborted transactions are skipped.
    """
    from kafka import TopicPartition

    partitions = consumer.partitions_for_topic(topic) or set()
    tps = [TopicPartition(topic, p) for p in sorted(partitions)]
    if not tps:
        return
    consumer.assign(tps)
    consumer.seek_to_beginning(*tps)
    end = consumer.end_offsets(tps)
    remaining = {tp for tp in tps if end[tp] > consumer.position(tp)}
    deadline = time.monotonic() + timeout_s
    while remaining and time.monotonic() < deadline:
        batch = consumer.poll(timeout_ms=500)
        for tp, records in batch.items():
            for record in records:
                if record.offset < end[tp]:
                    yield record
        for tp in list(remaining):
            if consumer.position(tp) >= end[tp]:
                remaining.discard(tp)
    if remaining:
        raise TimeoutError(f"could not read {topic} to its end within {timeout_s}s")
