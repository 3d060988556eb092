"""The numbers of an incident communications report.

Computed from a :class:`~earful.comms.report.data.ReportData`.

Pure computation (pandas for the per-minute series, no I/O, the clock passed
in). Definitions, also in ``docs/report.md``:

* **Mentions** are public mentions: official ones are the updates, listed apart.
* **Per minute** (the timeline): mentions, negative share (label ``negative``
  among the minute's scored mentions), outage reports counted once per author
  per minute as the pipeline's windows and dashboards count them, questions
  (:func:`earful.analyze.conversation.asks_for_information`).
* **Onset**: the opening of the first ``outage_burst`` signal; without one,
  the first minute whose outage reports reach ``max(3, 3 x`` the mean of the
  15 minutes before it).
* **Time to first update**: from the onset to the first official update at or
  after it.
* **Reactions**: measured with :func:`earful.analyze.conversation.measure_reactions`
  over the loaded mentions (the same code as the conversation worker), or the
  records of the reactions topic when asked for (or when there are no mentions).
* **Top symptoms, places, platforms**: the number of distinct authors whose
  outage reports name each. **Complaints**: the most frequent terms of the
  negative mentions (:func:`earful.analyze.terms.complaint_terms`, as the windows count them).
* **Samples**: the most engaged negative posts (likes + reposts + replies +
  quotes), reposts and repeated texts left out, authors pseudonymous.
"""

from __future__ import annotations

import hashlib
import itertools
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal, cast

import pandas as pd

from earful.analyze.conversation import (
    asks_for_information,
    measure_reactions,
    official_update_from,
)
from earful.analyze.terms import complaint_terms
from earful.comms.report.data import LoadProblem, ReportData
from earful.events import (
    SEVERITY_RANK,
    OfficialUpdate,
    ScoredMention,
    Severity,
    Signal,
    SignalKind,
    TermCount,
    UpdateReaction,
)

__all__ = [
    "DEFAULT_SPANS",
    "ONSET_MIN_REPORTS",
    "ReactionRow",
    "ReactionSource",
    "Report",
    "SamplePost",
    "SignalEpisode",
    "build_report",
    "minute_series",
    "pseudonym",
]

DEFAULT_SPANS: Final = (15, 30, 60)
#: The span of the reaction table and chart.
TABLE_SPAN: Final = 15
#: Onset without a signal: a minute with at least this many outage reports...
ONSET_MIN_REPORTS: Final = 3
#: ...and this many times the mean of the minutes before it.
ONSET_FACTOR: Final = 3.0
ONSET_HISTORY_MINUTES: Final = 15
TOP_N: Final = 10
SAMPLES: Final = 5

ReactionSource = Literal["computed", "recorded"]


@dataclass(frozen=True, slots=True)
class SignalEpisode:
    """One signal from opening to resolution (its records folded together)."""

    id: str
    kind: SignalKind
    severity: Severity
    opened_at: datetime
    last_at: datetime
    resolved_at: datetime | None
    window_start: datetime
    peak_observed: float
    expected: float
    score: float
    last: Signal

    @property
    def end(self) -> datetime:
        """Resolved: when; still open: its last record (see :meth:`end_within`)."""
        return self.resolved_at or self.last_at

    @property
    def is_open(self) -> bool:
        return self.resolved_at is None

    def end_within(self, until: datetime) -> datetime:
        """Where the episode ends inside a period ending at ``until``.

        A signal still open at the end of the data lasts at least to the end of
        the period, not to its last record (which an open signal writes only
        when something changes).
        """
        if self.resolved_at is not None:
            return min(self.resolved_at, until)
        return max(self.last_at, until)

    @property
    def minutes(self) -> float:
        return (self.end - self.window_start).total_seconds() / 60

    def minutes_within(self, until: datetime) -> float:
        return (self.end_within(until) - self.window_start).total_seconds() / 60


