"""Official updates, measured reactions and the silence rule (pure logic, injected clock)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from earful.analyze.conversation import (
    ConversationConfig,
    ConversationOutput,
    ConversationTracker,
    asks_for_information,
    information_rule,
    measure_reactions,
    official_update_from,
)
from earful.analyze.detect_worker import SubjectDetectors
from earful.analyze.windows import WindowAggregator
from earful.events import (
    Mention,
    OfficialUpdate,
    OutageAnalysis,
    ScoredMention,
    SentimentScore,
    Signal,
    UpdateReaction,
    VaderScores,
    make_mention_id,
)
from tests.scored_records import score_example

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 21, tzinfo=UTC)


def clock() -> datetime:
    return NOW


def at(minute: float) -> datetime:
    return T0 + timedelta(minutes=minute)


# -- question detection ------------------------------------------------------------

ASKS = [
    "any update?",
    "Any updates on this @acme?",
    "what's going on @acmestatus?",
    "What is happening with acme right now",
    "ETA?",
    "@acmestatus is there an ETA?",
    "when will it be back",
    "When is the fix coming?",
    "is there an eta",
    "anyone know what's happening with acme pay?",
    "@acme status?",
    "how long will this take?",
    "it's been 20 minutes since your last update @acmestatus",
    "no update in 25 minutes. really?",
    "15 minutes of silence from @acmestatus. anything?",
    "what's the actual problem?",
    "are you aware login is down?",
    "my card was declined three times, what do I do?",
    "is my money safe? yes or no",
    "can someone from @acme say something please?",
    "What\u2019s going on?",  # curly apostrophe
    "Gibt es schon ein Update?",
    "Quelqu'un sait ce qui se passe chez Acme ?",
    "¿Alguna novedad?",
    "Hoe lang gaat dit nog duren?",
]
DOES_NOT_ASK = [
    # An outage report or a request to confirm one is not a request for news.
    "is acme down?",
    "is acme down for everyone or just me?",
    "Anyone else?",
    "Is it just me?",
    "is the website down too?",
    "can't log in to acme",
    "Acme Pay declined at checkout",
    "same here",
    # Talking about updates is not asking for one.
    "thanks for the update",
    "back for me, thanks for the update",
    "Update from my end: still can't pay",
    "the acme status page says 'investigating'. me too, buddy",
    # Questions about the product, not the incident.
    "Can I set up a standing order in acme?",
    "Hat jemand Erfahrung mit Acme im Ausland?",
    "",
]


@pytest.mark.parametrize("text", ASKS)
def test_asks_for_information(text: str) -> None:
    assert asks_for_information(text), text
    assert information_rule(text) is not None


@pytest.mark.parametrize("text", DOES_NOT_ASK)
def test_does_not_ask_for_information(text: str) -> None:
    assert not asks_for_information(text), (text, information_rule(text))


# -- building blocks ---------------------------------------------------------------

_SENTIMENT = {
    "negative": SentimentScore(
        label="negative", compound=-0.6, vader=VaderScores(neg=0.5, neu=0.5, pos=0.0, compound=-0.6)
    ),
    "neutral": SentimentScore(
        label="neutral", compound=0.0, vader=VaderScores(neg=0.0, neu=1.0, pos=0.0, compound=0.0)
    ),
}
_counter = iter(range(10**9))


def scored(
    minute: float,
    text: str = "acme is fine",
    *,
    subject: str = "acme",
    official: bool = False,
    reply_to: str | None = None,
    negative: bool = False,
    report: bool = False,
    author: str | None = None,
    metadata: dict[str, Any] | None = None,
) -> ScoredMention:
    n = next(_counter)
    mention = Mention(
        id=f"mastodon:{n}",
        source="mastodon",
        native_id=str(n),
        author=author or f"u{n}",
        text=text,
        created_at=at(minute),
        ingested_at=at(minute),
        subjects=(subject,),
        is_official=official,
        kind="reply" if reply_to else "post",
        in_reply_to=reply_to,
        metadata=metadata or {},
    )
    return ScoredMention(
        subject=subject,
        mention=mention,
        sentiment=_SENTIMENT["negative" if negative else "neutral"],
        outage=OutageAnalysis(
            is_report=report,
            confidence=0.9 if report else 0.0,
            symptoms=("login",) if report else (),
        ),
        scored_at=NOW,
        model="test",
    )


def incident(state: str, minute: float, *, subject: str = "acme", start: float = 0.0) -> Signal:
    return Signal(
        id=f"{subject}:outage_burst:x",
        subject=subject,
        kind="outage_burst",
        state=state,  # type: ignore[arg-type]
        severity="critical",
        detector="test",
        opened_at=at(start),
        updated_at=at(minute),
        resolved_at=at(minute) if state == "resolved" else None,
        window_start=at(start),
        window_end=at(minute),
        observed=10.0,
        expected=1.0,
        score=1.0,
    )


def reactions(outputs: list[ConversationOutput], span: int | None = None) -> list[UpdateReaction]:
    return [
        o
        for o in outputs
        if isinstance(o, UpdateReaction) and (span is None or o.span_minutes == span)
    ]


def by_audience(rs: list[UpdateReaction]) -> dict[str, UpdateReaction]:
    return {r.audience: r for r in rs}


CFG = ConversationConfig(spans_minutes=(10,), allowed_lateness_s=30.0, watermark_delay_s=5.0)


def test_official_update_from_takes_status_from_either_metadata_key() -> None:
    page = scored(1, "Investigating", official=True, metadata={"update_status": "Investigating"})
    replayed = scored(1, "Investigating", official=True, metadata={"status": "identified"})
    missing = scored(1, "Hello", official=True, metadata={"update_status": "None"})
    assert official_update_from(scored(1)) is None
    first = official_update_from(page)
    assert first is not None and first.status == "investigating" and first.id == page.mention.id
    assert official_update_from(replayed).status == "identified"  # type: ignore[union-attr]
    assert official_update_from(missing).status is None  # type: ignore[union-attr]


def test_reaction_spans_audiences_and_once_per_update() -> None:
    tracker = ConversationTracker(CFG, clock=clock)
    out: list[ConversationOutput] = []
    out += tracker.add_mention(scored(1, "can't log in", negative=True, report=True, author="a"))
    out += tracker.add_mention(scored(5, "any update?", author="b"))
    update = scored(10, "We are investigating", official=True)
    out += tracker.add_mention(update)
    out += tracker.add_mention(update)  # redelivered: one update record
    uid = update.mention.id
    out += tracker.add_mention(scored(11, "any ETA?", reply_to=uid, negative=True, author="c"))
    out += tracker.add_mention(scored(12, "still down", reply_to=uid, negative=True, author="c"))
    out += tracker.add_mention(scored(13, "fine here", author="d"))
    assert [o.id for o in out if isinstance(o, OfficialUpdate)] == [uid]
    assert reactions(out) == []  # the span has not ended in event time
    out += tracker.add_mention(scored(20.6, "later", subject="other"))  # moves the watermark
    got = by_audience(reactions(out, 10))
    assert set(got) == {"all", "replies", "others"}
    assert got["all"].complete and got["all"].after.span_end == at(20)
    assert (got["all"].before.mentions, got["all"].after.mentions) == (2, 3)
    assert got["all"].before.negative_share == 0.5
    assert got["all"].before.outage_reports_per_minute == pytest.approx(0.1)
    assert got["all"].after.unique_authors == 2
    assert got["replies"].after.mentions == 2 and got["replies"].after.question_share == 0.5
    assert got["replies"].before.mentions == 0 and got["replies"].before.negative_share is None
    assert got["others"].after.mentions == 1 and got["others"].after.negative_share == 0.0
    # Measured once, whatever comes later.
    assert reactions(tracker.add_mention(scored(40, "x", subject="other"))) == []


def test_update_with_no_mentions_after_and_late_events() -> None:
    tracker = ConversationTracker(CFG, clock=clock)
    out = tracker.add_mention(scored(2, "hello"))
    out += tracker.add_mention(scored(10, "Investigating", official=True))
    out += tracker.add_mention(scored(19, "other subject", subject="other"))
    # Late for the watermark (18:55) but inside the after span that is still open.
    out += tracker.add_mention(scored(12, "late but in time", negative=True))
    assert tracker.late == 1
    out += tracker.add_mention(scored(20.7, "x", subject="other"))
    got = by_audience(reactions(out))
    assert got["all"].after.mentions == 1 and got["all"].after.negative_share == 1.0
    assert got["replies"].after.mentions == 0
    assert got["replies"].after.per_minute == 0.0
    assert got["replies"].after.question_share is None
    # Too late: the span is measured; nothing is re-emitted.
    assert reactions(tracker.add_mention(scored(13, "too late"))) == []

    empty = ConversationTracker(CFG, clock=clock)
    out = empty.add_mention(scored(10, "Investigating", official=True))
    out += empty.add_mention(scored(25, "x", subject="other"))
    after = by_audience(reactions(out))["all"].after
    assert (after.mentions, after.unique_authors, after.negative_share) == (0, 0, None)


def test_two_updates_close_together_cut_the_first_span() -> None:
    tracker = ConversationTracker(CFG, clock=clock)
    first = scored(10, "Investigating", official=True)
    out = tracker.add_mention(first)
    out += tracker.add_mention(scored(11, "what's going on?"))
    out += tracker.add_mention(scored(14, "Identified", official=True))
    out += tracker.add_mention(scored(15, "ok"))
    out += tracker.add_mention(scored(30, "x", subject="other"))
    rs = {(r.update_id, r.audience): r for r in reactions(out)}
    cut = rs[(first.mention.id, "all")]
    assert not cut.complete
    assert cut.after.span_end == at(14) and cut.after.mentions == 1
    assert cut.after.per_minute == pytest.approx(0.25)
    second = [r for r in reactions(out) if r.update_id != first.mention.id]
    assert second and all(r.complete for r in second)


def test_an_echo_on_another_channel_does_not_cut() -> None:
    tracker = ConversationTracker(CFG, clock=clock)
    first = scored(10, "Investigating", official=True)
    out = tracker.add_mention(first)
    out += tracker.add_mention(scored(11, "Investigating (mastodon)", official=True))
    out += tracker.add_mention(scored(30, "x", subject="other"))
    assert len(reactions(out)) == 6
    assert all(r.complete for r in reactions(out))


def test_expected_is_null_while_the_baseline_is_cold() -> None:
    cfg = replace(CFG, baseline_min_minutes=30)
    cold = ConversationTracker(cfg, clock=clock)
    out: list[ConversationOutput] = []
    for minute in range(0, 10):
        out += cold.add_mention(scored(minute + 0.5))
    out += cold.add_mention(scored(10.2, "Investigating", official=True))
    out += cold.add_mention(scored(40, "x", subject="other"))
    assert all(r.expected is None for r in reactions(out))

    warm = ConversationTracker(cfg, clock=clock)
    out = []
    for minute in range(0, 60):
        for second in (5, 25, 45):  # three mentions a minute
            out += warm.add_mention(scored(minute + second / 60))
    out += warm.add_mention(scored(60.2, "Investigating", official=True))
    out += warm.add_mention(scored(90, "x", subject="other"))
    got = by_audience(reactions(out))
    expected = got["all"].expected
    assert expected is not None
    assert expected.per_minute == pytest.approx(3.0, rel=0.1)
    assert expected.negative_share is not None and expected.negative_share < 0.1
    assert got["replies"].expected is None and got["others"].expected is None


def _silence(out: list[ConversationOutput]) -> list[Signal]:
    return [o for o in out if isinstance(o, Signal) and o.kind == "comms_silence"]


def _questions(
    tracker: ConversationTracker, first: float, last: float, per_minute: int
) -> list[ConversationOutput]:
    out: list[ConversationOutput] = []
    minute = first
    while minute < last:
        for i in range(per_minute):
            out += tracker.add_mention(scored(minute + i / (per_minute + 1), "any update?"))
        minute += 1
    return out


def test_silence_opens_once_per_gap_and_resolves_at_the_next_update() -> None:
    cfg = replace(CFG, silence_after_minutes=15, silence_min_questions=5)
    tracker = ConversationTracker(cfg, clock=clock)
    out = tracker.add_signal(incident("open", 1, start=0))
    out += tracker.add_mention(scored(2, "Investigating", official=True))
    out += _questions(tracker, 2, 40, per_minute=2)
    silences = _silence(out)
    opened = [s for s in silences if s.state == "open"]
    assert len(opened) == 1
    assert opened[0].opened_at == at(17)  # 15 minutes after the update, at a minute tick
    assert opened[0].observed == pytest.approx(15.0) and opened[0].expected == 15.0
    assert opened[0].evidence.samples and opened[0].evidence.trend[-1] == 2.0
    assert {s.state for s in silences} == {"open", "update"}
    update = scored(40.5, "Identified", official=True)
    out = tracker.add_mention(update)
    resolved = _silence(out)
    assert [s.state for s in resolved] == ["resolved"] and resolved[0].resolved_at == at(40.5)
    assert resolved[0].id == opened[0].id
    # A new gap after the update: a new episode, with its own id.
    out = _questions(tracker, 41, 60, per_minute=2)
    again = [s for s in _silence(out) if s.state == "open"]
    assert len(again) == 1 and again[0].id != opened[0].id


def test_silence_needs_an_incident_and_rising_questions() -> None:
    cfg = replace(CFG, silence_after_minutes=15, silence_min_questions=5)
    no_incident = ConversationTracker(cfg, clock=clock)
    out = no_incident.add_mention(scored(2, "Investigating", official=True))
    out += _questions(no_incident, 2, 40, per_minute=3)
    assert _silence(out) == []

    few = ConversationTracker(cfg, clock=clock)
    out = few.add_signal(incident("open", 1))
    out += few.add_mention(scored(2, "Investigating", official=True))
    for minute in range(2, 40):
        out += few.add_mention(scored(minute + 0.5, "can't log in" if minute % 4 else "ETA?"))
    assert _silence(out) == []  # one question every four minutes: below the floor

    ends = ConversationTracker(cfg, clock=clock)
    out = ends.add_signal(incident("open", 1))
    out += _questions(ends, 1, 30, per_minute=2)
    assert [s.state for s in _silence(out)][:1] == ["open"]  # no update at all: from the start
    out = ends.add_signal(incident("resolved", 30.5))
    assert _silence(out) == []  # read ahead of the mentions: it waits for their time
    out = _questions(ends, 31, 60, per_minute=2)
    assert [s.state for s in _silence(out)] == ["resolved"]
    assert _silence(_questions(ends, 61, 90, per_minute=2)) == []


def test_snapshot_and_restore_continue_where_they_left_off() -> None:
    cfg = replace(CFG, silence_after_minutes=10, silence_min_questions=3)
    stream: list[ScoredMention | Signal] = [incident("open", 0.5)]
    stream += [scored(1, "Investigating", official=True)]
    stream += [
        scored(1 + i / 4, "any update?" if i % 2 else "down", author=f"a{i % 7}")
        for i in range(120)
    ]
    stream += [scored(32, "Identified", official=True)]
    stream += [scored(32 + i / 4, "fine") for i in range(80)]

    def run(
        tracker: ConversationTracker, items: list[ScoredMention | Signal]
    ) -> list[ConversationOutput]:
        out: list[ConversationOutput] = []
        for item in items:
            if isinstance(item, Signal):
                out += tracker.add_signal(item)
            else:
                out += tracker.add_mention(item)
        return out

    whole = run(ConversationTracker(cfg, clock=clock), stream)
    first = ConversationTracker(cfg, clock=clock)
    half = run(first, stream[:70])
    saved = json.loads(json.dumps(first.snapshot_subject("acme")))
    second = ConversationTracker(cfg, clock=clock)
    second.restore_subject("acme", saved)
    rest = run(second, stream[70:])
    assert half + rest == whole
    assert _silence(whole) and reactions(whole)


# -- the bundled example incident --------------------------------------------------


def _rows() -> list[dict[str, Any]]:
    lines = (EXAMPLES / "acme-incident.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.fixture(scope="module")
def truth() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(
        (EXAMPLES / "acme-incident.truth.json").read_text(encoding="utf-8")
    )
    return loaded


@pytest.fixture(scope="module")
def example() -> list[ScoredMention]:
    """Every line scored for every subject, as the analyzer does, in event-time order."""
    return sorted(score_example(scored_at=NOW), key=lambda s: s.mention.created_at)


def _with_detectors(example: list[ScoredMention]) -> Iterator[ScoredMention | Signal]:
    """The mentions, with the real detectors' signals interleaved as they would arrive."""
    aggregator = WindowAggregator()
    detectors: dict[str, SubjectDetectors] = {}
    for item in example:
        yield item
        for window in aggregator.add(item):
            subject = window.stats.subject
            yield from detectors.setdefault(subject, SubjectDetectors()).on_window(window)


