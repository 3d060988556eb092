"""earful detect on the real broker: outputs, restart and partition moves keep state."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

import numpy as np
import pytest

from earful.analyze.backtest import replay_mentions
from earful.analyze.detect_worker import DetectProcessor, DetectSettings, build_detect_worker
from earful.analyze.windows import WindowAggregator
from earful.events import ScoredMention, Signal, WindowStats, decode, encode
from earful.kafkautil import read_to_end
from earful.worker import make_consumer, make_producer
from tests.analyze.detect_fixtures import scored
from tests.analyze.test_backtest import incident


class FakeRecord:
    def __init__(self, value: bytes, partition: int, offset: int, key: bytes | None) -> None:
        self.value, self.partition, self.offset, self.key = value, partition, offset, key
        self.topic = "scored"
        self.headers: list[tuple[str, bytes]] = []


def test_processor_skips_what_its_restored_state_already_holds() -> None:
    settings = DetectSettings(topic_signals="s")
    first = DetectProcessor(settings)
    records = [scored(i * 20.0) for i in range(12)]
    for offset, r in enumerate(records[:6]):
        first.process(FakeRecord(encode(r), 0, offset, b"acme"))
    [state] = first.checkpoint_outputs()
    assert state.topic == "s.state" and state.key == b"acme"
    second = DetectProcessor(settings)
    second.restore(json.loads(state.value))
    out = []
    for offset, r in enumerate(records):  # redelivered from the start
        out += list(second.process(FakeRecord(encode(r), 0, offset, b"acme")))
    assert second.skipped == 6
    windows = [decode(WindowStats, o.value) for o in out if o.topic == settings.topic_windows]
    subject_windows = [w for w in windows if w.source is None]
    assert sum(w.mentions for w in subject_windows) <= 12


def test_subject_windows_carry_what_the_volume_detector_expected() -> None:
    settings = DetectSettings(topic_signals="s")
    processor = DetectProcessor(settings)
    records = [scored(i * 7.0) for i in range(400)]  # about 8.6 a minute, for 47 minutes
    out = []
    for offset, r in enumerate(records):
        out += list(processor.process(FakeRecord(encode(r), 0, offset, b"acme")))
    windows = [decode(WindowStats, o.value) for o in out if o.topic == settings.topic_windows]
    subject = [w for w in windows if w.source is None]
    per_source = [w for w in windows if w.source is not None]
    assert subject and per_source
    assert all(w.expected_mentions is None for w in per_source)
    assert all(w.expected_mentions is not None and w.expected_mentions >= 0 for w in subject)
    # Learned from the subject's own history: near its steady rate once warmed up.
    late = [(w.mentions, w.expected_mentions or 0.0) for w in subject[-10:]]
    assert all(abs(expected - seen) < 0.5 * seen for seen, expected in late), late


def produce(settings: DetectSettings, records: list[ScoredMention]) -> None:
    producer = make_producer(settings)
    try:
        for r in records:
            producer.send(settings.topic_scored, key=r.subject.encode(), value=encode(r))
        producer.flush()
    finally:
        producer.close(timeout=10)


def read_all(settings: DetectSettings, topic: str) -> list[Any]:
    """Every committed record; re-read until stable (commit markers land asynchronously)."""
    previous: list[Any] | None = None
    for _ in range(5):
        reader = make_consumer(settings, group=None, topics=[])
        try:
            records = list(read_to_end(reader, topic))
        finally:
            reader.close(autocommit=False)
        # An empty read can mean a fresh client without the topic's metadata yet.
        if previous is not None and len(records) == len(previous) and records:
            return records
        previous = records
        time.sleep(1.0)
    return previous or []


def by_subject(signals: Iterable[Signal]) -> dict[str, list[tuple[str, str, str]]]:
    """(id, state, severity) of each subject's signals, in order."""
    out: dict[str, list[tuple[str, str, str]]] = {}
    for s in signals:
        out.setdefault(s.subject, []).append((s.id, s.state, s.severity))
    return out


