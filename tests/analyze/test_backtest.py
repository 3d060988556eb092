"""earful backtest: count CSVs (output, plot, errors) and scored-mention replays."""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from earful.analyze.backtest import (
    SeriesPoint,
    off_grid_share,
    prepare_series,
    replay_mentions,
    successive_variance_ratio,
)
from earful.cli import main
from earful.events import ScoredMention
from tests.analyze.detect_fixtures import T0, scored
from tests.scored_records import scored_for_subjects

#: Counts as a count series has them: Poisson noise around 10 (steadier whole numbers are
#: judged as a measurement).
COUNTS = [int(v) for v in np.random.default_rng(0).poisson(10, size=9000)]
ONE_ROW = "earful: data error: a series needs at least two rows with different timestamps\n"


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
    # The spike, once, on its first window: twenty times the level brings more than
    # twice the evidence an opening needs, so persistence does not hold it back.
    assert alerts == [500]
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,count\n2026-01-01 00:00:00,1\n", "header"),
        ("timestamp,value\n2026-01-01 00:00:00,x\n2026-01-01 00:05:00,1\n", "line 2"),
        (
            "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:05:00,nan\n",
            "earful: data error: line 3: the value must be a finite number, got 'nan'"
            " (drop the row or fill it in)\n",
        ),
        (
            "timestamp,value\n2026-01-01 00:00:00,1\n2026-01-01 00:00:00,2\n",
            ONE_ROW,
        ),
        (
            "timestamp,value\n",
            ONE_ROW,
        ),
        (
            "timestamp,value\n2026-01-01 00:00:00,1\nyesterday,2\n",
            "earful: data error: line 3: cannot read timestamp 'yesterday'\n",
        ),
    ],
)
def test_backtest_csv_errors_are_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    src = tmp_path / "bad.csv"
    src.write_text(content)
    assert main(["backtest", str(src)]) == 2
    err = capsys.readouterr().err
    assert message in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_negative_values_as_counts_are_refused_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src = tmp_path / "diff.csv"
    write_series(src, [3, -2, 5, 1], timedelta(minutes=5))
    assert main(["backtest", str(src), "--kind", "counts"]) == 2
    assert capsys.readouterr().err == (
        "earful: data error: a count cannot be negative: pass --kind measure for this series\n"
    )


def run_cli(
    tmp_path: Path, lines: list[str], capsys: pytest.CaptureFixture[str]
) -> tuple[list[dict[str, str]], str]:
    src, out = tmp_path / "in.csv", tmp_path / "out.csv"
    src.write_text("timestamp,value\n" + "\n".join(lines) + "\n")
    assert main(["backtest", str(src), "--output", str(out)]) == 0
    with out.open() as fh:
        rows = list(csv.DictReader(fh))
    return rows, capsys.readouterr().err


def stamp(i: int) -> str:
    return (T0 + i * timedelta(minutes=5)).strftime("%Y-%m-%d %H:%M:%S")


