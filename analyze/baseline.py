"""The seasonal, count-aware baseline every detector compares a window with.

The expected count of a window is ``level x time_of_day x day_of_week``
(multiplicative Holt-Winters), and its spread is a negative binomial:
``variance = mean + dispersion x mean^2``. Everything is learned online, one
window at a time, with exponential forgetting measured in *time* (half-lives),
so the same configuration serves 1-minute windows and 5-minute series:

* **level**: an EWMA of the de-seasonalised counts (half-life 8 hours), so
  the baseline follows drift while a surge lasting an hour or two still stands out;
* **time of day**: one factor per hour, read with linear interpolation between
  hour centres so the profile is smooth; each factor forgets with a half-life
  of days, like Downdetector's "same time of day" baseline;
* **day of week**: one factor per weekday, forgetting over weeks;
* **dispersion**: the moment estimator ``sum((x - mu)^2 - mu) / sum(mu^2)``,
  shrunk towards a conservative prior worth ``prior_windows`` windows, so a
  young baseline demands more evidence (the cold-start rule);
* **robust updates**: a count above the baseline's upper band is clipped to
  the band before it updates anything, so one burst does not teach the
  baseline that bursts are normal, while a lasting level shift still wins
  over a few hours.

Every EWMA is "debiased" (sum of weighted values over sum of weights) so the
first windows give plain means instead of values dragged towards zero.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import Any

__all__ = [
    "BaselineConfig",
    "Expectation",
    "LevelBaseline",
    "LevelConfig",
    "SeasonalBaseline",
    "ShareBaseline",
]

_HOURS = 24
_DAYS = 7


@dataclass(frozen=True, slots=True)
class BaselineConfig:
    """How fast each part of the baseline learns and forgets."""

    level_half_life: timedelta = timedelta(hours=8)
    time_of_day_half_life: timedelta = timedelta(days=7)
    day_of_week_half_life: timedelta = timedelta(days=28)
    dispersion_half_life: timedelta = timedelta(days=2)
    #: Negative-binomial dispersion assumed before the data says otherwise
    #: (0.5: a standard deviation of ~70% of the mean at high volume).
    dispersion_prior: float = 0.5
    #: How many windows of evidence the prior is worth.
    prior_windows: float = 30.0
    dispersion_floor: float = 0.01
    #: Pseudo-windows of "no seasonal effect" each seasonal factor starts with.
    season_prior_windows: float = 6.0
    #: The seasonal profile is only used once the baseline has seen this much time.
    season_warmup: timedelta = timedelta(days=1)
    #: Level and season learn from counts clipped to mean + clip_sigma standard deviations.
    clip_sigma: float = 3.0
    #: The dispersion learns from residuals winsorised at this many standard
    #: deviations above the mean, corrected for the clipping (Huber's proposal 2,
    #: whose usual constant is 1.5). The burst under test and the surge being
    #: reported then barely widen the spread that judges them.
    dispersion_clip_sigma: float = 1.5
    #: The expected count never goes below this (a silent subject still has a tail).
    min_expected: float = 0.05


@dataclass(frozen=True, slots=True)
class Expectation:
    """What the baseline expects of one window."""

    mean: float
    dispersion: float

    @property
    def std(self) -> float:
        return math.sqrt(self.mean + self.dispersion * self.mean * self.mean)


def _decay(dt_s: float, half_life: timedelta) -> float:
    """Weight kept by old evidence after ``dt_s`` seconds."""
    return float(0.5 ** (dt_s / half_life.total_seconds()))


@cache
def _winsorised_moment(c: float) -> float:
    """E[min(Z, c)^2] for a standard normal Z: the variance share an upper clip at c keeps."""
    tail = 0.5 * math.erfc(c / math.sqrt(2.0))
    density = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    return 1.0 - tail - c * density + c * c * tail


def _hour_weights(ts: datetime) -> tuple[int, int, float]:
    """The two hour bins around ``ts`` (bin centres at hh:30) and the weight of the second."""
    pos = ts.hour + ts.minute / 60.0 + ts.second / 3600.0 - 0.5
    lo = math.floor(pos)
    frac = pos - lo
    return lo % _HOURS, (lo + 1) % _HOURS, frac


def _read_hours(factor: Callable[[int], float], ts: datetime) -> float:
    """An hour-of-day profile at ``ts``: linear between the two hour centres around it."""
    lo, hi, frac = _hour_weights(ts)
    return (1.0 - frac) * factor(lo) + frac * factor(hi)


def _learn_hours(
    sums: list[float], weights: list[float], ts: datetime, value: float, keep: float
) -> None:
    """Teach an hour-of-day profile ``value`` at ``ts``, shared by the two hours around it.

    ``keep`` is the weight old evidence keeps over the window; each hour
    forgets in proportion to its share of the window.
    """
    lo, hi, frac = _hour_weights(ts)
    for b, w in ((lo, 1.0 - frac), (hi, frac)):
        if w > 0.0:
            k = keep**w
            sums[b] = k * sums[b] + w * value
            weights[b] = k * weights[b] + w


def _elapsed(start: datetime, end: datetime, last_end: datetime | None) -> float:
    """Seconds a window moves the clock: its width, or more after a gap (which forgets more)."""
    dt = (end - start).total_seconds()
    return dt if last_end is None else max(dt, (end - last_end).total_seconds())


@dataclass
class SeasonalBaseline:
    """Online baseline of one count series (one subject, one measure)."""

    config: BaselineConfig = field(default_factory=BaselineConfig)
    windows: int = 0
    last_end: datetime | None = None
    level_sum: float = 0.0
    level_weight: float = 0.0
    tod_sum: list[float] = field(default_factory=lambda: [0.0] * _HOURS)
    tod_weight: list[float] = field(default_factory=lambda: [0.0] * _HOURS)
    dow_sum: list[float] = field(default_factory=lambda: [0.0] * _DAYS)
    dow_weight: list[float] = field(default_factory=lambda: [0.0] * _DAYS)
    disp_num: float = 0.0
    disp_den: float = 0.0
    disp_weight: float = 0.0
    #: Event time covered so far (the seasonal profile's cold start).
    age_s: float = 0.0
    #: The weekly level the weekday factors are measured against.
    slow_sum: float = 0.0
    slow_weight: float = 0.0

    # -- reading ------------------------------------------------------------------

    def _tod(self, bin_: int) -> float:
        prior = self.config.season_prior_windows
        return (self.tod_sum[bin_] + prior) / (self.tod_weight[bin_] + prior)

    def _dow(self, day: int) -> float:
        prior = self.config.season_prior_windows
        return (self.dow_sum[day] + prior) / (self.dow_weight[day] + prior)

    def _season(self, start: datetime) -> float:
        if self.age_s < self.config.season_warmup.total_seconds():
            # A profile learned from less than a full day cannot tell the hour
            # from the level (or from today's incident): not used yet.
            return 1.0
        return _read_hours(self._tod, start) * self._dow(start.weekday())

    @property
    def level(self) -> float:
        return self.level_sum / self.level_weight if self.level_weight > 0 else 0.0

    def dispersion(self) -> float:
        cfg = self.config
        if self.disp_weight > 0 and self.disp_den > 0:
            # The prior counts as prior_windows windows of an average size.
            prior_den = cfg.prior_windows * self.disp_den / self.disp_weight
            est = (self.disp_num + cfg.dispersion_prior * prior_den) / (self.disp_den + prior_den)
        else:
            est = cfg.dispersion_prior
        return max(cfg.dispersion_floor, est)

    def learned_dispersion(self) -> float:
        """The dispersion the data alone gives, without the prior."""
        if self.disp_den <= 0:
            return self.config.dispersion_floor
        return max(self.config.dispersion_floor, self.disp_num / self.disp_den)

    def expect(self, start: datetime) -> Expectation:
        """The expected count of the window starting at ``start`` (before seeing it)."""
        mean = max(self.config.min_expected, self.level * self._season(start))
        return Expectation(mean=mean, dispersion=self.dispersion())

    # -- learning -----------------------------------------------------------------

    def update(
        self, start: datetime, end: datetime, observed: float, *, hold: bool = False
    ) -> Expectation:
        """Learn from one closed window; return what was expected of it.

        ``hold``: an incident is under way; learn nothing above the expected
        value, so the baseline does not absorb the surge it is reporting.
        """
        cfg = self.config
        exp = self.expect(start)
        # A gap (e.g. a restart that lost nothing but time) forgets accordingly.
        dt = _elapsed(start, end, self.last_end)
        mean = exp.mean
        # The conservative prior is for alerting, not learning: the clip uses
        # what the data alone says about the spread, so a young baseline is not
        # dragged up by the very burst it should report.
        learned = Expectation(mean, self.learned_dispersion())
        ceiling = mean if hold else mean + cfg.clip_sigma * learned.std
        clipped = min(observed, ceiling) if self.windows else observed
        tod = _read_hours(self._tod, start)
        dow = self._dow(start.weekday())
        # As _season reads it, without reading the hour profile twice.
        season = tod * dow if self.age_s >= cfg.season_warmup.total_seconds() else 1.0

        keep = _decay(dt, cfg.level_half_life)
        self.level_sum = keep * self.level_sum + clipped / season
        self.level_weight = keep * self.level_weight + 1.0
        level = self.level
        if level > 0:
            # Seasonal factors learn from the ratio to the level.
            keep_tod = _decay(dt, cfg.time_of_day_half_life)
            _learn_hours(self.tod_sum, self.tod_weight, start, clipped / (level * dow), keep_tod)
            # The weekday factor is the day's ratio to a slow (weekly) level:
            # against the 8-hour level, which takes on each day's size within
            # hours, it would not be identifiable and drifts from day to day.
            keep_slow = _decay(dt, cfg.day_of_week_half_life / 4)
            self.slow_sum = keep_slow * self.slow_sum + clipped / tod
            self.slow_weight = keep_slow * self.slow_weight + 1.0
            if self.age_s >= cfg.season_warmup.total_seconds():
                keep_dow = _decay(dt, cfg.day_of_week_half_life)
                day = start.weekday()
                slow = self.slow_sum / self.slow_weight
                self.dow_sum[day] = keep_dow * self.dow_sum[day] + clipped / (slow * tod)
                self.dow_weight[day] = keep_dow * self.dow_weight[day] + 1.0
        if self.windows and not hold:
            keep_d = _decay(dt, cfg.dispersion_half_life)
            # Winsorised residual, scaled back up by its consistency factor so
            # an ordinary window still counts at full weight (Huber's proposal 2).
            resid = min(observed, mean + cfg.dispersion_clip_sigma * exp.std) - mean
            consistency = _winsorised_moment(cfg.dispersion_clip_sigma)
            self.disp_num = keep_d * self.disp_num + (resid * resid / consistency - mean)
            self.disp_den = keep_d * self.disp_den + mean * mean
            self.disp_weight = keep_d * self.disp_weight + 1.0
        self.windows += 1
        self.age_s += dt
        self.last_end = end
        return exp

    # -- persistence --------------------------------------------------------------

    def snapshot(self) -> dict[str, Any]:
        """JSON-ready state (the configuration is not part of it)."""
        return {
            "windows": self.windows,
            "last_end": self.last_end.isoformat() if self.last_end else None,
            "level": [self.level_sum, self.level_weight],
            "tod": [self.tod_sum, self.tod_weight],
            "dow": [self.dow_sum, self.dow_weight],
            "disp": [self.disp_num, self.disp_den, self.disp_weight],
            "age_s": self.age_s,
            "slow": [self.slow_sum, self.slow_weight],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], config: BaselineConfig) -> SeasonalBaseline:
        last_end = state.get("last_end")
        return cls(
            config=config,
            windows=int(state["windows"]),
            last_end=datetime.fromisoformat(last_end) if last_end else None,
            level_sum=float(state["level"][0]),
            level_weight=float(state["level"][1]),
            tod_sum=[float(v) for v in state["tod"][0]],
            tod_weight=[float(v) for v in state["tod"][1]],
            dow_sum=[float(v) for v in state["dow"][0]],
            dow_weight=[float(v) for v in state["dow"][1]],
            disp_num=float(state["disp"][0]),
            disp_den=float(state["disp"][1]),
            disp_weight=float(state["disp"][2]),
            age_s=float(state.get("age_s", 0.0)),
            # State saved before the weekly level existed starts it afresh.
            slow_sum=float(state.get("slow", [0.0, 0.0])[0]),
            slow_weight=float(state.get("slow", [0.0, 0.0])[1]),
        )


@dataclass
class ShareBaseline:
    """Online baseline of a share (negative mentions out of scored mentions).

    The usual share is a volume-weighted EWMA (``sum hits / sum trials``), the
    over-dispersion an intra-class correlation from the beta-binomial moment
    ``E[(k - n q)^2] = n q (1 - q) (1 + (n - 1) rho)``, shrunk towards a
    conservative prior like the count baseline's. Sentiment has little daily
    rhythm compared with volume, so there is no seasonal part.
    """

    config: BaselineConfig = field(default_factory=BaselineConfig)
    windows: int = 0
    last_end: datetime | None = None
    hits: float = 0.0
    trials: float = 0.0
    corr_num: float = 0.0
    corr_den: float = 0.0
    corr_weight: float = 0.0

    #: Share assumed before any data (VADER calls roughly one post in five negative).
    share_prior: float = 0.2
    #: Correlation assumed before the data says otherwise (authors echo each other).
    correlation_prior: float = 0.05

    def share(self) -> float:
        prior = self.config.prior_windows
        return (self.hits + self.share_prior * prior) / (self.trials + prior)

    def correlation(self) -> float:
        cfg = self.config
        if self.corr_weight > 0 and self.corr_den > 0:
            prior_den = cfg.prior_windows * self.corr_den / self.corr_weight
            est = (self.corr_num + self.correlation_prior * prior_den) / (self.corr_den + prior_den)
        else:
            est = self.correlation_prior
        return min(max(est, 0.001), 1.0)

    def update(self, end: datetime, hits: float, trials: float) -> tuple[float, float]:
        """Learn from one window; return the (share, correlation) expected of it."""
        cfg = self.config
        share, corr = self.share(), self.correlation()
        if trials <= 0:
            return share, corr
        dt = 60.0 if self.last_end is None else max((end - self.last_end).total_seconds(), 1.0)
        # A surge should not teach the baseline: clip hits to the upper band first.
        var = trials * share * (1.0 - share) * (1.0 + (trials - 1.0) * corr)
        clipped = min(hits, trials * share + cfg.clip_sigma * math.sqrt(var))
        keep = _decay(dt, cfg.level_half_life * 12)
        self.hits = keep * self.hits + clipped
        self.trials = keep * self.trials + trials
        if trials > 1:
            keep_c = _decay(dt, cfg.dispersion_half_life)
            base = trials * share * (1.0 - share)
            resid = clipped - trials * share
            self.corr_num = keep_c * self.corr_num + (resid * resid - base)
            self.corr_den = keep_c * self.corr_den + base * (trials - 1.0)
            self.corr_weight = keep_c * self.corr_weight + 1.0
        self.windows += 1
        self.last_end = end
        return share, corr

    def snapshot(self) -> dict[str, Any]:
        return {
            "windows": self.windows,
            "last_end": self.last_end.isoformat() if self.last_end else None,
            "share": [self.hits, self.trials],
            "corr": [self.corr_num, self.corr_den, self.corr_weight],
        }

    @classmethod
    def restore(cls, state: dict[str, Any], config: BaselineConfig) -> ShareBaseline:
        last_end = state.get("last_end")
        return cls(
            config=config,
            windows=int(state["windows"]),
            last_end=datetime.fromisoformat(last_end) if last_end else None,
            hits=float(state["share"][0]),
            trials=float(state["share"][1]),
            corr_num=float(state["corr"][0]),
            corr_den=float(state["corr"][1]),
            corr_weight=float(state["corr"][2]),
        )


@dataclass(frozen=True, slots=True)
class LevelConfig:
    """How fast a measurement's baseline learns (a percentage, a latency, a rate)."""

    level_half_life: timedelta = timedelta(hours=8)
    time_of_day_half_life: timedelta = timedelta(days=7)
    scale_half_life: timedelta = timedelta(days=2)
    #: Pseudo-windows of "no hour-of-day effect" each hour's offset starts with.
    season_prior_windows: float = 6.0
    season_warmup: timedelta = timedelta(days=1)
    #: Level and profile learn from values clipped to mean +- clip_sigma scales.
    clip_sigma: float = 3.0
    #: The scale learns from residuals winsorised at this many scales (Huber's proposal 2).
    scale_clip_sigma: float = 1.5
    #: The scale never goes below this share of the series' own spread (a
    #: near-flat line is not infinitely surprising when it moves by a rounding step).
    scale_floor_share: float = 1e-3
    #: How many windows of evidence the scale's prior (the series' own spread) is worth;
    #: as for counts (``BaselineConfig.prior_windows``).
    scale_prior_windows: float = 30.0


