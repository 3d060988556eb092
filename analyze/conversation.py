"""The organisation's side of the conversation: official updates, the public's reaction, silence.

Pure logic (no Kafka, the clock passed in). :class:`ConversationTracker` is fed
scored mentions and detector signals in any order close to event time and
returns the records to publish:

* an :class:`~earful.events.OfficialUpdate` for every official mention, once per
  ``(mention id, subject)``;
* :class:`~earful.events.UpdateReaction` records: for each update and each span
  (default 15, 30, 60 minutes), the conversation in the span *before* the update
  against the span *after* it, for three audiences (``all``, ``replies`` to the
  official accounts, ``others``), emitted once the event-time watermark has
  passed the end of the after span;
* ``comms_silence`` :class:`~earful.events.Signal` records (:class:`SilenceDetector`).

Definitions (also in ``docs/conversation.md``):

* **Spans.** ``before = [t - span, t)``, ``after = [t, t + span)`` where ``t`` is
  the update's ``created_at``. The after span is cut short at the next official
  update of the subject (``complete=False``), except an *echo*: an update less
  than ``echo_s`` (default 180 s) after the previous one is the same
  announcement on another channel and does not cut it.
* **Audiences.** Official mentions never count. ``replies``: mentions whose
  ``in_reply_to`` is an official mention of the subject this tracker has seen;
  ``others``: everything else; ``all``: both.
* **Stats.** mentions, unique authors, mentions per minute, negative share
  (label ``negative`` among mentions with a sentiment), outage reports per
  minute (``outage.is_report``, every such mention counts), question share
  (:func:`asks_for_information`).
* **Expected.** For audience ``all`` only: what the subject's learned baseline
  (:mod:`analyze.baseline`, per-minute count of non-official mentions, outage
  reports and negative share, learning paused while an incident signal is open)
  predicted, *at the moment of the update*, for the after span. Null while the
  baseline has seen fewer than ``baseline_min_minutes`` minutes (cold), and for
  ``replies``/``others`` (the baseline does not split audiences). Its
  ``unique_authors`` is null (not modelled) and its ``question_share`` null.

An observed before/after change, not a proven cause: other things happen at
the same time.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter, deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Final, NamedTuple

from analyze.baseline import BaselineConfig, SeasonalBaseline, ShareBaseline
from analyze.windows import sample_of
from earful.events import (
    Evidence,
    OfficialUpdate,
    ReactionAudience,
    ReactionStats,
    SampleMention,
    ScoredMention,
    Signal,
    TermCount,
    UpdateReaction,
)

__all__ = [
    "AUDIENCES",
    "ConversationConfig",
    "ConversationTracker",
    "ExpectedFn",
    "Output",
    "SilenceDetector",
    "asks_for_information",
    "information_rule",
    "measure_reactions",
    "official_update_from",
]

AUDIENCES: Final[tuple[ReactionAudience, ...]] = ("all", "replies", "others")
STATE_VERSION: Final = 1
SILENCE_DETECTOR: Final = "earful-silence/1"

Output = OfficialUpdate | UpdateReaction | Signal
#: ``(subject, after_start, after_end) -> expected stats`` (null: unknown).
ExpectedFn = Callable[[str, datetime, datetime], ReactionStats | None]

_US: Final = 1_000_000
_MINUTE: Final = 60 * _US
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

# -- question detection ------------------------------------------------------------

#: Rules for "the mention asks for information or an update". Each is a name and
#: a pattern, so a match can be explained. Deliberately NOT included: questions
#: that only ask whether the service is down or for whom ("is acme down?",
#: "anyone else?", "is it just me?", "is the website down too?"). Those confirm
#: an outage (the scorer counts them as reports); they do not ask the
#: organisation for news. A bare question mark is not enough either ("can I
#: set up a standing order in acme?" is chatter).
_RULES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = (
    ("asks_update", (
        r"\b(?:any|an|some|new|the latest)\s+"
        r"(?:update|updates|news|word|info|information|statement)\b",
        r"\bupdates?\s*\?",
    )),
    ("asks_eta", (r"\beta\b",)),
    ("asks_what_happens", (
        r"\bwhat(?:'s|s| is| the hell is| on earth is)\s+(?:going on|happening|up with)\b",
        r"\bwhat happened\b",
    )),
    ("asks_cause", (
        r"\bwhat(?:'s| is| was)\s+(?:the\s+)?(?:actual\s+)?(?:problem|issue|cause|wrong)\b",
        r"\b(?:say|tell us|explain) what(?:'s| is)? (?:broken|wrong|happening)\b",
    )),
    ("asks_when_fixed", (
        r"\bwhen\s+(?:will|is|does|do|can|are|should|'s)\b[^.!?]{0,60}?"
        r"\b(?:back|fix|fixed|working|work|resolved|restored|up again|sorted|over|coming)\b",
    )),
    ("asks_how_long", (r"\bhow long\s+(?:will|until|till|is|does|do|before|must|should|are)\b",)),
    ("asks_anyone_know", (
        r"\b(?:any ?one|any ?body|some ?one|somebody)\s+"
        r"(?:know|knows|heard|got (?:any|a) (?:info|number|update))\b",
    )),
    ("asks_status", (r"\bstatus\s*\?", r"\bstatus update\b")),
    ("asks_aware", (
        r"\bare you (?:aware|looking|on it|working on)\b",
        r"\b(?:anyone|anybody|someone) (?:from|at) @?\w+ (?:looking|aware|awake|there|say)\b",
    )),
    ("asks_statement", (r"\b(?:say|post) something\b", r"\bofficial (?:statement|word|update)\b")),
    ("silence_complaint", (
        r"\b(?:since|from) (?:your|the|their) last update\b",
        r"\b(?:minutes|mins?|hours?) of silence\b",
        r"\bstill nothing from\b",
        r"\b(?:no|zero) (?:update|updates|word|news|communication|info)\b",
    )),
    ("asks_guidance", (
        r"\bwhat (?:do|should|can) (?:i|we) do\b",
        r"\bshould (?:i|we) (?:cancel|wait|retry|try|change|worry)\b",
        r"\bis it safe to\b",
    )),
    ("asks_safety", (
        r"\b(?:is|are) (?:my|our) (?:money|savings|funds|account|data|salary|payments?|deposits?)"
        r" (?:safe|ok|okay|secure)\b",
    )),
    # German, French, Spanish, Dutch: the same requests in their most common forms.
    ("asks_update", (
        r"\b(?:gibt es|schon) (?:schon |ein |neue |)(?:update|infos?|neuigkeiten)\b",
        r"\bdes nouvelles\b",
        r"\bmise à jour\s*\?",
        r"\balguna (?:novedad|actualizaci[oó]n|noticia)\b",
        r"\b(?:al )?een update\s*\?",
    )),
    ("asks_how_long", (
        r"\bwie lange\b", r"\bcombien de temps\b", r"\bcu[aá]nto (?:va a tardar|tiempo|falta)\b",
        r"\bhoe lang\b",
    )),
    ("asks_what_happens", (
        r"\bwas ist (?:da |hier )?los\b",
        r"\b(?:ce qui|qu'est-ce qui|que) se passe\b",
        r"\bqu[eé] (?:pasa|est[aá] pasando|ocurre)\b",
        r"\bwat is er (?:aan de hand|mis)\b",
    )),
    ("asks_anyone_know", (
        r"\bwei(?:ß|ss) jemand\b", r"\bquelqu'un sait\b", r"\balguien sabe\b", r"\bweet iemand\b",
    )),
)  # fmt: skip
_COMPILED: Final = tuple(
    (name, re.compile("|".join(f"(?:{p})" for p in patterns), re.IGNORECASE))
    for name, patterns in _RULES
)
_APOSTROPHES: Final = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'"})


def information_rule(text: str) -> str | None:
    """The name of the first rule saying ``text`` asks for information, or None."""
    if not text:
        return None
    normalised = text.translate(_APOSTROPHES)
    for name, pattern in _COMPILED:
        if pattern.search(normalised):
            return name
    return None


def asks_for_information(text: str) -> bool:
    """Does the mention ask for information or an update ("any update?", "ETA?")?"""
    return information_rule(text) is not None


# -- official updates --------------------------------------------------------------


def official_update_from(scored: ScoredMention) -> OfficialUpdate | None:
    """The update event of an official mention; None for everything else.

    ``status``: the status-page state, from ``metadata["update_status"]`` (the
    Statuspage connector) or ``metadata["status"]`` (replayed files).
    """
    mention = scored.mention
    if not mention.is_official:
        return None
    status: str | None = None
    for key in ("update_status", "status"):
        value = mention.metadata.get(key)
        if isinstance(value, str) and value and value.lower() != "none":
            status = value.lower()[:64]
            break
    return OfficialUpdate(
        id=mention.id,
        subject=scored.subject,
        source=mention.source,
        kind=mention.kind,
        url=mention.url,
        author=mention.author_handle or mention.author,
        text=mention.text,
        created_at=mention.created_at,
        status=status,
    )


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


# -- the silence rule --------------------------------------------------------------


@dataclass
class SilenceDetector:
    """The silence rule for one subject; see the module docstring and docs/conversation.md.

    Opens a ``comms_silence`` signal when, at a minute tick of event time, an
    incident signal is open, the last official update (or, if none came since,
    the incident's start) is at least ``silence_after_minutes`` old, and the
    questions of the last window reach the floor without falling. It opens once
    per gap (the gap is named by its start), re-publishes every
    ``silence_update_minutes``, and resolves when an official update arrives or
    the last incident signal resolves; a dip in questions does not resolve it.
    """

    subject: str
    config: ConversationConfig
    #: Open incident signals: id -> start of their episode (microseconds).
    incidents: dict[str, int] = field(default_factory=dict)
    last_update: int | None = None
    open: _Silence | None = None
    #: The gap start a silence was already opened for (never twice per gap).
    spent_gap: int | None = None

    def counts_as_incident(self, signal: Signal) -> bool:
        if signal.kind == "comms_silence":
            return False
        kinds = self.config.silence_signal_kinds
        return not kinds or signal.kind in kinds

    def gap_start(self) -> int | None:
        if not self.incidents:
            return None
        incident_start = min(self.incidents.values())
        if self.last_update is None:
            return incident_start
        return max(self.last_update, incident_start)

    def on_signal(self, signal: Signal, evidence: Callable[[int, int], Evidence]) -> list[Signal]:
        if not self.counts_as_incident(signal):
            return []
        if signal.state == "resolved":
            self.incidents.pop(signal.id, None)
            if not self.incidents and self.open is not None:
                at = _us(signal.resolved_at or signal.updated_at)
                return [self._emit("resolved", max(at, self.open.opened_at), evidence)]
            return []
        self.incidents.setdefault(signal.id, _us(signal.window_start))
        return []

    def on_update(self, at: int, evidence: Callable[[int, int], Evidence]) -> list[Signal]:
        if self.last_update is None or at > self.last_update:
            self.last_update = at
        if self.open is None:
            return []
        return [self._emit("resolved", max(at, self.open.opened_at), evidence)]

    def on_tick(
        self,
        now: int,
        questions: Callable[[int, int], int],
        evidence: Callable[[int, int], Evidence],
    ) -> list[Signal]:
        cfg = self.config
        if self.open is not None:
            if now - self.open.last_emit >= cfg.silence_update_minutes * _MINUTE:
                return [self._emit("update", now, evidence)]
            return []
        gap_start = self.gap_start()
        if gap_start is None or gap_start == self.spent_gap:
            return []
        if now - gap_start < cfg.silence_after_minutes * _MINUTE:
            return []
        window = int(cfg.silence_question_window_minutes * _MINUTE)
        recent = questions(now - window, now)
        previous = questions(now - 2 * window, now - window)
        if recent < cfg.silence_min_questions or recent < previous:
            return []
        self.spent_gap = gap_start
        sid = f"{self.subject}:comms_silence:{_dt(gap_start).strftime('%Y%m%dT%H%M%SZ')}"
        self.open = _Silence(id=sid, gap_start=gap_start, opened_at=now, last_emit=now)
        return [self._emit("open", now, evidence)]

    def _emit(self, state: str, at: int, evidence: Callable[[int, int], Evidence]) -> Signal:
        silence = self.open
        assert silence is not None
        cfg = self.config
        minutes = (at - silence.gap_start) / _MINUTE
        severity = "critical" if minutes >= 2 * cfg.silence_after_minutes else "warning"
        if state == "resolved":
            severity = silence.severity  # the resolution closes what was announced
        silence.severity = severity
        silence.last_emit = at
        signal = Signal.model_validate(
            {
                "id": silence.id,
                "subject": self.subject,
                "kind": "comms_silence",
                "state": state,
                "severity": severity,
                "detector": SILENCE_DETECTOR,
                "opened_at": _dt(silence.opened_at),
                "updated_at": _dt(at),
                "resolved_at": _dt(at) if state == "resolved" else None,
                "window_start": _dt(silence.gap_start),
                "window_end": _dt(at),
                "observed": round(minutes, 2),
                "expected": cfg.silence_after_minutes,
                "score": min(1.0, minutes / (2 * cfg.silence_after_minutes)),
                "evidence": evidence(silence.gap_start, at),
            }
        )
        if state == "resolved":
            self.open = None
        return signal

    def snapshot(self) -> dict[str, Any]:
        s = self.open
        return {
            "incidents": self.incidents,
            "last_update": self.last_update,
            "spent_gap": self.spent_gap,
            "open": None
            if s is None
            else [s.id, s.gap_start, s.opened_at, s.last_emit, s.severity],
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.incidents = {str(k): int(v) for k, v in state["incidents"].items()}
        self.last_update = state["last_update"]
        self.spent_gap = state["spent_gap"]
        raw = state["open"]
        self.open = None if raw is None else _Silence(raw[0], raw[1], raw[2], raw[3], raw[4])


# -- one subject -------------------------------------------------------------------


@dataclass
class _Clock:
    """Event time of one domain: the latest event seen and the last minute ticked."""

    max_event: int | None = None
    last_tick: int | None = None


@dataclass
class _Subject:
    name: str
    config: ConversationConfig
    baseline_config: BaselineConfig
    domain: int = 0
    ts: list[int] = field(default_factory=list)
    recs: list[_Rec] = field(default_factory=list)
    #: Official mention ids seen, oldest first (reply detection and deduplication).
    official: dict[str, None] = field(default_factory=dict)
    pending: list[_Pending] = field(default_factory=list)
    #: Times of the updates seen recently (a late update's own cut).
    update_times: list[int] = field(default_factory=list)
    question_samples: deque[SampleMention] = field(default_factory=lambda: deque(maxlen=20))
    #: Signals read ahead of this subject's mentions, oldest first; applied when
    #: the mentions' event time reaches them.
    deferred: list[Signal] = field(default_factory=list)
    volume: SeasonalBaseline = field(init=False)
    outages: SeasonalBaseline = field(init=False)
    negative: ShareBaseline = field(init=False)
    #: Minutes (their start) before this one have fed the baseline.
    baseline_next: int | None = None
    silence: SilenceDetector = field(init=False)

    def __post_init__(self) -> None:
        self.volume = SeasonalBaseline(self.baseline_config)
        self.outages = SeasonalBaseline(self.baseline_config)
        self.negative = ShareBaseline(self.baseline_config)
        self.silence = SilenceDetector(self.name, self.config)

    # -- the buffer

    def add(self, rec: _Rec) -> None:
        i = bisect.bisect_right(self.ts, rec.ts)
        self.ts.insert(i, rec.ts)
        self.recs.insert(i, rec)

    def between(self, start: int, end: int) -> list[_Rec]:
        lo = bisect.bisect_left(self.ts, start)
        hi = bisect.bisect_left(self.ts, end)
        return self.recs[lo:hi]

    def questions(self, start: int, end: int) -> int:
        return sum(1 for r in self.between(start, end) if r.flags & _QUESTION)

    def prune(self, keep_from: int) -> None:
        cut = bisect.bisect_left(self.ts, keep_from)
        if cut:
            del self.ts[:cut]
            del self.recs[:cut]

    # -- the baseline

    def feed_baseline(self, until: int) -> None:
        """Feed every whole minute ending at or before ``until`` to the baselines."""
        if self.baseline_next is None:
            if not self.ts:
                return
            self.baseline_next = self.ts[0] - self.ts[0] % _MINUTE
        hold = bool(self.silence.incidents)
        while self.baseline_next + _MINUTE <= until:
            start = self.baseline_next
            recs = self.between(start, start + _MINUTE)
            scored = sum(1 for r in recs if r.flags & _SCORED)
            neg = sum(1 for r in recs if r.flags & _NEGATIVE)
            outage = sum(1 for r in recs if r.flags & _OUTAGE)
            s, e = _dt(start), _dt(start + _MINUTE)
            self.volume.update(s, e, float(len(recs)), hold=hold)
            self.outages.update(s, e, float(outage), hold=hold)
            if not hold:
                self.negative.update(e, float(neg), float(scored))
            self.baseline_next = start + _MINUTE

    def expectation(self, start: int, minutes: int) -> tuple[float, float, float | None] | None:
        if self.volume.windows < self.config.baseline_min_minutes:
            return None
        count = outage = 0.0
        for m in range(minutes):
            at = _dt(start + m * _MINUTE)
            count += self.volume.expect(at).mean
            outage += self.outages.expect(at).mean
        share = self.negative.share() if self.negative.windows else None
        return count / minutes, outage / minutes, share

    # -- evidence

    def evidence(self, gap_start: int, now: int) -> Evidence:
        cfg = self.config
        recent_from = max(gap_start, now - int(cfg.silence_after_minutes * _MINUTE))
        symptoms: Counter[str] = Counter()
        places: Counter[str] = Counter()
        platforms: Counter[str] = Counter()
        for r in self.between(recent_from, now):
            symptoms.update(r.symptoms)
            places.update(r.places)
            platforms.update(r.platforms)
        start = _dt(gap_start)
        samples = [s for s in self.question_samples if s.created_at >= start][-cfg.samples :]
        first = now - cfg.trend_minutes * _MINUTE
        trend = tuple(
            float(self.questions(first + i * _MINUTE, first + (i + 1) * _MINUTE))
            for i in range(cfg.trend_minutes)
        )
        return Evidence(
            samples=tuple(samples),
            top_symptoms=_top(symptoms, cfg.top_n),
            top_places=_top(places, cfg.top_n),
            top_platforms=_top(platforms, cfg.top_n),
            trend=trend,
        )

    # -- persistence

    def snapshot(self) -> dict[str, Any]:
        authors: dict[str, int] = {}
        rows = []
        for r in self.recs:
            idx = authors.setdefault(r.author, len(authors))
            row: list[Any] = [r.ts, idx, r.flags]
            if r.symptoms or r.places or r.platforms:
                row += [list(r.symptoms), list(r.places), list(r.platforms)]
            rows.append(row)
        return {
            "authors": list(authors),
            "recs": rows,
            "official": list(self.official),
            "pending": [
                [p.update_id, p.at, p.expected, p.cut, sorted(p.done)] for p in self.pending
            ],
            "update_times": self.update_times,
            "samples": [s.model_dump(mode="json") for s in self.question_samples],
            "volume": self.volume.snapshot(),
            "outages": self.outages.snapshot(),
            "negative": self.negative.snapshot(),
            "baseline_next": self.baseline_next,
            "silence": self.silence.snapshot(),
            "deferred": [signal.model_dump(mode="json") for signal in self.deferred],
        }

    def restore(self, state: dict[str, Any]) -> None:
        authors = state["authors"]
        self.recs = [
            _Rec(row[0], authors[row[1]], row[2], *(tuple(x) for x in row[3:]))
            for row in state["recs"]
        ]
        self.ts = [r.ts for r in self.recs]
        self.official = dict.fromkeys(state["official"])
        self.pending = [
            _Pending(
                update_id=p[0],
                at=p[1],
                expected={int(k): (tuple(v) if v is not None else None) for k, v in p[2].items()},
                cut=p[3],
                done=set(p[4]),
            )
            for p in state["pending"]
        ]
        self.update_times = list(state["update_times"])
        self.question_samples.extend(SampleMention.model_validate(s) for s in state["samples"])
        self.volume = SeasonalBaseline.restore(state["volume"], self.baseline_config)
        self.outages = SeasonalBaseline.restore(state["outages"], self.baseline_config)
        self.negative = ShareBaseline.restore(state["negative"], self.baseline_config)
        self.baseline_next = state["baseline_next"]
        self.silence.restore(state["silence"])
        # State saved before signals were deferred has none.
        self.deferred = [Signal.model_validate(raw) for raw in state.get("deferred", [])]


# -- the tracker -------------------------------------------------------------------


class ConversationTracker:
    """Incremental updates, reactions and silence for every subject it is fed.

    ``clock`` stamps ``computed_at``. ``expected_fn`` replaces the learned
    baseline as the source of ``expected`` (batch callers with their own).
    """

    def __init__(
        self,
        config: ConversationConfig | None = None,
        *,
        clock: Callable[[], datetime],
        expected_fn: ExpectedFn | None = None,
        baseline_config: BaselineConfig | None = None,
    ) -> None:
        self.config = config or ConversationConfig()
        self.clock = clock
        self.expected_fn = expected_fn
        self.baseline_config = baseline_config or BaselineConfig()
        self.subjects: dict[str, _Subject] = {}
        #: Event-time clocks, one per domain (the worker: one per input partition,
        #: whose records arrive in order; partitions interleave arbitrarily).
        self.clocks: dict[int, _Clock] = {}
        #: Minute ticks run so far (a tick changes every subject of its domain).
        self.ticks = 0
        self.late = 0

    # -- input

    def watermark(self, domain: int = 0) -> int | None:
        clock = self.clocks.get(domain)
        if clock is None or clock.max_event is None:
            return None
        return clock.max_event - int(self.config.watermark_delay_s * _US)

    def subject(self, name: str, domain: int = 0) -> _Subject:
        state = self.subjects.get(name)
        if state is None:
            state = self.subjects[name] = _Subject(name, self.config, self.baseline_config)
        state.domain = domain
        self.clocks.setdefault(domain, _Clock())
        return state

    def add_mention(self, scored: ScoredMention, *, domain: int = 0) -> list[Output]:
        """One scored mention; ``domain`` names the event-time clock it advances."""
        mention = scored.mention
        state = self.subject(scored.subject, domain)
        at = _us(mention.created_at)
        outputs: list[Output] = []
        if mention.is_official:
            outputs += self._add_update(state, scored, at)
        else:
            watermark = self.watermark(domain)
            if watermark is not None and at < watermark:
                self.late += 1
            outputs += self._add_public(state, scored, at)
        return outputs + self._observe(at, domain)

    def add_signal(self, signal: Signal, *, domain: int = 0) -> list[Output]:
        """A detector's signal: opens or closes the subject's incident for the silence rule.

        Signals come from another topic, so they are not read in step with the
        mentions. A signal read after the mentions of its time (the detector
        lags: the usual case live) is applied at once. One read ahead of them (a
        worker catching up reads the small signals topic faster) waits until the
        mentions' event time reaches it: it must neither move the mentions' clock
        (which would make them late) nor open an incident before its time.
        """
        state = self.subjects.get(signal.subject) or self.subject(signal.subject, domain)
        newest = self.clocks[state.domain].max_event
        if newest is None or _us(signal.updated_at) > newest:
            bisect.insort(state.deferred, signal, key=lambda s: s.updated_at)
            return []
        return self._apply_signal(state, signal)

    def _apply_signal(self, state: _Subject, signal: Signal) -> list[Output]:
        outputs: list[Output] = list(state.silence.on_signal(signal, state.evidence))
        last_tick = self.clocks[state.domain].last_tick
        if last_tick is not None and state.silence.incidents:
            # A signal read after the mentions it is about: judge the silence at
            # once instead of waiting for the next minute tick.
            outputs += state.silence.on_tick(last_tick, state.questions, state.evidence)
        return outputs

    def _apply_deferred(self, state: _Subject, until: int | None) -> list[Output]:
        """Apply the deferred signals up to ``until`` (event time, µs; None: all)."""
        outputs: list[Output] = []
        while state.deferred and (until is None or _us(state.deferred[0].updated_at) <= until):
            outputs += self._apply_signal(state, state.deferred.pop(0))
        return outputs

    def _add_public(self, state: _Subject, scored: ScoredMention, at: int) -> list[Output]:
        mention = scored.mention
        flags = 0
        if mention.in_reply_to is not None and mention.in_reply_to in state.official:
            flags |= _REPLY
        if scored.sentiment is not None:
            flags |= _SCORED
            if scored.sentiment.label == "negative":
                flags |= _NEGATIVE
        outage = scored.outage
        is_report = outage is not None and outage.is_report
        if is_report:
            flags |= _OUTAGE
        if asks_for_information(mention.text):
            flags |= _QUESTION
            state.question_samples.append(sample_of(scored))
        detail: tuple[tuple[str, ...], ...] = ()
        if outage is not None and is_report:
            detail = (outage.symptoms, outage.places, outage.platforms)
        state.add(_Rec(at, mention.author, flags, *detail))
        return []

    def _add_update(self, state: _Subject, scored: ScoredMention, at: int) -> list[Output]:
        mention = scored.mention
        if mention.id in state.official:
            return []  # redelivered: published once per (id, subject)
        update = official_update_from(scored)
        assert update is not None
        state.official[mention.id] = None
        while len(state.official) > self.config.remember_updates:
            del state.official[next(iter(state.official))]
        echo = int(self.config.echo_s * _US)
        # This update cuts earlier ones (unless it echoes them), and a later one cuts it.
        for p in state.pending:
            if p.at < at and at - p.at >= echo and (p.cut is None or at < p.cut):
                p.cut = at
        later = [t for t in state.update_times if t - at >= echo]
        pending = _Pending(
            update_id=mention.id,
            at=at,
            expected={s: self._expected(state, at, s) for s in self.config.spans_minutes},
            cut=min(later) if later else None,
        )
        state.pending.append(pending)
        bisect.insort(state.update_times, at)
        keep_from = (self.watermark(state.domain) or at) - self.config.max_span_us - echo
        state.update_times = [t for t in state.update_times if t >= keep_from]
        outputs: list[Output] = [update]
        outputs += state.silence.on_update(at, state.evidence)
        return outputs

    def _expected(
        self, state: _Subject, at: int, span: int
    ) -> tuple[float, float, float | None] | None:
        if self.expected_fn is not None:
            return None  # asked for when the reaction is measured
        return state.expectation(at, span)

    # -- time

    def _observe(self, at: int, domain: int) -> list[Output]:
        clock = self.clocks[domain]
        if clock.max_event is not None and at <= clock.max_event:
            return []
        clock.max_event = at
        outputs: list[Output] = []
        for state in self.subjects.values():
            if state.domain == domain and state.deferred:
                outputs += self._apply_deferred(state, at)
        return outputs + self.advance(domain)

    def advance(self, domain: int = 0) -> list[Output]:
        """Tick the domain's subjects at each minute boundary its watermark passed; measure."""
        watermark = self.watermark(domain)
        if watermark is None:
            return []
        clock = self.clocks[domain]
        subjects = [s for s in self.subjects.values() if s.domain == domain]
        outputs: list[Output] = []
        boundary = watermark - watermark % _MINUTE
        if clock.last_tick is None:
            clock.last_tick = boundary
        # A jump over a long silence ticks at most a day of minutes.
        tick = max(clock.last_tick + _MINUTE, boundary - 24 * 60 * _MINUTE)
        while tick <= boundary:
            for state in subjects:
                outputs += self._tick(state, tick)
            clock.last_tick = tick
            self.ticks += 1
            tick += _MINUTE
        for state in subjects:
            outputs += self._measure(state, watermark, final=False)
        return outputs

    def _tick(self, state: _Subject, tick: int) -> list[Output]:
        lateness = int(self.config.allowed_lateness_s * _US)
        state.feed_baseline(tick - lateness)
        outputs: list[Output] = list(state.silence.on_tick(tick, state.questions, state.evidence))
        keep_from = tick - lateness - self.config.max_span_us - _MINUTE
        silence_from = tick - 2 * int(self.config.silence_question_window_minutes * _MINUTE)
        keep_from = min(keep_from, silence_from, tick - self.config.trend_minutes * _MINUTE)
        for p in state.pending:
            keep_from = min(keep_from, p.at - self.config.max_span_us)
        if state.baseline_next is not None:
            keep_from = min(keep_from, state.baseline_next)
        state.prune(keep_from)
        return outputs

    def flush(self, until: datetime | None = None) -> list[Output]:
        """End of input (batch callers): measure every pending span now.

        Spans running past ``until`` are cut there (``complete=False``); without
        ``until`` the data is taken as complete.
        """
        outputs: list[Output] = []
        horizon = _us(until) if until is not None else None
        for state in self.subjects.values():
            outputs += self._apply_deferred(state, horizon)
            outputs += self._measure(state, horizon, final=True)
        return outputs

    def _measure(self, state: _Subject, watermark: int | None, *, final: bool) -> list[Output]:
        lateness = int(self.config.allowed_lateness_s * _US)
        outputs: list[Output] = []
        for p in state.pending:
            for span in self.config.spans_minutes:
                if span in p.done:
                    continue
                end = p.at + span * _MINUTE
                complete = True
                if p.cut is not None and p.cut < end:
                    end, complete = p.cut, False
                if final:
                    if watermark is not None and watermark < end:
                        end, complete = max(watermark, p.at), False
                elif watermark is None or watermark < end + lateness:
                    continue
                outputs += self._reactions(state, p, span, end, complete)
                p.done.add(span)
        state.pending = [p for p in state.pending if len(p.done) < len(self.config.spans_minutes)]
        return outputs

    def _reactions(
        self, state: _Subject, p: _Pending, span: int, end: int, complete: bool
    ) -> list[UpdateReaction]:
        before_start = p.at - span * _MINUTE
        before = state.between(before_start, p.at)
        after = state.between(p.at, end)
        computed_at = self.clock()
        expected_all = self._expected_stats(state, p, span, end)
        out = []
        for audience in AUDIENCES:
            if audience == "all":
                b, a = before, after
            elif audience == "replies":
                b = [r for r in before if r.flags & _REPLY]
                a = [r for r in after if r.flags & _REPLY]
            else:
                b = [r for r in before if not r.flags & _REPLY]
                a = [r for r in after if not r.flags & _REPLY]
            out.append(
                UpdateReaction(
                    update_id=p.update_id,
                    subject=state.name,
                    update_at=_dt(p.at),
                    span_minutes=span,
                    audience=audience,
                    before=_stats(b, before_start, p.at),
                    after=_stats(a, p.at, end),
                    expected=expected_all if audience == "all" else None,
                    complete=complete,
                    computed_at=computed_at,
                )
            )
        return out

    def _expected_stats(
        self, state: _Subject, p: _Pending, span: int, end: int
    ) -> ReactionStats | None:
        if self.expected_fn is not None:
            return self.expected_fn(state.name, _dt(p.at), _dt(end))
        exp = p.expected.get(span)
        if exp is None:
            return None
        per_minute, outage_per_minute, share = exp
        minutes = (end - p.at) / _MINUTE
        return ReactionStats(
            span_start=_dt(p.at),
            span_end=_dt(end),
            mentions=round(per_minute * minutes),
            unique_authors=None,  # not modelled
            per_minute=per_minute,
            negative_share=share,
            outage_reports_per_minute=outage_per_minute,
            question_share=None,
        )

    # -- persistence

    def snapshot_subject(self, name: str) -> dict[str, Any]:
        """JSON-ready state of one subject, with the tracker's event-time position."""
        subject = self.subjects[name]
        clock = self.clocks.get(subject.domain, _Clock())
        return {
            "version": STATE_VERSION,
            "domain": subject.domain,
            "max_event": clock.max_event,
            "last_tick": clock.last_tick,
            "subject": subject.snapshot(),
        }

    def restore_subject(self, name: str, state: dict[str, Any]) -> None:
        if state.get("version") != STATE_VERSION:
            raise ValueError(f"conversation state version {state.get('version')!r} unknown")
        subject = _Subject(name, self.config, self.baseline_config)
        subject.restore(state["subject"])
        subject.domain = int(state.get("domain", 0))
        self.subjects[name] = subject
        clock = self.clocks.setdefault(subject.domain, _Clock())
        for attr in ("max_event", "last_tick"):
            value = state.get(attr)
            current = getattr(clock, attr)
            if value is not None and (current is None or value > current):
                setattr(clock, attr, int(value))

    def forget_subject(self, name: str) -> None:
        self.subjects.pop(name, None)


# -- batch -------------------------------------------------------------------------


def _event_time(item: ScoredMention | Signal | OfficialUpdate) -> datetime:
    if isinstance(item, ScoredMention):
        return item.mention.created_at
    if isinstance(item, Signal):
        return item.updated_at
    return item.created_at


def measure_reactions(
    updates: Sequence[OfficialUpdate],
    mentions: Sequence[ScoredMention],
    *,
    spans_minutes: Sequence[int] = (15, 30, 60),
    expected_fn: ExpectedFn | None = None,
    now: datetime,
    until: datetime | None = None,
    config: ConversationConfig | None = None,
    signals: Sequence[Signal] = (),
) -> list[UpdateReaction]:
    """Reactions to ``updates`` measured over ``mentions`` (a batch, e.g. for a report).

    Runs the same :class:`ConversationTracker` the worker runs, over everything
    in event-time order, then measures every span. ``updates`` may also be
    present among ``mentions`` as official mentions; each counts once.
    ``expected_fn`` is the source of ``expected``; without it, the baseline is
    learned from ``mentions`` as the worker would. ``now`` stamps
    ``computed_at``; spans running past ``until`` are cut there. ``signals``
    are merged in event-time order, as the worker reads them, so the baseline
    pauses while an incident is open instead of learning the incident's level.
    """
    base = config or ConversationConfig()
    cfg = ConversationConfig(
        **{
            **{f: getattr(base, f) for f in base.__dataclass_fields__},
            "spans_minutes": tuple(spans_minutes),
        }
    )
    tracker = ConversationTracker(cfg, clock=lambda: now, expected_fn=expected_fn)
    items: list[ScoredMention | Signal] = list(mentions)
    known = {(m.mention.id, m.subject) for m in mentions if m.mention.is_official}
    items += [_as_scored(u, now) for u in updates if (u.id, u.subject) not in known]
    items += signals
    items.sort(key=_event_time)  # stable: a signal stays after the mentions of its time
    wanted = {(u.id, u.subject) for u in updates}
    reactions: list[UpdateReaction] = []
    for item in items:
        outputs = (
            tracker.add_signal(item) if isinstance(item, Signal) else tracker.add_mention(item)
        )
        reactions += [r for r in outputs if isinstance(r, UpdateReaction)]
    reactions += [r for r in tracker.flush(until) if isinstance(r, UpdateReaction)]
    return [r for r in reactions if (r.update_id, r.subject) in wanted]


def _as_scored(update: OfficialUpdate, now: datetime) -> ScoredMention:
    """An update record back as a scored official mention (the tracker's input)."""
    return ScoredMention.model_validate(
        {
            "subject": update.subject,
            "mention": {
                "id": update.id,
                "source": update.source,
                "native_id": update.id.split(":", 1)[-1] or update.id,
                "url": update.url,
                "author": update.author,
                "text": update.text,
                "created_at": update.created_at,
                "ingested_at": update.created_at,
                "subjects": [update.subject],
                "is_official": True,
                "kind": update.kind,
                "metadata": {"status": update.status},
            },
            "scored_at": now,
            "model": "official-update",
        }
    )
