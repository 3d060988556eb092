"""The analyzer processor in-process: one output per distinct subject, poison records refused."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any

import pytest
from kafka.structs import TopicPartition

from earful.analyze.score_worker import AnalyzerProcessor
from earful.analyze.scoring import Scorer
from earful.errors import SchemaError
from earful.events import Mention, ScoredMention, decode, encode
from earful.settings import AnalyzerSettings
from earful.worker import Worker
from tests.scored_records import scored_for_subjects

SCORED_AT = datetime(2026, 11, 20, 10, 0, 5, 250_000, tzinfo=UTC)


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return Scorer(cache_size=0, gazetteer=None)


def _mention(text: str, subjects: tuple[str, ...], lang: str | None = None) -> Mention:
    return Mention(
        id="mastodon:1",
        source="mastodon",
        native_id="1",
        author="u-1",
        text=text,
        lang=lang,
        created_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        ingested_at=datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC),
        subjects=subjects,
    )


@pytest.mark.parametrize(
    ("text", "subjects", "lang"),
    [
        ("acme is down again, can't log in", ("acme", "acme-pay", "acme"), None),
        ("acme est en panne depuis une heure", ("acme",), None),
        ("", ("acme",), None),
        ("acme works fine", ("acme",), "en"),
    ],
)
def test_outputs_are_the_contract_records_byte_for_byte(
    scorer: Scorer, text: str, subjects: tuple[str, ...], lang: str | None
) -> None:
    settings = AnalyzerSettings(topic_scored="t.scored")
    processor = AnalyzerProcessor(settings, scorer, clock=lambda: SCORED_AT)
    mention = _mention(text, subjects, lang)
    outputs = list(processor.process(SimpleNamespace(value=encode(mention))))
    distinct = list(dict.fromkeys(subjects))
    assert [o.key for o in outputs] == [s.encode() for s in distinct]
    assert {o.topic for o in outputs} == {"t.scored"}
    assert all(not o.headers for o in outputs)
    wanted = scored_for_subjects(scorer, mention, scored_at=SCORED_AT)
    for expected, out in zip(wanted, outputs, strict=True):
        assert out.value == encode(expected)
        assert decode(ScoredMention, out.value) == expected


# -- poison records: a named reason, a dead letter, no traceback ----------------------


def _poison_cases() -> dict[str, tuple[bytes, str]]:
    good = encode(_mention("acme is down", ("acme",)))
    obj = json.loads(good)

    def variant(**changes: object) -> bytes:
        return json.dumps({**obj, **changes}).encode()

    return {
        "nested 3000 deep": (good[:-1] + b',"x":' + b"[" * 3000 + b"]" * 3000 + b"}", "too_deep"),
        "empty subject": (variant(subjects=[""]), "invalid"),
        "129-char subject": (variant(subjects=["a" * 129]), "invalid"),
        "1000 subjects": (variant(subjects=[f"s{i}" for i in range(1000)]), "invalid"),
        "5000-digit integer": (
            good.replace(b'"likes":null', b'"likes":' + b"7" * 5000),
            "too_many_digits",
        ),
        "schema_version true": (variant(schema_version=True), "schema_version"),
        "schema_version 1.0": (variant(schema_version=1.0), "schema_version"),
        "schema_version missing": (
            json.dumps({k: v for k, v in obj.items() if k != "schema_version"}).encode(),
            "schema_version",
        ),
        "created_at a number": (variant(created_at=1763632800), "invalid"),
        "is_official yes": (variant(is_official="yes"), "invalid"),
        "duplicated key": (good[:-1] + b',"text":"acme is fine"}', "duplicate_key"),
    }


@pytest.mark.parametrize("case", list(_poison_cases()))
def test_a_poison_mention_is_refused_with_its_reason(scorer: Scorer, case: str) -> None:
    raw, reason = _poison_cases()[case]
    processor = AnalyzerProcessor(AnalyzerSettings(topic_scored="t.scored"), scorer)
    with pytest.raises(SchemaError) as info:
        list(processor.process(SimpleNamespace(value=raw)))
    assert info.value.reason == reason


@dataclass
class _Record:
    topic: str
    partition: int
    offset: int
    value: bytes
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)


class _Sent:
    is_done = True
    exception = None

    def failed(self) -> bool:
        return False


class _Consumer:
    """Hands out its records once, then nothing; remembers the committed offsets."""

    def __init__(self, records: list[_Record]) -> None:
        self.records = records
        self.committed: dict[Any, int] = {}

    def poll(self, timeout_ms: int, max_records: int) -> dict[TopicPartition, list[_Record]]:
        batch, self.records = self.records[:max_records], self.records[max_records:]
        return {TopicPartition("t.raw", 0): batch} if batch else {}

    def assignment(self) -> set[TopicPartition]:
        return {TopicPartition("t.raw", 0)}

    def commit(self, offsets: dict[Any, Any], timeout_ms: int | None = None) -> None:
        self.committed.update({tp: om.offset for tp, om in offsets.items()})

    def close(self, autocommit: bool = False, timeout_ms: int | None = None) -> None:
        pass


class _Producer:
    def __init__(self) -> None:
        self.sent: list[tuple[str, bytes, dict[str, bytes]]] = []

    def send(self, topic: str, value: bytes, key: Any = None, headers: Any = None) -> _Sent:
        self.sent.append((topic, value, dict(headers or [])))
        return _Sent()

    def flush(self, timeout: float | None = None) -> None:
        pass

    def close(self, timeout: float | None = None) -> None:
        pass


def test_the_worker_dead_letters_each_poison_mention_with_its_reason_and_no_traceback(
    scorer: Scorer, caplog: pytest.LogCaptureFixture
) -> None:
    cases = _poison_cases()
    good = encode(_mention("acme is down", ("acme",)))
    values = [good] + [raw for raw, _ in cases.values()] + [good]
    consumer = _Consumer([_Record("t.raw", 0, i, v) for i, v in enumerate(values)])
    producer = _Producer()
    settings = AnalyzerSettings(
        topic_scored="t.scored", topic_deadletter="t.dead", batch_max_records=5
    )
    worker = Worker(
        name="analyze",
        settings=settings,
        processor=AnalyzerProcessor(settings, scorer),
        transactional=False,
        consumer=consumer,
        producer=producer,
    )
    with caplog.at_level(logging.WARNING):
        stats = worker.run(max_messages=len(values))
    assert stats.consumed == len(values) and stats.deadlettered == len(cases)
    scored = [v for topic, v, _ in producer.sent if topic == "t.scored"]
    assert len(scored) == 2  # the two good ones, one subject each
    dead = [(v, h) for topic, v, h in producer.sent if topic == "t.dead"]
    assert [v for v, _ in dead] == [raw for raw, _ in cases.values()]  # bytes unchanged
    assert [h["earful.error.reason"].decode() for _, h in dead] == [r for _, r in cases.values()]
    assert all("earful.error.stacktrace" not in h for _, h in dead)
    assert all(h["earful.error.class"] == b"SchemaError" for _, h in dead)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert consumer.committed == {TopicPartition("t.raw", 0): len(values)}