def replay_windows(stream: list[ScoredMention], end: datetime) -> dict[str, list[Any]]:
    """(window_start, mentions) of each subject's windows in a time-ordered run, up to ``end``."""
    aggregator = WindowAggregator(DetectSettings().window_config())
    closed = [w for r in stream for w in aggregator.add(r)] + list(aggregator.flush())
    out: dict[str, list[Any]] = {}
    for w in closed:
        if w.stats.source is None and w.stats.window_end <= end:
            out.setdefault(w.stats.subject, []).append((w.stats.window_start, w.stats.mentions))
    return out


def run_until(settings: DetectSettings, instance: str, messages: int) -> int:
    worker = build_detect_worker(settings, instance)
    try:
        stats = worker.run(max_messages=messages, idle_timeout_s=3.0)
    finally:
        worker.close()
    return stats.consumed


@pytest.mark.kafka
@pytest.mark.timeout(240)
def test_restart_and_move_keep_windows_baselines_and_open_signals(
    settings_factory: Callable[..., DetectSettings],
) -> None:
    settings = settings_factory(DetectSettings)
    records = sorted(incident(np.random.default_rng(4)), key=lambda r: r.mention.created_at)
    others = [scored(r.mention.created_at, subject="globex") for r in records[::3]]
    stream: list[ScoredMention] = sorted([*records, *others], key=lambda r: r.mention.created_at)
    produce(settings, stream)
    n = len(stream)
    # Worker "a" stops two thirds in, after the outage has opened a signal; it
    # restarts, stops again, and worker "b" (another replica) takes over.
    consumed = run_until(settings, "a", int(n * 0.7))
    consumed += run_until(settings, "a", int(n * 0.1))
    consumed += run_until(settings, "b", n)
    assert consumed == n

    windows = [decode(WindowStats, r.value) for r in read_all(settings, settings.topic_windows)]
    keys = Counter((w.subject, w.source, w.window_start) for w in windows)
    assert max(keys.values()) == 1, "a window was emitted twice"
    acme = sorted(
        (w for w in windows if w.subject == "acme" and w.source is None),
        key=lambda w: w.window_start,
    )
    total = sum(w.mentions + w.late for w in acme)
    assert total == len(records) - sum(  # all but the windows still open at the end
        1 for r in records if r.mention.created_at >= acme[-1].window_end
    )

    # Each subject's windows close on its own partition's watermark: compare up to the
    # earlier of the two last windows.
    end = min(
        max(w.window_end for w in windows if w.subject == subject) for subject in ("acme", "globex")
    )
    want = by_subject(s for s in replay_mentions(stream) if s.window_end <= end)
    # Both subjects raise signals (globex gets a third of acme's volume, surge included).
    assert sorted(want) == ["acme", "globex"]
    # Each input partition keeps its own watermark, so both subjects get the windows of a
    # time-ordered run however the worker interleaves their partitions.
    replayed = replay_windows(stream, end)
    emitted: dict[str, list[Any]] = {}
    for w in sorted(windows, key=lambda w: w.window_start):
        if w.source is None and w.window_end <= end:
            emitted.setdefault(w.subject, []).append((w.window_start, w.mentions))
    assert emitted == replayed
    # A partition's last commit marker can land a little later than the rest: re-read a while.
    deadline = time.monotonic() + 30.0
    while True:
        got_all = [decode(Signal, r.value) for r in read_all(settings, settings.topic_signals)]
        got = by_subject(got_all)
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    # The same signals as one uninterrupted run, in order per subject (Kafka orders each
    # partition, not the topic): nothing forgotten, nothing fired twice.
    assert got == want
    assert (
        Counter((s.id, s.state) for s in got_all)[
            next((s.id, "open") for s in got_all if s.kind == "outage_burst")
        ]
        == 1
    )
