"""The incremental tracker: every subject's updates, reactions and silence, state included."""

from __future__ import annotations

import bisect
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from earful.analyze.baseline import BaselineConfig, SeasonalBaseline, ShareBaseline
from earful.analyze.conversation.config import (
    _MINUTE,
    _NEGATIVE,
    _OUTAGE,
    _QUESTION,
    _REPLY,
    _SCORED,
    _US,
    AUDIENCES,
    STATE_VERSION,
    ConversationConfig,
    ConversationOutput,
    ExpectedFn,
    _dt,
    _Pending,
    _Rec,
    _stats,
    _top,
    _us,
)
from earful.analyze.conversation.questions import asks_for_information
from earful.analyze.conversation.silence import SilenceDetector
from earful.analyze.conversation.updates import official_update_from
from earful.analyze.windows import sample_of
from earful.events import (
    Evidence,
    ReactionStats,
    SampleMention,
    ScoredMention,
    Signal,
    UpdateReaction,
)

# -- one subject -------------------------------------------------------------------


@dataclass
class _Watermark:
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
        self.clocks: dict[int, _Watermark] = {}
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
        self.clocks.setdefault(domain, _Watermark())
        return state

    def add_mention(self, scored: ScoredMention, *, domain: int = 0) -> list[ConversationOutput]:
        """One scored mention; ``domain`` names the event-time clock it advances."""
        mention = scored.mention
        state = self.subject(scored.subject, domain)
        at = _us(mention.created_at)
        outputs: list[ConversationOutput] = []
        if mention.is_official:
            outputs += self._add_update(state, scored, at)
        else:
            watermark = self.watermark(domain)
            if watermark is not None and at < watermark:
                self.late += 1
            outputs += self._add_public(state, scored, at)
        return outputs + self._observe(at, domain)

    def add_signal(self, signal: Signal, *, domain: int = 0) -> list[ConversationOutput]:
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

    def _apply_signal(self, state: _Subject, signal: Signal) -> list[ConversationOutput]:
        outputs: list[ConversationOutput] = list(state.silence.on_signal(signal, state.evidence))
        last_tick = self.clocks[state.domain].last_tick
        if last_tick is not None and state.silence.incidents:
            # A signal read after the mentions it is about: judge the silence at
            # once instead of waiting for the next minute tick.
            outputs += state.silence.on_tick(last_tick, state.questions, state.evidence)
        return outputs

    def _apply_deferred(self, state: _Subject, until: int | None) -> list[ConversationOutput]:
        """Apply the deferred signals up to ``until`` (event time, µs; None: all)."""
        outputs: list[ConversationOutput] = []
        while state.deferred and (until is None or _us(state.deferred[0].updated_at) <= until):
            outputs += self._apply_signal(state, state.deferred.pop(0))
        return outputs

    def _add_public(
        self, state: _Subject, scored: ScoredMention, at: int
    ) -> list[ConversationOutput]:
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

    def _add_update(
        self, state: _Subject, scored: ScoredMention, at: int
    ) -> list[ConversationOutput]:
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
        outputs: list[ConversationOutput] = [update]
        outputs += state.silence.on_update(at, state.evidence)
        return outputs

    def _expected(
        self, state: _Subject, at: int, span: int
    ) -> tuple[float, float, float | None] | None:
        if self.expected_fn is not None:
            return None  # asked for when the reaction is measured
        return state.expectation(at, span)

    # -- time

    def _observe(self, at: int, domain: int) -> list[ConversationOutput]:
        clock = self.clocks[domain]
        if clock.max_event is not None and at <= clock.max_event:
            return []
        clock.max_event = at
        outputs: list[ConversationOutput] = []
        for state in self.subjects.values():
            if state.domain == domain and state.deferred:
                outputs += self._apply_deferred(state, at)
        return outputs + self.advance(domain)

    def advance(self, domain: int = 0) -> list[ConversationOutput]:
        """Tick the domain's subjects at each minute boundary its watermark passed; measure."""
        watermark = self.watermark(domain)
        if watermark is None:
            return []
        clock = self.clocks[domain]
        subjects = [s for s in self.subjects.values() if s.domain == domain]
        outputs: list[ConversationOutput] = []
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

    def _tick(self, state: _Subject, tick: int) -> list[ConversationOutput]:
        lateness = int(self.config.allowed_lateness_s * _US)
        state.feed_baseline(tick - lateness)
        outputs: list[ConversationOutput] = list(
            state.silence.on_tick(tick, state.questions, state.evidence)
        )
        keep_from = tick - lateness - self.config.max_span_us - _MINUTE
        silence_from = tick - 2 * int(self.config.silence_question_window_minutes * _MINUTE)
        keep_from = min(keep_from, silence_from, tick - self.config.trend_minutes * _MINUTE)
        for p in state.pending:
            keep_from = min(keep_from, p.at - self.config.max_span_us)
        if state.baseline_next is not None:
            keep_from = min(keep_from, state.baseline_next)
        state.prune(keep_from)
        return outputs

    def flush(self, until: datetime | None = None) -> list[ConversationOutput]:
        """End of input (batch callers): measure every pending span now.

        Spans running past ``until`` are cut there (``complete=False``); without
        ``until`` the data is taken as complete.
        """
        outputs: list[ConversationOutput] = []
        horizon = _us(until) if until is not None else None
        for state in self.subjects.values():
            outputs += self._apply_deferred(state, horizon)
            outputs += self._measure(state, horizon, final=True)
        return outputs

    def _measure(
        self, state: _Subject, watermark: int | None, *, final: bool
    ) -> list[ConversationOutput]:
        lateness = int(self.config.allowed_lateness_s * _US)
        outputs: list[ConversationOutput] = []
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
        clock = self.clocks.get(subject.domain, _Watermark())
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
        clock = self.clocks.setdefault(subject.domain, _Watermark())
        for attr in ("max_event", "last_tick"):
            value = state.get(attr)
            current = getattr(clock, attr)
            if value is not None and (current is None or value > current):
                setattr(clock, attr, int(value))

    def forget_subject(self, name: str) -> None:
        self.subjects.pop(name, None)
