"""The conversation's settings, and the small record and time helpers its parts share."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Final, NamedTuple

from earful.events import (
    OfficialUpdate,
    ReactionAudience,
    ReactionStats,
    Signal,
    TermCount,
    UpdateReaction,
)

AUDIENCES: Final[tuple[ReactionAudience, ...]] = ("all", "replies", "others")
STATE_VERSION: Final = 1
SILENCE_DETECTOR: Final = "earful-silence/1"

ConversationOutput = OfficialUpdate | UpdateReaction | Signal
#: ``(subject, after_start, after_end) -> expected stats`` (null: unknown).
ExpectedFn = Callable[[str, datetime, datetime], ReactionStats | None]

_US: Final = 1_000_000
_MINUTE: Final = 60 * _US
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)


# -- configuration -----------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ConversationConfig:
    """Spans, watermark and silence rule; every duration is event time."""

    spans_minutes: tuple[int, ...] = (15, 30, 60)
    #: An update this soon after the previous one is an echo and does not cut it.
    echo_s: float = 180.0
    #: The watermark trails the latest event time by this much.
    watermark_delay_s: float = 10.0
    #: A span is measured this long after the watermark passes its end.
    allowed_lateness_s: float = 60.0
    #: ``expected`` stays null until the baseline has seen this many minutes.
    baseline_min_minutes: int = 30
    #: Silence: no official update for this many minutes while an incident signal is open...
    silence_after_minutes: float = 15.0
    #: ...and at least ``silence_min_questions`` questions in the last window, no fewer
    #: than in the window before it (questions rise or hold, never fall).
    silence_question_window_minutes: float = 5.0
    silence_min_questions: int = 5
    #: An open silence signal is re-published this often with fresh evidence.
    silence_update_minutes: float = 5.0
    #: Signal kinds that mean "an incident is open"; empty: every kind but comms_silence.
    silence_signal_kinds: tuple[str, ...] = ()
    samples: int = 5
    top_n: int = 5
    trend_minutes: int = 10
    #: Official ids remembered per subject (replies and redelivery deduplication).
    remember_updates: int = 1000

    def __post_init__(self) -> None:
        if not self.spans_minutes or min(self.spans_minutes) < 1:
            raise ValueError("spans_minutes needs at least one span of 1 minute or more")

    @property
    def max_span_us(self) -> int:
        return max(self.spans_minutes) * _MINUTE


# -- helpers -----------------------------------------------------------------------

_REPLY: Final = 1
_SCORED: Final = 2
_NEGATIVE: Final = 4
_OUTAGE: Final = 8
_QUESTION: Final = 16


def _us(value: datetime) -> int:
    """Exact integer microseconds since the epoch (no float rounding at span edges)."""
    return (value - _EPOCH) // timedelta(microseconds=1)


def _dt(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


class _Rec(NamedTuple):
    """One non-official mention, as much as the reaction and silence need of it."""

    ts: int
    author: str
    flags: int
    symptoms: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()


def _stats(recs: Iterable[_Rec], start: int, end: int) -> ReactionStats:
    mentions = scored = negative = outage = questions = 0
    authors: set[str] = set()
    for r in recs:
        mentions += 1
        authors.add(r.author)
        if r.flags & _SCORED:
            scored += 1
            if r.flags & _NEGATIVE:
                negative += 1
        if r.flags & _OUTAGE:
            outage += 1
        if r.flags & _QUESTION:
            questions += 1
    minutes = (end - start) / _MINUTE
    return ReactionStats(
        span_start=_dt(start),
        span_end=_dt(end),
        mentions=mentions,
        unique_authors=len(authors),
        per_minute=mentions / minutes if minutes > 0 else 0.0,
        negative_share=negative / scored if scored else None,
        outage_reports_per_minute=outage / minutes if minutes > 0 else 0.0,
        question_share=questions / mentions if mentions else None,
    )


def _top(counter: Counter[str], n: int) -> tuple[TermCount, ...]:
    return tuple(TermCount(term=t, count=c) for t, c in counter.most_common(n))


@dataclass
class _Pending:
    """An update whose reaction spans are not all measured yet."""

    update_id: str
    at: int
    #: span minutes -> expected (per minute, outage reports per minute, negative share).
    expected: dict[int, tuple[float, float, float | None] | None]
    cut: int | None = None
    done: set[int] = field(default_factory=set)


@dataclass
class _Silence:
    """An open comms_silence episode."""

    id: str
    gap_start: int
    opened_at: int
    last_emit: int
    severity: str = "warning"
