"""earful conversation on the real broker: updates, reactions, silence, and a restart."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from earful.analyze.conversation_worker import (
    ConversationProcessor,
    ConversationSettings,
    build_conversation_worker,
)
from earful.events import (
    OfficialUpdate,
    ScoredMention,
    Signal,
    UpdateReaction,
    decode,
    encode,
)
from earful.kafkautil import read_to_end
from earful.worker import make_consumer, make_producer
from tests.analyze.test_conversation import NOW, incident, scored

OVERRIDES: dict[str, Any] = {
    "reaction_spans_minutes": (10,),
    "watermark_delay_s": 5.0,
    "allowed_lateness_s": 30.0,
    "silence_after_minutes": 15.0,
    "silence_min_questions": 5,
}


def stream() -> list[ScoredMention]:
    """An update at minute 2, then two questions a minute and no further update."""
    items = [scored(1.5, "can't log in", report=True, negative=True)]
    items.append(scored(2, "We are investigating", official=True))
    for minute in range(2, 40):
        items.append(scored(minute + 0.3, "any update?", negative=True))
        items.append(scored(minute + 0.6, "what's going on?"))
    items.append(scored(45, "elsewhere", subject="globex"))
    return items


class FakeRecord:
    def __init__(self, topic: str, value: bytes, offset: int) -> None:
        self.topic, self.value, self.offset = topic, value, offset
        self.partition, self.key = 0, b"acme"
        self.headers: list[tuple[str, bytes]] = []


def test_processor_restores_and_skips_redelivered_records() -> None:
    settings = ConversationSettings(
        topic_scored="scored", topic_signals="signals", topic_updates="updates", **OVERRIDES
    )
    items = [i for i in stream() if i.subject == "acme"]
    first = ConversationProcessor(settings, clock=lambda: NOW)
    first.process(FakeRecord("signals", encode(incident("open", 1)), 0))
    out = []
    for offset, item in enumerate(items[:10]):
        out += list(first.process(FakeRecord("scored", encode(item), offset)))
    [state] = first.checkpoint_outputs()
    assert state.topic == "updates.state" and state.key == b"acme"
    assert [o.topic for o in out] == ["updates"]

    second = ConversationProcessor(settings, clock=lambda: NOW)
    second.restore(json.loads(state.value))
    again = list(second.process(FakeRecord("signals", encode(incident("open", 1)), 0)))
    for offset, item in enumerate(items):  # redelivered from the start
        again += list(second.process(FakeRecord("scored", encode(item), offset)))
    assert second.skipped == 11
    assert "updates" not in [o.topic for o in again]  # published once
    silence = [decode(Signal, o.value) for o in again if o.topic == "signals"]
    assert [s.state for s in silence][:1] == ["open"]
    # Its own comms_silence signal, read back from the signals topic, changes nothing.
    echo = FakeRecord("signals", encode(silence[0]), 1)
    assert list(second.process(echo)) == []


def read_all(settings: ConversationSettings, topic: str) -> list[Any]:
    """Every committed record; re-read until stable (commit markers land asynchronously)."""
    previous: list[Any] | None = None
    for _ in range(5):
        reader = make_consumer(settings, group=None, topics=[])
        try:
            records = list(read_to_end(reader, topic))
        finally:
            reader.close(autocommit=False)
        if previous is not None and len(records) == len(previous) and records:
            return records
        previous = records
        time.sleep(1.0)
    return previous or []


def run(settings: ConversationSettings, instance: str) -> int:
    worker = build_conversation_worker(settings, instance, clock=lambda: NOW)
    try:
        stats = worker.run(idle_timeout_s=3.0)
    finally:
        worker.close()
    return stats.consumed


@pytest.mark.kafka
@pytest.mark.timeout(240)
def test_worker_publishes_and_a_restart_does_not_repeat(
    settings_factory: Callable[..., ConversationSettings],
) -> None:
    settings = settings_factory(ConversationSettings, **OVERRIDES)
    producer = make_producer(settings)
    try:
        # The incident first, consumed on its own, so the order of the two topics is known.
        producer.send(settings.topic_signals, key=b"acme", value=encode(incident("open", 1)))
        producer.flush()
        assert run(settings, "a") == 1
        items = stream()
        for item in items:
            producer.send(settings.topic_scored, key=item.subject.encode(), value=encode(item))
        producer.flush()
    finally:
        producer.close(timeout=10)
    # A restart: the incident comes from the state. It also reads back its own signals.
    assert run(settings, "a") >= len(items)

    def outputs() -> tuple[list[OfficialUpdate], list[UpdateReaction], list[Signal]]:
        return (
            [decode(OfficialUpdate, r.value) for r in read_all(settings, settings.topic_updates)],
            [decode(UpdateReaction, r.value) for r in read_all(settings, settings.topic_reactions)],
            [
                s
                for s in (
                    decode(Signal, r.value) for r in read_all(settings, settings.topic_signals)
                )
                if s.kind == "comms_silence"
            ],
        )

    updates, reactions, silences = outputs()
    assert [(u.id, u.subject) for u in updates] == [(items[1].mention.id, "acme")]
    assert sorted(r.audience for r in reactions) == ["all", "others", "replies"]
    all_ = next(r for r in reactions if r.audience == "all")
    assert all_.complete and all_.after.mentions == 20 and all_.after.question_share == 1.0
    opened = [s for s in silences if s.state == "open"]
    assert len(opened) == 1 and opened[0].subject == "acme"
    assert opened[0].observed >= 15.0 and opened[0].evidence.samples

    # Another group reads everything again; the restored state skips what it holds.
    again = settings.model_copy(update={"conversation_group": settings.conversation_group + "-2"})
    assert run(again, "b") == len(items) + 1 + len(silences)
    updates2, reactions2, silences2 = outputs()
    assert len(updates2) == 1
    assert Counter((r.update_id, r.span_minutes, r.audience) for r in reactions2) == Counter(
        (r.update_id, r.span_minutes, r.audience) for r in reactions
    )
    assert [s.state for s in silences2].count("open") == 1
