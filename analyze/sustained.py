"""The day-scale test: a rise that lasts all day but that no single window shows.

The window detectors judge one window at a time against a baseline whose level
follows drift within hours. A subject that is talked about twice as much as
usual all day long therefore never looks surprising in any one window: the
level catches up by the afternoon. Such a slow burn (a story that builds over
a day rather than a spike) is still news to a comms team.

:class:`SustainedRise` adds the missing scale. It sums the counts of the last
24 hours (hour blocks, slid one hour at a time) and compares the sum with what
a *slow* seasonal baseline expected of those 24 hours (its level forgets over a
week, not hours, so a day-long rise cannot teach it). The comparison is
``z = ln(observed / expected) / spread``, with ``spread`` the usual day-to-day
variation of that log ratio, learned from the subject's own history (winsorised,
so a past rise does not widen it) and starting from a conservative prior.

The test turns *on* once ``z >= open_z`` for ``persistence`` hours in a row,
and *off* once ``z < resolve_z`` for ``resolve_after`` hours: a 24-hour sum
falls back only after the rise is over. While it is on, the slow baseline
learns nothing above its expected value, for at most ``hold_for``, after which
a lasting shift becomes the new normal. Nothing is tested before ``warmup``.

Each detector consults it once per window (:meth:`SustainedRise.add`); the
episode gate treats "on" as a second way to open the same signal.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from scipy.special import log_ndtr

from earful.analyze.baseline import BaselineConfig, SeasonalBaseline

__all__ = ["DayTotals", "SustainedConfig", "SustainedRise"]

_LN10 = math.log(10.0)


@dataclass(frozen=True, slots=True)
class SustainedConfig:
    """The day-scale test's scale, memory and thresholds (Earful's defaults)."""

    #: Counts are summed into blocks of this length ...
    block: timedelta = timedelta(hours=1)
    #: ... and the test reads the sum of the last ``span_blocks`` blocks (a day).
    span_blocks: int = 24
    #: The slow baseline's level half-life: a week, so a day-long rise stands out.
    level_half_life: timedelta = timedelta(days=7)
    #: Spread (sd of ln(observed / expected) of a day's sum) assumed before data:
    #: a subject's day varies by about 20%.
    spread_prior: float = 0.2
    #: The prior is worth this many blocks of evidence (a week of hours).
    spread_prior_blocks: float = 168.0
    spread_half_life: timedelta = timedelta(days=14)
    #: Log ratios are winsorised at this many spreads before the spread learns.
    spread_clip: float = 2.5
    #: No test before the baseline has seen this much time.
    warmup: timedelta = timedelta(days=3)
    #: On when z >= open_z (p < 2.3%, one-sided) for ``persistence`` blocks in a row.
    open_z: float = 2.0
    persistence: int = 2
    #: Off when the day's sum is back at or below its expected value for
    #: ``resolve_after`` blocks in a row.
    resolve_z: float = 0.0
    resolve_after: int = 3
    #: While on, the slow baseline learns nothing above its expected value for at most this long.
    hold_for: timedelta = timedelta(days=1)
    #: A day with fewer mentions than this never turns the test on.
    min_count: float = 20.0


@dataclass(frozen=True, slots=True)
class DayTotals:
    """The last day's sum against its expected value, while the test is on."""

    start: datetime
    end: datetime
    observed: float
    expected: float
    z: float
    surprise: float

    @property
    def ratio(self) -> float:
        return self.observed / self.expected if self.expected > 0 else math.inf

    def score(self, open_z: float) -> float:
        """The anomaly score in [0, 1): 0.5 exactly at ``open_z``, like a window's at its bar."""
        return self.z / (self.z + open_z) if self.z > 0 else 0.0


def _clip_consistency(c: float) -> float:
    """E[min(Z^2, c^2)] for a standard normal Z: the variance share a two-sided clip keeps."""
    tail = math.erfc(c / math.sqrt(2.0))  # P(|Z| > c)
    density = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    return 1.0 - tail - 2.0 * c * density + c * c * tail


