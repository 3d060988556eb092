from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner import DefaultPartitioner, Partitioner
from kafka.partitioner.default import murmur2 as kafka_murmur2

from earful.kafkautil import key_hash_partitioner, murmur2


class FakeCluster:
    def __init__(self, partitions: dict[str, set[int]]) -> None:
        self.partitions = partitions

    def topics(self) -> set[str]:
        return set(self.partitions)

    def partitions_for_topic(self, topic: str) -> set[int] | None:
        parts = self.partitions.get(topic)
        return None if parts is None else set(parts)

    def available_partitions_for_topic(self, topic: str) -> set[int] | None:
        return self.partitions_for_topic(topic)


@given(st.binary(max_size=300))
def test_murmur2_is_kafkas(data: bytes) -> None:
    assert murmur2(data) == kafka_murmur2(data)


@given(
    keys=st.lists(st.binary(min_size=0, max_size=40), min_size=1, max_size=50),
    n=st.integers(min_value=1, max_value=64),
)
def test_keyed_records_go_where_the_default_partitioner_puts_them(
    keys: list[bytes], n: int
) -> None:
    cluster: Any = FakeCluster({"t": set(range(n))})
    ours = key_hash_partitioner()
    default = DefaultPartitioner()
    for key in keys + keys:  # the second time from the remembered hash
        assert ours.partition("t", key, key, b"v", b"v", cluster) == default.partition(
            "t", key, key, b"v", b"v", cluster
        )


def test_partition_count_change_and_unkeyed_records() -> None:
    cluster = FakeCluster({"t": {0, 1, 2}})
    ours = key_hash_partitioner()
    assert isinstance(ours, Partitioner)  # kafka-python takes it without a warning
    before = ours.partition("t", None, b"acme", None, b"v", cluster)
    assert before == DefaultPartitioner().partition("t", None, b"acme", None, b"v", cluster)
    cluster.partitions["t"] = set(range(7))
    assert (
        ours.partition("t", None, b"acme", None, b"v", cluster)
        == (murmur2(b"acme") & 0x7FFFFFFF) % 7
    )
    assert all(ours.partition("t", None, None, None, b"v", cluster) in range(7) for _ in range(50))


def test_the_hash_memory_is_bounded() -> None:
    cluster = FakeCluster({"t": {0, 1, 2}})
    ours = key_hash_partitioner()
    for i in range(10_000):
        key = str(i).encode()
        assert ours.partition("t", None, key, None, b"v", cluster) == (
            (kafka_murmur2(key) & 0x7FFFFFFF) % 3
        )
    assert len(ours._hashes) <= 4096
