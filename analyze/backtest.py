"""Backtests: the streaming detectors over a count CSV, or over recorded scored mentions.

``backtest_series`` runs the default :class:`~analyze.detectors.VolumeSpikeDetector`
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
import statistics
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

from analyze.detectors import VolumeSpikeDetector
from analyze.windows import ClosedWindow, WindowAggregator, WindowConfig
from earful.errors import ConfigError
from earful.events import ScoredMention, Signal

__all__ = [
    "SeriesPoint",
    "SeriesResult",
    "backtest_series",
    "infer_interval",
    "read_series",
    "replay_mentions",
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


def _parse_time(raw: str, line: int) -> datetime:
    text = raw.strip()
    try:
        if text.replace(".", "", 1).isdigit():
            return datetime.fromtimestamp(float(text), UTC)
        ts = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise ConfigError(f"line {line}: cannot read timestamp {raw!r}") from exc
    # A series without a zone is read as UTC (as NAB's are).
    return ts.replace(tzinfo=UTC) if ts.tzinfo is None else ts.astimezone(UTC)


def read_series(stream: IO[str]) -> list[SeriesPoint]:
    """Read ``timestamp,value`` rows (header required); raise ConfigError on bad input."""
    reader = csv.reader(stream)
    header = [h.strip().lower() for h in next(reader, [])]
    if "timestamp" not in header or "value" not in header:
        raise ConfigError(f"expected a header with 'timestamp' and 'value', got {header}")
    t_col, v_col = header.index("timestamp"), header.index("value")
    points: list[SeriesPoint] = []
    for line, row in enumerate(reader, start=2):
        if not row:
            continue
        try:
            value = float(row[v_col])
        except (ValueError, IndexError) as exc:
            raise ConfigError(f"line {line}: cannot read value in {row}") from exc
        if value < 0 or value != value:
            raise ConfigError(f"line {line}: a count must be a non-negative number, got {value}")
        points.append(SeriesPoint(_parse_time(row[t_col], line), row[t_col], value))
    if len(points) < 2:
        raise ConfigError("a series needs at least two rows")
    return points


def infer_interval(points: Sequence[SeriesPoint]) -> timedelta:
    """The series' spacing: the median gap between consecutive timestamps."""
    gaps = [(b.timestamp - a.timestamp).total_seconds() for a, b in itertools.pairwise(points)]
    if any(g <= 0 for g in gaps):
        raise ConfigError("timestamps must be strictly increasing")
    return timedelta(seconds=statistics.median(gaps))


def backtest_series(
    points: Sequence[SeriesPoint], detector: VolumeSpikeDetector | None = None
) -> list[SeriesResult]:
    """Run the volume detector (default configuration unless given) over the series."""
    detector = detector or VolumeSpikeDetector()
    interval = infer_interval(points)
    step = detector.counts.step
    out: list[SeriesResult] = []
    for point in points:
        a = step(point.timestamp, point.timestamp + interval, point.value)
        out.append(
            SeriesResult(
                point=point,
                expected=a.expected,
                dispersion=a.dispersion,
                anomaly_score=a.score,
                alert=1 if a.transition == "open" else 0,
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
    from analyze.detect_worker import SubjectDetectors

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