@dataclass
class LevelBaseline:
    """Online baseline of a measurement: ``level + hour-of-day offset``, Gaussian spread.

    The additive counterpart of :class:`SeasonalBaseline` for values that are
    not counts (they may be fractional or negative, and their spread does not
    grow with their mean). Robust in the same ways: values are clipped before
    they teach the level, and the scale learns from winsorised residuals
    corrected for the clip, so a burst barely widens the spread that judges it.
    """

    config: LevelConfig = field(default_factory=LevelConfig)
    windows: int = 0
    last_end: datetime | None = None
    level_sum: float = 0.0
    level_weight: float = 0.0
    tod_sum: list[float] = field(default_factory=lambda: [0.0] * _HOURS)
    tod_weight: list[float] = field(default_factory=lambda: [0.0] * _HOURS)
    var_sum: float = 0.0
    var_weight: float = 0.0
    magnitude_sum: float = 0.0
    magnitude_weight: float = 0.0
    value_sum: float = 0.0
    square_sum: float = 0.0
    age_s: float = 0.0

    def _tod(self, bin_: int) -> float:
        return self.tod_sum[bin_] / (self.tod_weight[bin_] + self.config.season_prior_windows)

    def _season(self, start: datetime) -> float:
        if self.age_s < self.config.season_warmup.total_seconds():
            return 0.0
        return _read_hours(self._tod, start)

    @property
    def level(self) -> float:
        return self.level_sum / self.level_weight if self.level_weight > 0 else 0.0

    def scale(self) -> float:
        cfg = self.config
        weight = self.magnitude_weight
        # The prior is the series' spread around its own mean, rhythm and all:
        # wider than any model's residuals, so a young baseline is cautious
        # (a count's prior dispersion does the same), and in the series' units.
        mean = self.value_sum / weight if weight else 0.0
        prior = max(self.square_sum / weight - mean * mean, 0.0) if weight else 0.0
        var = (self.var_sum + cfg.scale_prior_windows * prior) / (
            self.var_weight + cfg.scale_prior_windows
        )
        # The floor scales with the series' own spread, so a change of units changes nothing.
        floor = max(cfg.scale_floor_share * math.sqrt(prior), 1e-12 * (1.0 + abs(mean)))
        return max(math.sqrt(var), floor)

    def expect(self, start: datetime) -> tuple[float, float]:
        """(mean, scale) expected of the window starting at ``start``."""
        return self.level + self._season(start), self.scale()

    def update(
        self, start: datetime, end: datetime, observed: float, *, hold: bool = False
    ) -> tuple[float, float]:
        """Learn from one window; return the (mean, scale) expected of it.

        ``hold``: an incident is under way; learn nothing beyond the expected value.
        """
        cfg = self.config
        mean, scale = self.expect(start)
        dt = _elapsed(start, end, self.last_end)
        if self.windows == 0:
            clipped = observed
        else:
            reach = 0.0 if hold else cfg.clip_sigma * scale
            clipped = min(max(observed, mean - reach), mean + reach)
        season = self._season(start)
        keep = _decay(dt, cfg.level_half_life)
        self.level_sum = keep * self.level_sum + (clipped - season)
        self.level_weight = keep * self.level_weight + 1.0
        keep_tod = _decay(dt, cfg.time_of_day_half_life)
        _learn_hours(self.tod_sum, self.tod_weight, start, clipped - self.level, keep_tod)
        keep_m = _decay(dt, cfg.scale_half_life)
        self.magnitude_sum = keep_m * self.magnitude_sum + abs(observed)
        self.magnitude_weight = keep_m * self.magnitude_weight + 1.0
        self.value_sum = keep_m * self.value_sum + observed
        self.square_sum = keep_m * self.square_sum + observed * observed
        if self.windows and not hold:
            c = cfg.scale_clip_sigma
            resid = observed - mean
            if self.var_weight > 0:
                resid = min(max(resid, -c * scale), c * scale)
                resid2 = resid * resid / _two_sided_moment(c)
            else:
                resid2 = resid * resid
            self.var_sum = keep_m * self.var_sum + resid2
            self.var_weight = keep_m * self.var_weight + 1.0
        self.windows += 1
        self.age_s += dt
        self.last_end = end
        return mean, scale


@cache
def _two_sided_moment(c: float) -> float:
    """E[min(Z^2, c^2)] for a standard normal Z: the variance share a two-sided clip keeps."""
    tail = math.erfc(c / math.sqrt(2.0))
    density = math.exp(-0.5 * c * c) / math.sqrt(2.0 * math.pi)
    return 1.0 - tail - 2.0 * c * density + c * c * tail
