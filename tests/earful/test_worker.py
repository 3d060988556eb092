"""The worker loop without a broker: commits, abandoned batches, reconnection, start-up.

A small in-memory log stands in for Kafka: consumers read from the committed
offsets, a transactional producer's outputs and offsets become visible only
on commit, and each knob injects one fault the real broker produces in an
outage (an expired send, a commit that never answers, a poll that fails, no
broker at all). The same faults against the real broker are in
``test_broker_outage.py``.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from kafka.errors import KafkaConnectionError, KafkaTimeoutError
from kafka.structs import TopicPartition

from earful.errors import KafkaUnavailableError
from earful.health import HealthState
from earful.settings import BaseWorkerSettings
from earful.worker import Output, Worker

IN = "in"
OUT = "out"


@dataclass
class Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class Future:
    def __init__(self, error: BaseException | None = None) -> None:
        self.is_done = True
        self.exception = error

    def failed(self) -> bool:
        return self.exception is not None


class Result:
    """A transaction request's result that never completes (the broker went away)."""

    def wait(self, timeout_ms: float | None = None) -> bool:
        return False


@dataclass
class Log:
    """The 'broker': input records, committed outputs and offsets, and the faults to inject."""

    records: list[Record]
    committed: dict[TopicPartition, int] = field(default_factory=dict)
    outputs: list[bytes] = field(default_factory=list)
    fail_sends: int = 0  # the next n sends are reported failed (expired)
    hang_commits: int = 0  # the next n commits never answer...
    hung_commit_lands: bool = False  # ...but did reach the broker
    poll_errors: int = 0
    poll_bugs: int = 0  # the next n polls raise what the client should not (not a KafkaError)
    connect_errors: int = 0
    connects: int = 0
    aborts: int = 0


class Consumer:
    def __init__(self, log: Log) -> None:
        self.log = log
        self.tp = TopicPartition(IN, 0)
        self.position = log.committed.get(self.tp, 0)
        self.closed = False

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[Record]]:
        if self.log.poll_errors:
            self.log.poll_errors -= 1
            raise KafkaConnectionError("connection refused")
        if self.log.poll_bugs:
            self.log.poll_bugs -= 1
            raise AssertionError("client state after a broker restart")
        batch = self.log.records[self.position : self.position + max_records]
        self.position += len(batch)
        return {self.tp: batch} if batch else {}

    def assignment(self) -> set[TopicPartition]:
        return {self.tp}

    def group_metadata(self) -> str:
        return "group"

    def commit(self, offsets: dict[TopicPartition, Any], timeout_ms: int) -> None:
        self.log.committed.update({tp: om.offset for tp, om in offsets.items()})

    def close(self, autocommit: bool = False, timeout_ms: int | None = None) -> None:
        self.closed = True


class Producer:
    """Transactional when its worker is; otherwise every acknowledged send is visible."""

    def __init__(self, log: Log, *, transactional: bool) -> None:
        self.log = log
        self.transactional = transactional
        self.pending: list[bytes] = []
        self.offsets: dict[TopicPartition, int] = {}

    def init_transactions(self) -> None:
        self.pending, self.offsets = [], {}  # what a predecessor left is aborted

    def begin_transaction(self) -> None:
        self.pending, self.offsets = [], {}

    def send(self, topic: str, value: bytes, key: Any = None, headers: Any = None) -> Future:
        if self.log.fail_sends:
            self.log.fail_sends -= 1
            return Future(KafkaTimeoutError("Expiring 1 record(s): delivery timeout"))
        if self.transactional:
            self.pending.append(value)
        else:
            self.log.outputs.append(value)
        return Future()

    def flush(self, timeout: float | None = None) -> None:
        pass

    def send_offsets_to_transaction(self, offsets: dict[TopicPartition, Any], _gm: Any) -> None:
        self.offsets = {tp: om.offset for tp, om in offsets.items()}

    def commit_transaction(self) -> None:
        self.log.outputs.extend(self.pending)
        self.log.committed.update(self.offsets)

    def abort_transaction(self) -> None:
        self.log.aborts += 1
        self.pending, self.offsets = [], {}

    def close(self, timeout: float | None = None) -> None:
        pass