@pytest.fixture(scope="module")
def example_run(example: list[ScoredMention]) -> list[ConversationOutput]:
    tracker = ConversationTracker(clock=clock)
    out: list[ConversationOutput] = []
    for item in _with_detectors(example):
        if isinstance(item, Signal):
            out += tracker.add_signal(item)
        else:
            out += tracker.add_mention(item)
    return out + tracker.flush(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))


def test_example_update_events_match_the_truth(
    example_run: list[ConversationOutput], truth: dict[str, Any]
) -> None:
    expected = [
        (u["id"], datetime.fromisoformat(u["created_at"])) for u in truth["official_updates"]
    ]
    assert len(expected) == 12
    for subject in ("acme", "acme-pay"):
        got = [
            (o.id, o.created_at)
            for o in example_run
            if isinstance(o, OfficialUpdate) and o.subject == subject
        ]
        assert got == expected
    statuses = {o.id: o.status for o in example_run if isinstance(o, OfficialUpdate)}
    for u in truth["official_updates"]:
        if u["source"] == "statuspage":
            assert statuses[u["id"]] == u["status"]


def _by_hand(
    example: list[ScoredMention],
    official_ids: set[str],
    start: datetime,
    end: datetime,
    audience: str,
) -> dict[str, Any]:
    """Plain filtering and counting of the file, for comparison."""
    label = {
        s.mention.id: s.sentiment.label if s.sentiment else None
        for s in example
        if s.subject == "acme"
    }
    report = {
        s.mention.id: bool(s.outage and s.outage.is_report) for s in example if s.subject == "acme"
    }
    picked = []
    for row in _rows():
        if row["is_official"] or "acme" not in row["subjects"]:
            continue
        created = datetime.fromisoformat(row["created_at"])
        if not start <= created < end:
            continue
        is_reply = row["in_reply_to"] in official_ids
        if (audience == "replies" and not is_reply) or (audience == "others" and is_reply):
            continue
        picked.append(row)
    ids = [make_mention_id(r["source"], r["native_id"]) for r in picked]
    labelled = [label[i] for i in ids if label[i] is not None]
    minutes = (end - start).total_seconds() / 60
    return {
        "mentions": len(picked),
        "unique_authors": len({r["author"] for r in picked}),
        "per_minute": len(picked) / minutes,
        "negative_share": labelled.count("negative") / len(labelled) if labelled else None,
        "outage_reports_per_minute": sum(report[i] for i in ids) / minutes,
        "question_share": sum(asks_for_information(r["text"]) for r in picked) / len(picked)
        if picked
        else None,
    }