@dataclass
class SustainedRise:
    """The day-scale test of one count series."""

    config: SustainedConfig = field(default_factory=SustainedConfig)
    baseline: SeasonalBaseline = field(init=False)
    #: Index (epoch // block) of the block being filled, and its count so far.
    block_index: int | None = None
    block_count: float = 0.0
    #: (observed, expected) of the last span_blocks closed blocks.
    recent: deque[tuple[float, float]] = field(init=False)
    spread_num: float = 0.0
    spread_weight: float = 0.0
    hot: int = 0
    calm: int = 0
    is_on: bool = False
    on_since: float = 0.0
    totals: DayTotals | None = None

    def __post_init__(self) -> None:
        cfg = self.config
        self.baseline = SeasonalBaseline(BaselineConfig(level_half_life=cfg.level_half_life))
        self.recent = deque(maxlen=cfg.span_blocks)

    def spread(self) -> float:
        cfg = self.config
        prior = cfg.spread_prior**2 * cfg.spread_prior_blocks
        return math.sqrt((self.spread_num + prior) / (self.spread_weight + cfg.spread_prior_blocks))

    def add(self, start: datetime, observed: float) -> DayTotals | None:
        """Count one window (by its start); the day's totals while the test is on, else None."""
        index = int(start.timestamp() // self.config.block.total_seconds())
        if self.block_index is None:
            self.block_index = index
        if index != self.block_index:
            if index > self.block_index + 1:
                # A gap (a restart that lost time): the day's sum is no longer
                # contiguous, so it starts again rather than guess.
                self.recent.clear()
            self._close_block()
            self.block_index, self.block_count = index, 0.0
        self.block_count += observed
        return self.totals if self.is_on else None

    def _close_block(self) -> None:
        cfg = self.config
        assert self.block_index is not None
        size = cfg.block.total_seconds()
        start = datetime.fromtimestamp(self.block_index * size, UTC)
        end = start + cfg.block
        holding = self.is_on and end.timestamp() - self.on_since < cfg.hold_for.total_seconds()
        expected = self.baseline.update(start, end, self.block_count, hold=holding).mean
        self.recent.append((self.block_count, expected))
        if self.baseline.age_s < cfg.warmup.total_seconds() or len(self.recent) < cfg.span_blocks:
            return
        day_observed = sum(o for o, _ in self.recent)
        day_expected = sum(e for _, e in self.recent)
        # +1 keeps a quiet subject's ratio finite; its spread is learned with it.
        log_ratio = math.log((day_observed + 1.0) / (day_expected + 1.0))
        spread = self.spread()
        z = log_ratio / spread
        surprise = -float(log_ndtr(-z)) / _LN10
        if not self.is_on:
            # The spread learns from ordinary days only, winsorised and
            # corrected for the clip, so a past rise does not widen it.
            clipped = max(-cfg.spread_clip, min(cfg.spread_clip, z)) * spread
            keep = 0.5 ** (size / cfg.spread_half_life.total_seconds())
            self.spread_num = keep * self.spread_num + clipped * clipped / _clip_consistency(
                cfg.spread_clip
            )
            self.spread_weight = keep * self.spread_weight + 1.0
        self.totals = DayTotals(
            start=end - cfg.span_blocks * cfg.block,
            end=end,
            observed=day_observed,
            expected=day_expected,
            z=z,
            surprise=surprise,
        )
        if not self.is_on:
            self.hot = self.hot + 1 if z >= cfg.open_z and day_observed >= cfg.min_count else 0
            if self.hot >= cfg.persistence:
                self.is_on, self.calm, self.on_since = True, 0, end.timestamp()
        else:
            self.calm = self.calm + 1 if z < cfg.resolve_z else 0
            if self.calm >= cfg.resolve_after:
                self.is_on, self.hot = False, 0

    # -- persistence --------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.snapshot(),
            "block": [self.block_index, self.block_count],
            "recent": [list(pair) for pair in self.recent],
            "spread": [self.spread_num, self.spread_weight],
            "state": [self.hot, self.calm, self.is_on, self.on_since],
            "totals": None
            if self.totals is None
            else [
                self.totals.start.isoformat(),
                self.totals.end.isoformat(),
                self.totals.observed,
                self.totals.expected,
                self.totals.z,
                self.totals.surprise,
            ],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], config: SustainedConfig) -> SustainedRise:
        out = cls(config)
        out.baseline = SeasonalBaseline.restore(
            state["baseline"], BaselineConfig(level_half_life=config.level_half_life)
        )
        index, count = state["block"]
        out.block_index = None if index is None else int(index)
        out.block_count = float(count)
        out.recent.extend((float(o), float(e)) for o, e in state["recent"])
        out.spread_num, out.spread_weight = (float(v) for v in state["spread"])
        hot, calm, is_on, on_since = state["state"]
        out.hot, out.calm = int(hot), int(calm)
        out.is_on, out.on_since = bool(is_on), float(on_since)
        totals = state.get("totals")
        if totals is not None:
            out.totals = DayTotals(
                start=datetime.fromisoformat(totals[0]),
                end=datetime.fromisoformat(totals[1]),
                observed=float(totals[2]),
                expected=float(totals[3]),
                z=float(totals[4]),
                surprise=float(totals[5]),
            )
        return out
