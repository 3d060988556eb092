"""``earful conversation``: official updates, the public's reaction to them, and silence alerts.

Consumes the scored topic and the signals topic (both keyed by subject, so a
subject's mentions and signals land on the same partition number and one
worker owns both) and runs :class:`earful.analyze.conversation.ConversationTracker`:

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

import logging
from collections.abc import Iterable
from typing import Any

from pydantic import Field

from earful.analyze.conversation import ConversationConfig, ConversationOutput, ConversationTracker
from earful.errors import RecordError
from earful.events import OfficialUpdate, ScoredMention, Signal, UpdateReaction, decode, encode
from earful.settings import BaseWorkerSettings
from earful.state import ChangelogListener, ensure_compacted_topic, state_record
from earful.topics import MAX_MESSAGE_BYTES
from earful.worker import Clock, ConsumedRecord, Output, Worker

__all__ = [
    "ConversationProcessor",
    "ConversationSettings",
    "build_conversation_worker",
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

    def _output(self, record: ConversationOutput) -> Output:
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
                Output(self.settings.state_topic, state_record(state), subject.encode("utf-8"))
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


def build_conversation_worker(
    settings: ConversationSettings, instance_id: str, *, clock: Clock | None = None
) -> Worker:
    """The worker as ``earful conversation`` runs it: state topic, listener, transactions."""
    from earful.events import now_utc
    from earful.worker import connect_group_member, make_consumer

    group = settings.conversation_group
    processor = ConversationProcessor(settings, clock=clock or now_utc)
    transactional = settings.exactly_once

    topic_ready = False

    def connect() -> tuple[Any, Any]:
        nonlocal topic_ready
        if not topic_ready:
            ensure_compacted_topic(
                settings,
                settings.state_topic,
                partitions_like=settings.topic_scored,
                # A subject's state holds up to two spans of mentions.
                configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
            )
            topic_ready = True
        listener = ChangelogListener(
            processor,
            changelog_topic=settings.state_topic,
            input_topic=settings.topic_scored,
            make_reader=lambda: make_consumer(settings, group=None, topics=[]),
            name="conversation",
        )
        # The assignor gives the same partition number of both topics to one member.
        return connect_group_member(
            settings,
            group=group,
            instance_id=instance_id,
            transactional=transactional,
            topics=[settings.topic_scored, settings.topic_signals],
            listener=listener,
        )

    return Worker(
        name="conversation",
        settings=settings,
        connect=connect,
        processor=processor,
        transactional=transactional,
        clock=clock or now_utc,
    )