@pytest.mark.parametrize(
    ("update_id", "span", "cut_at"),
    [
        ("statuspage:ruu1bl4ktjjq", 15, None),  # the acknowledgement
        ("statuspage:h1rw7oy8zr63", 15, "2026-11-20T11:34:09Z"),  # cut by the fix update
        ("statuspage:ruu1bl4ktjjq", 30, "2026-11-20T11:25:03Z"),  # cut by the next one
        ("statuspage:7wdbz7fu6cge", 15, None),
    ],
)
def test_example_reactions_match_counts_by_hand(
    example_run: list[ConversationOutput],
    example: list[ScoredMention],
    truth: dict[str, Any],
    update_id: str,
    span: int,
    cut_at: str | None,
) -> None:
    official_ids = {u["id"] for u in truth["official_updates"]}
    update_at = next(
        datetime.fromisoformat(u["created_at"])
        for u in truth["official_updates"]
        if u["id"] == update_id
    )
    end = datetime.fromisoformat(cut_at) if cut_at else update_at + timedelta(minutes=span)
    got = {
        r.audience: r
        for r in reactions(example_run, span)
        if r.update_id == update_id and r.subject == "acme"
    }
    assert set(got) == {"all", "replies", "others"}
    for audience, reaction in got.items():
        assert reaction.complete is (cut_at is None)
        before = _by_hand(
            example, official_ids, update_at - timedelta(minutes=span), update_at, audience
        )
        after = _by_hand(example, official_ids, update_at, end, audience)
        for field, value in before.items():
            assert getattr(reaction.before, field) == pytest.approx(value), (
                audience,
                "before",
                field,
            )
        for field, value in after.items():
            assert getattr(reaction.after, field) == pytest.approx(value), (
                audience,
                "after",
                field,
            )
    assert got["all"].after.mentions > 100
    assert got["replies"].after.mentions > 0
    assert got["all"].expected is not None  # an hour of history: warm


