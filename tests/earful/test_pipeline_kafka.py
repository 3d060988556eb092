"""The analyzer against the real broker: scoring, crash recovery, dead letters."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.analyze.score_worker import AnalyzerProcessor
from earful.analyze.scoring import Scorer
from earful.events import Mention, ScoredMention, decode, encode
from earful.settings import AnalyzerSettings
from earful.worker import Worker, make_consumer, make_producer
from tests.kafka_io import lag, produce, read_all

pytestmark = pytest.mark.kafka

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def make_mention(i: int, text: str = "acme is down again, can't log in") -> Mention:
    return Mention(
        id=f"mastodon:{i}",
        source="mastodon",
        native_id=str(i),
        author=f"u-{i % 97}",
        text=f"{text} #{i}",
        created_at=T0 + timedelta(seconds=i),
        ingested_at=T0 + timedelta(seconds=i, milliseconds=200),
        subjects=("acme",),
    )


def run_analyzer_inline(settings: AnalyzerSettings, *, transactional: bool = True) -> Worker:
    worker = Worker(
        name="analyzer-test",
        settings=settings,
        consumer=make_consumer(
            settings, group=settings.analyzer_group, topics=[settings.topic_raw]
        ),
        producer=make_producer(settings, transactional_id=f"{settings.analyzer_group}.t"),
        processor=AnalyzerProcessor(settings, Scorer()),
        transactional=transactional,
    )
    try:
        worker.run(idle_timeout_s=3.0)
    finally:
        worker.close()
    return worker


def test_a_mention_written_to_raw_comes_out_scored(settings_factory: Callable[..., Any]) -> None:
    settings = settings_factory(AnalyzerSettings)
    m = make_mention(1).model_copy(update={"subjects": ("acme", "acme-pay")})
    produce(settings, settings.topic_raw, [(m.id.encode(), encode(m))])

    worker = run_analyzer_inline(settings)

    records = read_all(settings, settings.topic_scored)
    assert worker.stats.consumed == 1
    assert sorted(r.key for r in records) == [b"acme", b"acme-pay"]
    scored = [decode(ScoredMention, r.value) for r in records]
    assert {s.mention.id for s in scored} == {m.id}
    for s in scored:
        assert s.sentiment is not None
        assert s.sentiment.vader.compound == pytest.approx(s.sentiment.vader.compound)
        assert s.scored_at.tzinfo is not None
        assert s.mention == m


def test_poison_records_go_to_dead_letters_and_the_worker_goes_on(
    settings_factory: Callable[..., Any],
) -> None:
    settings = settings_factory(AnalyzerSettings)
    good_before, good_after = make_mention(1), make_mention(2)
    wrong_version = json.loads(encode(make_mention(3)))
    wrong_version["schema_version"] = 99
    huge = json.loads(encode(make_mention(4)))
    huge["text"] = "a" * (2 * 1024 * 1024)
    poison = [
        (b"p-json", b"{this is not json"),
        (b"p-version", json.dumps(wrong_version).encode()),
        (b"p-huge", json.dumps(huge).encode()),
        (b"p-utf8", b'{"schema_version": 1, "text": "caf\xe9 \xff"}'),
    ]
    produce(
        settings,
        settings.topic_raw,
        [
            (good_before.id.encode(), encode(good_before)),
            *poison,
            (good_after.id.encode(), encode(good_after)),
        ],
    )

    worker = run_analyzer_inline(settings)

    assert worker.stats.consumed == 6
    scored = {
        decode(ScoredMention, r.value).mention.id for r in read_all(settings, settings.topic_scored)
    }
    assert scored == {good_before.id, good_after.id}
    dead = {r.key: r for r in read_all(settings, settings.topic_deadletter)}
    assert set(dead) == {k for k, _ in poison}
    reasons = {}
    for key, record in dead.items():
        headers = dict(record.headers)
        reasons[key] = headers["earful.error.reason"].decode()
        assert headers["earful.source.topic"].decode() == settings.topic_raw
        assert int(headers["earful.source.offset"]) >= 0
        assert headers["earful.error.message"]
        original = dict(poison)[key]
        assert record.value == original, "dead letter must keep the original bytes"
    assert reasons == {
        b"p-json": "not_json",
        b"p-version": "schema_version",
        b"p-huge": "too_large",
        b"p-utf8": "not_utf8",
    }


def _behind(settings: AnalyzerSettings) -> int:
    """Raw records the analyzers' group has not committed yet."""
    return lag(settings, settings.analyzer_group, settings.topic_raw)


def _analyzer_process(
    procs: list[subprocess.Popen[bytes]], settings: AnalyzerSettings, *extra: str
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EARFUL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "EARFUL_TOPIC_RAW": settings.topic_raw,
        "EARFUL_TOPIC_SCORED": settings.topic_scored,
        "EARFUL_TOPIC_DEADLETTER": settings.topic_deadletter,
        "EARFUL_ANALYZER_GROUP": settings.analyzer_group,
        # Small batches, one commit each: the run lasts seconds, so the kill lands mid-run
        # however slowly the test's own lag check answers on a busy machine.
        "EARFUL_BATCH_MAX_RECORDS": "5",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "analyze", "--instance-id", "kill-test", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    procs.append(proc)
    return proc


@pytest.mark.parametrize("mode", ["exactly-once", "at-least-once"])
def test_kill_9_mid_run_loses_no_mention(
    settings_factory: Callable[..., Any], processes: list[subprocess.Popen[bytes]], mode: str
) -> None:
    settings = settings_factory(AnalyzerSettings)
    total = 1500
    mentions = [make_mention(i) for i in range(total)]
    produce(settings, settings.topic_raw, [(m.id.encode(), encode(m)) for m in mentions])
    extra = ("--at-least-once",) if mode == "at-least-once" else ()

    first = _analyzer_process(processes, settings, *extra)
    deadline = time.monotonic() + 60
    while _behind(settings) > total - 200 and time.monotonic() < deadline:
        assert first.poll() is None, "the analyzer exited before the kill"
        time.sleep(0.05)
    done_before_kill = total - _behind(settings)
    first.send_signal(signal.SIGKILL)
    first.wait(timeout=10)
    assert 0 < done_before_kill < total, "the kill must land mid-run"

    second = _analyzer_process(processes, settings, "--idle-timeout", "4", *extra)
    _, err = second.communicate(timeout=120)
    assert second.returncode == 0, err.decode()

    ids = Counter(
        decode(ScoredMention, r.value).mention.id for r in read_all(settings, settings.topic_scored)
    )
    missing = {m.id for m in mentions} - set(ids)
    duplicates = sum(n - 1 for n in ids.values())
    print(f"{mode}: killed after {done_before_kill} committed, duplicates={duplicates}")
    assert not missing, f"{len(missing)} mentions lost"
    if mode == "exactly-once":
        assert duplicates == 0


def test_sigterm_drains_and_exits_cleanly(
    settings_factory: Callable[..., Any], processes: list[subprocess.Popen[bytes]]
) -> None:
    settings = settings_factory(AnalyzerSettings)
    mentions = [make_mention(i) for i in range(300)]
    produce(settings, settings.topic_raw, [(m.id.encode(), encode(m)) for m in mentions])
    proc = _analyzer_process(processes, settings)
    deadline = time.monotonic() + 60
    while _behind(settings) > 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err.decode()
    assert b"SIGTERM" in err
    assert _behind(settings) == 0
