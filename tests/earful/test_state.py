"""The changelog helper against the real broker: latest per key, restore on assignment."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from kafka.structs import TopicPartition

from earful.settings import BaseWorkerSettings
from earful.state import (
    ChangelogListener,
    ensure_compacted_topic,
    load_partition_states,
    read_latest,
    state_reader,
    state_record,
)
from earful.worker import make_consumer
from tests.kafka_io import produce

pytestmark = pytest.mark.kafka


class Store:
    def __init__(self) -> None:
        self.states: dict[str, dict[str, Any]] = {}
        self.forgotten: list[set[int]] = []

    def restore(self, state: dict[str, Any]) -> None:
        if state.get("broken"):
            raise KeyError("a field this store needs")
        self.states[state["subject"]] = state

    def forget_partitions(self, partitions: set[int]) -> None:
        self.forgotten.append(partitions)
        for subject in [s for s, st in self.states.items() if st["partition"] in partitions]:
            del self.states[subject]


def reader(settings: BaseWorkerSettings) -> Any:
    return make_consumer(settings, group=None, topics=[])


def state(subject: str, partition: int, n: int, **extra: Any) -> bytes:
    return state_record({"subject": subject, "partition": partition, "n": n, **extra})


def test_the_latest_state_per_key_of_the_assigned_partitions_is_restored(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = settings_factory()
    topic = unique_name("changelog")
    assert ensure_compacted_topic(settings, topic, partitions_like=settings.topic_scored)
    assert not ensure_compacted_topic(settings, topic)  # already there
    produce(
        settings,
        topic,
        [
            (b"acme", state("acme", 0, 1)),
            (b"beta", state("beta", 1, 1)),
            (b"acme", state("acme", 0, 2)),  # the latest wins
            (b"gone", state("gone", 0, 1)),
            (b"gone", None),  # tombstone: deleted
            (b"junk", b"not json"),  # skipped with a warning
            (b"moved", state("moved", 0, 1)),
            (b"moved", state("moved", 2, 2)),  # now owned by partition 2
            (b"broken", state("broken", 0, 1, broken=True)),  # the store refuses it
        ],
    )
    with state_reader(settings) as consumer:
        latest = read_latest(consumer, topic)
    assert set(latest) == {b"acme", b"beta", b"junk", b"moved", b"broken"}

    with state_reader(settings) as consumer:
        on_0 = load_partition_states(consumer, topic, {0})
    assert sorted((s["subject"], s["n"]) for s in on_0) == [("acme", 2), ("broken", 1)]

    store = Store()
    listener = ChangelogListener(
        store,
        changelog_topic=topic,
        input_topic=settings.topic_scored,
        make_reader=lambda: reader(settings),
        name="test",
    )
    other = TopicPartition(settings.topic_signals, 1)  # a co-partitioned topic does not count
    listener.on_partitions_assigned([TopicPartition(settings.topic_scored, 0), other])
    assert {s: st["n"] for s, st in store.states.items()} == {"acme": 2}
    assert listener.loaded == 1
    listener.on_partitions_assigned([TopicPartition(settings.topic_scored, 2)])
    assert set(store.states) == {"acme", "moved"}
    listener.on_partitions_revoked([TopicPartition(settings.topic_scored, 0)])
    assert set(store.states) == {"moved"}


def test_latest_records_come_in_the_order_of_their_last_write(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = settings_factory()
    topic = unique_name("changelog")
    assert ensure_compacted_topic(settings, topic, partitions=1)
    produce(
        settings,
        topic,
        [(b"a", b"1"), (b"b", b"1"), (b"c", b"1"), (b"a", b"2"), (b"b", None), (b"b", b"3")],
    )
    with state_reader(settings) as consumer:
        latest = read_latest(consumer, topic)
    assert [(key, record.value) for key, record in latest.items()] == [
        (b"c", b"1"),
        (b"a", b"2"),
        (b"b", b"3"),
    ]
