"""earful backtest: count CSVs (output, plot, errors) and scored-mention replays."""

from __future__ import annotations

import csv
import itertools
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from analyze.backtest import replay_mentions
from earful.cli import main
from earful.events import ScoredMention
from tests.analyze.detect_fixtures import T0, scored
from tests.scored_records import scored_for_subjects


def write_series(path: Path, values: list[int], step: timedelta) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["timestamp", "value"])
        for i, v in enumerate(values):
            w.writerow([(T0 + i * step).strftime("%Y-%m-%d %H:%M:%S"), v])


def test_backtest_csv_writes_scores_alerts_and_plot(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    values = [int(v) for v in rng.poisson(20, size=600)]
    values[500:503] = [400, 420, 380]
    src, out, png = tmp_path / "in.csv", tmp_path / "out.csv", tmp_path / "plot.png"
    write_series(src, values, timedelta(minutes=5))
    assert main(["backtest", str(src), "--output", str(out), "--plot", str(png)]) == 0
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0]) == ["timestamp", "value", "expected", "anomaly_score", "alert"]
    assert [int(r["value"]) for r in rows] == values
    scores = [float(r["anomaly_score"]) for r in rows]
    assert all(0.0 <= s <= 1.0 for s in scores)
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert alerts == [501]  # the spike, once, after two windows of evidence
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,count\n2026-01-01 00:00:00,1\n", "header"),
        ("timestamp,value\n2026-01-01 00:00:00,x\n2026-01-01 00:05:00,1\n", "line 2"),
        ("timestamp,value\n2026-01-01 00:05:00,1\n2026-01-01 00:00:00,1\n", "increasing"),
    ],
)
def test_backtest_csv_errors_are_clear(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(content)
    assert main(["backtest", str(src)]) == 2
    assert message in capsys.readouterr().err


def incident(rng: np.random.Generator) -> list[ScoredMention]:
    """45 calm minutes, then an outage: reports from many people, negative posts."""
    records = []
    for minute in range(70):
        burst = minute >= 45
        for k in range(int(rng.poisson(40 if burst else 8))):
            at = minute * 60 + rng.uniform(0, 59)
            report = burst and k % 4 != 3
            records.append(
                scored(
                    at,
                    label="negative" if report or rng.random() < 0.15 else "neutral",
                    outage=report,
                    symptoms=("login",) if report else (),
                    places=("Lyon",) if report else (),
                    text="acme is down, cannot login" if report else "acme app update",
                )
            )
    return records


def test_replay_finds_the_outage_within_two_windows() -> None:
    records = incident(np.random.default_rng(2))
    signals = replay_mentions(records)
    opened = {s.kind: s for s in signals if s.state == "open"}
    assert "outage_burst" in opened
    burst = opened["outage_burst"]
    assert burst.window_end <= T0 + timedelta(minutes=47)
    assert all(s.window_end > T0 + timedelta(minutes=45) for s in signals)  # calm is quiet
    assert {t.term for t in burst.evidence.top_symptoms} == {"login"}
    assert burst.evidence.samples and "down" in burst.evidence.samples[0].text


@pytest.mark.parametrize("seed", [2, 3, 4, 5, 6])
def test_replay_finds_the_volume_surge_too(seed: int) -> None:
    """Volume goes from 8 to 40 a minute. The robust dispersion does not let the surge
    widen the spread that judges it, so the volume spike opens on every seed. With the
    old 3-sd clip it opened on two of these five."""
    signals = replay_mentions(incident(np.random.default_rng(seed)))
    [volume] = [s for s in signals if s.kind == "volume_spike" and s.state == "open"]
    assert T0 + timedelta(minutes=46) <= volume.window_end <= T0 + timedelta(minutes=57)
    assert all(s.window_end > T0 + timedelta(minutes=45) for s in signals)  # calm is quiet


def test_backtest_mentions_cli_lists_signals(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "scored.jsonl"
    lines = [r.model_dump_json() for r in incident(np.random.default_rng(3))]
    path.write_text("\n".join([*lines, "{not json"]) + "\n")
    assert main(["backtest", "--mentions", str(path)]) == 0
    captured = capsys.readouterr()
    assert "outage_burst" in captured.out and "symptoms: login" in captured.out
    assert "skipped" in captured.err


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "acme-incident.jsonl"


@pytest.mark.skipif(not EXAMPLE.exists(), reason="examples/acme-incident.jsonl is not there")
def test_bundled_incident_fires_early_and_calm_baseline_stays_quiet() -> None:
    from analyze.scoring import Scorer
    from ingest.replay import parse_line

    scorer = Scorer()
    records = []
    for line in EXAMPLE.read_bytes().splitlines():
        mention = parse_line(line, ingested_at=datetime(2026, 11, 20, 12, 0, tzinfo=UTC))
        records += scored_for_subjects(scorer, mention, scored_at=mention.created_at)
    signals = replay_mentions(records)
    onset = datetime(2026, 11, 20, 10, 45, tzinfo=UTC)
    burst = datetime(2026, 11, 20, 10, 49, tzinfo=UTC)  # first minute with a jump in reports
    assert all(s.window_end > onset for s in signals), "the calm baseline raised a signal"
    [opened] = [s for s in signals if s.subject == "acme" and s.kind == "outage_burst"][:1]
    assert opened.state == "open"
    assert opened.window_end <= burst + timedelta(minutes=2)  # within two windows
    # Hysteresis: each detector opens once for the whole incident.
    opens = Counter((s.subject, s.kind) for s in signals if s.state == "open")
    assert max(opens.values()) == 1


NAB_CVS = (
    Path(__file__).resolve().parents[3]
    / "shared"
    / "data"
    / "nab-realtweets-dev"
    / "Twitter_volume_CVS.csv"
)


@pytest.mark.skipif(not NAB_CVS.exists(), reason="NAB dev data not present")
def test_backtest_of_a_nab_series_is_well_formed(tmp_path: Path) -> None:
    """Structure of the output on a real series (the score itself is a benchmark, bench/nab.py)."""
    from analyze.detectors import DetectorConfig

    out = tmp_path / "cvs.csv"
    assert main(["backtest", str(NAB_CVS), "--output", str(out)]) == 0
    with NAB_CVS.open() as fh:
        source = list(csv.DictReader(fh))
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    # One row per input row, same timestamps and values, in order.
    assert [(r["timestamp"], r["value"]) for r in rows] == [
        (s["timestamp"], s["value"]) for s in source
    ]
    assert all(0.0 <= float(r["anomaly_score"]) < 1.0 for r in rows)
    assert all(float(r["expected"]) > 0.0 for r in rows)
    assert {r["alert"] for r in rows} <= {"0", "1"}
    cfg = DetectorConfig()
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert alerts, "a real series with labelled bursts pages at least once"
    assert alerts[0] >= cfg.min_history
    values = [float(r["value"]) for r in rows]
    day = 288  # 5-minute rows
    for i in alerts:
        # A page is for a count above its expectation and past the count floor,
        # or (the day-scale test) for a last day well above the same hours of
        # the same weekday in the weeks before (of the days before, in the first week).
        window_page = values[i] >= max(cfg.min_count, float(rows[i]["expected"]))
        weeks_before = [i - w * 7 * day for w in (1, 2, 3) if i - day - w * 7 * day >= 0]
        days_before = [i - d * day for d in range(1, 7) if i - day - d * day >= 0]
        before = [sum(values[end - day : end]) for end in weeks_before or days_before]
        day_page = sum(values[i - day : i]) > 1.3 * statistics.median(before)
        assert window_page or day_page, rows[i]
    # Hysteresis: a signal resolves only after resolve_after calm windows and a
    # new one needs persistence hot windows, so pages are never back to back.
    assert all(b - a >= cfg.resolve_after + cfg.persistence for a, b in itertools.pairwise(alerts))
