"""The report rendered from an export of the example incident; its numbers against the data."""

from __future__ import annotations

import base64
import re
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from matplotlib import image as mpimg

from earful.cli import main
from earful.comms.report.data import ReportData, Selection
from earful.comms.report.summary import build_report
from earful.events import ScoredMention
from tests.comms.report.fixtures import (
    NOW,
    SINCE,
    UNTIL,
    burst_signals,
    example_scored,
    silence_signals,
    write_export,
)

ONSET = SINCE + timedelta(minutes=47)


@pytest.fixture(scope="module")
def scored() -> list[ScoredMention]:
    return example_scored()


@pytest.fixture(scope="module")
def rendered(scored: list[ScoredMention], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report written by the CLI from a two-file export (records split over both)."""
    tmp = tmp_path_factory.mktemp("report")
    signals = burst_signals(ONSET) + silence_signals()
    first = write_export(tmp / "a.jsonl", scored[: len(scored) // 2])
    second = write_export(tmp / "b.jsonl", [*scored[len(scored) // 2 :], *signals])
    out = tmp / "out"
    code = main(
        [
            "report",
            "--subject",
            "acme",
            "--since",
            "2026-11-20T10:00Z",
            "--until",
            "2026-11-20T12:00:00+00:00",
            "--input",
            str(first),
            str(second),
            "--output",
            str(out),
        ]
    )
    assert code == 0
    return out


def _public(scored: list[ScoredMention]) -> list[ScoredMention]:
    return [
        m
        for m in scored
        if m.subject == "acme"
        and not m.mention.is_official
        and SINCE <= m.mention.created_at < UNTIL
    ]


def _official_times(scored: list[ScoredMention]) -> list[datetime]:
    return sorted(
        m.mention.created_at for m in scored if m.subject == "acme" and m.mention.is_official
    )


@pytest.mark.parametrize("name", ["timeline.png", "reactions.png", "top.png"])
def test_charts_are_real_images(rendered: Path, name: str) -> None:
    path = rendered / name
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    pixels = mpimg.imread(path)
    height, width = pixels.shape[:2]
    assert height > 300 and width > 600
    colours = np.unique(pixels.reshape(-1, pixels.shape[-1]), axis=0)
    assert len(colours) > 20  # bars, lines and text, not a blank canvas


def test_summary_numbers_match_the_fixture(rendered: Path, scored: list[ScoredMention]) -> None:
    md = (rendered / "report.md").read_text(encoding="utf-8")
    public = _public(scored)
    authors = {m.mention.author for m in public}
    per_minute = Counter(m.mention.created_at.replace(second=0, microsecond=0) for m in public)
    peak_count = max(per_minute.values())
    peak = min(t for t, n in per_minute.items() if n == peak_count)
    assert f"| Public mentions | {len(public)} |" in md
    assert f"| Unique authors | {len(authors)} |" in md
    reports = sum(1 for m in public if m.outage is not None and m.outage.is_report)
    assert f"| Outage reports | {reports} |" in md
    assert f"| Peak minute | {peak:%H:%M:%S}Z ({peak_count} mentions) |" in md
    officials = _official_times(scored)
    assert f"| Official updates | {len(officials)} |" in md
    first = min(t for t in officials if t >= ONSET)
    minutes = (first - ONSET).total_seconds() / 60
    assert f"| Time from onset to first official update | {minutes:.1f} min |" in md
    assert f"| Onset | {ONSET:%H:%M:%S}Z (first outage\\_burst signal opened" in md


def test_reaction_to_the_first_update_matches_a_count_by_hand(
    rendered: Path, scored: list[ScoredMention]
) -> None:
    officials = _official_times(scored)
    t = officials[0]
    # The next two updates are the same announcement on other channels (< 3 minutes
    # later) and the one after comes 27 minutes later: the 15-minute after span is full.
    assert officials[2] - t < timedelta(minutes=3) and officials[3] - t > timedelta(minutes=15)
    span = timedelta(minutes=15)
    public = [m for m in scored if m.subject == "acme" and not m.mention.is_official]

    def share(start: datetime, end: datetime) -> float:
        inside = [m for m in public if start <= m.mention.created_at < end and m.sentiment]
        return sum(1 for m in inside if m.sentiment and m.sentiment.label == "negative") / len(
            inside
        )

    def per_min(start: datetime, end: datetime) -> float:
        return sum(1 for m in public if start <= m.mention.created_at < end) / 15

    before, after = share(t - span, t), share(t, t + span)
    row = next(
        line
        for line in (rendered / "report.md").read_text().splitlines()
        if line.startswith("| U1 |")
    )
    assert f"{100 * before:.1f}% → {100 * after:.1f}%" in row
    assert f"{per_min(t - span, t):.1f} → {per_min(t, t + span):.1f}" in row
    assert after > before  # the numbers show the surge still growing after the first update


def test_signals_and_silence_gap_are_listed(rendered: Path) -> None:
    md = (rendered / "report.md").read_text(encoding="utf-8")
    signals = md.split("## Signals", 1)[1].split("## ", 1)[0]
    assert "| outage\\_burst | critical | 10:47:00Z | 11:45:00Z | 59.0 min |" in signals
    silence = md.split("## Silence gaps", 1)[1].split("## ", 1)[0]
    # From the last update at 10:59:01.034 to the next at 11:25:03: 26.03 minutes.
    assert "| 10:59:01Z | 11:14:00Z | 11:25:03Z | 26.0 min | warning |" in silence
    assert "15 minutes since your last update @acmestatus" in silence


def test_html_carries_the_same_numbers_and_embeds_the_charts(
    rendered: Path, scored: list[ScoredMention]
) -> None:
    page = (rendered / "report.html").read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert f"<td>Public mentions</td><td>{len(_public(scored))}</td>" in page
    uris = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)"', page)
    assert len(uris) == 3
    assert all(base64.b64decode(u)[:4] == b"\x89PNG" for u in uris)
    assert 'src="timeline.png"' not in page  # self-contained: nothing linked


def test_markdown_links_the_charts_relative(rendered: Path) -> None:
    md = (rendered / "report.md").read_text(encoding="utf-8")
    for name in ("timeline.png", "reactions.png", "top.png"):
        assert f"]({name})" in md


def test_sample_posts_show_pseudonymous_authors_only(
    rendered: Path, scored: list[ScoredMention]
) -> None:
    md = (rendered / "report.md").read_text(encoding="utf-8")
    samples = md.split("## Sample posts", 1)[1].split("## ", 1)[0]
    rows = [line for line in samples.splitlines() if line.startswith("| ") and "Z |" in line]
    assert len(rows) == 5
    assert all(re.search(r"\| u-[0-9a-f]{12} \|", row) for row in rows)
    # The most engaged negative post of the period comes first.
    negative = [
        m
        for m in _public(scored)
        if m.sentiment and m.sentiment.label == "negative" and m.mention.kind != "repost"
    ]
    e = max(negative, key=lambda m: sum(v or 0 for v in m.mention.engagement.model_dump().values()))
    assert e.mention.author in rows[0]


def test_onset_without_a_signal_is_the_first_jump_in_outage_reports(
    scored: list[ScoredMention],
) -> None:
    selection = Selection("acme", SINCE, UNTIL)
    data = ReportData(selection=selection, mentions=[m for m in scored if m.subject == "acme"])
    report = build_report(data, now=NOW, spans_minutes=(15,))
    reporters: dict[datetime, set[str]] = {}
    for m in _public(scored):
        if m.outage is not None and m.outage.is_report:
            minute = m.mention.created_at.replace(second=0, microsecond=0)
            reporters.setdefault(minute, set()).add(m.mention.author)
    minutes = [SINCE + timedelta(minutes=i) for i in range(120)]
    counts = [len(reporters.get(t, ())) for t in minutes]
    expected = next(
        minutes[i]
        for i in range(120)
        if counts[i] >= 3
        and counts[i] >= 3 * (sum(counts[max(0, i - 15) : i]) / max(1, min(i, 15)))
    )
    assert report.onset == expected
    assert "no outage_burst signal" in report.onset_basis
    officials = _official_times(scored)
    assert report.first_update is not None
    assert report.first_update.created_at == min(t for t in officials if t >= expected)


def test_an_input_that_holds_no_report_records_is_one_data_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    counts = tmp_path / "counts.csv"
    counts.write_text("timestamp,value\n2026-11-20T10:00:00Z,3\n", encoding="utf-8")
    assert main(["report", "--subject", "acme", "--input", str(counts)]) == 2
    _, err = capsys.readouterr()
    assert err.count("\n") == 1
    assert err.startswith(f"earful: data error: {counts} holds no report records (")
    assert "`earful report export` writes them" in err
