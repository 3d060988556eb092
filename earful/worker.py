"""The consume-process-produce loop every Earful worker runs on.

A worker polls a bounded batch, hands each record to its :class:`Processor`,
and then makes the batch's outputs and its input offsets durable together:

* **exactly-once** (default): one Kafka transaction holds the outputs, the
  dead letters and the consumer offsets; downstream readers use
  ``read_committed``. A worker killed mid-batch leaves an open transaction that
  its successor (same transactional id) aborts on start-up.
* **at-least-once**: outputs are produced and acknowledged (``flush``) before
  the offsets are committed; a crash can repeat, never lose, a batch.

A record that fails (:class:`~earful.errors.RecordError`, or any unexpected
exception in the processor) becomes a dead letter: the original key, value and
headers, plus ``earful.error.*`` and ``earful.source.*`` headers naming the
reason and where it came from. The worker logs it and goes on.

Lifecycle (after arq): ``setup`` -> ``run`` -> ``close``. SIGTERM/SIGINT ask
the loop to stop after the current batch; if draining takes longer than
``drain_timeout_s`` the process exits hard, and the uncommitted batch is
redelivered to the next worker. ``max_messages`` and ``idle_timeout_s`` give a
burst mode for tests and demos.
"""

from __future__ import annotations

import gc
import logging
import os
import signal
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import FrameType
from typing import Any, Protocol

from earful.errors import RecordError
from earful.events import now_utc
from earful.health import HealthState
from earful.kafkautil import key_hash_partitioner
from earful.settings import BaseWorkerSettings
from earful.topics import MAX_MESSAGE_BYTES

__all__ = [
    "BatchHook",
    "CheckpointingProcessor",
    "Clock",
    "ConsumedRecord",
    "Output",
    "Processor",
    "RunStats",
    "Worker",
    "deadletter_output",
    "make_consumer",
    "make_producer",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ConsumedRecord = Any  # kafka.consumer.fetcher.ConsumerRecord (untyped library)
Header = tuple[str, bytes]


@dataclass(frozen=True, slots=True)
class Output:
    """One record to produce."""

    topic: str
    value: bytes
    key: bytes | None = None
    headers: Sequence[Header] = ()


class Processor(Protocol):
    """Turns one consumed record into zero or more outputs; raises RecordError on bad input."""

    def process(self, record: ConsumedRecord) -> Iterable[Output]: ...


class CheckpointingProcessor(Protocol):
    """Optional: a processor with state adds its changelog records to each batch."""

    def checkpoint_outputs(self) -> list[Output]: ...


class BatchHook(Protocol):
    """Optional: called after a batch is durable (print, notify, update gauges)."""

    def on_committed(self) -> None: ...


@dataclass
class RunStats:
    consumed: int = 0
    produced: int = 0
    deadlettered: int = 0
    batches: int = 0
    stopped_by: str = ""
    started: float = field(default_factory=time.monotonic)


def deadletter_output(
    record: ConsumedRecord, error: BaseException, *, topic: str, worker: str, clock: Clock = now_utc
) -> Output:
    """The original record, unchanged, with headers that say why and from where."""
    reason = getattr(error, "reason", "unexpected")
    message = str(error)[:2000]
    headers: list[Header] = [
        (k, v) for k, v in (record.headers or []) if not k.startswith("earful.error.")
    ]
    headers += [
        ("earful.error.reason", str(reason).encode()),
        ("earful.error.class", type(error).__name__.encode()),
        ("earful.error.message", message.encode("utf-8", "replace")),
        ("earful.source.topic", str(record.topic).encode()),
        ("earful.source.partition", str(record.partition).encode()),
        ("earful.source.offset", str(record.offset).encode()),
        ("earful.worker", worker.encode()),
        ("earful.failed_at", clock().isoformat().encode()),
    ]
    if not isinstance(error, RecordError):
        tb = "".join(traceback.format_exception(error))[-4000:]
        headers.append(("earful.error.stacktrace", tb.encode("utf-8", "replace")))
    return Output(topic=topic, key=record.key, value=record.value, headers=headers)


def make_consumer(
    settings: BaseWorkerSettings, *, group: str | None, topics: Sequence[str], **overrides: Any
) -> Any:
    from kafka import KafkaConsumer

    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": f"{settings.kafka_client_id}-{group or 'reader'}",
        "group_id": group,
        "enable_auto_commit": False,
        "auto_offset_reset": "earliest",
        "isolation_level": "read_committed",
        "max_poll_records": settings.batch_max_records,
        "fetch_max_bytes": 64 * 1024 * 1024,
        "max_partition_fetch_bytes": MAX_MESSAGE_BYTES,
        # kafka-python's own client metrics cost CPU on every fetch; Earful never reads them.
        "metrics_enabled": False,
    }
    config.update(overrides)
    consumer = KafkaConsumer(**config)
    if topics:
        consumer.subscribe(list(topics))
    return consumer


