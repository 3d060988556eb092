"""Backtests: the streaming detectors over a count CSV, or over recorded scored mentions.

``backtest_series`` runs the default :class:`~earful.analyze.detectors.VolumeSpikeDetector`
(the very object the streaming worker uses, default configuration) over a
regularly spaced ``timestamp,value`` series. Each row is one window whose
width is the series' median interval. The ``alert`` column is 1 on the row
where a signal opens: that is the moment Earful would page someone; while the
signal stays open nothing new is sent until it resolves.

``replay_mentions`` runs scored mentions through the window aggregator and all
three detectors, exactly as ``earful detect`` does, and returns the signals.
"""

from __future__ import annotations

import csv
import itertools
import math
import statistics
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Literal

from earful.analyze.detectors import BELOW_OPEN as _BELOW_OPEN
from earful.analyze.detectors import MeasureDetector, VolumeSpikeDetector, backtest_counts_config
from earful.analyze.windows import ClosedWindow, WindowAggregator, WindowConfig
from earful.console import InputError
from earful.events import ScoredMention, Signal

__all__ = [
    "PreparedSeries",
    "SeriesKind",
    "SeriesPoint",
    "SeriesResult",
    "backtest_series",
    "infer_interval",
    "off_grid_share",
    "prepare_series",
    "read_series",
    "replay_mentions",
    "steadier_than_counts",
    "successive_variance_ratio",
    "write_results",
]


@dataclass(frozen=True, slots=True)
class SeriesPoint:
    timestamp: datetime
    raw_timestamp: str
    value: float


@dataclass(frozen=True, slots=True)
class SeriesResult:
    point: SeriesPoint
    expected: float
    dispersion: float
    anomaly_score: float
    alert: int


SeriesKind = Literal["counts", "measure"]


@dataclass(frozen=True, slots=True)
class PreparedSeries:
    """A series as the detector reads it: one window per distinct timestamp, in time order.

    ``row_window[i]`` is the window of input row ``i``, so results go back out
    one per input row, in the input's order (the NAB scorer and a user's join
    both expect that).
    """

    times: tuple[datetime, ...]
    values: tuple[float, ...]
    row_window: tuple[int, ...]
    interval: timedelta
    kind: SeriesKind
    #: What was done to the input, one phrase each (empty when nothing was).
    notes: tuple[str, ...]

    def warning(self) -> str | None:
        """One line saying what was done to the input, or None."""
        return "; ".join(self.notes) if self.notes else None


def _parse_time(raw: str, line: int) -> datetime:
    text = raw.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except (ValueError, OverflowError, OSError) as exc:
        raise InputError(f"line {line}: cannot read timestamp {raw!r}") from exc
    # A series without a zone is read as UTC (as NAB's are).
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def read_series(stream: IO[str]) -> list[SeriesPoint]:
    """Read ``timestamp,value`` rows (header required), in file order; InputError on bad input."""
    reader = csv.reader(stream)
    header = [h.strip().lower() for h in next(reader, [])]
    if "timestamp" not in header or "value" not in header:
        raise InputError(f"expected a header with 'timestamp' and 'value', got {header}")
    t_col, v_col = header.index("timestamp"), header.index("value")
    points: list[SeriesPoint] = []
    for line, row in enumerate(reader, start=2):
        if not row or not any(cell.strip() for cell in row):
            continue
        try:
            value = float(row[v_col])
        except (ValueError, IndexError) as exc:
            raise InputError(f"line {line}: cannot read value in {row}") from exc
        if not math.isfinite(value):
            raise InputError(
                f"line {line}: the value must be a finite number, got {row[v_col].strip()!r}"
                " (drop the row or fill it in)"
            )
        points.append(SeriesPoint(_parse_time(row[t_col], line), row[t_col], value))
    return points


def infer_interval(times: Sequence[datetime]) -> timedelta:
    """The series' spacing: the median gap between consecutive distinct, sorted timestamps."""
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    if not gaps or any(g <= 0 for g in gaps):
        raise InputError("timestamps must be distinct and sorted (use prepare_series)")
    return timedelta(seconds=statistics.median(gaps))


def _span(span: timedelta) -> str:
    """A duration as a person writes it: 45 min, 7.5 h, 3.5 days."""
    seconds = span.total_seconds()
    if seconds >= 86400:
        return f"{seconds / 86400:.3g} days"
    if seconds >= 3600:
        return f"{seconds / 3600:.3g} h"
    if seconds >= 60:
        return f"{seconds / 60:.3g} min"
    return f"{seconds:.3g} s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def successive_variance_ratio(values: Sequence[float]) -> float:
    """Half the mean squared successive difference over the mean (von Neumann's estimator).

    Half the mean squared difference between neighbouring windows estimates the
    noise variance while ignoring slow trends and daily rhythm. Counts of
    independent events vary at least as much as Poisson counts do (variance at
    least the mean), so a ratio clearly below 1 says the values are not such
    counts (:func:`steadier_than_counts`).
    """
    if len(values) < 2:
        return math.inf
    mean = math.fsum(values) / len(values)
    if mean <= 0:
        return math.inf
    msd = math.fsum((b - a) ** 2 for a, b in itertools.pairwise(values)) / (len(values) - 1)
    return msd / 2.0 / mean


