"""Post texts are data: escaped in HTML, made inert in Markdown."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from earful.events import OfficialUpdate
from sinks.report.data import ReportData, Selection
from sinks.report.render import write_report
from sinks.report.summary import build_report
from tests.sinks.report.records import scored

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> <img src=x onerror=alert(1)> | **bold** & [link](http://e)'


def test_hostile_texts_are_escaped(tmp_path: Path) -> None:
    selection = Selection("acme", T0, T0 + timedelta(hours=1))
    mentions = [scored(str(n), T0 + timedelta(minutes=n), "acme is down again") for n in range(30)]
    mentions.append(scored("evil", T0 + timedelta(minutes=31), HOSTILE, likes=1000))
    update = OfficialUpdate(
        id="mastodon:u", subject="acme", source="mastodon", kind="post", author="acmestatus",
        text=HOSTILE, created_at=T0 + timedelta(minutes=20),
    )  # fmt: skip
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