def test_duplicate_timestamps_of_counts_are_summed_with_one_warning(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{stamp(i)},{COUNTS[i]}" for i in range(60)]
    lines.insert(21, f"{stamp(20)},4")  # a second partial count of window 20
    rows, err = run_cli(tmp_path, lines, capsys)
    assert err == (
        "warning: in.csv: 1 duplicate timestamp summed into one window\n61 rows, 0 alert(s)\n"
    )
    # One output row per input row, in input order; both rows of window 20 expect the same.
    assert [r["timestamp"] for r in rows] == [line.split(",")[0] for line in lines]
    assert rows[20]["expected"] == rows[21]["expected"]


def test_a_duplicated_alert_window_alerts_once(tmp_path: Path) -> None:
    from earful.analyze.backtest import SeriesPoint, backtest_series

    rng = np.random.default_rng(4)
    values = [float(v) for v in rng.poisson(20, size=300)]
    values[250:253] = [400.0, 420.0, 380.0]
    points = [SeriesPoint(T0 + i * timedelta(minutes=5), stamp(i), v) for i, v in enumerate(values)]
    once = backtest_series(points)
    [opened] = [i for i, r in enumerate(once) if r.alert]
    twice = backtest_series([*points[: opened + 1], points[opened], *points[opened + 1 :]])
    # The copy doubles that window's count; the alert is on the first copy only.
    assert [r.alert for r in twice].count(1) == 1
    assert twice[opened].alert == 1 and twice[opened + 1].alert == 0
    assert twice[opened + 1].anomaly_score < 0.5 <= twice[opened].anomaly_score


def test_unsorted_rows_are_sorted_with_one_warning_and_kept_in_input_order(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{stamp(i)},{COUNTS[i]}" for i in range(60)]
    lines[30], lines[31] = lines[31], lines[30]
    rows, err = run_cli(tmp_path, lines, capsys)
    assert err.splitlines()[0] == "warning: in.csv: rows sorted by time (1 row out of order)"
    assert [r["timestamp"] for r in rows] == [line.split(",")[0] for line in lines]
    sorted_rows, _ = run_cli(tmp_path, sorted(lines), capsys)
    by_time = {r["timestamp"]: r for r in sorted_rows}
    assert all(r == by_time[r["timestamp"]] for r in rows)  # the same result per timestamp


def test_gaps_are_reported_and_no_row_is_invented(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = [f"{stamp(i)},{COUNTS[i]}" for i in [*range(40), *range(52, 100)]]
    rows, err = run_cli(tmp_path, lines, capsys)
    assert err.splitlines()[0] == (
        "warning: in.csv: 1 gap in the series (longest 1 h missing): the baseline forgets over"
        " a gap, no rows are invented"
    )
    assert len(rows) == len(lines)


def test_fractions_and_negative_values_are_judged_as_a_measurement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(5)
    values = list(rng.normal(-3.0, 0.5, size=600))
    values[500:504] = [-12.0, -12.5, -11.8, -12.2]  # a drop
    lines = [f"{stamp(i)},{v:.4f}" for i, v in enumerate(values)]
    rows, err = run_cli(tmp_path, lines, capsys)
    assert err.splitlines()[0] == (
        "warning: in.csv: values are not counts (negative values and fractions): judged as a"
        " measurement, rises and drops alike"
    )
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert alerts and 500 <= alerts[0] <= 502
    assert all(i >= 500 for i in alerts)


def test_whole_numbers_steadier_than_counts_are_judged_as_a_measurement(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(7)
    # A road speed in whole mph: 62 give or take 3, far steadier than counts of 62 would be.
    values = [round(v) for v in rng.normal(62.0, 3.0, size=600)]
    values[450:455] = [20] * 5  # a jam
    lines = [f"{stamp(i)},{v}" for i, v in enumerate(values)]
    rows, err = run_cli(tmp_path, lines, capsys)
    ratio = successive_variance_ratio([float(v) for v in values])
    assert err.splitlines()[0] == (
        f"warning: in.csv: whole numbers steadier than counts (window-to-window variance"
        f" {ratio:.2g} of the mean, a count's is at least 1): judged as a measurement; pass"
        " --kind counts to judge them as counts"
    )
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert alerts[:1] == [450]  # the jam's first window
    src = tmp_path / "in.csv"
    assert (
        main(["backtest", str(src), "--kind", "counts", "--output", str(tmp_path / "c.csv")]) == 0
    )
    assert "judged as a measurement" not in capsys.readouterr().err


def test_off_grid_share_counts_gaps_that_are_not_whole_intervals() -> None:
    minutes = [0, 10, 20, 24, 40, 50, 60]  # gaps 10, 10, 4, 16, 10, 10: median 10
    times = [T0 + timedelta(minutes=m) for m in minutes]
    assert off_grid_share(times) == pytest.approx(2 / 6)
    # Missing windows are gaps of whole intervals (on the grid); 2 s of jitter is too.
    on_grid = [T0, T0 + timedelta(minutes=1), T0 + timedelta(minutes=4, seconds=2)]
    on_grid += [T0 + timedelta(minutes=5), T0 + timedelta(minutes=6)]
    assert off_grid_share(on_grid) == 0.0
    assert off_grid_share(times[:2]) == 0.0  # too short to tell


def test_whole_numbers_at_irregular_times_are_readings() -> None:
    rng = np.random.default_rng(9)
    # A travel time in whole seconds, read when a probe passes: 10 minutes apart
    # mostly, but every fifth reading 14 minutes after the last.
    values = [float(v) for v in rng.poisson(200, size=400) * rng.gamma(2.0, 0.5, size=400)]
    values = [float(round(v)) for v in values]
    t, times = T0, []
    for i in range(400):
        times.append(t)
        t += timedelta(minutes=14 if i % 5 == 4 else 10)
    pairs = enumerate(zip(times, values, strict=True))
    points = [SeriesPoint(ts, str(i), v) for i, (ts, v) in pairs]
    prepared = prepare_series(points)
    assert prepared.kind == "measure"
    assert prepared.notes == (
        "whole numbers at irregular times (20% of the gaps are not a whole number of intervals,"
        " as a count's are): readings, judged as a measurement; pass --kind counts to judge them"
        " as counts",
    )
    assert prepare_series(points, grid_test=False).kind == "counts"
    assert prepare_series(points, "counts").kind == "counts"
    # The same values on a regular grid are counts: the test reads the times, not the values.
    regular = [SeriesPoint(T0 + i * timedelta(minutes=10), str(i), v) for i, v in enumerate(values)]
    assert prepare_series(regular).kind == "counts"
    assert prepare_series(regular).notes == ()


def test_the_successive_variance_ratio_reads_poisson_noise_as_one_despite_rhythm() -> None:
    rng = np.random.default_rng(8)
    hours = np.arange(288 * 7) / 12.0
    rate = 40.0 * (1.0 + 0.8 * np.sin(2 * np.pi * hours / 24.0))  # a strong daily rhythm
    counts = [float(v) for v in rng.poisson(rate)]
    assert 0.9 < successive_variance_ratio(counts) < 1.3
    overdispersed = [float(v) for v in rng.poisson(rate * rng.gamma(4.0, 0.25, size=rate.size))]
    assert successive_variance_ratio(overdispersed) > 1.3
    steady = [float(round(v)) for v in rng.normal(62.0, 3.0, size=2000)]
    assert successive_variance_ratio(steady) < 0.3
    assert successive_variance_ratio([0.0, 0.0, 0.0]) == math.inf  # all zeros: counts


def test_a_cpu_percentage_is_a_measurement_and_its_spike_alerts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = np.random.default_rng(6)
    values = list(np.clip(rng.normal(2.0, 0.1, size=600), 0, 100))
    values[450:455] = [35.0] * 5
    lines = [f"{stamp(i)},{v:.3f}" for i, v in enumerate(values)]
    rows, err = run_cli(tmp_path, lines, capsys)
    assert "values are not counts (fractions): judged as a measurement" in err
    alerts = [i for i, r in enumerate(rows) if r["alert"] == "1"]
    assert alerts[:1] == [450]  # 35% against 2%: the spike's first window is enough


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
    from earful.analyze.scoring import Scorer
    from earful.ingest.replay import parse_line

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
    from earful.analyze.detectors import DetectorConfig

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
    # The score is calibrated on the default: 0.5 and above exactly where it opens.
    assert all((float(r["anomaly_score"]) >= 0.5) == (r["alert"] == "1") for r in rows)
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


def test_a_year_of_minutes_plots_in_daily_bins(tmp_path: Path) -> None:
    from earful.analyze.backtest import SeriesPoint, SeriesResult
    from earful.analyze.backtest_cli import plot_bins, plot_results

    rng = np.random.default_rng(8)
    n = 365 * 1440
    values = rng.poisson(20, size=n)
    results = [
        SeriesResult(
            point=SeriesPoint(T0 + timedelta(minutes=i), "", float(v)),
            expected=20.0,
            dispersion=0.05,
            anomaly_score=0.0,
            alert=1 if i == 200_000 else 0,
        )
        for i, v in enumerate(values)
    ]
    times = np.array([T0.replace(tzinfo=None) + timedelta(minutes=i) for i in range(n)], "M8[us]")
    binned = plot_bins(times)
    assert binned is not None and binned[0] == 86400 and len(binned[1]) in (365, 366)
    assert plot_bins(times[:500]) is None  # a short series is drawn row by row
    png = tmp_path / "year.png"
    plot_results(results, png, title="a year of minutes")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


SHARED_DATA = Path(__file__).resolve().parents[3] / "shared" / "data"
DEV_SERIES = sorted(
    [
        *(SHARED_DATA / "nab-realtweets-dev").glob("*.csv"),
        *(SHARED_DATA / "nab-other-dev").glob("*.csv"),
    ]
)


@pytest.mark.skipif(len(DEV_SERIES) != 53, reason="the 53 NAB dev series are not all present")
def test_every_nab_dev_series_is_processed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """All 53: a result row per input row, at most one warning line, never an error."""
    for series in DEV_SERIES:
        out = tmp_path / series.name
        assert main(["backtest", str(series), "--output", str(out)]) == 0, series.name
        err = capsys.readouterr().err.splitlines()
        assert len(err) <= 2 and err[-1].endswith("alert(s)"), (series.name, err)
        with series.open() as src, out.open() as res:
            assert sum(1 for _ in src) == sum(1 for _ in res), series.name


@pytest.mark.parametrize("on_terminal", [True, False])
def test_a_long_backtest_shows_progress_on_a_terminal_only(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    on_terminal: bool,
) -> None:
    monkeypatch.setenv("EARFUL_PROGRESS", "1" if on_terminal else "0")
    lines = [stamp(i) + f",{COUNTS[i]}" for i in range(9000)]
    rows, err = run_cli(tmp_path, lines, capsys)
    assert len(rows) == 9000
    assert err.endswith("9000 rows, 0 alert(s)\n")  # the summary line either way
    if on_terminal:
        assert "backtest: " in err and "/ 9,000 windows" in err
    else:
        assert err == "9000 rows, 0 alert(s)\n"


def test_backtest_series_reports_how_many_windows_it_judged() -> None:
    from earful.analyze.backtest import SeriesPoint, backtest_series

    start = datetime(2026, 1, 1, tzinfo=UTC)
    points = [
        SeriesPoint(t, t.isoformat(), float(5 + i % 3))
        for i, t in enumerate(start + timedelta(minutes=i) for i in range(10_000))
    ]
    seen: list[int] = []
    results = backtest_series(points, progress=seen.append)
    assert len(results) == 10_000
    assert seen == [4096, 8192, 10_000]
