"""``earful backtest``: the default detectors over a count CSV or recorded scored mentions."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from earful.analyze.backtest import (
    SeriesResult,
    backtest_series,
    iter_scored,
    prepare_series,
    read_series,
    replay_mentions,
    write_results,
)
from earful.console import InputError, PathError, Progress, interrupt_summary
from earful.errors import ConfigError
from earful.events import ScoredMention, Signal

__all__ = ["cmd_backtest", "plot_results", "register"]


def register(groups: dict[str, Any]) -> None:
    p = groups["root"].add_parser(
        "backtest",
        help="run the default detectors over a count CSV or a scored-mentions JSONL file",
        description=(
            "INPUT.csv (timestamp,value) through the default detector for its kind (counts: the "
            "volume detector; fractions, negatives, or whole numbers steadier than counts or at "
            "irregular times: the measurement detector); unsorted rows, "
            "duplicate timestamps and gaps are handled with one warning. Writes "
            "timestamp,value,expected,anomaly_score,alert. --mentions FILE.jsonl: "
            "scored mentions through windows and every detector; lists the signals."
        ),
    )
    p.add_argument("input", nargs="?", type=Path, help="series CSV (timestamp,value)")
    p.add_argument("--output", type=Path, help="result CSV (default: standard output)")
    p.add_argument("--plot", type=Path, help="also draw series, expected band and alerts (PNG)")
    p.add_argument("--mentions", type=Path, help="ScoredMention JSON lines to replay instead")
    p.add_argument(
        "--kind",
        choices=("auto", "counts", "measure"),
        default="auto",
        help=(
            "counts (non-negative, per interval: the volume detector) or measure (a percentage, "
            "latency, rate, speed: rises and drops); auto decides from the values and their "
            "times (default)"
        ),
    )
    p.set_defaults(func=cmd_backtest)


def cmd_backtest(args: argparse.Namespace) -> int:
    if args.mentions is not None:
        if args.input is not None:
            raise ConfigError("give either INPUT.csv or --mentions, not both")
        return _backtest_mentions(args.mentions)
    if args.input is None:
        raise ConfigError("give INPUT.csv or --mentions FILE.jsonl")
    try:
        with args.input.open(encoding="utf-8", newline="") as fh:
            points = read_series(fh)
    except FileNotFoundError as exc:
        raise PathError(f"{args.input} does not exist") from exc
    except UnicodeDecodeError as exc:
        raise InputError(f"{args.input} is not UTF-8 text") from exc
    kind = None if args.kind == "auto" else args.kind
    prepared = prepare_series(points, kind)
    warning = prepared.warning()
    if warning is not None:
        print(f"warning: {args.input.name}: {warning}", file=sys.stderr)
    windows = len(prepared.times)
    with (
        Progress("backtest", total=windows, unit="windows") as bar,
        interrupt_summary(lambda: f"{bar.done:,} of {windows:,} windows judged; nothing written"),
    ):
        results = backtest_series(points, prepared=prepared, progress=bar.update)
    if args.output is None:
        write_results(results, sys.stdout)
    else:
        with args.output.open("w", encoding="utf-8", newline="") as fh:
            write_results(results, fh)
    if args.plot is not None:
        plot_results(results, args.plot, title=args.input.name)
    alerts = sum(r.alert for r in results)
    print(f"{len(results)} rows, {alerts} alert(s)", file=sys.stderr)
    return 0


def _backtest_mentions(path: Path) -> int:
    if not path.exists():
        raise PathError(f"{path} does not exist")
    good: list[ScoredMention] = []
    for line, record, error in iter_scored(path):
        if record is None:
            print(f"{path}:{line}: skipped: {error}", file=sys.stderr)
        else:
            good.append(record)
    signals = replay_mentions(good)
    for signal in signals:
        print(_describe(signal))
    print(f"{len(good)} mentions, {len(signals)} signal record(s)", file=sys.stderr)
    return 0


def _describe(signal: Signal) -> str:
    ev = signal.evidence
    lines = [
        f"{signal.window_end:%Y-%m-%d %H:%M}Z {signal.state:8} {signal.severity:8} "
        f"{signal.subject} {signal.kind}: observed {signal.observed:.3g} vs expected "
        f"{signal.expected:.3g} (score {signal.score:.2f}, since {signal.window_start:%H:%M}Z)"
    ]

    def terms(label: str, items: Sequence[Any]) -> None:
        if items:
            lines.append(f"    {label}: " + ", ".join(f"{t.term} ({t.count})" for t in items))

    terms("symptoms", ev.top_symptoms)
    terms("places", ev.top_places)
    terms("platforms", ev.top_platforms)
    terms("terms", ev.top_terms)
    for sample in ev.samples[:3]:
        text = " ".join(sample.text.split())[:120]
        lines.append(f"    - [{sample.source}] {sample.id}: {text}")
    return "\n".join(lines)


#: Above this many rows the plot draws bins (min, mean and max of each) instead of every row.
PLOT_BINS = 500
_BIN_NAMES = {3600: "hourly", 6 * 3600: "6-hourly", 86400: "daily", 7 * 86400: "weekly"}
_BIN_SECONDS = tuple(_BIN_NAMES)


def plot_bins(times: Any) -> tuple[int, Any] | None:
    """(bin seconds, first row of each bin) for a long series, None to draw every row.

    Calendar bins (an hour, six hours, a day, a week: the finest giving at
    most :data:`PLOT_BINS`), so a daily rhythm does not alias into stripes.
    """
    import numpy as np

    span_s = float((times[-1] - times[0]) / np.timedelta64(1, "s"))
    if len(times) <= PLOT_BINS or span_s <= 0:
        return None
    bin_s = next((b for b in _BIN_SECONDS if span_s / b <= PLOT_BINS), _BIN_SECONDS[-1])
    since = (times - times[0]) / np.timedelta64(1, "s")
    index = np.floor(since / bin_s).astype(int)
    return bin_s, np.flatnonzero(np.r_[True, np.diff(index) != 0])


def plot_results(results: Sequence[SeriesResult], path: Path, *, title: str = "") -> None:
    """Series, the expected value with its band (99.9% upper quantile), and the alerts.

    A long series (a year of minutes is half a million rows) is drawn in
    calendar bins (hours, days or weeks, the finest giving at most
    :data:`PLOT_BINS`): each bin's range of values as a shaded band,
    its mean as a line, the expected value's bin mean and the band's bin
    maximum, so the picture stays readable instead of a black block. Alerts
    are always drawn one by one.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np
    from scipy.stats import nbinom

    # numpy has no zones: plot naive UTC.
    naive = [r.point.timestamp.replace(tzinfo=None) for r in results]
    times = np.array(naive, dtype="datetime64[us]")
    values = np.array([r.point.value for r in results])
    mean = np.array([r.expected for r in results])
    spread = np.array([r.dispersion for r in results])
    counts = bool(np.all(values >= 0) and np.all(np.mod(values, 1) == 0))
    if counts:
        size = 1.0 / np.maximum(spread, 1e-9)
        upper = nbinom.ppf(0.999, size, size / (size + mean))
        lower = np.zeros_like(mean)
    else:
        # A measurement's expected column is a mean and its spread a scale (sd):
        # the two-sided 99.9% normal band.
        reach = 3.2905 * spread
        upper, lower = mean + reach, mean - reach
    alert = np.array([r.alert == 1 for r in results], dtype=bool)
    fig, ax = plt.subplots(figsize=(14, 4.5), dpi=100)
    binned = plot_bins(times)
    if binned is not None:
        bin_s, starts = binned
        edges = np.r_[starts, len(results)]
        mid = times[np.minimum((edges[:-1] + edges[1:]) // 2, len(times) - 1)]
        lo = np.minimum.reduceat(values, starts)
        hi = np.maximum.reduceat(values, starts)
        avg = np.add.reduceat(values, starts) / np.diff(edges)
        exp_avg = np.add.reduceat(mean, starts) / np.diff(edges)
        band_hi = np.maximum.reduceat(upper, starts)
        band_lo = np.minimum.reduceat(lower, starts)
        unit = _BIN_NAMES[bin_s]
        ax.fill_between(
            mid, lo, hi, color="#999999", alpha=0.5, lw=0, label=f"observed, {unit} range"
        )
        ax.plot(mid, avg, lw=0.6, color="#333333", label=f"observed, {unit} mean")
        ax.plot(mid, exp_avg, lw=0.9, color="#1f77b4", label="expected")
        ax.fill_between(mid, band_lo, band_hi, color="#1f77b4", alpha=0.12, label="99.9% band")
    else:
        ax.plot(times, values, lw=0.6, color="#333333", label="observed")
        ax.plot(times, mean, lw=0.9, color="#1f77b4", label="expected")
        ax.fill_between(times, lower, upper, color="#1f77b4", alpha=0.15, label="99.9% band")
    ax.scatter(times[alert], values[alert], color="#d62728", zorder=3, s=24, label="alert")
    if counts:
        ax.set_yscale("symlog", linthresh=10)
    ax.set_title(title)
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
