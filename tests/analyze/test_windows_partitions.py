"""Windows when a worker reads several input partitions: each keeps its own watermark.

A worker that owns two partitions may read one partition's whole backlog before
the other's. With one watermark for all, the first partition's event time made
every record of the second late, and its subject never got a window.
"""

from __future__ import annotations

import numpy as np

from earful.analyze.detect_worker import DetectProcessor, DetectSettings
from earful.analyze.windows import WindowAggregator
from earful.events import ScoredMention, WindowStats, decode, encode
from tests.analyze.detect_fixtures import scored
from tests.analyze.test_backtest import incident


class _Record:
    topic = "scored"

    def __init__(self, scored: ScoredMention, partition: int, offset: int) -> None:
        self.headers: list[tuple[str, bytes]] = []
        self.value = encode(scored)
        self.key = scored.subject.encode()
        self.partition, self.offset = partition, offset


def _two_subjects() -> tuple[list[ScoredMention], list[ScoredMention]]:
    acme = sorted(incident(np.random.default_rng(4)), key=lambda r: r.mention.created_at)
    globex = [scored(r.mention.created_at, subject="globex") for r in acme[::3]]
    return acme, globex


def _key(w: WindowStats) -> tuple[str, str | None, object, int, int, int]:
    return (w.subject, w.source, w.window_start, w.mentions, w.late, w.outage_reports)


def test_a_partition_read_after_another_is_windowed_as_if_interleaved() -> None:
    acme, globex = _two_subjects()
    together = WindowAggregator()
    interleaved = sorted([*acme, *globex], key=lambda r: r.mention.created_at)
    expected = [w.stats for r in interleaved for w in together.add(r)]
    expected += [w.stats for w in together.flush()]

    apart = WindowAggregator()
    got = [w.stats for r in acme for w in apart.add(r, domain=0)]
    got += [w.stats for r in globex for w in apart.add(r, domain=1)]  # read only now
    got += [w.stats for w in apart.flush()]

    assert sorted(map(_key, got), key=repr) == sorted(map(_key, expected), key=repr)
    assert {w.subject for w in got if w.source is None} == {"acme", "globex"}
    assert sum(w.late for w in got) == 0 and apart.late_total == 0


def test_the_detect_processor_gives_every_partitions_subject_its_windows() -> None:
    acme, globex = _two_subjects()
    processor = DetectProcessor(DetectSettings(topic_windows="w", topic_signals="s"))
    windows: list[WindowStats] = []
    for partition, records in ((0, acme), (1, globex)):  # one backlog after the other
        for offset, r in enumerate(records):
            for out in processor.process(_Record(r, partition, offset)):
                if out.topic == "w":
                    windows.append(decode(WindowStats, out.value))
    subject_windows = [w for w in windows if w.source is None]
    for subject, records in (("acme", acme), ("globex", globex)):
        mine = [w for w in subject_windows if w.subject == subject]
        assert mine, f"no window for {subject}"
        counted = sum(w.mentions + w.late for w in mine)
        still_open = sum(1 for r in records if r.mention.created_at >= mine[-1].window_end)
        assert counted == len(records) - still_open
        assert sum(w.late for w in mine) == 0
