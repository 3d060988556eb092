"""Builders of the records the metrics sink reads (shared with tests/deploy)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from earful.events import (
    Mention,
    OutageAnalysis,
    ReactionAudience,
    ReactionStats,
    ScoredMention,
    SentimentLabel,
    SentimentScore,
    Severity,
    Signal,
    SignalState,
    UpdateReaction,
    VaderScores,
    WindowStats,
)

__all__ = ["T0", "FakeRecord", "reaction", "scored", "signal", "window"]

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


@dataclass
class FakeRecord:
    """What the worker hands a processor: a consumed record's fields."""

    topic: str
    value: bytes | None
    key: bytes | None = None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    partition: int = 0
    offset: int = 0


def scored(
    i: int,
    *,
    subject: str = "acme",
    source: str = "mastodon",
    label: SentimentLabel = "negative",
    compound: float = -0.6,
    symptoms: tuple[str, ...] = (),
    places: tuple[str, ...] = (),
    platforms: tuple[str, ...] = (),
    official: bool = False,
    created_at: datetime | None = None,
    ingest_delay_s: float = 2.0,
    score_delay_s: float = 0.5,
) -> ScoredMention:
    created = created_at or T0 + timedelta(seconds=i)
    ingested = created + timedelta(seconds=ingest_delay_s)
    mention = Mention(
        id=f"{source}:{i}",
        source=source,  # type: ignore[arg-type]
        native_id=str(i),
        author=f"author-{i}",
        text=f"post {i}",
        created_at=created,
        ingested_at=ingested,
        subjects=(subject,),
        is_official=official,
    )
    outage = None
    if symptoms or places or platforms:
        outage = OutageAnalysis(
            is_report=True,
            confidence=0.9,
            symptoms=symptoms,
            places=places,
            platforms=platforms,
        )
    return ScoredMention(
        subject=subject,
        mention=mention,
        lang="en",
        sentiment=SentimentScore(
            label=label,
            compound=compound,
            vader=VaderScores(neg=0.5, neu=0.5, pos=0.0, compound=compound),
        ),
        outage=outage,
        scored_at=ingested + timedelta(seconds=score_delay_s),
        model="test/1",
    )


def window(
    minute: int,
    *,
    subject: str = "acme",
    source: str | None = None,
    mentions: int = 10,
    negative: int = 5,
    outage_reports: int = 2,
    late: int = 0,
    expected: float | None = None,
) -> WindowStats:
    start = T0 + timedelta(minutes=minute)
    return WindowStats(
        subject=subject,
        source=source,
        window_start=start,
        window_end=start + timedelta(minutes=1),
        mentions=mentions,
        unique_authors=mentions - 1 if mentions else 0,
        negative=negative,
        negative_share=negative / mentions if mentions else 0.0,
        mean_compound=-0.2,
        outage_reports=outage_reports,
        late=late,
        expected_mentions=expected,
    )


def signal(
    signal_id: str,
    state: SignalState,
    *,
    subject: str = "acme",
    severity: Severity = "warning",
    observed: float = 120.0,
    expected: float = 20.0,
    detector: str = "volume/1",
) -> Signal:
    return Signal(
        id=signal_id,
        subject=subject,
        kind="volume_spike",
        state=state,
        severity=severity,
        detector=detector,
        opened_at=T0,
        updated_at=T0 + timedelta(minutes=1),
        resolved_at=T0 + timedelta(minutes=5) if state == "resolved" else None,
        window_start=T0,
        window_end=T0 + timedelta(minutes=1),
        observed=observed,
        expected=expected,
        score=0.97,
    )


def reaction(
    update_minute: int,
    *,
    subject: str = "acme",
    span_minutes: int = 15,
    audience: ReactionAudience = "all",
    negative_before: float | None = 0.6,
    negative_after: float | None = 0.4,
    expected: bool = True,
) -> UpdateReaction:
    """The reaction to an update posted ``update_minute`` minutes after T0."""
    at = T0 + timedelta(minutes=update_minute)
    span = timedelta(minutes=span_minutes)

    def stats(start: datetime, per_minute: float, negative: float | None) -> ReactionStats:
        return ReactionStats(
            span_start=start,
            span_end=start + span,
            mentions=round(per_minute * span_minutes),
            unique_authors=None,
            per_minute=per_minute,
            negative_share=negative,
            outage_reports_per_minute=per_minute / 4,
            question_share=0.2 if negative is not None else None,
        )

    return UpdateReaction(
        update_id=f"statuspage:{update_minute}",
        subject=subject,
        update_at=at,
        span_minutes=span_minutes,
        audience=audience,
        before=stats(at - span, 20.0, negative_before),
        after=stats(at, 12.0, negative_after),
        expected=stats(at, 2.0, 0.1) if expected else None,
        complete=True,
        computed_at=at + span + timedelta(minutes=1),
    )