def test_example_silence_fires_in_the_gap_only(
    example_run: list[ConversationOutput], truth: dict[str, Any]
) -> None:
    gap_start = datetime.fromisoformat(truth["silence_gap"]["start"])
    gap_end = datetime.fromisoformat(truth["silence_gap"]["end"])
    for subject in ("acme", "acme-pay"):
        silences = [s for s in _silence(example_run) if s.subject == subject]
        opened = [s for s in silences if s.state == "open"]
        assert len(opened) == 1, subject
        assert gap_start + timedelta(minutes=15) <= opened[0].opened_at < gap_end
        assert opened[0].window_start == gap_start
        assert opened[0].evidence.samples and opened[0].evidence.top_symptoms
        assert all(asks_for_information(s.text) for s in opened[0].evidence.samples)
        resolved = [s for s in silences if s.state == "resolved"]
        assert [s.resolved_at for s in resolved] == [gap_end]
        assert all(gap_start <= s.updated_at <= gap_end for s in silences)


def test_measure_reactions_batch_matches_the_stream(
    example_run: list[ConversationOutput], example: list[ScoredMention]
) -> None:
    updates = [o for o in example_run if isinstance(o, OfficialUpdate) and o.subject == "acme"]
    public = [s for s in example if s.subject == "acme" and not s.mention.is_official]
    batch = measure_reactions(
        updates,
        public,
        spans_minutes=(15, 30, 60),
        now=NOW,
        until=datetime(2026, 11, 20, 12, 0, tzinfo=UTC),
    )
    stream = [r for r in reactions(example_run) if r.subject == "acme"]

    def key(r: UpdateReaction) -> tuple[str, int, str]:
        return (r.update_id, r.span_minutes, r.audience)

    assert len(batch) == 12 * 3 * 3
    # Same counts (the batch sees no incident signal, so only ``expected`` may differ).
    assert {key(r): (r.before, r.after, r.complete) for r in batch} == {
        key(r): (r.before, r.after, r.complete) for r in stream
    }


