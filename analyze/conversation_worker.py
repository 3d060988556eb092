"""``earful conversation``: official updates, the public's reaction to them, and silence alerts.

Consumes the scored topic and the signals topic (both keyed by subject, so a
subject's mentions and signals land on the same partition number and one
worker owns both) and runs :class:`analyze.conversation.ConversationTracker`:

* every official mention becomes an :class:`~earful.events.OfficialUpdate` on
  the updates topic, once per ``(mention id, subject)``;
* each update's :class:`~earful.events.UpdateReaction` records go to the
  reactions topic when the event-time watermark passes the end of each span
  (or the next update's cut);
* ``comms_silence`` signals go to the signals topic. The worker reads that
  topic too and ignores its own ``comms_silence`` records.

**State** (like ``earful detect``): per subject, the tracker's state and the
last input offset of each topic it includes go to a compacted changelog topic
(default ``<topic_updates>.state``) in the same transaction as the batch's
outputs and offsets. On every partition assignment the worker reads it back
and skips input records the restored state already holds, so a restart
neither republishes an update nor reopens a silence signal.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from typing import Any

from kafka import ConsumerRebalanceListener
from pydantic import Field

from analyze.conversation import ConversationConfig, ConversationTracker
from analyze.conversation import Output as Record
from earful.errors import RecordError
from earful.events import OfficialUpdate, ScoredMention, Signal, UpdateReaction, decode, encode
from earful.settings import BaseWorkerSettings
from earful.topics import MAX_MESSAGE_BYTES
from earful.worker import Clock, ConsumedRecord, Output, Worker

__all__ = [
    "ConversationProcessor",
    "ConversationRebalanceListener",
    "ConversationSettings",
    "build_conversation_worker",
    "ensure_state_topic",
    "load_state",
]

log = logging.getLogger(__name__)


class ConversationSettings(BaseWorkerSettings):
    """``earful conversation`` (env ``EARFUL_<FIELD>``); see docs/conversation.md."""

    conversation_group: str = "earful-conversation"
    topic_conversation_state: str | None = Field(
        default=None,
        description="Compacted changelog of the worker's state; default '<topic_updates>.state'.",
    )
    reaction_spans_minutes: tuple[int, ...] = Field(
        default=(15, 30, 60), min_length=1, description="Reaction spans after each update."
    )
    update_echo_s: float = Field(
        default=180.0, ge=0.0, description="A later update within this time does not cut spans."
    )
    watermark_delay_s: float = Field(default=10.0, ge=0.0)
    allowed_lateness_s: float = Field(default=60.0, ge=0.0)
    baseline_min_minutes: int = Field(
        default=30, ge=1, description="Expected stays null until the baseline saw this much."
    )
    silence_after_minutes: float = Field(
        default=15.0, gt=0.0, description="No official update for this long: silence."
    )
    silence_question_window_minutes: float = Field(default=5.0, gt=0.0)
    silence_min_questions: int = Field(default=5, ge=1)
    silence_update_minutes: float = Field(default=5.0, gt=0.0)
    silence_signal_kinds: tuple[str, ...] = Field(
        default=(), description="Signal kinds that open an incident; empty: all but comms_silence."
    )

    @property
    def state_topic(self) -> str:
        return self.topic_conversation_state or f"{self.topic_updates}.state"

    def conversation_config(self) -> ConversationConfig:
        return ConversationConfig(
            spans_minutes=tuple(sorted(set(self.reaction_spans_minutes))),
            echo_s=self.update_echo_s,
            watermark_delay_s=self.watermark_delay_s,
            allowed_lateness_s=self.allowed_lateness_s,
            baseline_min_minutes=self.baseline_min_minutes,
            silence_after_minutes=self.silence_after_minutes,
            silence_question_window_minutes=self.silence_question_window_minutes,
            silence_min_questions=self.silence_min_questions,
            silence_update_minutes=self.silence_update_minutes,
            silence_signal_kinds=self.silence_signal_kinds,
        )


class ConversationProcessor:
    """Scored mentions and signals in; updates, reactions and silence signals out."""

    def __init__(self, settings: ConversationSettings, *, clock: Clock) -> None:
        self.settings = settings
        self.tracker = ConversationTracker(settings.conversation_config(), clock=clock)
        #: subject -> {input topic: (partition, last offset included in its state)}
        self.offsets: dict[str, dict[str, tuple[int, int]]] = {}
        self.dirty: set[str] = set()
        self.skipped = 0

    # -- Processor ----------------------------------------------------------------

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        topic = record.topic
        item: ScoredMention | Signal
        if topic == self.settings.topic_scored:
            item = decode(ScoredMention, record.value)
        elif topic == self.settings.topic_signals:
            item = decode(Signal, record.value)
        else:
            raise RecordError(f"unexpected input topic {topic!r}", reason="bad_topic")
        subject = item.subject
        applied = self.offsets.get(subject, {}).get(topic)
        if applied is not None and applied[0] == record.partition and record.offset <= applied[1]:
            self.skipped += 1  # already part of the restored state (a redelivery)
            return []
        if record.key is not None and record.key != subject.encode("utf-8"):
            raise RecordError(
                f"record key {record.key!r} is not its subject {subject!r}", reason="bad_key"
            )
        self.offsets.setdefault(subject, {})[topic] = (record.partition, record.offset)
        self.dirty.add(subject)
        ticks = self.tracker.ticks
        # One event-time clock per partition: a partition's records arrive in
        # order, while partitions interleave arbitrarily.
        domain = record.partition
        if isinstance(item, Signal):
            if item.kind == "comms_silence":
                return []  # our own output, read back
            records = self.tracker.add_signal(item, domain=domain)
        else:
            records = self.tracker.add_mention(item, domain=domain)
        if self.tracker.ticks != ticks:
            # A minute tick changes every subject's state (baseline, buffer, silence).
            self.dirty.update(
                name for name, s in self.tracker.subjects.items() if s.domain == domain
            )
        return [self._output(r) for r in records]

    def _output(self, record: Record) -> Output:
        if isinstance(record, OfficialUpdate):
            topic = self.settings.topic_updates
        elif isinstance(record, UpdateReaction):
            topic = self.settings.topic_reactions
        else:
            topic = self.settings.topic_signals
        return Output(topic, encode(record), record.subject.encode("utf-8"))

    # -- state --------------------------------------------------------------------

    def checkpoint_outputs(self) -> list[Output]:
        """State records of every subject changed since the last call."""
        outputs = []
        for subject in sorted(self.dirty):
            offsets = self.offsets.get(subject)
            if not offsets or subject not in self.tracker.subjects:
                continue
            state = {
                "subject": subject,
                "partition": next(iter(offsets.values()))[0],
                "offsets": {t: list(po) for t, po in offsets.items()},
                "tracker": self.tracker.snapshot_subject(subject),
            }
            outputs.append(
                Output(
                    self.settings.state_topic,
                    json.dumps(state, separators=(",", ":")).encode("utf-8"),
                    subject.encode("utf-8"),
                )
            )
        self.dirty.clear()
        return outputs

    def restore(self, state: dict[str, Any]) -> None:
        subject = str(state["subject"])
        try:
            self.tracker.restore_subject(subject, state["tracker"])
        except (KeyError, TypeError, ValueError) as exc:
            log.warning("ignoring unreadable conversation state of %r: %s", subject, exc)
            return
        self.offsets[subject] = {t: (int(po[0]), int(po[1])) for t, po in state["offsets"].items()}

    def discard_uncommitted(self) -> None:
        """The batch was abandoned: drop every subject; assignment restores the committed state."""
        self.forget_partitions(
            {p for offsets in self.offsets.values() for p, _ in offsets.values()}
        )
        self.dirty.clear()

    def forget_partitions(self, partitions: set[int]) -> None:
        """Drop the subjects of partitions this worker no longer owns."""
        for subject, offsets in list(self.offsets.items()):
            if any(p in partitions for p, _ in offsets.values()):
                self.tracker.forget_subject(subject)
                self.offsets.pop(subject, None)
                self.dirty.discard(subject)


def load_state(
    processor: ConversationProcessor,
    reader: Any,
    partitions: set[int],
    *,
    timeout_s: float = 60.0,
) -> int:
    """Restore, from the changelog, every subject whose input partition is in ``partitions``."""
    from earful.kafkautil import read_to_end

    latest: dict[str, dict[str, Any]] = {}
    for record in read_to_end(reader, processor.settings.state_topic, timeout_s=timeout_s):
        if record.value is None:
            continue
        try:
            state = json.loads(record.value)
            subject, partition = str(state["subject"]), int(state["partition"])
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable conversation state record at offset %d", record.offset)
            continue
        if partition in partitions:
            latest[subject] = state
        else:
            latest.pop(subject, None)
    for state in latest.values():
        processor.restore(state)
    return len(latest)


class ConversationRebalanceListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Loads the state of newly assigned partitions; forgets that of revoked ones."""

    def __init__(self, processor: ConversationProcessor, make_reader: Any) -> None:
        self.processor = processor
        self.make_reader = make_reader
        self.loaded = 0

    def _mine(self, tps: Iterable[Any]) -> set[int]:
        topic = self.processor.settings.topic_scored
        return {tp.partition for tp in tps if tp.topic == topic}

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self.processor.forget_partitions(self._mine(revoked))

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        partitions = self._mine(assigned)
        if not partitions:
            return
        self.processor.forget_partitions(partitions)
        reader = self.make_reader()
        try:
            self.loaded += load_state(self.processor, reader, partitions)
        finally:
            reader.close(autocommit=False)
        log.info(
            "conversation: partitions %s assigned, %d subject(s) restored",
            sorted(partitions), len(self.processor.tracker.subjects),
        )  # fmt: skip


