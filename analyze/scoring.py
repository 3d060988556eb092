"""Scoring one text: sentiment (VADER), and the slots the incident-aware scorer fills.

This is the first slice's scorer: raw VADER with its README thresholds
(compound >= 0.05 positive, <= -0.05 negative). The analyzer worker and
``earful score`` both call :class:`Scorer`, so an improved scorer changes both.
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from earful.events import OutageAnalysis, SentimentLabel, SentimentScore, VaderScores

__all__ = ["MODEL_NAME", "Scorer", "TextScore", "label_for"]

MODEL_NAME = "earful-vader/1 vader-3.3.2"


@dataclass(frozen=True, slots=True)
class TextScore:
    lang: str | None
    sentiment: SentimentScore | None
    unscored_reason: str | None
    outage: OutageAnalysis | None


def label_for(compound: float) -> SentimentLabel:
    if compound >= 0.05:
        return "positive"
    if compound <= -0.05:
        return "negative"
    return "neutral"


class Scorer:
    """Scores texts; remembers recent texts so reposts are not scored twice."""

    model = MODEL_NAME

    def __init__(self, cache_size: int = 50_000) -> None:
        self._vader = SentimentIntensityAnalyzer()
        self._cache: OrderedDict[tuple[str, str | None], TextScore] = OrderedDict()
        self._cache_size = cache_size
        self.cache_hits = 0

    def score(self, text: str, declared_lang: str | None = None) -> TextScore:
        key = (text, declared_lang)
        hit = self._cache.get(key)
        if hit is not None:
            self._cache.move_to_end(key)
            self.cache_hits += 1
            return hit
        result = self._score(text, declared_lang)
        if self._cache_size:
            self._cache[key] = result
            if len(self._cache) > self._cache_size:
                self._cache.popitem(last=False)
        return result

    def _score(self, text: str, declared_lang: str | None) -> TextScore:
        lang = declared_lang.split("-")[0].lower() if declared_lang else None
        if lang is not None and lang != "en":
            return TextScore(lang, None, f"language '{lang}' is not scored", None)
        raw = self._vader.polarity_scores(text)
        vader = VaderScores(
            neg=raw["neg"], neu=raw["neu"], pos=raw["pos"], compound=raw["compound"]
        )
        sentiment = SentimentScore(
            label=label_for(vader.compound), compound=vader.compound, vader=vader
        )
        return TextScore(lang, sentiment, None, None)
