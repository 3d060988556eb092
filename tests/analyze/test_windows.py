"""Event-time windows: contents, watermark, lateness, gaps, duplicates, state round trips."""

from __future__ import annotations

import itertools
import re
from collections import Counter
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from earful.analyze.terms import TERM_RE as _TERM_RE
from earful.analyze.windows import (
    ClosedWindow,
    WindowAggregator,
    WindowConfig,
    _Acc,
    _top,
)
from tests.analyze.detect_fixtures import T0, scored

CFG = WindowConfig(
    width=timedelta(minutes=1),
    watermark_delay=timedelta(seconds=0),
    allowed_lateness=timedelta(seconds=30),
)


def subject_windows(windows: list[ClosedWindow], subject: str = "acme") -> list[ClosedWindow]:
    return [w for w in windows if w.stats.subject == subject and w.stats.source is None]


def test_window_contents() -> None:
    agg = WindowAggregator(CFG)
    records = [
        scored(
            1, author="a", label="negative", outage=True, symptoms=("login",), places=("Paris",)
        ),
        scored(2, author="a", label="negative", outage=True, symptoms=("login",)),
        scored(3, author="b", label="positive", outage=True, symptoms=("app",), source="bluesky"),
        scored(4, author="c", label=None, text="acme outage outage #acmedown"),
    ]
    out: list[ClosedWindow] = []
    for r in records:
        out += agg.add(r)
    out += agg.flush()
    [win] = subject_windows(out)
    s = win.stats
    assert (s.window_start, s.window_end) == (T0, T0 + timedelta(minutes=1))
    assert (s.mentions, s.unique_authors, s.negative, s.outage_reports) == (4, 3, 2, 2)
    assert win.scored == 3
    assert abs(s.negative_share - 2 / 3) < 1e-9
    assert s.mean_compound is not None and abs(s.mean_compound - (-0.6 - 0.6 + 0.6) / 3) < 1e-9
    # One report per author: author a's second report adds no symptom count.
    assert {t.term: t.count for t in s.top_symptoms} == {"login": 1, "app": 1}
    assert {t.term: t.count for t in s.top_places} == {"Paris": 1}
    terms = {t.term: t.count for t in s.top_terms}
    assert terms["outage"] == 2 and "#acmedown" in terms and "acme" not in terms
    by_source = {w.stats.source: w.stats.mentions for w in out if w.stats.source is not None}
    assert by_source == {"mastodon": 3, "bluesky": 1}
    assert [m.mention.id for m in win.outage_samples] == [
        records[0].mention.id,
        records[2].mention.id,
    ]


def test_out_of_order_within_lateness_is_not_late() -> None:
    agg = WindowAggregator(CFG)
    out = agg.add(scored(70))  # minute 1; watermark 70 s: minute 0 stays open (30 s grace)
    out += agg.add(scored(50))  # minute 0, out of order but in time
    assert out == []
    out += agg.add(scored(95))  # watermark 95 s: minute 0 final (60 + 30 <= 95)
    [first] = subject_windows(out)
    assert (first.stats.window_start, first.stats.mentions, first.stats.late) == (T0, 1, 0)


def test_late_record_is_counted_in_the_next_window() -> None:
    agg = WindowAggregator(CFG)
    out = agg.add(scored(10)) + agg.add(scored(100))  # minute 0 closes at 90 s
    assert [w.stats.mentions for w in subject_windows(out)] == [1]
    out = agg.add(scored(20))  # minute 0 is gone: late
    assert out == [] and agg.late_total == 1
    out = agg.flush()
    [minute1] = subject_windows(out)
    assert (minute1.stats.mentions, minute1.stats.late) == (1, 1)
    [src] = [w for w in out if w.stats.source == "mastodon"]
    assert src.stats.late == 1


def test_silence_gives_empty_windows_and_new_subjects_start_at_the_watermark() -> None:
    agg = WindowAggregator(CFG)
    out = agg.add(scored(5)) + agg.add(scored(5, subject="other"))
    out += agg.add(scored(5 * 60 + 40))  # four quiet minutes later
    acme = subject_windows(out)
    # Minute 5 holds the last record but is not final yet (watermark 310 s - 30 s grace).
    assert [w.stats.mentions for w in acme] == [1, 0, 0, 0, 0]
    assert [w.stats.window_start for w in acme] == [T0 + timedelta(minutes=i) for i in range(5)]
    # Quiet subjects get their zeros too; per-source windows only when non-empty.
    assert [w.stats.mentions for w in subject_windows(out, "other")] == [1, 0, 0, 0, 0]
    assert [w.stats.window_start for w in out if w.stats.source] == [T0, T0]
    late = agg.add(scored(10, subject="newcomer"))  # its minute closed before it was seen
    assert late == [] and agg.late_total == 1


