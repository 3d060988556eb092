"""Builders of ScoredMention records for the window and detector tests."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

from earful.analyze.detectors import Assessment, CountDetector
from earful.events import (
    Mention,
    OutageAnalysis,
    ScoredMention,
    SentimentLabel,
    SentimentScore,
    VaderScores,
)

__all__ = ["STEP", "T0", "run_counts", "scored"]

#: A Monday, so day-of-week effects start at a known place.
T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
_ids = itertools.count()


def scored(
    at: datetime | float,
    *,
    subject: str = "acme",
    author: str | None = None,
    source: str = "mastodon",
    label: SentimentLabel | None = "neutral",
    outage: bool = False,
    symptoms: tuple[str, ...] = (),
    places: tuple[str, ...] = (),
    text: str = "acme login page again",
    mention_id: str | None = None,
) -> ScoredMention:
    """One scored mention; ``at`` is a datetime or seconds after :data:`T0`."""
    created = at if isinstance(at, datetime) else T0 + timedelta(seconds=at)
    n = next(_ids)
    native = mention_id or f"n{n}"
    mention = Mention(
        id=f"{source}:{native}",
        source=source,  # type: ignore[arg-type]
        native_id=native,
        author=author or f"author{n}",
        text=text,
        created_at=created,
        ingested_at=created + timedelta(seconds=5),
        subjects=(subject,),
    )
    sentiment = None
    if label is not None:
        compound = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}[label]
        sentiment = SentimentScore(
            label=label,
            compound=compound,
            vader=VaderScores(neg=0.0, neu=1.0, pos=0.0, compound=compound),
        )
    analysis = OutageAnalysis(
        is_report=outage, confidence=0.9 if outage else 0.1, symptoms=symptoms, places=places
    )
    return ScoredMention(
        subject=subject,
        mention=mention,
        sentiment=sentiment,
        outage=analysis,
        scored_at=created + timedelta(seconds=6),
        model="test/1",
    )


#: The window length of the count-detector tests (NAB's five minutes).
STEP = timedelta(minutes=5)


def run_counts(detector: CountDetector, values: list[float], offset: int = 0) -> list[Assessment]:
    """Step ``detector`` through consecutive STEP windows from T0 (+ offset windows)."""
    out = []
    for i, v in enumerate(values, start=offset):
        start = T0 + i * STEP
        out.append(detector.step(start, start + STEP, v))
    return out