@dataclass(frozen=True, slots=True)
class ReactionRow:
    """The reaction to one update over :data:`TABLE_SPAN` minutes, for the table."""

    update: OfficialUpdate
    all: UpdateReaction | None
    replies: UpdateReaction | None
    others: UpdateReaction | None


@dataclass(frozen=True, slots=True)
class SamplePost:
    created_at: datetime
    source: str
    author: str
    engagement: int
    text: str
    compound: float | None


@dataclass
class Report:
    """Everything the renderers print and draw."""

    subject: str
    since: datetime
    until: datetime
    generated_at: datetime
    minutes: pd.DataFrame
    mentions: int
    unique_authors: int
    negative: int
    scored: int
    outage_reports: int
    questions: int
    peak_minute: datetime | None
    peak_mentions: int
    onset: datetime | None
    onset_basis: str
    first_update: OfficialUpdate | None
    updates: list[OfficialUpdate]
    episodes: list[SignalEpisode]
    reactions: list[UpdateReaction]
    reaction_source: str
    reaction_rows: list[ReactionRow]
    longest_update_gap: tuple[datetime, datetime] | None
    top_terms: list[TermCount]
    top_symptoms: list[TermCount]
    top_places: list[TermCount]
    top_platforms: list[TermCount]
    samples: list[SamplePost]
    records_read: int
    ignored: int
    problems: list[LoadProblem] = field(default_factory=list)
    #: Official mentions in the period (the updates are listed apart, in ``updates``).
    official_mentions: int = 0
    #: Public mentions per source, most first.
    by_source: dict[str, int] = field(default_factory=dict)

    @property
    def negative_share(self) -> float | None:
        return self.negative / self.scored if self.scored else None

    @property
    def minutes_to_first_update(self) -> float | None:
        if self.onset is None or self.first_update is None:
            return None
        return (self.first_update.created_at - self.onset).total_seconds() / 60

    @property
    def silences(self) -> list[SignalEpisode]:
        return [e for e in self.episodes if e.kind == "comms_silence"]


# -- per-minute series -----------------------------------------------------------------


def minute_series(
    mentions: Sequence[ScoredMention], since: datetime, until: datetime
) -> pd.DataFrame:
    """One row per minute of ``[since, until)``: the timeline's numbers (public mentions only)."""
    index = pd.date_range(
        pd.Timestamp(since).floor("min"), pd.Timestamp(until), freq="min", inclusive="left"
    )
    rows = [
        {
            "minute": pd.Timestamp(m.mention.created_at).floor("min"),
            "author": m.mention.author,
            "scored": m.sentiment is not None,
            "negative": m.sentiment is not None and m.sentiment.label == "negative",
            "report": m.outage is not None and m.outage.is_report,
            "question": asks_for_information(m.mention.text),
        }
        for m in mentions
        if not m.mention.is_official and since <= m.mention.created_at < until
    ]
    frame = pd.DataFrame(
        rows, columns=["minute", "author", "scored", "negative", "report", "question"]
    )
    grouped = frame.groupby("minute")
    out = pd.DataFrame(index=index)
    out.index.name = "minute"
    out["mentions"] = grouped.size()
    out["scored"] = grouped["scored"].sum()
    out["negative"] = grouped["negative"].sum()
    # One report per author per minute, as the windows (and the dashboards) count them.
    reporters = frame[frame["report"]].drop_duplicates(["minute", "author"])
    out["outage_reports"] = reporters.groupby("minute").size()
    out["questions"] = grouped["question"].sum()
    out = out.fillna(0).astype("int64")
    out["negative_share"] = (out["negative"] / out["scored"]).where(out["scored"] > 0)
    return out


def _onset_from_reports(minutes: pd.DataFrame) -> datetime | None:
    reports = minutes["outage_reports"]
    history = reports.shift(1).rolling(ONSET_HISTORY_MINUTES, min_periods=1).mean().fillna(0.0)
    jumps = reports[(reports >= ONSET_MIN_REPORTS) & (reports >= ONSET_FACTOR * history)]
    if jumps.empty:
        return None
    first: datetime = jumps.index[0].to_pydatetime()
    return first