def steadier_than_counts(values: Sequence[float]) -> bool:
    """True when the values vary less than counts can: the ratio three standard errors below 1.

    For independent Poisson counts the ratio's standard error is about
    ``sqrt(3 / n)`` (the squared differences have variance ``8 mu^2`` and
    neighbouring ones share a count, covariance ``2 mu^2``), so a short series
    of counts is not judged steadier than counts by chance.
    """
    n = len(values)
    return n > 1 and successive_variance_ratio(values) < 1.0 - 3.0 * math.sqrt(3.0 / n)


#: How far from a whole multiple of the interval a gap may be and still be on the grid
#: (clock jitter: 3 s of a one-minute interval).
_GRID_TOLERANCE = 0.05
#: The share of gaps off the grid above which rows are readings taken at their own times.
_OFF_GRID_READINGS = 0.01


def off_grid_share(times: Sequence[datetime]) -> float:
    """The share of gaps between distinct sorted ``times`` that are not a whole number of intervals.

    A count is a tally over a fixed window, so a series of counts has its rows
    on a grid of the window's width: every gap is one window, or a few when
    windows are missing. Rows that come at their own times (14, then 10, then
    15 minutes apart) are readings of a quantity at the moment they were
    taken, whatever their values look like.
    """
    if len(times) < 3:
        return 0.0
    interval = infer_interval(times).total_seconds()
    gaps = [(b - a).total_seconds() / interval for a, b in itertools.pairwise(times)]
    off = sum(1 for g in gaps if abs(g - round(g)) > _GRID_TOLERANCE)
    return off / len(gaps)


def prepare_series(
    points: Sequence[SeriesPoint],
    kind: SeriesKind | None = None,
    *,
    poisson_test: bool = True,
    grid_test: bool = True,
) -> PreparedSeries:
    """Sort, merge duplicate timestamps and classify the series; say what was done.

    ``kind`` None decides from the values: non-negative whole numbers are
    counts (the volume detector's negative binomial); anything else (fractions,
    negative values: a rate, a percentage, a latency, a difference) is a
    measurement, judged for rises and drops alike. With ``poisson_test``, whole
    numbers that vary less from window to window than Poisson counts can (a
    speed, a temperature in whole degrees: :func:`steadier_than_counts`) are a
    measurement too. Duplicate timestamps are summed for counts
    (two partial counts of one interval) and averaged for a measurement (two
    readings of one moment). With ``grid_test``, whole numbers whose rows
    are not on a regular grid (more than 1% of the gaps are not a whole
    number of intervals: :func:`off_grid_share`) are readings taken at their
    own times, not tallies over windows: a measurement as well.
    """
    if len({p.timestamp for p in points}) < 2:
        raise InputError("a series needs at least two rows with different timestamps")
    notes: list[str] = []
    if kind is None:
        whole = all(p.value >= 0 and p.value.is_integer() for p in points)
        kind = "counts" if whole else "measure"
        if whole and poisson_test:
            ordered = [p.value for p in sorted(points, key=lambda p: p.timestamp)]
            if steadier_than_counts(ordered):
                ratio = successive_variance_ratio(ordered)
                kind = "measure"
                notes.append(
                    f"whole numbers steadier than counts (window-to-window variance {ratio:.2g}"
                    " of the mean, a count's is at least 1): judged as a measurement;"
                    " pass --kind counts to judge them as counts"
                )
        if kind == "counts" and grid_test:
            off_grid = off_grid_share(sorted({p.timestamp for p in points}))
            if off_grid > _OFF_GRID_READINGS:
                kind = "measure"
                notes.append(
                    f"whole numbers at irregular times ({off_grid:.0%} of the gaps are not a whole"
                    " number of intervals, as a count's are): readings, judged as a measurement;"
                    " pass --kind counts to judge them as counts"
                )
        if not whole:
            why = []
            if any(p.value < 0 for p in points):
                why.append("negative values")
            if any(not p.value.is_integer() for p in points):
                why.append("fractions")
            notes.append(
                f"values are not counts ({' and '.join(why)}): judged as a measurement,"
                " rises and drops alike"
            )
    elif kind == "counts" and any(p.value < 0 for p in points):
        raise InputError("a count cannot be negative: pass --kind measure for this series")
    order = sorted(range(len(points)), key=lambda i: points[i].timestamp)
    out_of_order = sum(1 for a, b in itertools.pairwise(points) if b.timestamp < a.timestamp)
    if out_of_order:
        notes.append(f"rows sorted by time ({_plural(out_of_order, 'row')} out of order)")
    times: list[datetime] = []
    sums: list[float] = []
    counts: list[int] = []
    row_window = [0] * len(points)
    for i in order:
        ts = points[i].timestamp
        if not times or times[-1] != ts:
            times.append(ts)
            sums.append(0.0)
            counts.append(0)
        sums[-1] += points[i].value
        counts[-1] += 1
        row_window[i] = len(times) - 1
    duplicates = len(points) - len(times)
    if duplicates:
        how = "summed" if kind == "counts" else "averaged"
        notes.append(f"{_plural(duplicates, 'duplicate timestamp')} {how} into one window")
    values = sums if kind == "counts" else [s / c for s, c in zip(sums, counts, strict=True)]
    interval = infer_interval(times)
    gaps = [b - a for a, b in itertools.pairwise(times) if b - a > 1.5 * interval]
    if gaps:
        notes.append(
            f"{_plural(len(gaps), 'gap')} in the series (longest {_span(max(gaps) - interval)}"
            " missing): the baseline forgets over a gap, no rows are invented"
        )
    return PreparedSeries(
        times=tuple(times),
        values=tuple(values),
        row_window=tuple(row_window),
        interval=interval,
        kind=kind,
        notes=tuple(notes),
    )


