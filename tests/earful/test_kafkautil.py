from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from kafka.partitioner import DefaultPartitioner, Partitioner
from kafka.partitioner.default import murmur2 as kafka_murmur2
from kafka.structs import TopicPartition

from earful.kafkautil import consumer_lag, key_hash_partitioner, murmur2


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


# -- consumer lag ----------------------------------------------------------------


@dataclass
class LogRecord:
    topic: str
    partition: int
    offset: int


@dataclass
class Committed:
    offset: int


class FakeLog:
    """Partitions as ``[log start, end)`` with the offsets that hold data (the rest are markers)."""

    def __init__(self, partitions: dict[TopicPartition, tuple[int, int, set[int]]]) -> None:
        self.partitions = partitions
        self.positions: dict[TopicPartition, int] = {}
        self.stalled = False  # a poll that returns nothing (a slow broker)

    def partitions_for_topic(self, topic: str) -> set[int]:
        return {tp.partition for tp in self.partitions if tp.topic == topic}

    def end_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.partitions[tp][1] for tp in tps}

    def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return {tp: self.partitions[tp][0] for tp in tps}

    def assign(self, tps: list[TopicPartition]) -> None:
        self.positions = dict.fromkeys(tps, 0)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.positions[tp] = offset

    def position(self, tp: TopicPartition) -> int:
        return self.positions[tp]

    def poll(self, timeout_ms: int) -> dict[TopicPartition, list[LogRecord]]:
        if self.stalled:
            return {}
        batch = {}
        for tp, position in self.positions.items():
            _, end, data = self.partitions[tp]
            batch[tp] = [
                LogRecord(tp.topic, tp.partition, o) for o in range(position, end) if o in data
            ]
            self.positions[tp] = end  # read_committed skips markers and aborted records
        return batch


class FakeAdmin:
    def __init__(self, committed: dict[str, dict[TopicPartition, int]]) -> None:
        self.committed = committed

    def list_group_offsets(self, groups: list[str]) -> dict[str, dict[TopicPartition, Committed]]:
        return {
            g: {tp: Committed(o) for tp, o in self.committed[g].items()}
            for g in groups
            if g in self.committed
        }


A0, A1, B0 = TopicPartition("a", 0), TopicPartition("a", 1), TopicPartition("b", 0)


def lag_log() -> FakeLog:
    return FakeLog(
        {
            # 0-9 data, 10 a commit marker: 10 records, end offset 11
            A0: (0, 11, set(range(10))),
            # retention deleted 0-4; 5-7 data, 8 a marker
            A1: (5, 9, {5, 6, 7}),
            # 0-2 aborted, 3 abort marker, 4-5 data, 6 commit marker
            B0: (0, 7, {4, 5}),
        }
    )


def test_lag_is_end_offset_minus_committed_offset_or_log_start() -> None:
    admin = FakeAdmin({"reader": {A0: 4, A1: 2}, "caught-up": {A0: 11, A1: 9, B0: 7}})
    targets = {"reader": ["a", "b"], "caught-up": ["a", "b"], "new": ["b"]}
    assert consumer_lag(admin, lag_log(), targets) == {
        # a/0: 11 - 4; a/1: offset 2 was deleted, from the start 5 to 9
        ("reader", "a"): 7 + 4,
        # no offset committed on b: the whole partition, markers included
        ("reader", "b"): 7,
        ("caught-up", "a"): 0,
        ("caught-up", "b"): 0,
        ("new", "b"): 7,
    }


def test_counted_lag_leaves_out_markers_and_aborted_records() -> None:
    admin = FakeAdmin({"reader": {A0: 4, A1: 2}, "done": {A0: 10, A1: 8, B0: 6}})
    targets = {"reader": ["a", "b"], "done": ["a", "b"]}
    assert consumer_lag(admin, lag_log(), targets, count_records=True) == {
        ("reader", "a"): 6 + 3,
        ("reader", "b"): 2,
        # read everything, only the trailing commit markers are past its offsets
        ("done", "a"): 0,
        ("done", "b"): 0,
    }
    # The cheap figure counts those markers.
    assert consumer_lag(admin, lag_log(), {"done": ["a", "b"]}) == {
        ("done", "a"): 2,
        ("done", "b"): 1,
    }


def test_counted_lag_never_under_reports_what_it_could_not_read() -> None:
    log = lag_log()
    log.stalled = True
    admin = FakeAdmin({"reader": {A0: 4, A1: 9}})
    lag = consumer_lag(admin, log, {"reader": ["a"]}, count_records=True, timeout_s=0.01)
    assert lag == {("reader", "a"): 7}


def test_lag_of_no_targets_asks_no_group() -> None:
    assert consumer_lag(FakeAdmin({}), lag_log(), {}) == {}
