"""earful detect through a broker outage: the same windows and signals as a run without one.

The detect worker keeps windows, baselines and open signals in memory and in
its changelog. When the broker dies mid-run it abandons the batch in hand,
drops that memory, and restores the committed state from the changelog once
the broker is back. If either step were wrong, a window would be counted
twice or a signal fired twice; so the outputs must equal those of an
uninterrupted, time-ordered replay of the same input.
"""

from __future__ import annotations

import gc
import threading
import time
from collections import Counter
from typing import Any

import numpy as np
import pytest

from earful.analyze.backtest import replay_mentions
from earful.analyze.detect_worker import DetectSettings, build_detect_worker
from earful.events import ScoredMention, Signal, WindowStats, decode
from earful.localkafka import LocalKafka
from earful.topics import create_topics
from tests.analyze.detect_fixtures import scored
from tests.analyze.test_backtest import incident
from tests.analyze.test_detect_worker import by_subject, produce, read_all, replay_windows

pytestmark = pytest.mark.kafka


@pytest.mark.timeout(300)
# kafka-python 3.0.12 leaves the socket of a refused connection attempt to the garbage
# collector (kafka/net/inet.py); the library's, and harmless in a long-lived worker.
@pytest.mark.filterwarnings("ignore::ResourceWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_broker_killed_mid_run_changes_no_window_and_no_signal(
    private_broker: LocalKafka,
) -> None:
    settings = DetectSettings(
        kafka_bootstrap=private_broker.bootstrap,
        topic_scored="outage-scored",
        topic_windows="outage-windows",
        topic_signals="outage-signals",
        topic_deadletter="outage-dead",
        detect_group="outage-detect",
        batch_max_records=50,
        kafka_timeout_s=4,
        kafka_delivery_timeout_s=6,
        kafka_retry_max_s=1,
    )
    create_topics(settings)
    records = sorted(incident(np.random.default_rng(4)), key=lambda r: r.mention.created_at)
    others = [scored(r.mention.created_at, subject="globex") for r in records[::3]]
    stream: list[ScoredMention] = sorted([*records, *others], key=lambda r: r.mention.created_at)
    produce(settings, stream)

    worker = build_detect_worker(settings, "outage")
    result: list[Any] = []
    thread = threading.Thread(
        target=lambda: result.append(worker.run(max_messages=len(stream), idle_timeout_s=20.0)),
        daemon=True,
    )
    thread.start()
    try:
        while worker.stats.consumed < len(stream) // 3 and thread.is_alive():
            time.sleep(0.02)
        assert worker.stats.consumed < len(stream), "the outage must land mid-run"
        private_broker.kill()
        time.sleep(8.0)  # longer than the delivery timeout
        private_broker.up(timeout_s=120)
        thread.join(180)
        assert not thread.is_alive(), "the worker did not finish after the broker came back"
    finally:
        worker.request_stop()
        thread.join(30)
        worker.close()
        gc.collect()  # the library's leaked sockets warn here, under this test's filters
    assert result and result[0].recoveries >= 1, "the outage was never noticed"

    windows = [decode(WindowStats, r.value) for r in read_all(settings, settings.topic_windows)]
    keys = Counter((w.subject, w.source, w.window_start) for w in windows)
    assert max(keys.values()) == 1, "a window was emitted twice"
    end = min(
        max(w.window_end for w in windows if w.subject == subject) for subject in ("acme", "globex")
    )
    emitted: dict[str, list[Any]] = {}
    for w in sorted(windows, key=lambda w: w.window_start):
        if w.source is None and w.window_end <= end:
            emitted.setdefault(w.subject, []).append((w.window_start, w.mentions))
    assert emitted == replay_windows(stream, end)

    want = by_subject(s for s in replay_mentions(stream) if s.window_end <= end)
    deadline = time.monotonic() + 30.0
    while True:
        got = by_subject(
            decode(Signal, r.value) for r in read_all(settings, settings.topic_signals)
        )
        if got == want or time.monotonic() > deadline:
            break
        time.sleep(1.0)
    assert got == want