def backtest_series(
    points: Sequence[SeriesPoint],
    detector: VolumeSpikeDetector | MeasureDetector | None = None,
    *,
    prepared: PreparedSeries | None = None,
    progress: Callable[[int], None] | None = None,
) -> list[SeriesResult]:
    """Run the default detector for the series' kind over it; one result per input row.

    ``progress``, if given, is told how many windows were judged, every few
    thousand and at the end.

    Counts go through the streaming worker's :class:`VolumeSpikeDetector`
    (its defaults, judging drops too), measurements through
    :class:`MeasureDetector`. Rows that share a timestamp
    share their window's result; only the first of them carries its alert.
    """
    series = prepared or prepare_series(points)
    if detector is None:
        detector = (
            VolumeSpikeDetector(backtest_counts_config())
            if series.kind == "counts"
            else MeasureDetector()
        )
    step = detector.counts.step if isinstance(detector, VolumeSpikeDetector) else detector.step
    interval = series.interval
    if progress is None:
        judged = [
            step(t, t + interval, v) for t, v in zip(series.times, series.values, strict=True)
        ]
    else:
        judged = []
        for t, v in zip(series.times, series.values, strict=True):
            judged.append(step(t, t + interval, v))
            if len(judged) % 4096 == 0:
                progress(len(judged))
        progress(len(judged))
    seen: set[int] = set()
    out: list[SeriesResult] = []
    for point, w in zip(points, series.row_window, strict=True):
        a = judged[w]
        first = w not in seen
        seen.add(w)
        alert = 1 if a.transition == "open" and first else 0
        # A repeated row of an alerting window repeats its result, not its page.
        score = a.score if first else min(a.score, _BELOW_OPEN)
        out.append(
            SeriesResult(
                point=point,
                expected=a.expected,
                dispersion=a.dispersion,
                anomaly_score=score,
                alert=alert,
            )
        )
    return out


def write_results(results: Iterable[SeriesResult], stream: IO[str]) -> None:
    writer = csv.writer(stream, lineterminator="\n")
    writer.writerow(["timestamp", "value", "expected", "anomaly_score", "alert"])
    for r in results:
        value = r.point.value
        writer.writerow(
            [
                r.point.raw_timestamp,
                int(value) if value.is_integer() else value,
                f"{r.expected:.4f}",
                f"{r.anomaly_score:.6f}",
                r.alert,
            ]
        )


def iter_scored(path: Path) -> Iterator[tuple[int, ScoredMention | None, str | None]]:
    """(line, record, error) for every non-blank line of a ScoredMention JSONL file."""
    from pydantic import ValidationError

    with path.open(encoding="utf-8") as fh:
        for line_no, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                yield line_no, ScoredMention.model_validate_json(line), None
            except ValidationError as exc:
                yield line_no, None, str(exc.errors()[0]["msg"])


def replay_mentions(
    mentions: Iterable[ScoredMention], window_config: WindowConfig | None = None
) -> list[Signal]:
    """Scored mentions through windows and every detector, in file order; the signals raised."""
    from earful.analyze.detect_worker import SubjectDetectors

    aggregator = WindowAggregator(window_config)
    detectors: dict[str, SubjectDetectors] = {}
    signals: list[Signal] = []

    def on_windows(windows: Iterable[ClosedWindow]) -> None:
        for window in windows:
            subject = window.stats.subject
            if subject not in detectors:
                detectors[subject] = SubjectDetectors()
            signals.extend(detectors[subject].on_window(window))

    for scored in mentions:
        on_windows(aggregator.add(scored))
    on_windows(aggregator.flush())
    return signals