# -- signals ---------------------------------------------------------------------------


def _episodes(signals: Sequence[Signal]) -> list[SignalEpisode]:
    by_id: dict[str, list[Signal]] = {}
    for s in signals:
        by_id.setdefault(s.id, []).append(s)
    episodes = []
    for sid, records in by_id.items():
        records.sort(key=lambda s: s.updated_at)
        first, last = records[0], records[-1]
        severity = max((s.severity for s in records), key=SEVERITY_RANK.__getitem__)
        resolved = next((s.resolved_at for s in records if s.state == "resolved"), None)
        episodes.append(
            SignalEpisode(
                id=sid,
                kind=first.kind,
                severity=severity,
                opened_at=min(s.opened_at for s in records),
                last_at=last.updated_at,
                resolved_at=resolved,
                window_start=min(s.window_start for s in records),
                peak_observed=max(s.observed for s in records),
                expected=first.expected,
                score=max(s.score for s in records),
                last=last,
            )
        )
    episodes.sort(key=lambda e: (e.opened_at, e.id))
    return episodes


# -- counts ----------------------------------------------------------------------------


def _top(counter: Counter[str], n: int = TOP_N) -> list[TermCount]:
    return [TermCount(term=t, count=c) for t, c in counter.most_common(n)]


def _reported(public: Sequence[ScoredMention]) -> tuple[Counter[str], ...]:
    """Distinct authors per symptom, place and platform among the outage reports."""
    sets: tuple[dict[str, set[str]], ...] = ({}, {}, {})
    for m in public:
        outage = m.outage
        if outage is None or not outage.is_report:
            continue
        for values, seen in zip(
            (outage.symptoms, outage.places, outage.platforms), sets, strict=True
        ):
            for value in values:
                seen.setdefault(value, set()).add(m.mention.author)
    return tuple(Counter({k: len(v) for k, v in seen.items()}) for seen in sets)


def pseudonym(scored: ScoredMention) -> str:
    """The author as a report may show it: the pseudonymous id, never a raw handle."""
    mention = scored.mention
    if mention.author_handle is None and mention.author != "":
        return mention.author
    # Raw handles were configured: show a stable hash instead.
    return "u-" + hashlib.sha256(mention.author.encode("utf-8")).hexdigest()[:12]


def _engagement(m: ScoredMention) -> int:
    e = m.mention.engagement
    return sum(v or 0 for v in (e.likes, e.reposts, e.replies, e.quotes))


def _samples(negative: Sequence[ScoredMention], n: int = SAMPLES) -> list[SamplePost]:
    ranked = sorted(
        (m for m in negative if m.mention.kind != "repost"),
        key=lambda m: (-_engagement(m), m.mention.created_at),
    )
    out: list[SamplePost] = []
    seen: set[str] = set()
    for m in ranked:
        key = " ".join(m.mention.text.lower().split())
        if key in seen:
            continue
        seen.add(key)
        out.append(
            SamplePost(
                created_at=m.mention.created_at,
                source=m.mention.source,
                author=pseudonym(m),
                engagement=_engagement(m),
                text=m.mention.text,
                compound=m.sentiment.compound if m.sentiment else None,
            )
        )
        if len(out) == n:
            break
    return out


# -- updates and reactions -------------------------------------------------------------


def _all_updates(data: ReportData) -> list[OfficialUpdate]:
    """The updates of the topic, and those of official mentions the export had no update for."""
    known = {(u.id, u.subject): u for u in data.updates}
    for m in data.period_mentions():
        update = official_update_from(m)
        if update is not None:
            known.setdefault((update.id, update.subject), update)
    return sorted(known.values(), key=lambda u: (u.created_at, u.id))


