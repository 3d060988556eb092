"""The consume-process-produce loop every Earful worker runs on.

A worker polls a bounded batch, hands each record to its :class:`Processor`,
and then makes the batch's outputs and its input offsets durable together:

* **exactly-once** (default): one Kafka transaction holds the outputs, the
  dead letters and the consumer offsets; downstream readers use
  ``read_committed``. A worker killed mid-batch leaves an open transaction that
  its successor (same transactional id) aborts on start-up.
* **at-least-once**: outputs are produced and acknowledged (``flush``) before
  the offsets are committed; a crash can repeat, never lose, a batch.

**Broker outages.** Every Kafka call of the loop is bounded
(``kafka_timeout_s``). A batch whose outputs are not all acknowledged, or
whose commit fails or times out, is abandoned: the transaction is aborted,
both clients are closed, a stateful processor drops what it holds
(``discard_uncommitted``), and new clients re-read from the last committed
offsets once a broker answers (pauses doubling up to ``kafka_retry_max_s``).
While it waits the worker stays live and reports itself not ready. Offsets
are committed only with, or after, every output of their batch, so an outage
of any length loses nothing and (with transactions) duplicates nothing.

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
import random
import time
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from earful.errors import KafkaUnavailableError, RecordError
from earful.events import now_utc
from earful.health import HealthState
from earful.kafkautil import (
    abort_transaction,
    broker_reachable,
    close_consumer,
    close_producer,
    commit_transaction,
    key_hash_partitioner,
    send_offsets_to_transaction,
)
from earful.lifecycle import Lifecycle
from earful.settings import BaseWorkerSettings
from earful.topics import MAX_MESSAGE_BYTES

__all__ = [
    "BatchHook",
    "CheckpointingProcessor",
    "Clock",
    "Connect",
    "ConsumedRecord",
    "Output",
    "Processor",
    "RunStats",
    "Worker",
    "connect_group_member",
    "deadletter_output",
    "make_consumer",
    "make_producer",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ConsumedRecord = Any  # kafka.consumer.fetcher.ConsumerRecord (untyped library)
Header = tuple[str, bytes]
#: Builds a worker's (subscribed consumer, producer); called again after an outage.
Connect = Callable[[], tuple[Any, Any]]


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


class DiscardingProcessor(Protocol):
    """Optional: a processor with state drops what it holds when a batch is abandoned.

    The worker then reads again from the last commit; the state comes back from
    its changelog when the new consumer is assigned its partitions.
    """

    def discard_uncommitted(self) -> None: ...


class BatchHook(Protocol):
    """Optional: called after a batch is durable (print, notify, update gauges)."""

    def on_committed(self) -> None: ...


@dataclass
class RunStats:
    consumed: int = 0
    produced: int = 0
    deadlettered: int = 0
    batches: int = 0
    #: batches abandoned because Kafka failed them; each was read again
    recoveries: int = 0
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
        **_reconnect_config(settings),
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

    delivery_ms = int(settings.kafka_delivery_timeout_s * 1000)
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
        # send() and init_transactions() block at most this long for metadata or buffer space.
        "max_block_ms": int(settings.kafka_timeout_s * 1000),
        "delivery_timeout_ms": delivery_ms,
        # the client requires request + linger <= delivery
        "request_timeout_ms": min(30_000, delivery_ms - 5),
        **_reconnect_config(settings),
    }
    if transactional_id is not None:
        config["transactional_id"] = transactional_id
        config["transaction_timeout_ms"] = 30_000
    config.update(overrides)
    return KafkaProducer(**config)


def _reconnect_config(settings: BaseWorkerSettings) -> dict[str, Any]:
    retry_ms = int(settings.kafka_retry_max_s * 1000)
    return {
        # A client gives up its first connection after this; the worker retries it.
        "bootstrap_timeout_ms": max(1000, retry_ms),
        # Reconnection attempts back off up to the same bound as the worker's own.
        "reconnect_backoff_max_ms": max(50, retry_ms),
    }


class _Undelivered(Exception):
    """Some outputs of a batch were not acknowledged: the batch must not be committed."""


def connect_group_member(
    settings: BaseWorkerSettings,
    *,
    group: str,
    instance_id: str,
    transactional: bool,
    topics: Sequence[str],
    listener: Any = None,
    **consumer_overrides: Any,
) -> tuple[Any, Any]:
    """A worker's (subscribed consumer, producer), as a static member of ``group``.

    The instance id names both the transactional id (a successor fences what
    its predecessor left open) and the static membership (a restarted replica
    takes its partitions back at once).
    """
    member = f"{group}.{instance_id}"
    producer = make_producer(settings, transactional_id=member if transactional else None)
    try:
        consumer = make_consumer(
            settings, group=group, topics=[], group_instance_id=member, **consumer_overrides
        )
        consumer.subscribe(list(topics), listener=listener)
    except BaseException:
        close_producer(producer, timeout_s=1.0)
        raise
    return consumer, producer


class Worker:
    """Runs a :class:`Processor` over its input topics with commits and dead letters.

    Give it ``connect`` (how to build its subscribed consumer and its producer)
    so it can connect on start and again after a broker outage; a worker given
    only ``consumer`` and ``producer`` (tests with doubles) cannot rebuild them
    and raises the first Kafka error instead.
    """

    def __init__(
        self,
        *,
        name: str,
        settings: BaseWorkerSettings,
        processor: Processor,
        transactional: bool,
        connect: Connect | None = None,
        consumer: Any = None,
        producer: Any = None,
        clock: Clock = now_utc,
        hook: BatchHook | None = None,
        health: HealthState | None = None,
        probe: Callable[[str], bool] = broker_reachable,
    ) -> None:
        if connect is None and (consumer is None or producer is None):
            raise ValueError("a worker needs connect, or a consumer and a producer")
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
        self._connect_clients = connect
        #: Is a broker listening? Checked before building clients while waiting for one.
        self._probe = probe
        self.lifecycle = Lifecycle(
            name,
            drain_timeout_s=settings.drain_timeout_s,
            on_stop=self._health_stopping,
        )
        self._stop = self.lifecycle.event
        self._owns_process = False
        self.last_poll = time.monotonic()

    # -- lifecycle ------------------------------------------------------------

    def setup(self) -> None:
        """Connect (waiting up to ``kafka_startup_wait_s`` for a broker) and fence predecessors."""
        if self.consumer is None:
            self._connect(startup=True)
        elif self.transactional:
            # Aborts whatever a killed predecessor with the same id left open.
            self.producer.init_transactions()

    def request_stop(self, reason: str = "requested") -> None:
        self.lifecycle.request_stop(reason)

    def _health_stopping(self) -> None:
        if self.health is not None:
            self.health.stopping()

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT drain the worker: call it when the worker is its process's main loop.

        Such a worker also settles the heap before its loop if ``settings.gc_freeze``
        (see :meth:`_settle_heap`).
        """
        self._owns_process = True
        self.lifecycle.install_signal_handlers()

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
        stats = self.stats
        try:
            while not self._stop.is_set():
                limit = self.settings.batch_max_records
                if max_messages is not None:
                    limit = min(limit, max_messages - stats.consumed)
                    if limit <= 0:
                        self.request_stop("max_messages")
                        break
                polled_at = time.monotonic()
                try:
                    batch = self.consumer.poll(timeout_ms=timeout_ms, max_records=limit)
                    assigned = bool(self.consumer.assignment())
                except Exception as exc:  # a client in a bad state: see _recover
                    self._recover(exc, "poll")
                    continue
                self.last_poll = time.monotonic()
                if self.health is not None:
                    self.health.beat(assigned=assigned)
                now = time.monotonic()
                if not batch:
                    if not assigned:
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
                # Counted for good only once the batch commits.
                before = (stats.consumed, stats.produced, stats.deadlettered)
                outputs: list[Output] = []
                offsets = {}
                for tp, records in batch.items():
                    for record in records:
                        outputs.extend(self._process_one(record))
                    offsets[tp] = OffsetAndMetadata(records[-1].offset + 1, "", -1)
                    stats.consumed += len(records)
                checkpoint = getattr(self.processor, "checkpoint_outputs", None)
                if checkpoint is not None:
                    # State changes commit in the same transaction as outputs and offsets.
                    outputs.extend(checkpoint())
                processed_at = time.monotonic()
                try:
                    self._commit(outputs, offsets)
                except Exception as exc:  # a client in a bad state: see _recover
                    stats.consumed, stats.produced, stats.deadlettered = before
                    self._recover(exc, "commit")
                    continue
                stats.batches += 1
                if debug:
                    log.debug(
                        "%s: batch of %d in, %d out: poll %.3fs, process %.3fs, commit %.3fs",
                        self.name,
                        sum(len(r) for r in batch.values()),
                        len(outputs),
                        now - polled_at,
                        processed_at - now,
                        time.monotonic() - processed_at,
                    )
                if self.hook is not None:
                    self.hook.on_committed()
        finally:
            stats.stopped_by = self.lifecycle.reason or "error"
            self.lifecycle.drained()
        return stats

    def close(self) -> None:
        try:
            if self.consumer is not None:
                close_consumer(self.consumer)
        finally:
            if self.producer is not None:
                close_producer(self.producer, timeout_s=min(10.0, self.settings.kafka_timeout_s))
            self.consumer = self.producer = None

    # -- internals ------------------------------------------------------------

    def _process_one(self, record: ConsumedRecord) -> list[Output]:
        try:
            return list(self.processor.process(record))
        except RecordError as exc:
            log.warning(
                "%s: dead letter %s[%d]@%d: %s",
                self.name,
                record.topic,
                record.partition,
                record.offset,
                exc,
            )
            error: BaseException = exc
        except Exception as exc:  # a bug on one record must not stop the worker
            log.exception(
                "%s: unexpected error on %s[%d]@%d",
                self.name,
                record.topic,
                record.partition,
                record.offset,
            )
            error = exc
        self.stats.deadlettered += 1
        return [
            deadletter_output(
                record,
                error,
                topic=self.settings.topic_deadletter,
                worker=self.name,
                clock=self.clock,
            )
        ]

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

    def _await_delivery(self, futures: list[Any]) -> None:
        """Return once the broker acknowledged every output; raise if any was not."""
        if not futures:
            return
        self.producer.flush(timeout=self.settings.kafka_timeout_s)
        for fut in futures:
            if not fut.is_done or fut.failed():
                failed = sum(1 for f in futures if not f.is_done or f.failed())
                raise _Undelivered(
                    f"{failed} of {len(futures)} outputs not acknowledged: "
                    f"{fut.exception if fut.is_done else 'still pending'}"
                )

    def _commit(self, outputs: list[Output], offsets: dict[Any, Any]) -> None:
        timeout_s = self.settings.kafka_timeout_s
        if self.transactional:
            self.producer.begin_transaction()
            # The offsets go in only once every output is acknowledged: a send
            # that expired must fail the batch, never commit past it.
            self._await_delivery(self._send_all(outputs))
            send_offsets_to_transaction(
                self.producer, offsets, self.consumer.group_metadata(), timeout_s=timeout_s
            )
            commit_transaction(self.producer, timeout_s=timeout_s)
            return
        self._await_delivery(self._send_all(outputs))
        self.consumer.commit(offsets, timeout_ms=int(timeout_s * 1000))

    def _recover(self, error: BaseException, during: str) -> None:
        """Abandon the batch, drop the clients, and connect again from the last commit."""
        from kafka.errors import KafkaError

        if self._connect_clients is None:
            raise error
        if not isinstance(error, KafkaError | _Undelivered):
            # Not a Kafka error, yet raised by the client (one of kafka-python's internal
            # assertions after a broker restart, say): the clients are replaced like after
            # any failure, since stopping would leave the partitions unread. The traceback
            # is logged, as it may be a bug worth reporting.
            log.warning("%s: the Kafka client raised %r", self.name, error, exc_info=error)
        self.stats.recoveries += 1
        reason = _one_line(error)
        log.warning(
            "%s: Kafka %s failed (%s); the batch is abandoned and will be read again "
            "from the last commit once Kafka answers",
            self.name,
            during,
            reason,
        )
        if self.health is not None:
            self.health.waiting_for_kafka(reason)
        self._drop_clients()
        discard = getattr(self.processor, "discard_uncommitted", None)
        if discard is not None:
            discard()
        self._connect(startup=False)

    def _drop_clients(self) -> None:
        short = min(5.0, self.settings.kafka_timeout_s)
        producer, consumer = self.producer, self.consumer
        self.producer = self.consumer = None
        if producer is not None:
            if self.transactional:
                try:
                    abort_transaction(producer, timeout_s=short)
                except Exception as exc:  # no transaction open, or no broker: the successor aborts
                    log.debug("%s: abort: %s", self.name, _one_line(exc))
            close_producer(producer, timeout_s=short)
        if consumer is not None:
            close_consumer(consumer)

    def _connect(self, *, startup: bool) -> None:
        """Build the clients, retrying with backoff; at start-up give up after a while."""
        from kafka.errors import KafkaError

        assert self._connect_clients is not None
        settings = self.settings
        wait = settings.kafka_startup_wait_s
        deadline = time.monotonic() + wait if startup and wait > 0 else None
        delay = min(0.5, settings.kafka_retry_max_s)
        started = last_report = time.monotonic()
        while not self._stop.is_set():
            consumer = producer = None
            try:
                if not self._probe(settings.kafka_bootstrap):
                    raise ConnectionRefusedError(f"no broker answers at {settings.kafka_bootstrap}")
                consumer, producer = self._connect_clients()
                if self.transactional:
                    # Fences a predecessor (or our own abandoned producer) and aborts what it left.
                    producer.init_transactions()
            except Exception as exc:
                error: BaseException = exc
                if producer is not None:
                    close_producer(producer, timeout_s=1.0)
                if consumer is not None:
                    close_consumer(consumer)
                if startup and not isinstance(exc, KafkaError | OSError):
                    raise  # a worker that never ran: its configuration, not the broker
            else:
                self.consumer, self.producer = consumer, producer
                if not startup:
                    log.info(
                        "%s: Kafka is back after %.0fs; resuming from the last commit",
                        self.name,
                        time.monotonic() - started,
                    )
                return
            now = time.monotonic()
            if self.health is not None:
                self.health.waiting_for_kafka(_one_line(error))
            if deadline is not None and now >= deadline:
                raise KafkaUnavailableError(
                    f"no Kafka broker answered at {settings.kafka_bootstrap} within {wait:.0f}s "
                    "(is it running? check --bootstrap or EARFUL_KAFKA_BOOTSTRAP)"
                ) from error
            if now - last_report >= 30.0:
                last_report = now
                log.warning(
                    "%s: still waiting for Kafka at %s after %.0fs: %s",
                    self.name,
                    settings.kafka_bootstrap,
                    now - started,
                    _one_line(error),
                )
            self._stop.wait(delay * random.uniform(0.8, 1.2))
            delay = min(delay * 2, settings.kafka_retry_max_s)


def _one_line(error: BaseException) -> str:
    name = type(error).__name__
    lines = str(error).strip().splitlines()
    if not lines:
        return name
    # kafka-python's errors already start with their class name
    return lines[0] if lines[0].startswith(name) else f"{name}: {lines[0]}"
