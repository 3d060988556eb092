"""Event-time tumbling windows per subject, and per subject x source.

Each scored mention lands in the window ``[start, start + width)`` that holds
its ``created_at``. The **watermark** is the latest event time seen minus
``watermark_delay``; a window is final, and emitted, once the watermark has
passed its end by ``allowed_lateness``. Until then out-of-order records are
simply added to it.

A record whose window was already emitted is **late**: it is counted in the
``late`` field of the next window emitted for the same key (subject, or
subject x source), never silently dropped. Hence the invariant the tests check:
over the emitted windows of a subject, ``sum(mentions) + sum(late)`` equals the
number of distinct records. Duplicates of a record still in an open window
(same ``mention.id``, e.g. an at-least-once redelivery) are ignored.

Subject windows are emitted for every window span once the subject has been
seen, empty ones included, so the detectors read a regular count series where
silence is a zero. Per-source windows are emitted only when they hold records.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

from earful.analyze.terms import TERM_RE as _TERM_RE
from earful.analyze.terms import drop_non_terms
from earful.events import OutageAnalysis, SampleMention, ScoredMention, WindowStats

__all__ = ["ClosedWindow", "WindowAggregator", "WindowConfig", "sample_of"]


@dataclass(frozen=True, slots=True)
class WindowConfig:
    """Window geometry and how long to wait for stragglers."""

    width: timedelta = timedelta(minutes=1)
    #: The watermark trails the latest event time by this much (bounded disorder).
    watermark_delay: timedelta = timedelta(seconds=10)
    #: A window stays open this long after the watermark passes its end.
    allowed_lateness: timedelta = timedelta(minutes=1)
    top_n: int = 5
    samples: int = 5
    per_source: bool = True
    #: At most this many empty windows are filled in for a subject after a silence.
    max_gap_windows: int = 7 * 24 * 60


@dataclass(frozen=True, slots=True)
class ClosedWindow:
    """A final window: the record that goes to the windows topic, and what detectors need."""

    stats: WindowStats
    scored: int = 0
    # The records themselves: snippets are only built when a signal needs them.
    samples: tuple[ScoredMention, ...] = ()
    negative_samples: tuple[ScoredMention, ...] = ()
    outage_samples: tuple[ScoredMention, ...] = ()


def sample_of(m: ScoredMention) -> SampleMention:
    """The evidence snippet of a mention (text cut to 280 characters)."""
    mention = m.mention
    text = mention.text if len(mention.text) <= 280 else mention.text[:279] + "…"
    return SampleMention(
        id=mention.id,
        source=mention.source,
        created_at=mention.created_at,
        text=text,
        url=mention.url,
    )


_count_of = itemgetter(1)
#: Texts of one window cut into terms together (_Acc.fold_terms).
_TEXT_BATCH = 16


def _top(counts: dict[str, int], n: int) -> list[dict[str, Any]]:
    """The ``n`` largest counts, ties in insertion order (as Counter.most_common)."""
    if n <= 0 or not counts:
        return []
    items = counts.items()
    # Sorting in C beats the heap up to a few hundred names; windows mostly have fewer.
    if len(counts) <= 128:
        top = sorted(items, key=_count_of, reverse=True)[:n]
    else:
        top = heapq.nlargest(n, items, key=_count_of)
    # Plain dicts: WindowStats validates them into TermCount in one call.
    return [{"term": t, "count": c} for t, c in top]


def _count(acc: _Acc, outage: OutageAnalysis) -> None:
    """A report's symptoms, platforms and places (one or two names: a loop beats Counter.update)."""
    counter = acc.symptoms
    for name in outage.symptoms:
        counter[name] = counter.get(name, 0) + 1
    counter = acc.platforms
    for name in outage.platforms:
        counter[name] = counter.get(name, 0) + 1
    counter = acc.places
    for name in outage.places:
        counter[name] = counter.get(name, 0) + 1


