"""Post texts are data: escaped in HTML, made inert in Markdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from earful.comms.report.data import ReportData, Selection
from earful.comms.report.render import write_report
from earful.comms.report.summary import build_report
from earful.events import OfficialUpdate
from tests.comms.report.records import scored

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> | **bold** & [link](http://e)'


def test_hostile_texts_are_escaped(tmp_path: Path) -> None:
    selection = Selection("acme", T0, T0 + timedelta(hours=1))
    mentions = [scored(str(n), T0 + timedelta(minutes=n), "acme is down again") for n in range(30)]
    mentions.append(scored("evil", T0 + timedelta(minutes=31), HOSTILE, likes=1000))
    update = OfficialUpdate(
        id="mastodon:u",
        subject="acme",
        source="mastodon",
        kind="post",
        author="acmestatus",
        text=HOSTILE,
        created_at=T0 + timedelta(minutes=20),
    )
    data = ReportData(selection=selection, mentions=mentions, updates=[update])
    report = build_report(data, now=T0 + timedelta(hours=2), spans_minutes=(15,))
    assert report.samples[0].text == HOSTILE  # the hostile post is shown (most engaged)
    written = write_report(report, tmp_path)
    page = written["html"].read_text(encoding="utf-8")
    assert "<script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page
    assert page.count("&lt;img src=x onerror=alert(1)&gt;") == 2  # the sample and the update
    md = written["md"].read_text(encoding="utf-8")
    # Backslash-escaped: CommonMark shows the characters instead of interpreting them.
    hostile_lines = [line for line in md.splitlines() if "onerror" in line]
    assert len(hostile_lines) >= 2  # the sample and the update (terms may quote it too)
    assert all(re.search(r"(?<!\\)[<>]", line) is None for line in hostile_lines)
    assert "\\<script\\>" in md and "\\[link\\](http://e)" in md
    sample_row = next(line for line in md.splitlines() if "onerror" in line and "u-" in line)
    # The text's "|" is escaped, so the row keeps its five cells.
    assert len(re.split(r"(?<!\\)\|", sample_row)) == 7


def test_a_signal_still_open_at_the_end_lasts_to_the_end_of_the_period(tmp_path: Path) -> None:
    from tests.comms.report.fixtures import burst_signals

    until = T0 + timedelta(hours=1)
    selection = Selection("acme", T0, until)
    mentions = [scored(str(n), T0 + timedelta(minutes=n), "acme is down") for n in range(59)]
    opened = burst_signals(T0 + timedelta(minutes=10))[:1]  # opened, never resolved
    data = ReportData(selection=selection, mentions=mentions, signals=opened)
    report = build_report(data, now=until + timedelta(hours=1), spans_minutes=(15,))
    (episode,) = report.episodes
    assert episode.is_open and episode.end == episode.last_at  # its only record: 10:10
    assert episode.end_within(until) == until
    assert episode.minutes_within(until) == 51.0  # from its 10:09 window to 11:00
    md = write_report(report, tmp_path, ["md"])["md"].read_text(encoding="utf-8")
    row = next(line for line in md.splitlines() if line.startswith(r"| outage\_burst"))
    assert "still open at the end" in row and "at least 51.0 min" in row