def test_measure_reactions_with_the_signals_matches_the_stream_expectation_too(
    example_run: list[ConversationOutput], example: list[ScoredMention]
) -> None:
    updates = [o for o in example_run if isinstance(o, OfficialUpdate) and o.subject == "acme"]
    signals = [s for s in _with_detectors(example) if isinstance(s, Signal)]
    public = [s for s in example if s.subject == "acme" and not s.mention.is_official]
    until = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    with_signals = measure_reactions(
        updates, public, spans_minutes=(15,), now=NOW, until=until, signals=signals
    )
    without = measure_reactions(updates, public, spans_minutes=(15,), now=NOW, until=until)
    stream = {
        (r.update_id, r.audience): r.expected
        for r in reactions(example_run, 15)
        if r.subject == "acme"
    }
    got = {(r.update_id, r.audience): r.expected for r in with_signals}
    assert got.keys() == stream.keys()
    # The batch pauses the baseline at the signal's own time; the stream pauses it
    # when the signal is read, a window later. Same calm level, not the same float.
    for key, expected in got.items():
        if key[1] != "all":
            assert expected is None and stream[key] is None
            continue
        live = stream[key]
        assert expected is not None and live is not None
        assert expected.per_minute == pytest.approx(live.per_minute, rel=0.1)
        assert expected.negative_share == pytest.approx(live.negative_share, abs=0.05)
    # Paused once, at the incident's start: every update sees the same expectation.
    levels = {
        (round(e.per_minute, 6), round(e.outage_reports_per_minute or 0.0, 6))
        for (_, audience), e in got.items()
        if audience == "all" and e is not None
    }
    assert len(levels) == 1
    # Without the signals the baseline keeps learning through the incident: the
    # last update's expected volume is then far above the calm level.
    last = updates[-1].id
    paused = got[(last, "all")]
    learning = {(r.update_id, r.audience): r.expected for r in without}[(last, "all")]
    assert paused is not None and learning is not None
    assert paused.per_minute < learning.per_minute / 2


def test_signals_read_ahead_of_the_mentions_give_the_same_outputs(
    example_run: list[ConversationOutput], example: list[ScoredMention]
) -> None:
    """A worker catching up reads the small signals topic long before the mentions."""
    signals = [s for s in _with_detectors(example) if isinstance(s, Signal)]
    tracker = ConversationTracker(clock=clock)
    out: list[ConversationOutput] = []
    for signal in signals:
        out += tracker.add_signal(signal)
    assert out == []  # nothing happens before the mentions' time reaches them
    for item in example:
        out += tracker.add_mention(item)
    out += tracker.flush(datetime(2026, 11, 20, 12, 0, tzinfo=UTC))

    def silences(outputs: list[ConversationOutput]) -> list[tuple[str, str, str, datetime]]:
        return [
            (o.subject, o.id, o.state, o.updated_at)
            for o in outputs
            if isinstance(o, Signal) and o.kind == "comms_silence"
        ]

    assert silences(out) == silences(example_run)
    assert {s[0] for s in silences(out) if s[2] == "open"} == {"acme", "acme-pay"}
    assert len(reactions(out)) == len(reactions(example_run))
    assert tracker.late == 0  # the signals did not move the mentions' clock