@dataclass(slots=True)
class _Acc:
    """What one open window of one key has seen so far."""

    ids: set[str] = field(default_factory=set)
    authors: set[str] = field(default_factory=set)
    outage_authors: set[str] = field(default_factory=set)
    negative: int = 0
    scored: int = 0
    compound_sum: float = 0.0
    # Plain dicts where a loop counts (a few names per report): cheaper to create.
    symptoms: dict[str, int] = field(default_factory=dict)
    platforms: dict[str, int] = field(default_factory=dict)
    places: dict[str, int] = field(default_factory=dict)
    terms: Counter[str] = field(default_factory=Counter)
    samples: list[ScoredMention] = field(default_factory=list)
    negative_samples: list[ScoredMention] = field(default_factory=list)
    outage_samples: list[ScoredMention] = field(default_factory=list)
    #: Texts not yet in ``terms``: cut into terms a batch at a time (see fold_terms).
    texts: list[str] = field(default_factory=list)

    def fold_terms(self) -> Counter[str]:
        """Count the pending texts' terms into ``terms``, and return it.

        One lower() and findall() over the batch joined by newlines cut the same
        terms in the same order as one call per text (no term spans a newline,
        and lower-casing is per character for every letter a term can hold), for
        a fraction of the per-call cost. The batch is kept small: it holds texts
        alive until counted.
        """
        texts = self.texts
        if texts:
            self.terms.update(_TERM_RE.findall("\n".join(texts).lower()))
            texts.clear()
        return self.terms

    def snapshot(self) -> dict[str, Any]:
        self.fold_terms()
        return {
            "ids": sorted(self.ids),
            "authors": sorted(self.authors),
            "outage_authors": sorted(self.outage_authors),
            "negative": self.negative,
            "scored": self.scored,
            "compound_sum": self.compound_sum,
            "symptoms": dict(self.symptoms),
            "platforms": dict(self.platforms),
            "places": dict(self.places),
            "terms": dict(self.terms),
            "samples": [s.model_dump(mode="json") for s in self.samples],
            "negative_samples": [s.model_dump(mode="json") for s in self.negative_samples],
            "outage_samples": [s.model_dump(mode="json") for s in self.outage_samples],
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> _Acc:
        def mentions(key: str) -> list[ScoredMention]:
            return [ScoredMention.model_validate(s) for s in state.get(key, [])]

        return cls(
            ids=set(state["ids"]),
            authors=set(state["authors"]),
            outage_authors=set(state["outage_authors"]),
            negative=int(state["negative"]),
            scored=int(state["scored"]),
            compound_sum=float(state["compound_sum"]),
            symptoms=dict(state["symptoms"]),
            platforms=dict(state["platforms"]),
            places=dict(state["places"]),
            terms=Counter(state["terms"]),
            samples=mentions("samples"),
            negative_samples=mentions("negative_samples"),
            outage_samples=mentions("outage_samples"),
        )


@dataclass
class _KeyState:
    """Open windows of one key (subject, or subject x source), by start in epoch seconds."""

    open: dict[int, _Acc] = field(default_factory=dict)
    next_start: int | None = None  # earliest window not emitted yet (None: none emitted)
    pending_late: int = 0


@dataclass
class _PartitionWatermark:
    """Event time of one domain (an input partition): its newest event, what is final."""

    max_event: float | None = None
    closed_until: int | None = None  # windows ending at or before this are emitted
    #: No window can become final until the newest event passes this (a safe lower bound).
    close_after: float = -math.inf


class WindowAggregator:
    """Tumbling event-time windows over scored mentions; see the module docstring.

    Each input partition (``domain``) has its own watermark: a partition's
    records arrive in event-time order, but a worker reading several partitions
    gets them interleaved arbitrarily (one partition's backlog first, then the
    next). One watermark for all would run ahead on the first and make every
    record of the others late. A subject's windows follow its domain's watermark.
    """

    def __init__(self, config: WindowConfig | None = None) -> None:
        self.config = config or WindowConfig()
        self._width = int(self.config.width.total_seconds())
        if self._width <= 0:
            raise ValueError("window width must be at least one second")
        self._delay = self.config.watermark_delay.total_seconds()
        self._lateness = int(self.config.allowed_lateness.total_seconds())
        self._per_source = self.config.per_source
        self._samples = self.config.samples
        self._subjects: dict[str, _KeyState] = {}
        self._sources: dict[str, dict[str, _KeyState]] = {}
        self._clocks: dict[int, _PartitionWatermark] = {}
        self._domain_of: dict[str, int] = {}
        self.late_total = 0
        self.duplicates = 0

    # -- input --------------------------------------------------------------------

    @property
    def max_event(self) -> float | None:
        """The newest event time seen in any domain (epoch seconds)."""
        events = [c.max_event for c in self._clocks.values() if c.max_event is not None]
        return max(events) if events else None

    @property
    def watermark(self) -> datetime | None:
        """The most advanced domain's watermark."""
        newest = self.max_event
        if newest is None:
            return None
        return datetime.fromtimestamp(newest - self._delay, UTC)

    def add(self, scored: ScoredMention, *, domain: int = 0) -> list[ClosedWindow]:
        """Add one record of input partition ``domain``; return the windows it made final."""
        # The hot path of `earful detect`: one pass, locals instead of repeated
        # attribute reads, and the subject and source windows filled together.
        clock = self._clocks.get(domain)
        if clock is None:
            clock = self._clocks[domain] = _PartitionWatermark()
        mention = scored.mention
        ts = mention.created_at.timestamp()
        width = self._width
        start = int(ts // width) * width
        subject = scored.subject
        key = self._subjects.get(subject)
        if key is None:
            key = self._subjects[subject] = _KeyState()
            self._sources[subject] = {}
        self._domain_of[subject] = domain
        sources = self._sources[subject]
        src = sources.get(mention.source)
        if src is None:
            src = sources[mention.source] = _KeyState()
        # Final windows: those before the subject's next one, or before the
        # watermark's for a subject that has not had one emitted yet.
        first_open = key.next_start if key.next_start is not None else clock.closed_until
        acc: _Acc | None = None
        if first_open is not None and start < first_open:
            # Its window was already emitted: counted as late, never dropped.
            key.pending_late += 1
            if self._per_source:
                src.pending_late += 1
            self.late_total += 1
        else:
            acc = key.open.get(start)
            if acc is None:
                acc = key.open[start] = _Acc()
            if mention.id in acc.ids:
                self.duplicates += 1
                acc = None
        if acc is not None:
            acc.ids.add(mention.id)
            author = mention.author
            acc.authors.add(author)
            # Samples are evidence for signals, which only subject windows raise.
            n_samples = self._samples
            if len(acc.samples) < n_samples:
                acc.samples.append(scored)
            sentiment = scored.sentiment
            negative = False
            compound = 0.0
            if sentiment is not None:
                compound = sentiment.compound
                negative = sentiment.label == "negative"
                acc.scored += 1
                acc.compound_sum += compound
                if negative:
                    acc.negative += 1
                    if len(acc.negative_samples) < n_samples:
                        acc.negative_samples.append(scored)
            outage = scored.outage
            report = outage if outage is not None and outage.is_report else None
            if report is not None and author not in acc.outage_authors:
                # One report per author per window, as Downdetector counts them.
                acc.outage_authors.add(author)
                _count(acc, report)
                if len(acc.outage_samples) < n_samples:
                    acc.outage_samples.append(scored)
            # Stop words and the subject's own name are dropped once per window, in _finish.
            texts = acc.texts
            texts.append(mention.text)
            if len(texts) >= _TEXT_BATCH:
                acc.fold_terms()
            if self._per_source:
                sacc = src.open.get(start)
                if sacc is None:
                    sacc = src.open[start] = _Acc()
                sacc.ids.add(mention.id)
                sacc.authors.add(author)
                if sentiment is not None:
                    sacc.scored += 1
                    sacc.compound_sum += compound
                    if negative:
                        sacc.negative += 1
                if report is not None and author not in sacc.outage_authors:
                    sacc.outage_authors.add(author)
                    _count(sacc, report)
        max_event = clock.max_event
        if max_event is None or ts > max_event:
            clock.max_event = ts
            # Most records move the watermark by less than it takes to close a window.
            if ts > clock.close_after:
                return self._advance(domain, clock)
        return []

    # -- output -------------------------------------------------------------------

    def _advance(self, domain: int, clock: _PartitionWatermark) -> list[ClosedWindow]:
        assert clock.max_event is not None
        # Windows ending at or before this instant are final.
        final_end = int(clock.max_event - self._delay) - self._lateness
        final_end -= final_end % self._width
        if clock.closed_until is not None and final_end <= clock.closed_until:
            return []
        clock.closed_until = final_end
        # The next window closes once int(max_event - delay) reaches final_end + width +
        # lateness, so not while max_event - delay is a second short of that; one more
        # second of slack keeps float rounding on the safe side.
        clock.close_after = final_end + self._width + self._lateness - 2 + self._delay
        return self._close(final_end, domain=domain)

    def _close(
        self, final_end: int, *, domain: int | None = None, flush: bool = False
    ) -> list[ClosedWindow]:
        """Emit the final windows of ``domain``'s subjects (every subject when None)."""
        out: list[ClosedWindow] = []
        width = self._width
        for subject, key in self._subjects.items():
            subject_domain = self._domain_of.get(subject, 0)
            if domain is not None and subject_domain != domain:
                continue
            closed_until = self._clocks[subject_domain].closed_until
            last_start = final_end - width
            if flush:
                last_start = max(key.open, default=last_start)
            first = key.next_start
            if first is None:
                # Nothing emitted for this subject yet: start at its first window.
                fallback = closed_until if closed_until is not None else last_start
                first = min(key.open, default=fallback if key.pending_late else None)
                if first is None:
                    continue
            if flush and key.pending_late:
                last_start = max(last_start, first)
            if last_start < first:
                continue
            floor = max(first, last_start - (self.config.max_gap_windows - 1) * width)
            # After a long silence only the most recent windows are filled in.
            starts = sorted(
                {s for s in key.open if s <= last_start}
                | set(range(floor, last_start + width, width))
            )
            for start in starts:
                acc = key.open.pop(start, None)
                late, key.pending_late = key.pending_late, 0
                out.append(self._finish(subject, None, start, acc or _Acc(), late))
                for source, skey in self._sources[subject].items():
                    sacc = skey.open.pop(start, None)
                    if sacc is None and not (skey.pending_late and start == starts[-1]):
                        continue
                    slate, skey.pending_late = skey.pending_late, 0
                    out.append(self._finish(subject, source, start, sacc or _Acc(), slate))
            key.next_start = last_start + width
            for skey in self._sources[subject].values():
                skey.next_start = key.next_start
        return out

    def flush(self) -> list[ClosedWindow]:
        """Emit every open window (end of a replay or backtest)."""
        if self.max_event is None:
            return []
        return self._close(0, flush=True)

    def _finish(
        self, subject: str, source: str | None, start: int, acc: _Acc, late: int
    ) -> ClosedWindow:
        top = self.config.top_n
        scored = acc.scored
        terms = acc.fold_terms()
        if terms:
            drop_non_terms(terms, subject)
        stats = WindowStats.model_validate(
            {
                "subject": subject,
                "source": source,
                "window_start": datetime.fromtimestamp(start, UTC),
                "window_end": datetime.fromtimestamp(start + self._width, UTC),
                "mentions": len(acc.ids),
                "unique_authors": len(acc.authors),
                "negative": acc.negative,
                "negative_share": acc.negative / scored if scored else 0.0,
                "mean_compound": (
                    max(-1.0, min(1.0, acc.compound_sum / scored)) if scored else None
                ),
                "outage_reports": len(acc.outage_authors),
                "late": late,
                "top_symptoms": _top(acc.symptoms, top),
                "top_platforms": _top(acc.platforms, top),
                "top_places": _top(acc.places, top),
                "top_terms": _top(acc.terms, top),
            }
        )
        return ClosedWindow(
            stats=stats,
            scored=scored,
            samples=tuple(acc.samples),
            negative_samples=tuple(acc.negative_samples),
            outage_samples=tuple(acc.outage_samples),
        )

    # -- state --------------------------------------------------------------------

    def subjects(self) -> Iterable[str]:
        return self._subjects.keys()

    def snapshot_subject(self, subject: str) -> dict[str, Any]:
        """The subject's open windows and late counts, JSON-ready."""
        key = self._subjects[subject]

        def dump(k: _KeyState) -> dict[str, Any]:
            return {
                "next_start": k.next_start,
                "pending_late": k.pending_late,
                "open": {str(s): acc.snapshot() for s, acc in k.open.items()},
            }

        clock = self._clocks.get(self._domain_of.get(subject, 0), _PartitionWatermark())
        return {
            "max_event": clock.max_event,
            "key": dump(key),
            "sources": {src: dump(k) for src, k in self._sources[subject].items()},
        }

    def restore_subject(self, subject: str, state: dict[str, Any], *, domain: int = 0) -> None:
        """A subject's saved windows, in input partition ``domain``."""

        def load(raw: dict[str, Any]) -> _KeyState:
            return _KeyState(
                open={int(s): _Acc.restore(a) for s, a in raw["open"].items()},
                next_start=raw["next_start"],
                pending_late=int(raw["pending_late"]),
            )

        self._subjects[subject] = load(state["key"])
        self._sources[subject] = {src: load(raw) for src, raw in state["sources"].items()}
        self._domain_of[subject] = domain
        clock = self._clocks.get(domain)
        if clock is None:
            clock = self._clocks[domain] = _PartitionWatermark()
        max_event = state.get("max_event")
        if max_event is not None and (clock.max_event is None or max_event > clock.max_event):
            clock.max_event = float(max_event)

    def forget_subject(self, subject: str) -> None:
        """Drop a subject whose partition moved to another worker."""
        self._subjects.pop(subject, None)
        self._sources.pop(subject, None)
        self._domain_of.pop(subject, None)