class HangingProducer(Producer):
    """Its transaction calls go through the bounded path, and its commit may never answer."""

    def __init__(self, log: Log, *, transactional: bool) -> None:
        super().__init__(log, transactional=transactional)
        self._transaction_manager = _Manager(self)
        self._sender = self

    def wakeup(self) -> None:
        pass


class _Manager:
    """The slice of kafka-python's transaction manager the worker's bounded calls use."""

    def __init__(self, producer: Producer) -> None:
        self.producer = producer

    def send_offsets_to_transaction(self, offsets: Any, group_metadata: Any) -> Any:
        self.producer.send_offsets_to_transaction(offsets, group_metadata)
        return _Done()

    def begin_commit(self) -> Any:
        log = self.producer.log
        if log.hang_commits:
            log.hang_commits -= 1
            if log.hung_commit_lands:
                self.producer.commit_transaction()
            return Result()
        self.producer.commit_transaction()
        return _Done()

    def begin_abort(self) -> Any:
        self.producer.abort_transaction()
        return _Done()


class _Done:
    def wait(self, timeout_ms: float | None = None) -> bool:
        return True


class Upper:
    """Processor: one output per record; remembers what it holds until told to discard."""

    def __init__(self) -> None:
        self.held: list[bytes] = []
        self.discards = 0

    def process(self, record: Record) -> Iterable[Output]:
        self.held.append(record.value)
        return [Output(OUT, record.value.upper())]

    def discard_uncommitted(self) -> None:
        self.discards += 1
        self.held.clear()


def settings(**overrides: Any) -> BaseWorkerSettings:
    values: dict[str, Any] = {
        "batch_max_records": 4,
        "poll_timeout_s": 0.01,
        "kafka_timeout_s": 0.2,
        "kafka_retry_max_s": 0.02,
        "kafka_startup_wait_s": 0.3,
        **overrides,
    }
    return BaseWorkerSettings(**values)


def records(n: int) -> list[Record]:
    return [Record(IN, 0, i, f"m{i}".encode()) for i in range(n)]


def worker_for(
    log: Log,
    *,
    transactional: bool = True,
    producer_cls: type[Producer] = Producer,
    processor: Upper | None = None,
    health: HealthState | None = None,
    **overrides: Any,
) -> Worker:
    def connect() -> tuple[Consumer, Producer]:
        log.connects += 1
        if log.connect_errors:
            log.connect_errors -= 1
            raise KafkaTimeoutError("Unable to bootstrap from [('127.0.0.1', 1)]")
        return Consumer(log), producer_cls(log, transactional=transactional)

    return Worker(
        name="test",
        settings=settings(**overrides),
        connect=connect,
        processor=processor or Upper(),
        transactional=transactional,
        health=health,
        probe=lambda _bootstrap: True,  # the in-memory log is always "listening"
    )


def expected(n: int) -> list[bytes]:
    return [f"M{i}".encode() for i in range(n)]


@pytest.mark.parametrize("transactional", [True, False])
def test_a_batch_with_an_unacknowledged_output_is_read_again_not_committed(
    transactional: bool,
) -> None:
    log = Log(records(10), fail_sends=1)
    processor = Upper()
    worker = worker_for(log, transactional=transactional, processor=processor)
    stats = worker.run(max_messages=10)
    # The failed batch's offsets never went in: it was read again.
    if transactional:
        assert log.outputs == expected(10)  # exactly once
    else:
        # At least once: the batch's acknowledged outputs repeat, nothing is missing.
        assert log.outputs == [b"M1", b"M2", b"M3", *expected(10)]
    assert log.committed[TopicPartition(IN, 0)] == 10
    assert stats.recoveries == 1
    assert stats.consumed == 10
    assert log.connects == 2
    assert processor.discards == 1
    if transactional:
        assert log.aborts == 1