def make_producer(
    settings: BaseWorkerSettings, *, transactional_id: str | None = None, **overrides: Any
) -> Any:
    from kafka import KafkaProducer

    config: dict[str, Any] = {
        "bootstrap_servers": settings.kafka_bootstrap,
        "client_id": f"{settings.kafka_client_id}-producer",
        "linger_ms": 5,
        # kafka-python wakes its sender thread on every send while a partition
        # has a full batch waiting: with 256 KiB batches that was 2 of 3 sends
        # of an analyzer's transaction, with its 1 MiB a few per transaction.
        "batch_size": settings.producer_batch_bytes,
        "max_request_size": MAX_MESSAGE_BYTES + 64 * 1024,
        "enable_idempotence": True,
        # murmur2 of the key, as the default partitioner, with the hash of a
        # repeated key (a subject) remembered instead of recomputed per record.
        "partitioner": key_hash_partitioner(),
        # kafka-python's own client metrics cost CPU on every send; Earful never reads them.
        "metrics_enabled": False,
    }
    if transactional_id is not None:
        config["transactional_id"] = transactional_id
        config["transaction_timeout_ms"] = 30_000
    config.update(overrides)
    return KafkaProducer(**config)


class Worker:
    """Runs a :class:`Processor` over its input topics with commits and dead letters."""

    def __init__(
        self,
        *,
        name: str,
        settings: BaseWorkerSettings,
        consumer: Any,
        producer: Any,
        processor: Processor,
        transactional: bool,
        clock: Clock = now_utc,
        hook: BatchHook | None = None,
        health: HealthState | None = None,
    ) -> None:
        if producer is None:
            raise ValueError("a worker needs a producer, at least for its dead letters")
        self.name = name
        self.settings = settings
        self.consumer = consumer
        self.producer = producer
        self.processor = processor
        self.transactional = transactional
        self.clock = clock
        self.hook = hook
        self.health = health
        self.stats = RunStats()
        self._stop = threading.Event()
        self._stop_reason = ""
        self._owns_process = False
        self.last_poll = time.monotonic()

    # -- lifecycle ------------------------------------------------------------

    def setup(self) -> None:
        if self.transactional:
            # Aborts whatever a killed predecessor with the same id left open.
            self.producer.init_transactions()

    def request_stop(self, reason: str = "requested") -> None:
        self._stop_reason = self._stop_reason or reason
        self._stop.set()
        if self.health is not None:
            self.health.stopping()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT drain the worker: call it when the worker is its process's main loop.

        Such a worker also settles the heap before its loop if ``settings.gc_freeze``
        (see :meth:`_settle_heap`).
        """
        self._owns_process = True

        def handler(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self._stop.is_set():
                log.warning("%s: second %s, exiting now", self.name, name)
                os._exit(130)
            log.info("%s: %s received, draining", self.name, name)
            self.request_stop(name)
            timer = threading.Timer(self.settings.drain_timeout_s, self._drain_expired)
            timer.daemon = True
            timer.start()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def _settle_heap(self) -> None:
        """Keep the garbage collector off what start-up built, and run it less often.

        Lexicons, the gazetteer and the imported modules live as long as the
        process; ``gc.freeze`` moves them out of the collector's generations so
        a full collection no longer walks them (measured in the analyzer: about
        10 us per record of full collections before, 1-3 after). A larger
        first generation means fewer young collections for the same garbage;
        reference counting still frees almost everything at once.
        """
        gc.collect()
        gc.freeze()
        gc.set_threshold(10_000, 10, 10)

    def _drain_expired(self) -> None:
        log.error(
            "%s: drain exceeded %.0fs; exiting, the open batch will be redelivered",
            self.name,
            self.settings.drain_timeout_s,
        )
        os._exit(1)

    def run(
        self, *, max_messages: int | None = None, idle_timeout_s: float | None = None
    ) -> RunStats:
        """Process until stopped, ``max_messages`` consumed, or idle for ``idle_timeout_s``."""
        from kafka.structs import OffsetAndMetadata

        self.setup()
        if self._owns_process and self.settings.gc_freeze:
            self._settle_heap()
        idle_since = time.monotonic()
        unassigned_since = time.monotonic()
        timeout_ms = int(self.settings.poll_timeout_s * 1000)
        debug = log.isEnabledFor(logging.DEBUG)
        try:
            while not self._stop.is_set():
                limit = self.settings.batch_max_records
                if max_messages is not None:
                    limit = min(limit, max_messages - self.stats.consumed)
                    if limit <= 0:
                        self.request_stop("max_messages")
                        break
                polled_at = time.monotonic()
                batch = self.consumer.poll(timeout_ms=timeout_ms, max_records=limit)
                self.last_poll = time.monotonic()
                if self.health is not None:
                    self.health.beat(assigned=bool(self.consumer.assignment()))
                now = time.monotonic()
                if not batch:
                    if not self.consumer.assignment():
                        # Idle time only counts once we own partitions: a restarted
                        # worker may wait for a rebalance before it gets any.
                        idle_since = now
                        waited = now - unassigned_since
                        if idle_timeout_s is not None and waited > max(60.0, idle_timeout_s):
                            self.request_stop("no_assignment")
                        continue
                    unassigned_since = now
                    if idle_timeout_s is not None and now - idle_since > idle_timeout_s:
                        self.request_stop("idle_timeout")
                    continue
                idle_since = unassigned_since = now
                outputs: list[Output] = []
                offsets = {}
                for tp, records in batch.items():
                    for record in records:
                        outputs.extend(self._process_one(record))
                    offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                    self.stats.consumed += len(records)
                checkpoint = getattr(self.processor, "checkpoint_outputs", None)
                if checkpoint is not None:
                    # State changes commit in the same transaction as outputs and offsets.
                    outputs.extend(checkpoint())
                processed_at = time.monotonic()
                self._commit(outputs, offsets)
                self.stats.batches += 1
                if debug:
                    log.debug(
                        "%s: batch of %d in, %d out: poll %.3fs, process %.3fs, commit %.3fs",
                        self.name, sum(len(r) for r in batch.values()), len(outputs),
                        now - polled_at, processed_at - now, time.monotonic() - processed_at,
                    )  # fmt: skip
                if self.hook is not None:
                    self.hook.on_committed()
        finally:
            self.stats.stopped_by = self._stop_reason or "error"
        return self.stats

    def close(self) -> None:
        try:
            self.consumer.close(autocommit=False)
        finally:
            if self.producer is not None:
                self.producer.close(timeout=10)

    # -- internals ------------------------------------------------------------

    def _process_one(self, record: ConsumedRecord) -> list[Output]:
        try:
            return list(self.processor.process(record))
        except RecordError as exc:
            log.warning(
                "%s: dead letter %s[%d]@%d: %s",
                self.name, record.topic, record.partition, record.offset, exc,
            )  # fmt: skip
            error: BaseException = exc
        except Exception as exc:  # a bug on one record must not stop the worker
            log.exception(
                "%s: unexpected error on %s[%d]@%d", self.name, record.topic, record.partition,
                record.offset,
            )  # fmt: skip
            error = exc
        self.stats.deadlettered += 1
        return [
            deadletter_output(
                record, error, topic=self.settings.topic_deadletter, worker=self.name,
                clock=self.clock,
            )
        ]  # fmt: skip

    def _send_all(self, outputs: list[Output]) -> list[Any]:
        futures = []
        for out in outputs:
            futures.append(
                self.producer.send(
                    out.topic, value=out.value, key=out.key, headers=list(out.headers) or None
                )
            )
        self.stats.produced += len(outputs)
        return futures

    def _commit(self, outputs: list[Output], offsets: dict[Any, Any]) -> None:
        if self.transactional:
            self.producer.begin_transaction()
            self._send_all(outputs)
            self.producer.send_offsets_to_transaction(offsets, self.consumer.group_metadata())
            self.producer.commit_transaction()
            return
        if outputs:
            futures = self._send_all(outputs)
            self.producer.flush()
            for fut in futures:
                fut.get(timeout=30)  # raises if the broker refused a record
        self.consumer.commit(offsets)