def build_conversation_worker(
    settings: ConversationSettings, instance_id: str, *, clock: Clock | None = None
) -> Worker:
    """The worker as ``earful conversation`` runs it: state topic, listener, transactions."""
    from earful.events import now_utc
    from earful.kafkautil import close_producer
    from earful.worker import make_consumer, make_producer

    group = settings.conversation_group
    processor = ConversationProcessor(settings, clock=clock or now_utc)
    transactional = settings.exactly_once

    def connect() -> tuple[Any, Any]:
        ensure_state_topic(settings)
        producer = make_producer(
            settings, transactional_id=f"{group}.{instance_id}" if transactional else None
        )
        try:
            consumer = make_consumer(
                settings, group=group, topics=[], group_instance_id=f"{group}.{instance_id}"
            )
        except BaseException:
            close_producer(producer, timeout_s=1.0)
            raise
        listener = ConversationRebalanceListener(
            processor, lambda: make_consumer(settings, group=None, topics=[])
        )
        # The assignor gives the same partition number of both topics to one member.
        consumer.subscribe([settings.topic_scored, settings.topic_signals], listener=listener)
        return consumer, producer

    return Worker(
        name="conversation", settings=settings, connect=connect, processor=processor,
        transactional=transactional, clock=clock or now_utc,
    )  # fmt: skip


def ensure_state_topic(settings: ConversationSettings) -> None:
    """Create the compacted changelog topic (as many partitions as the scored topic)."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.kafka_client_id}-admin"
    )
    try:
        if settings.state_topic in set(admin.list_topics()):
            return
        described = admin.describe_topics([settings.topic_scored])
        partitions = len(described[0]["partitions"]) if described else settings.topic_partitions
        admin.create_topics(
            [
                NewTopic(
                    settings.state_topic,
                    max(partitions, 1),
                    settings.topic_replication,
                    topic_configs={
                        "cleanup.policy": "compact",
                        "min.compaction.lag.ms": "60000",
                        # A subject's state holds up to two spans of mentions.
                        "max.message.bytes": str(MAX_MESSAGE_BYTES),
                    },
                )
            ],
            raise_errors=False,
            wait_for_metadata=True,
        )
    finally:
        admin.close()