@pytest.mark.parametrize("lands", [False, True], ids=["commit-lost", "commit-landed"])
def test_a_commit_that_never_answers_is_abandoned_within_the_bound(lands: bool) -> None:
    # Whether the hung commit reached the broker or not, the new producer
    # settles it and the re-read starts at the committed offsets: once each.
    log = Log(records(12), hang_commits=1, hung_commit_lands=lands)
    worker = worker_for(log, producer_cls=HangingProducer)
    thread = threading.Thread(target=worker.run, kwargs={"idle_timeout_s": 0.3}, daemon=True)
    thread.start()
    thread.join(5.0)
    assert not thread.is_alive(), "the worker stayed blocked in commit"
    assert log.outputs == expected(12)
    assert worker.stats.recoveries == 1


def test_a_failing_poll_is_waited_out_without_a_crash() -> None:
    log = Log(records(6), poll_errors=3)
    worker = worker_for(log)
    stats = worker.run(max_messages=6)
    assert log.outputs == expected(6)
    assert stats.recoveries == 3


def test_a_client_raising_a_non_kafka_error_is_replaced_not_fatal(
    caplog: pytest.LogCaptureFixture,
) -> None:
    log = Log(records(6), poll_bugs=2)
    worker = worker_for(log)
    stats = worker.run(max_messages=6)
    assert log.outputs == expected(6)
    assert stats.recoveries == 2
    assert log.connects == 3
    assert any(r.exc_info and r.exc_info[0] is AssertionError for r in caplog.records)


def test_a_broker_that_comes_back_is_reconnected_to() -> None:
    log = Log(records(5), poll_errors=1, connect_errors=4)
    worker = worker_for(log, kafka_startup_wait_s=0.0)
    stats = worker.run(max_messages=5)
    assert log.outputs == expected(5)
    assert log.connects == 6  # the first, then five attempts after the poll failed
    assert stats.recoveries == 1


def test_a_worker_that_never_reaches_kafka_gives_up_with_one_line() -> None:
    log = Log(records(1), connect_errors=10**6)
    worker = worker_for(log, kafka_bootstrap="127.0.0.1:1")
    with pytest.raises(KafkaUnavailableError) as caught:
        worker.run(max_messages=1)
    message = str(caught.value)
    assert "127.0.0.1:1" in message
    assert "\n" not in message
    assert log.connects >= 2  # it retried before giving up


def test_while_waiting_for_kafka_the_worker_is_live_and_not_ready() -> None:
    log = Log(records(3), connect_errors=10**6)
    health = HealthState(live_within_s=60, ready_within_s=30)
    worker = worker_for(log, health=health, kafka_startup_wait_s=0.0)
    thread = threading.Thread(target=worker.run, kwargs={"max_messages": 3}, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if log.connects >= 2:
                break
            threading.Event().wait(0.01)
        ready, live = health.ready(), health.live()
        assert not ready.ok
        assert ready.reason.startswith("waiting for Kafka: KafkaTimeoutError")
        assert live.ok
    finally:
        log.connect_errors = 0
        thread.join(5.0)
    assert not thread.is_alive()
    assert log.outputs == expected(3)


def test_a_stop_request_ends_the_wait_for_kafka() -> None:
    log = Log(records(1), connect_errors=10**6)
    worker = worker_for(log, kafka_startup_wait_s=0.0)
    threading.Timer(0.2, worker.request_stop).start()
    stats = worker.run(max_messages=1)
    assert stats.stopped_by == "requested"
    assert log.outputs == []
    worker.close()  # nothing to close: it never connected


def test_a_worker_given_fixed_clients_raises_the_kafka_error() -> None:
    # Without connect it cannot rebuild its clients, so it must not pretend to recover.
    log = Log(records(2), poll_errors=1)
    worker = Worker(
        name="fixed",
        settings=settings(),
        consumer=Consumer(log),
        producer=Producer(log, transactional=True),
        processor=Upper(),
        transactional=True,
    )
    with pytest.raises(KafkaConnectionError):
        worker.run(max_messages=2)
