"""The report's terminal sections (what `earful demo` prints) carry the report's numbers."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from earful.comms.report.data import ReportData, Selection
from earful.comms.report.summary import Report, build_report
from earful.comms.report.text import reactions_text, responder_text, signals_text, silences_text
from tests.comms.report.fixtures import (
    NOW,
    SINCE,
    UNTIL,
    burst_signals,
    example_scored,
    silence_signals,
)

ONSET = SINCE + timedelta(minutes=47)


@pytest.fixture(scope="module")
def report() -> Report:
    scored = [m for m in example_scored() if m.subject == "acme"]
    data = ReportData(
        selection=Selection("acme", SINCE, UNTIL),
        mentions=scored,
        signals=burst_signals(ONSET) + silence_signals(),
    )
    return build_report(data, now=NOW, spans_minutes=(15,))


def test_the_responders_view_counts_every_mention_of_the_subject(report: Report) -> None:
    text = responder_text(report)
    counts = re.search(r"mentions: (\d+) public and (\d+) official", text)
    assert counts is not None
    public, official = map(int, counts.groups())
    assert public == report.mentions and official == len(report.updates) == 12
    assert public + official == 4170  # every line of the incident names acme
    by_source = re.search(r"by source: (.*)", text)
    assert by_source is not None
    assert sum(map(int, re.findall(r" (\d+)", by_source.group(1)))) == public
    top = report.top_terms[0]
    assert f"top complaint terms: {top.term} ({top.count})," in text
    # The first update after the onset at 10:47 came at 10:58:13.
    assert "onset 10:47Z; first update 10:58Z (11 min after the onset)" in text
    loudest = text.split("loudest complaints:\n", 1)[1].splitlines()
    assert len(loudest) == 3 and f"engagement {report.samples[0].engagement}," in loudest[0]


def test_signals_are_listed_when_they_open_and_resolve(report: Report) -> None:
    lines = signals_text([report]).splitlines()[1:]
    assert re.match(r"  10:47Z open\s+critical acme: outage_burst \(peak observed", lines[0])
    assert any(
        re.match(r"  11:45Z resolved critical acme: outage_burst \(after 59 min", x) for x in lines
    )
    assert [x[2:8] for x in lines] == sorted(x[2:8] for x in lines)  # in time order
    assert signals_text([]).splitlines()[1:] == ["  none"]


def test_each_update_has_its_reaction_row(report: Report) -> None:
    rows = [x for x in reactions_text(report).splitlines() if re.match(r"  \d\d:\d\dZ", x)]
    assert len(rows) == len(report.updates)
    first = report.reaction_rows[0].all
    assert first is not None
    before, after = first.before.negative_share, first.after.negative_share
    assert before is not None and after is not None
    assert f"{before:4.0%} -> {after:4.0%}" in rows[0]
    # The last updates' spans run past the end of the period: cut by it, not by an update.
    assert rows[-1].endswith(f"(cut at {UNTIL:%H:%M}Z by the end of the data)")


def test_a_silence_names_the_gap_and_what_people_asked(report: Report) -> None:
    text = silences_text([report])
    assert "11:14Z open     acme: no official update since 10:59Z (rule: 15 min)" in text
    assert "11:25Z resolved acme: no official update for 26 min" in text
    assert "people ask: " in text and "15 minutes since your last update @acmestatus" in text
