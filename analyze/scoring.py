"""Scoring one text: language, VADER, Earful's incident-aware sentiment, outage analysis.

The analyzer worker and ``earful score`` both call :class:`Scorer`, so they
give the same answer for the same text. Per text, cheapest first:

1. one normalisation and one Aho-Corasick scan (:mod:`earful.analyze.cues`) find the
   incident phrases, function words and emoji;
2. the language (:mod:`earful.analyze.language`): declared, or English by its
   function words, or CLD2;
3. English: one VADER pass; its raw scores are kept and Earful's compound
   adds the incident cues on VADER's scale (:mod:`earful.analyze.sentiment`). Other
   languages get no sentiment (VADER reads English only) and say why;
4. every language: outage analysis with symptoms, platforms, places and
   error codes (:mod:`earful.analyze.outage`).

Texts longer than ``max_chars`` are analysed on their first ``max_chars``
characters, which bounds the time one text can take. Recent texts are
cached (at least the last ``cache_size``), so reposts are not scored twice.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

from earful.analyze.cues import CueScanner, default_scanner
from earful.analyze.gazetteer import Gazetteer, default_gazetteer
from earful.analyze.language import UNDETERMINED, detect_language
from earful.analyze.outage import NOT_A_REPORT, analyze_outage
from earful.analyze.sentiment import incident_compound
from earful.analyze.vader import ExactVader
from earful.events import OutageAnalysis, SentimentLabel, SentimentScore

__all__ = [
    "DEFAULT_MAX_CHARS",
    "MODEL_NAME",
    "PolarityScorer",
    "Scorer",
    "TextScore",
    "label_for",
]

MODEL_NAME = "earful-incident/6 vader-3.3.2 cld2-0.42"
#: Longest text analysed in full; the rest of a longer text is ignored.
DEFAULT_MAX_CHARS = 10_000
#: Pydantic's validator for the model, called directly on a dict (faster than
#: ``SentimentScore(...)``, which builds the same dict from keywords first).
_validate_sentiment = SentimentScore.__pydantic_validator__.validate_python


class PolarityScorer(Protocol):
    """What the scorer needs of VADER: ``SentimentIntensityAnalyzer`` or :class:`ExactVader`."""

    def polarity_scores(self, text: str) -> dict[str, float]: ...


class TextScore(NamedTuple):
    """One text's scores (a named tuple: cheap to build, immutable)."""

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


#: What a TextScore is made of, as plain values in one flat tuple: lang,
#: unscored_reason, the outage analysis (None for NOT_A_REPORT), then Earful's
#: compound and VADER's neg, neu, pos and compound (five Nones for a text not
#: scored). Only strings, numbers and None (and the outage analysis of a post
#: with outage evidence): the garbage collector stops tracking such a tuple at
#: its first pass, so the tens of thousands of remembered texts cost no
#: collection work (a tuple holding a dict or a model is traversed at every full
#: collection, and each one remembered brings the next full collection closer).
_Remembered = tuple[
    str | None,
    str | None,
    OutageAnalysis | None,
    float | None,
    float | None,
    float | None,
    float | None,
    float | None,
]
_NOT_SCORED = (None, None, None, None, None)
_tuple_new = tuple.__new__


