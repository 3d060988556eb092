"""Reposts are not scored twice: the scorer remembers at least its last ``cache_size`` texts."""

from __future__ import annotations

import gc
from typing import Any

from earful.analyze.scoring import Scorer


class CountingScorer(Scorer):
    """Counts the texts actually scored (not answered from the cache)."""

    def __init__(self, cache_size: int) -> None:
        super().__init__(cache_size, gazetteer=None)
        self.scored: list[str] = []

    def _score(self, text: str, declared_lang: str | None) -> Any:
        self.scored.append(text)
        return super()._score(text, declared_lang)


def test_the_last_cache_size_texts_are_never_scored_again() -> None:
    scorer = CountingScorer(cache_size=10)
    texts = [f"acme is down in town {i}" for i in range(35)]
    for i, text in enumerate(texts):
        scorer.score(text)
        # Every one of the last 10 texts, reposted now, comes from the cache.
        for recent in texts[max(0, i - 9) : i + 1]:
            assert scorer.score(recent) == scorer.score(recent)
    assert scorer.scored == texts
    assert scorer.cache_hits >= 35 * 2


def test_old_texts_are_forgotten_and_memory_stays_bounded() -> None:
    scorer = CountingScorer(cache_size=10)
    for i in range(100):
        scorer.score(f"post number {i}")
    scorer.score("post number 0")
    assert scorer.scored.count("post number 0") == 2
    assert len(scorer._recent) + len(scorer._older) <= 2 * 10


def test_a_hit_in_the_older_generation_is_kept() -> None:
    scorer = CountingScorer(cache_size=4)
    scorer.score("viral post")
    for i in range(3):
        scorer.score(f"filler {i}")
    # "viral post" is now in the older generation; a repost brings it back.
    scorer.score("viral post")
    for i in range(3, 9):
        scorer.score(f"filler {i}")
    scorer.score("viral post")
    assert scorer.scored.count("viral post") == 1


def test_declared_language_is_part_of_the_key() -> None:
    scorer = CountingScorer(cache_size=10)
    english = scorer.score("acme est en panne", "en")
    french = scorer.score("acme est en panne", "fr")
    undeclared = scorer.score("acme est en panne")
    assert len(scorer.scored) == 3
    assert english.lang == "en" and french.lang == "fr"
    assert french.sentiment is None and english.sentiment is not None
    assert undeclared == scorer.score("acme est en panne", None)
    assert len(scorer.scored) == 3


def test_no_cache_scores_every_time() -> None:
    scorer = CountingScorer(cache_size=0)
    scorer.score("acme outage")
    scorer.score("acme outage")
    assert scorer.scored == ["acme outage", "acme outage"]
    assert scorer.cache_hits == 0


def test_remembered_texts_cost_the_garbage_collector_nothing() -> None:
    # The cache keeps strings, numbers and None (and the outage analysis of a
    # post with outage evidence): after one collection the collector no longer
    # tracks those entries, so a full cache does not make collections slower.
    scorer = Scorer(cache_size=100, gazetteer=None)
    texts = ["what a lovely morning", "meh", "bonjour à tous, quelle belle journée", "", "😂😂"]
    for text in texts:
        scorer.score(text)
    gc.collect()
    entries = list(scorer._recent.values())
    assert len(entries) == len(texts)
    assert not any(gc.is_tracked(entry) for entry in entries)
    # And a remembered text gives the same result as scoring it afresh.
    fresh = Scorer(cache_size=0, gazetteer=None)
    assert all(scorer.score(t) == fresh.score(t) for t in texts)