def _reaction_rows(
    updates: Sequence[OfficialUpdate], reactions: Sequence[UpdateReaction]
) -> list[ReactionRow]:
    index = {(r.update_id, r.audience): r for r in reactions if r.span_minutes == TABLE_SPAN}
    return [
        ReactionRow(
            update=u,
            all=index.get((u.id, "all")),
            replies=index.get((u.id, "replies")),
            others=index.get((u.id, "others")),
        )
        for u in updates
    ]


def _longest_gap(
    updates: Sequence[OfficialUpdate], onset: datetime | None
) -> tuple[datetime, datetime] | None:
    """The longest stretch without an official update, from the onset on."""
    if onset is None:
        return None
    times = [onset] + [u.created_at for u in updates if u.created_at >= onset]
    gaps = list(itertools.pairwise(times))
    if not gaps:
        return None
    return max(gaps, key=lambda g: g[1] - g[0])


def build_report(
    data: ReportData,
    *,
    now: datetime,
    spans_minutes: Sequence[int] = DEFAULT_SPANS,
    reaction_source: ReactionSource = "computed",
) -> Report:
    """Every number of the report; ``now`` stamps it (and the computed reactions)."""
    sel = data.selection
    period = data.period_mentions()
    public = [m for m in period if not m.mention.is_official]
    negative = [m for m in public if m.sentiment is not None and m.sentiment.label == "negative"]
    minutes = minute_series(public, sel.since, sel.until)

    episodes = _episodes(data.signals)
    bursts = [e for e in episodes if e.kind == "outage_burst" and e.opened_at >= sel.since]
    if bursts:
        onset: datetime | None = bursts[0].opened_at
        onset_basis = f"first outage_burst signal opened ({bursts[0].id})"
    else:
        onset = _onset_from_reports(minutes)
        onset_basis = (
            f"first minute with >= {ONSET_MIN_REPORTS} outage reports and >= "
            f"{ONSET_FACTOR:g}x the mean of the {ONSET_HISTORY_MINUTES} minutes before "
            "(no outage_burst signal in the period)"
        )
    updates = _all_updates(data)
    first_update = next((u for u in updates if onset is not None and u.created_at >= onset), None)

    if reaction_source == "computed" and data.mentions:
        reactions = measure_reactions(
            updates,
            data.mentions,
            spans_minutes=spans_minutes,
            now=now,
            until=sel.until,
            signals=data.signals,
        )
        source = "computed from the mentions (earful.analyze.conversation.measure_reactions)"
    else:
        reactions = list(data.reactions)
        source = "recorded on the reactions topic"

    peak_minute: datetime | None = None
    peak_mentions = 0
    if len(minutes) and int(minutes["mentions"].max()) > 0:
        peak_minute = cast(pd.Timestamp, minutes["mentions"].idxmax()).to_pydatetime()
        peak_mentions = int(minutes["mentions"].max())
    symptoms, places, platforms = _reported(public)
    return Report(
        subject=sel.subject,
        since=sel.since,
        until=sel.until,
        generated_at=now,
        minutes=minutes,
        mentions=len(public),
        unique_authors=len({m.mention.author for m in public}),
        negative=len(negative),
        scored=sum(1 for m in public if m.sentiment is not None),
        outage_reports=sum(1 for m in public if m.outage is not None and m.outage.is_report),
        questions=int(minutes["questions"].sum()),
        peak_minute=peak_minute,
        peak_mentions=peak_mentions,
        onset=onset,
        onset_basis=onset_basis,
        first_update=first_update,
        updates=updates,
        episodes=episodes,
        reactions=reactions,
        reaction_source=source,
        reaction_rows=_reaction_rows(updates, reactions),
        longest_update_gap=_longest_gap(updates, onset),
        top_terms=_top(complaint_terms((m.mention.text for m in negative), sel.subject)),
        top_symptoms=_top(symptoms),
        top_places=_top(places),
        top_platforms=_top(platforms),
        samples=_samples(negative),
        records_read=data.records_read,
        ignored=data.ignored,
        problems=list(data.problems),
        official_mentions=len(period) - len(public),
        by_source=dict(Counter(m.mention.source for m in public).most_common()),
    )