class Scorer:
    """Scores texts; remembers recent texts so reposts are not scored twice.

    ``scanner`` and ``gazetteer`` default to the shipped lexicon and the
    GeoNames gazetteer (loaded once per process, about a second); pass
    ``gazetteer=None`` to skip place extraction. ``vader`` defaults to
    :class:`~earful.analyze.vader.ExactVader` (the package's scores, faster); the
    benchmark passes the package's own analyzer to measure Earful's extras alone.
    """

    model = MODEL_NAME

    def __init__(
        self,
        cache_size: int = 50_000,
        *,
        max_chars: int = DEFAULT_MAX_CHARS,
        scanner: CueScanner | None = None,
        gazetteer: Gazetteer | bool | None = True,
        vader: PolarityScorer | None = None,
    ) -> None:
        # VADER's scores, computed with less work; equal to the package's field by field.
        self._vader: PolarityScorer = vader if vader is not None else ExactVader()
        self._scanner = scanner if scanner is not None else default_scanner()
        if gazetteer is True:
            self._gazetteer: Gazetteer | None = default_gazetteer()
        else:
            self._gazetteer = gazetteer or None
        self._max_chars = max_chars
        # Two generations of plain dicts: new results go to the recent one; when
        # it holds cache_size texts it becomes the older one and the previous
        # older one is dropped whole. The last cache_size texts are always
        # remembered (up to twice as many), for less work per text than an LRU
        # OrderedDict (no linked list, no eviction per insert).
        # The cache keeps plain values (_Remembered), not the pydantic models: tens
        # of thousands of retained models cost the garbage collector more, per
        # text scored, than rebuilding a model for the few reposts.
        self._recent: dict[str | tuple[str, str], _Remembered] = {}
        self._older: dict[str | tuple[str, str], _Remembered] = {}
        self._cache_size = cache_size
        self.cache_hits = 0

    def score(self, text: str, declared_lang: str | None = None) -> TextScore:
        # Most posts declare no language: the text alone is the key (no tuple to build).
        key: str | tuple[str, str] = text if declared_lang is None else (text, declared_lang)
        hit = self._recent.get(key)
        if hit is None and self._older:
            hit = self._older.get(key)
            if hit is not None:
                self._remember(key, hit)
        if hit is not None:
            self.cache_hits += 1
            return self._recall(hit)
        result, remembered = self._score(text[: self._max_chars], declared_lang)
        if self._cache_size:
            self._remember(key, remembered)
        return result

    def _remember(self, key: str | tuple[str, str], result: _Remembered) -> None:
        self._recent[key] = result
        if len(self._recent) >= self._cache_size:
            self._older = self._recent
            self._recent = {}

    @staticmethod
    def _recall(hit: _Remembered) -> TextScore:
        lang, reason, outage, compound, neg, neu, pos, vader_compound = hit
        sentiment = None
        if compound is not None:
            raw = {"neg": neg, "neu": neu, "pos": pos, "compound": vader_compound}
            sentiment = _validate_sentiment(
                {"label": label_for(compound), "compound": compound, "vader": raw}
            )
        if outage is None:
            outage = NOT_A_REPORT
        return _tuple_new(TextScore, (lang, sentiment, reason, outage))

    def _score(self, text: str, declared_lang: str | None) -> tuple[TextScore, _Remembered]:
        """The text's score, and the same as plain values for the cache."""
        if not text or text.isspace():
            return _unscored(None, "empty text", NOT_A_REPORT)
        cues = self._scanner.scan(text)
        lang = detect_language(text, declared_lang, cues.function_words)
        outage = analyze_outage(text, cues, self._gazetteer)
        if lang == UNDETERMINED:
            return _unscored(lang, "language not identified", outage)
        if lang is not None and lang != "en":
            reason = f"language '{lang}' is not scored: VADER reads English only"
            return _unscored(lang, reason, outage)
        raw = self._vader.polarity_scores(text)
        compound = incident_compound(raw["compound"], cues, text)
        # VADER's own dict ({neg, neu, pos, compound}) is validated as VaderScores
        # in the same call as the rest: one validation, straight from a dict
        # (pydantic copies the values; the cache keeps the values, not the model).
        sentiment: SentimentScore = _validate_sentiment(
            {"label": label_for(compound), "compound": compound, "vader": raw}
        )
        result = _tuple_new(TextScore, (lang, sentiment, None, outage))
        remembered = (
            lang,
            None,
            None if outage is NOT_A_REPORT else outage,
            compound,
            raw["neg"],
            raw["neu"],
            raw["pos"],
            raw["compound"],
        )
        return result, remembered


def _unscored(
    lang: str | None, reason: str, outage: OutageAnalysis
) -> tuple[TextScore, _Remembered]:
    remembered = (lang, reason, None if outage is NOT_A_REPORT else outage, *_NOT_SCORED)
    return _tuple_new(TextScore, (lang, None, reason, outage)), remembered
