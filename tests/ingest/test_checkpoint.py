"""Checkpoints: their encoding, and writing them with the mentions in one transaction."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from earful.errors import SchemaError
from earful.ingest.checkpoint import (
    Checkpoint,
    CheckpointWriter,
    KeyedRecord,
    decode_checkpoint,
    encode_checkpoint,
    ensure_checkpoint_topic,
    load_checkpoints,
)
from earful.ingest.settings import IngestSettings
from earful.kafkautil import read_to_end
from earful.worker import make_consumer, make_producer

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def test_checkpoint_round_trips() -> None:
    checkpoint = Checkpoint(connector="hackernews", cursor="1764064800", updated_at=T0, produced=7)
    assert decode_checkpoint(encode_checkpoint(checkpoint)) == checkpoint
    empty = Checkpoint(connector="x", cursor=None, updated_at=T0)
    assert decode_checkpoint(encode_checkpoint(empty)) == empty


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff", "not_json"),
        (b"[]", "schema_version"),
        (b'{"version": 2}', "schema_version"),
        (b'{"version": 1, "connector": "x"}', "invalid"),
        (b'{"version": 1, "connector": "x", "updated_at": "2026-11-25T10:00:00"}', "invalid"),
        (
            b'{"version": 1, "connector": "x", "cursor": 5, "updated_at": "2026-11-25T10:00Z"}',
            "invalid",
        ),
    ],
)
def test_bad_checkpoints_are_schema_errors(raw: bytes, reason: str) -> None:
    with pytest.raises(SchemaError) as info:
        decode_checkpoint(raw)
    assert info.value.reason == reason


def _settings(settings_factory: Callable[..., Any], unique_name: Callable[[str], str]) -> Any:
    settings: IngestSettings = settings_factory(
        IngestSettings, topic_checkpoints=unique_name("ckpt")
    )
    assert ensure_checkpoint_topic(settings)
    assert not ensure_checkpoint_topic(settings)  # already there
    return settings


def _load(settings: IngestSettings) -> dict[str, Checkpoint]:
    reader = make_consumer(settings, group=None, topics=[])
    try:
        return load_checkpoints(reader, settings.topic_checkpoints)
    finally:
        reader.close()


def _raw_keys(settings: IngestSettings) -> list[bytes]:
    reader = make_consumer(settings, group=None, topics=[])
    try:
        return [r.key for r in read_to_end(reader, settings.topic_raw)]
    finally:
        reader.close()


@pytest.mark.kafka
def test_latest_checkpoint_per_connector_wins_and_junk_is_skipped(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = _settings(settings_factory, unique_name)
    producer = make_producer(settings)
    for connector, cursor in (("a", "1"), ("b", "9"), ("a", "2"), ("c", "3")):
        value = encode_checkpoint(Checkpoint(connector=connector, cursor=cursor, updated_at=T0))
        producer.send(settings.topic_checkpoints, key=connector.encode(), value=value)
    # Unreadable, so connector b starts afresh: the earlier record is not used, since
    # compaction may already have removed it (the result must not depend on the cleaner).
    producer.send(settings.topic_checkpoints, key=b"b", value=b"not json")
    producer.send(settings.topic_checkpoints, key=b"c", value=None)  # tombstone: reset
    producer.flush()
    producer.close()
    loaded = _load(settings)
    assert {name: c.cursor for name, c in loaded.items()} == {"a": "2"}


@pytest.mark.kafka
@pytest.mark.parametrize("transactional", [True, False])
def test_writer_makes_mentions_and_cursor_durable(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str], transactional: bool
) -> None:
    settings = _settings(settings_factory, unique_name)
    txn = unique_name("txn") if transactional else None
    producer = make_producer(settings, transactional_id=txn)
    writer = CheckpointWriter(
        producer,
        raw_topic=settings.topic_raw,
        checkpoint_topic=settings.topic_checkpoints,
        transactional=transactional,
    )
    records = [KeyedRecord(key=f"mastodon:{i}".encode(), value=b"{}") for i in range(3)]
    writer.write(records, Checkpoint(connector="m", cursor="3", updated_at=T0, produced=3))
    producer.close()
    assert sorted(_raw_keys(settings)) == [b"mastodon:0", b"mastodon:1", b"mastodon:2"]
    assert _load(settings)["m"].produced == 3


@pytest.mark.kafka
def test_a_failed_transaction_leaves_neither_mentions_nor_cursor(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = _settings(settings_factory, unique_name)
    producer = make_producer(settings, transactional_id=unique_name("txn"))

    class CommitFailsOnce:
        failed = False
        # No transaction manager of its own: the writer calls the public methods below.
        _transaction_manager = None

        def __getattr__(self, name: str) -> Any:
            return getattr(producer, name)

        def commit_transaction(self) -> None:
            if not self.failed:
                self.failed = True
                producer.flush()  # the records reached the broker, inside the transaction
                raise ConnectionError("lost the transaction coordinator")
            producer.commit_transaction()

    writer = CheckpointWriter(
        CommitFailsOnce(),
        raw_topic=settings.topic_raw,
        checkpoint_topic=settings.topic_checkpoints,
        transactional=True,
    )
    with pytest.raises(ConnectionError):
        writer.write(
            [KeyedRecord(key=b"mastodon:1", value=b"{}")],
            Checkpoint(connector="m", cursor="1", updated_at=T0),
        )
    writer.write(
        [KeyedRecord(key=b"mastodon:2", value=b"{}")],
        Checkpoint(connector="m", cursor="2", updated_at=T0),
    )
    producer.close()
    assert _raw_keys(settings) == [b"mastodon:2"]
    assert _load(settings)["m"].cursor == "2"


class _Future:
    def __init__(self, error: BaseException | None) -> None:
        self.error = error

    def get(self, timeout: float | None = None) -> None:
        if self.error is not None:
            raise self.error


class _Producer:
    """A transactional producer double whose sends can expire, as in a broker outage."""

    def __init__(self, log: list[str], *, expire: bool) -> None:
        self.log = log
        self.expire = expire
        self.pending: list[bytes] = []
        self._transaction_manager = None  # the writer uses the public methods below

    def init_transactions(self) -> None:
        self.log.append("init")

    def begin_transaction(self) -> None:
        self.pending = []

    def send(self, topic: str, key: bytes, value: bytes) -> _Future:
        self.pending.append(key)
        return _Future(TimeoutError("Expiring 1 record(s)") if self.expire else None)

    def flush(self, timeout: float | None = None) -> None:
        pass

    def commit_transaction(self) -> None:
        self.log.append(f"commit {len(self.pending)}")

    def abort_transaction(self) -> None:
        self.log.append("abort")

    def close(self, timeout: float | None = None) -> None:
        self.log.append("close")


def test_an_expired_send_aborts_the_page_and_a_new_producer_writes_it_again() -> None:
    log: list[str] = []
    producers = iter([_Producer(log, expire=True), _Producer(log, expire=False)])
    writer = CheckpointWriter(
        None,
        raw_topic="raw",
        checkpoint_topic="cp",
        transactional=True,
        make_producer=lambda: next(producers),
    )
    page = [KeyedRecord(key=b"mastodon:1", value=b"{}")]
    checkpoint = Checkpoint(connector="m", cursor="1", updated_at=T0)
    with pytest.raises(TimeoutError):
        writer.write(page, checkpoint)
    # Never committed past the expired record; the producer was replaced, not reused.
    assert log == ["init", "abort", "close"]
    assert writer.producer is None
    writer.write(page, checkpoint)
    assert log == ["init", "abort", "close", "init", "commit 2"]