def test_a_window_closes_with_the_first_record_past_its_lateness() -> None:
    # A fractional delay: add() skips the watermark check until a window can close,
    # and that shortcut must not hold a window back by a single record.
    cfg = WindowConfig(
        width=timedelta(minutes=1),
        watermark_delay=timedelta(seconds=10.5),
        allowed_lateness=timedelta(seconds=60),
    )
    agg = WindowAggregator(cfg)
    assert agg.add(scored(1)) == []
    assert agg.add(scored(130.4)) == []  # int(130.4 - 10.5) - 60 = 59: [0, 60) still open
    assert [w.stats.window_start for w in subject_windows(agg.add(scored(130.5)))] == [T0]
    assert agg.add(scored(190.4)) == []
    [second] = subject_windows(agg.add(scored(190.5)))
    assert second.stats.window_start == T0 + timedelta(minutes=1)


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet="ab#$'_-0 .\u00e9Z", max_size=40))
def test_term_pattern_matches_the_plain_one(text: str) -> None:
    # The possessive pattern is a speed-up only: it must cut the same terms.
    assert _TERM_RE.findall(text) == re.findall(r"[#$]?[a-z][a-z0-9'_-]{2,}", text)


@settings(max_examples=300, deadline=None)
@given(
    texts=st.lists(
        # Letters that lower-case by context (Greek sigma) or into ASCII (Kelvin sign, dotted I).
        st.text(alphabet="aB#$'_-0 .\n\u03a3\u03c3\u212a\u0130\u00c9\u0307", max_size=30),
        max_size=20,
    )
)
def test_terms_of_a_batch_are_those_of_each_text(texts: list[str]) -> None:
    # Texts are cut into terms a batch at a time; the counts, and the order in
    # which terms first appear (it breaks ties in top_terms), are one call's per text.
    acc = _Acc(texts=list(texts))
    expected: Counter[str] = Counter()
    for text in texts:
        expected.update(_TERM_RE.findall(text.lower()))
    assert list(acc.fold_terms().items()) == list(expected.items())
    assert acc.texts == []


@settings(max_examples=200, deadline=None)
@given(
    words=st.lists(st.integers(min_value=0, max_value=400), min_size=0, max_size=600).map(
        # Hypothesis keeps lists short: repeat them so the heap path (over 128 names) runs too.
        lambda ws: ws + [w + 401 * k for k in range(1, 8) for w in ws]
    ),
    n=st.integers(min_value=-2, max_value=8),
)
def test_top_counts_rank_as_most_common(words: list[int], n: int) -> None:
    # Few or many names (both the sorted and the heap path), with many ties.
    counts = Counter(f"w{w}" for w in words)
    expected = [{"term": t, "count": c} for t, c in counts.most_common(max(n, 0))]
    assert _top(counts, n) == expected
    assert _top(dict(counts), n) == expected


def test_duplicates_in_an_open_window_count_once() -> None:
    agg = WindowAggregator(CFG)
    first = scored(5, mention_id="same")
    agg.add(first)
    agg.add(first)
    [win] = subject_windows(agg.flush())
    assert win.stats.mentions == 1 and agg.duplicates == 1


def test_snapshot_and_restore_continue_exactly() -> None:
    events = [
        scored(t, author=f"u{t % 7}", label="negative" if t % 3 else "neutral")
        for t in (5, 30, 65, 61, 130, 20, 200, 170, 260)
    ]
    whole = WindowAggregator(CFG)
    expected = [w for e in events for w in whole.add(e)] + whole.flush()

    first = WindowAggregator(CFG)
    got = [w for e in events[:5] for w in first.add(e)]
    state = {s: first.snapshot_subject(s) for s in first.subjects()}
    second = WindowAggregator(CFG)
    for subject, snap in state.items():
        second.restore_subject(subject, snap)
    got += [w for e in events[5:] for w in second.add(e)] + second.flush()
    assert [w.stats for w in got] == [w.stats for w in expected]


@settings(max_examples=60, deadline=None)
@given(
    offsets=st.lists(st.integers(min_value=0, max_value=900), min_size=1, max_size=60),
    subjects=st.lists(st.sampled_from(["a", "b", "c"]), min_size=60, max_size=60),
    sources=st.lists(st.sampled_from(["mastodon", "bluesky"]), min_size=60, max_size=60),
    lateness=st.integers(min_value=0, max_value=120),
)
def test_every_record_is_counted_exactly_once(
    offsets: list[int], subjects: list[str], sources: list[str], lateness: int
) -> None:
    cfg = WindowConfig(
        width=timedelta(minutes=1),
        watermark_delay=timedelta(seconds=5),
        allowed_lateness=timedelta(seconds=lateness),
    )
    agg = WindowAggregator(cfg)
    records = [scored(t, subject=subjects[i], source=sources[i]) for i, t in enumerate(offsets)]
    out = [w for r in records for w in agg.add(r)] + agg.flush()
    sent = Counter(r.subject for r in records)
    sent_by_source = Counter((r.subject, r.mention.source) for r in records)
    got: Counter[str] = Counter()
    got_by_source: Counter[tuple[str, str]] = Counter()
    seen: set[tuple[str, str | None, object]] = set()
    for w in out:
        s = w.stats
        key = (s.subject, s.source, s.window_start)
        assert key not in seen, "a window was emitted twice"
        seen.add(key)
        assert s.window_end - s.window_start == cfg.width
        if s.source is None:
            got[s.subject] += s.mentions + s.late
        else:
            got_by_source[(s.subject, s.source)] += s.mentions + s.late
    assert got == sent
    assert got_by_source == sent_by_source
    assert sum(w.stats.late for w in out if w.stats.source is None) == agg.late_total
    for subject in sent:
        starts = [w.stats.window_start for w in subject_windows(out, subject)]
        # Subject windows are contiguous: silence is an explicit zero.
        assert starts == sorted(starts)
        assert all(b - a == cfg.width for a, b in itertools.pairwise(starts))
