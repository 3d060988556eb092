"""Dedup and noise: repeated ids, and floods of near-identical copies.

* :class:`SeenIds` remembers the most recent mention ids (``<source>:<id>``)
  in a bounded LRU, so a page fetched twice, an overlapping poll or a stream
  rewound after a reconnect produces nothing new. It survives restarts by
  reading the ids back from the tail of the raw topic (:func:`recent_ids`):
  the raw topic itself is the record of what was produced, so no second store
  can disagree with it.
* :class:`FloodDetector` counts copies of the same text within a time window.
  Texts are compared after normalising away case, URLs, @mentions, digits and
  punctuation, so spam that varies a link or a number still counts as one
  text. From the ``threshold``-th copy on, the mention carries
  ``metadata["near_duplicate"] = True`` and ``metadata["copies"] = n``; it is
  still produced (analysis decides what a flood means). Short texts are never
  counted: "is acme down?" from a thousand people is the signal, not spam.
"""

from __future__ import annotations

import hashlib
import re
import time
from collections import OrderedDict, deque
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from earful.ingest.rules import normalise
from earful.ingest.settings import IngestSettings

__all__ = [
    "FloodDetector",
    "FloodMark",
    "SeenIds",
    "flood_detector_from_settings",
    "recent_ids",
    "text_fingerprint",
]

_URL = re.compile(r"https?://\S+|www\.\S+")
_MENTION = re.compile(r"@[\w.@-]+")
_NOT_LETTERS = re.compile(r"[\W\d_]+")


class SeenIds:
    """A bounded set of ids that forgets the least recently seen first."""

    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self.capacity = capacity
        self._ids: OrderedDict[str, None] = OrderedDict()

    def __contains__(self, mention_id: object) -> bool:
        return mention_id in self._ids

    def __len__(self) -> int:
        return len(self._ids)

    def add(self, mention_id: str) -> None:
        self._ids[mention_id] = None
        self._ids.move_to_end(mention_id)
        if len(self._ids) > self.capacity:
            self._ids.popitem(last=False)

    def update(self, mention_ids: Iterable[str]) -> None:
        for mention_id in mention_ids:
            self.add(mention_id)


def recent_ids(
    consumer: Any, topic: str, *, max_records: int, prefix: str = "", timeout_s: float = 60.0
) -> Iterator[str]:
    """Keys of up to ``max_records`` of the newest records of ``topic``, oldest first.

    ``consumer`` has no group and no subscription (it is assigned here); with
    ``read_committed`` aborted records are skipped. Only keys starting with
    ``prefix`` (e.g. ``"mastodon:"``) are yielded.
    """
    from kafka import TopicPartition

    partitions = sorted(consumer.partitions_for_topic(topic) or ())
    if not partitions or max_records <= 0:
        return
    tps = [TopicPartition(topic, p) for p in partitions]
    consumer.assign(tps)
    begin = consumer.beginning_offsets(tps)
    end = consumer.end_offsets(tps)
    share = max(1, max_records // len(tps))
    for tp in tps:
        consumer.seek(tp, max(begin[tp], end[tp] - share))
    remaining = {tp for tp in tps if consumer.position(tp) < end[tp]}
    deadline = time.monotonic() + timeout_s
    while remaining and time.monotonic() < deadline:
        for tp, records in consumer.poll(timeout_ms=500).items():
            for record in records:
                if record.offset >= end[tp] or record.key is None:
                    continue
                key = record.key.decode("utf-8", "replace")
                if key.startswith(prefix):
                    yield key
        remaining = {tp for tp in remaining if consumer.position(tp) < end[tp]}
    if remaining:
        raise TimeoutError(f"could not read the tail of {topic} within {timeout_s}s")


def text_fingerprint(text: str, *, min_words: int) -> str | None:
    """A short digest of the text's words, or None for texts too short to call copies."""
    words = _NOT_LETTERS.sub(" ", _MENTION.sub(" ", _URL.sub(" ", normalise(text)))).split()
    if len(words) < min_words:
        return None
    return hashlib.blake2b(" ".join(words).encode("utf-8"), digest_size=8).hexdigest()


@dataclass(frozen=True, slots=True)
class FloodMark:
    """What the detector says about one text."""

    fingerprint: str | None
    copies: int
    flood: bool


class FloodDetector:
    """Counts copies of each normalised text within a sliding time window."""

    def __init__(
        self, *, threshold: int, window_s: float, min_words: int, capacity: int = 100_000
    ) -> None:
        self.threshold = threshold
        self.window_s = window_s
        self.min_words = min_words
        self.capacity = capacity
        self._seen: OrderedDict[str, deque[float]] = OrderedDict()

    def fingerprint(self, text: str) -> str | None:
        """The text's fingerprint, or None for a text too short to call a copy."""
        return text_fingerprint(text, min_words=self.min_words)

    def mark(self, fingerprint: str, at: datetime, *, pending: int = 0) -> FloodMark:
        """What one more copy at ``at`` would be, after ``pending`` copies not yet
        recorded; counts nothing (:meth:`record` does, once the copy is produced)."""
        times = self._seen.get(fingerprint)
        if times:
            self._expire(times, at.timestamp())
        copies = (len(times) if times else 0) + pending + 1
        return FloodMark(fingerprint, copies, copies >= self.threshold)

    def record(self, fingerprint: str, at: datetime) -> None:
        now = at.timestamp()
        times = self._seen.pop(fingerprint, None) or deque()
        self._expire(times, now)
        times.append(now)
        self._seen[fingerprint] = times
        if len(self._seen) > self.capacity:
            self._seen.popitem(last=False)

    def _expire(self, times: deque[float], now: float) -> None:
        while times and times[0] <= now - self.window_s:
            times.popleft()


def flood_detector_from_settings(settings: IngestSettings) -> FloodDetector:
    """The flood flag as configured (``near_duplicate_*``), for a connector or the push endpoint."""
    return FloodDetector(
        threshold=settings.near_duplicate_threshold,
        window_s=settings.near_duplicate_window_s,
        min_words=settings.near_duplicate_min_words,
    )
