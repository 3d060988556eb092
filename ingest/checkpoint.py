"""Connector cursors kept in Kafka, written together with the mentions before them.

Topic ``earful.ingest.checkpoints`` (compacted, one partition) holds one
record per connector, keyed by the connector's name::

    {"version": 1, "connector": "hackernews", "cursor": "1764064800",
     "updated_at": "2026-11-25T10:00:00Z", "produced": 1234}

:class:`CheckpointWriter` makes a page durable in one step:

* **exactly-once** (default): one Kafka transaction holds the page's mentions
  and the new cursor. Readers of both topics use ``read_committed``, so the
  cursor is visible exactly when the mentions are: a crash before the commit
  leaves neither, and the restarted connector fetches the page again.
* **at-least-once**: the mentions are produced and every one acknowledged
  (``flush`` and each future) before the cursor is produced. A crash in
  between repeats the page; the dedup drops what it already produced.

On start-up :func:`load_checkpoints` reads the topic to its end (it is small:
compaction keeps the last cursor per connector).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from earful.errors import SchemaError
from earful.ingest.settings import IngestSettings
from earful.kafkautil import abort_transaction, close_producer, commit_transaction
from earful.state import ensure_compacted_topic, read_latest

__all__ = [
    "CHECKPOINT_VERSION",
    "Checkpoint",
    "CheckpointWriter",
    "KeyedRecord",
    "decode_checkpoint",
    "encode_checkpoint",
    "ensure_checkpoint_topic",
    "load_checkpoints",
]

log = logging.getLogger(__name__)

CHECKPOINT_VERSION = 1


@dataclass(frozen=True, slots=True)
class Checkpoint:
    """Where a connector stands: the cursor after everything it produced."""

    connector: str
    cursor: str | None
    updated_at: datetime
    produced: int = 0  # mentions produced by this connector so far (for operators)


def encode_checkpoint(checkpoint: Checkpoint) -> bytes:
    return json.dumps(
        {
            "version": CHECKPOINT_VERSION,
            "connector": checkpoint.connector,
            "cursor": checkpoint.cursor,
            "updated_at": checkpoint.updated_at.isoformat().replace("+00:00", "Z"),
            "produced": checkpoint.produced,
        },
        separators=(",", ":"),
    ).encode("utf-8")


def decode_checkpoint(raw: bytes) -> Checkpoint:
    try:
        obj = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaError(f"checkpoint is not UTF-8 JSON: {exc}", reason="not_json") from exc
    if not isinstance(obj, dict) or obj.get("version") != CHECKPOINT_VERSION:
        raise SchemaError("checkpoint has an unknown version", reason="schema_version")
    try:
        updated_at = datetime.fromisoformat(str(obj["updated_at"]))
        cursor = obj.get("cursor")
        if updated_at.tzinfo is None or not (cursor is None or isinstance(cursor, str)):
            raise ValueError("naive updated_at or a cursor that is not a string")
        return Checkpoint(
            connector=str(obj["connector"]),
            cursor=cursor,
            updated_at=updated_at,
            produced=int(obj.get("produced", 0)),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise SchemaError(f"invalid checkpoint: {exc}", reason="invalid") from exc


def ensure_checkpoint_topic(settings: IngestSettings) -> bool:
    """Create the compacted checkpoint topic (one partition) if it is missing; True when created."""
    return ensure_compacted_topic(settings, settings.topic_checkpoints, partitions=1)


def load_checkpoints(
    consumer: Any, topic: str, *, timeout_s: float = 30.0
) -> dict[str, Checkpoint]:
    """The latest checkpoint of every connector; unreadable records are logged and skipped."""
    latest: dict[str, Checkpoint] = {}
    for key, record in read_latest(consumer, topic, timeout_s=timeout_s).items():
        name = key.decode("utf-8", "replace")
        try:
            latest[name] = decode_checkpoint(record.value)
        except SchemaError as exc:
            log.warning(
                "%s@%d: skipping unreadable checkpoint of %s: %s", topic, record.offset, name, exc
            )
    return latest


@dataclass(frozen=True, slots=True)
class KeyedRecord:
    """A record for the raw topic: key (the mention id) and JSON value."""

    key: bytes
    value: bytes


class CheckpointWriter:
    """Produces a page's mentions and then its cursor, atomically or in order.

    Every Kafka call is bounded by ``timeout_s``. A write that fails (a record
    not acknowledged, a commit that fails or times out) is aborted, the
    producer is closed and, when ``make_producer`` is given, a new one is built
    on the next write (its ``init_transactions`` fences the old one and aborts
    what it left), so a broker outage of any length only delays the page.
    """

    def __init__(
        self,
        producer: Any,
        *,
        raw_topic: str,
        checkpoint_topic: str,
        transactional: bool,
        make_producer: Callable[[], Any] | None = None,
        timeout_s: float = 30.0,
    ) -> None:
        self.producer = producer
        self.raw_topic = raw_topic
        self.checkpoint_topic = checkpoint_topic
        self.transactional = transactional
        self.make_producer = make_producer
        self.timeout_s = timeout_s
        self._ready = False

    def setup(self) -> None:
        if self.producer is None:
            if self.make_producer is None:
                raise RuntimeError("the checkpoint writer's producer was closed")
            self.producer = self.make_producer()
            self._ready = False
        if self.transactional and not self._ready:
            # Fences a predecessor with the same transactional id and aborts what it left open.
            self.producer.init_transactions()
        self._ready = True

    def write(self, records: Sequence[KeyedRecord], checkpoint: Checkpoint) -> None:
        """Return once Kafka holds the records and the checkpoint; raise otherwise."""
        self.setup()
        key = checkpoint.connector.encode("utf-8")
        value = encode_checkpoint(checkpoint)
        try:
            if self.transactional:
                self.producer.begin_transaction()
                futures = [self._send(self.raw_topic, r.key, r.value) for r in records]
                futures.append(self._send(self.checkpoint_topic, key, value))
                # Commit only what the broker acknowledged: an expired send must fail the page.
                self._await(futures)
                commit_transaction(self.producer, timeout_s=self.timeout_s)
                return
            self._await([self._send(self.raw_topic, r.key, r.value) for r in records])
            self._await([self._send(self.checkpoint_topic, key, value)])
        except Exception as exc:
            if type(exc).__name__ != "ProducerFencedError":
                self._reset()
            raise

    def _send(self, topic: str, key: bytes, value: bytes) -> Any:
        return self.producer.send(topic, key=key, value=value)

    def _await(self, futures: list[Any]) -> None:
        self.producer.flush(timeout=self.timeout_s)
        for future in futures:
            future.get(timeout=0)  # raises if the broker refused or never acknowledged it

    def _reset(self) -> None:
        """Abort what is open; without a factory the producer is kept (it may still abort)."""
        if self.transactional:
            try:
                abort_transaction(self.producer, timeout_s=min(5.0, self.timeout_s))
            except Exception:  # a fenced or broken producer cannot abort; its successor will
                log.warning("could not abort the transaction", exc_info=True)
        if self.make_producer is not None:
            close_producer(self.producer, timeout_s=min(5.0, self.timeout_s))
            self.producer = None
            self._ready = False
