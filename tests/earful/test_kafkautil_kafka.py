"""Consumer lag on the real broker, where transactions leave markers and aborted records."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from kafka.structs import OffsetAndMetadata

from earful.worker import make_consumer, make_producer
from tests.kafka_io import lag

pytestmark = pytest.mark.kafka


def _transactions(settings: Any, topic: str, batches: list[tuple[int, bool]]) -> None:
    """One transaction per ``(records, commit)``, keyed so every partition gets some."""
    producer = make_producer(settings, transactional_id=f"{topic}-writer")
    try:
        producer.init_transactions()
        for n, commit in batches:
            producer.begin_transaction()
            for i in range(n):
                producer.send(topic, key=f"k{i}".encode(), value=b"v")
            producer.flush()
            (producer.commit_transaction if commit else producer.abort_transaction)()
    finally:
        producer.close(timeout=10)


def test_a_caught_up_group_counts_no_records_though_markers_follow_its_offsets(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = settings_factory()
    topic, group = settings.topic_raw, unique_name("group")
    _transactions(settings, topic, [(6, True), (4, False), (3, True)])
    # Nothing committed yet: every committed record counts, the aborted ones do not.
    assert lag(settings, group, topic, count_records=True) == 9
    offsets_ahead = lag(settings, group, topic)
    assert offsets_ahead > 9 + 4  # aborted records and markers have offsets too

    consumer = make_consumer(settings, group=group, topics=[topic])
    try:
        seen, last = 0, {}
        deadline = time.monotonic() + 60
        while seen < 9 and time.monotonic() < deadline:
            for tp, records in consumer.poll(timeout_ms=500).items():
                seen += len(records)
                last[tp] = records[-1].offset
        assert seen == 9
        # As the worker commits: after the last record read, not past the marker behind it.
        consumer.commit({tp: OffsetAndMetadata(offset + 1, "", -1) for tp, offset in last.items()})
    finally:
        consumer.close(autocommit=False)
    assert lag(settings, group, topic, count_records=True) == 0
    assert lag(settings, group, topic) > 0  # the commit markers behind the last records
