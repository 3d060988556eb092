"""Dedup of ids (bounded, restored from the raw topic) and flood flags."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.ingest.dedup import FloodDetector, SeenIds, recent_ids, text_fingerprint
from earful.worker import make_consumer, make_producer

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
SPAM = "Get free Acme credits now at the link below, limited offer for everyone"


def test_seen_ids_forget_the_oldest_beyond_capacity() -> None:
    seen = SeenIds(capacity=3)
    seen.update(["a", "b", "c"])
    seen.add("a")  # refreshed: now the newest
    seen.add("d")
    assert "b" not in seen
    assert {"a", "c", "d"} <= {i for i in "abcd" if i in seen}
    assert len(seen) == 3


def test_fingerprint_ignores_case_urls_mentions_digits_and_punctuation() -> None:
    a = text_fingerprint(f"{SPAM} https://spam.example/1 @bob 123!", min_words=6)
    b = text_fingerprint(f"{SPAM.upper()} http://spam.example/2?x=y @carol 456", min_words=6)
    assert a is not None and a == b
    assert text_fingerprint("is acme down???", min_words=6) is None
    assert text_fingerprint(SPAM + " but different", min_words=6) != a


def test_flood_flagged_from_the_threshold_within_the_window() -> None:
    floods = FloodDetector(threshold=3, window_s=60, min_words=6)
    fingerprint = floods.fingerprint(SPAM)
    assert fingerprint is not None
    marks = []
    for i in range(4):
        at = T0 + timedelta(seconds=i)
        marks.append(floods.mark(fingerprint, at))
        floods.record(fingerprint, at)
    assert [m.copies for m in marks] == [1, 2, 3, 4]
    assert [m.flood for m in marks] == [False, False, True, True]
    later = floods.mark(fingerprint, T0 + timedelta(seconds=200))  # the window has moved on
    assert later.copies == 1 and not later.flood


def test_a_mark_counts_nothing_until_recorded_and_adds_pending_copies() -> None:
    floods = FloodDetector(threshold=3, window_s=60, min_words=6)
    fingerprint = floods.fingerprint(SPAM)
    assert fingerprint is not None
    assert [floods.mark(fingerprint, T0).copies for _ in range(3)] == [1, 1, 1]
    assert floods.mark(fingerprint, T0, pending=2).flood


def test_short_outage_reports_are_never_a_flood() -> None:
    floods = FloodDetector(threshold=2, window_s=60, min_words=6)
    assert floods.fingerprint("is acme down?") is None


@pytest.mark.kafka
def test_recent_ids_reads_back_the_tail_of_the_raw_topic(
    settings_factory: Callable[..., Any],
) -> None:
    settings = settings_factory(topic_partitions=1)  # one partition: "the tail" is exact
    producer = make_producer(settings)
    for i in range(30):
        source = "mastodon" if i % 2 else "reddit"
        producer.send(settings.topic_raw, key=f"{source}:{i}".encode(), value=b"{}")
    producer.flush()
    producer.close()
    consumer = make_consumer(settings, group=None, topics=[])
    try:
        tail = list(recent_ids(consumer, settings.topic_raw, max_records=9, prefix="mastodon:"))
        everything = list(recent_ids(consumer, settings.topic_raw, max_records=1000))
    finally:
        consumer.close()
    assert tail == ["mastodon:21", "mastodon:23", "mastodon:25", "mastodon:27", "mastodon:29"]
    assert everything == [f"{'mastodon' if i % 2 else 'reddit'}:{i}" for i in range(30)]
