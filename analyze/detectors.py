"""Detectors: volume spike, negative-sentiment surge and outage-report burst.

Each detector is a small component that reads one subject's closed windows in
order and says, for every window, how surprising it was and whether a signal
opens, updates or resolves. They share three pieces:

* a **count-aware tail**: the probability ``p`` of seeing at least the
  observed count if nothing were wrong, from a negative binomial (counts) or
  an over-dispersed binomial (shares). At low volume the tail is wide, so a
  jump from 0 to 3 mentions is not an incident; no z-scores on small numbers.
  The *surprise* is ``-log10 p``.
* an :class:`EpisodeGate`: **persistence** (``persistence`` consecutive windows
  at least ``hold_surprise`` surprising, one of them ``open_surprise``), a
  **cold-start rule** (nothing opens before ``min_history`` windows), a
  **count floor** (``min_count``), **hysteresis** (once open, a signal stays
  open while windows stay above ``hold_surprise`` and resolves after
  ``resolve_after`` calm windows), so a signal opens once and resolves once;
  and a **self-calibrating bar**: the evidence must also beat the largest
  burst the series has shown itself, decayed with a half-life of two days, so a
  subject whose normal life is full of bursts is held to its own standard;
* **severity**: ``info`` for a significant but small change (under
  ``info_ratio`` times the expected value), ``critical`` for a large and very
  surprising one, ``warning`` otherwise.

The volume detector (:func:`volume_config`) adds more: a paged run teaches
the bar the evidence it had to beat (not how far its opening window
overshot it), while a long memory keeps 30% of the largest whole burst of
the last four weeks; persistence is waived once the
evidence reaches twice what an opening needs (``lone_window_factor``: one
window far beyond the bar opens alone); and a refractory period follows each
signal (for 24 h a new one needs twice the evidence the last one opened on,
so a flapping series pages less and less often). The day-scale test of
:mod:`earful.analyze.sustained` is available as a second way to open its
signal, for a rise that lasts all day but shows in no single window (off).
Measurements (:func:`measure_config`) share all of it but the long memory.

The backtest (``earful backtest``) and the streaming worker drive the very
same :class:`CountDetector.step`.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from scipy.special import betainc, gammainc, gammaincc, log_ndtr

from earful.analyze.baseline import (
    BaselineConfig,
    Expectation,
    LevelBaseline,
    LevelConfig,
    SeasonalBaseline,
    ShareBaseline,
)
from earful.analyze.sustained import DayTotals, SustainedConfig, SustainedRise
from earful.analyze.windows import ClosedWindow, sample_of
from earful.events import (
    SEVERITY_RANK,
    Evidence,
    ScoredMention,
    Severity,
    Signal,
    SignalKind,
    SignalState,
)

__all__ = [
    "BELOW_OPEN",
    "Assessment",
    "CountDetector",
    "DetectorConfig",
    "EpisodeGate",
    "MeasureDetector",
    "NegativeSurgeDetector",
    "OutageBurstDetector",
    "VolumeSpikeDetector",
    "WindowDetector",
    "backtest_counts_config",
    "build_signal",
    "count_head",
    "count_tail",
    "default_detectors",
    "measure_config",
    "score_from_surprise",
    "share_tail",
    "volume_config",
]

Transition = Literal["open", "update", "resolved"]
_TREND_LEN = 12
_LN10 = math.log(10.0)


def count_tail(observed: float, exp: Expectation) -> float:
    """P(X >= observed) for X ~ NegativeBinomial(mean, dispersion); Poisson as dispersion -> 0."""
    if observed <= 0:
        return 1.0
    mean, alpha = exp.mean, exp.dispersion
    if alpha < 1e-9:
        return float(gammainc(observed, mean))
    size = 1.0 / alpha
    # P(X >= x) = I_{mean/(size+mean)}(x, size), the regularised incomplete beta.
    return float(betainc(observed, size, mean / (size + mean)))


def count_head(observed: float, exp: Expectation) -> float:
    """P(X <= observed) for X ~ NegativeBinomial(mean, dispersion): how surprising a drop is."""
    mean, alpha = exp.mean, exp.dispersion
    x = math.floor(observed)
    if alpha < 1e-9:
        return float(gammaincc(x + 1.0, mean))
    size = 1.0 / alpha
    # P(X <= x) = I_{size/(size+mean)}(size, x + 1).
    return float(betainc(size, x + 1.0, size / (size + mean)))


def share_tail(hits: float, trials: float, share: float, correlation: float) -> float:
    """P(K >= hits) for K out of ``trials`` at ``share``, over-dispersed by ``correlation``.

    Over-dispersion uses the design effect of a beta-binomial: counts shrink by
    ``1 + (trials - 1) * correlation`` before an exact binomial tail, so many
    posts that move together weigh like fewer independent ones.
    """
    if hits <= 0 or trials <= 0:
        return 1.0
    deff = 1.0 + max(trials - 1.0, 0.0) * correlation
    k, n = hits / deff, trials / deff
    share = min(max(share, 1e-6), 1.0 - 1e-6)
    return float(betainc(k, n - k + 1.0, share))


#: The most surprise one window can carry (p = 1e-300; a float cannot tell smaller ones apart).
_MAX_SURPRISE = 300.0


def surprise_of(p: float) -> float:
    return -math.log10(p) if p > 1e-300 else _MAX_SURPRISE


#: The highest anomaly score of a window that does not open a signal (0.5 and above: it opens).
BELOW_OPEN = 0.499


def score_from_surprise(surprise: float, open_surprise: float) -> float:
    """Map surprise to [0, 1): 0.5 exactly at the opening threshold, towards 1 beyond."""
    return surprise / (surprise + open_surprise) if surprise > 0 else 0.0


@dataclass(frozen=True, slots=True)
class DetectorConfig:
    """Decision rules shared by every detector (their defaults are Earful's defaults)."""

    #: Evidence (CUSUM of -log10 p above hold_surprise) needed to open a signal.
    #: Social volume is far burstier than any count model, so the bar is high:
    #: e.g. two windows at p < 1e-7 each, or one at p < 1e-12.
    open_surprise: float = 10.0
    #: -log10 p that keeps a signal open and counts towards persistence (p < 1%);
    #: also the CUSUM's reference value (evidence below it drains away).
    hold_surprise: float = 2.0
    #: Consecutive windows above hold_surprise needed to open.
    persistence: int = 2
    #: Consecutive windows below hold_surprise needed to resolve.
    resolve_after: int = 5
    #: Windows a baseline must have seen before it may open a signal.
    min_history: int = 30
    #: Smallest observed count that may open a signal.
    min_count: float = 5.0
    critical_surprise: float = 12.0
    critical_ratio: float = 3.0
    info_ratio: float = 1.5
    #: How long an open signal keeps the baseline from learning the new level.
    relearn_after: timedelta = timedelta(hours=6)
    #: Self-calibration: a signal opens only on evidence larger than the largest
    #: burst this series has shown, decayed with this half-life (0 disables).
    #: A series full of unremarkable bursts raises its own bar; a calm one does
    #: not. The bar is the tail the negative binomial misses, so it forgets at
    #: the pace the spread does (the baseline's dispersion half-life, two days).
    bar_half_life: timedelta = timedelta(days=2)
    #: The bar's long memory: a run must also beat this share of the largest
    #: burst of the last ``bar_memory``. The decayed bar forgets a subject's
    #: big bursts within days; this keeps their order of magnitude for weeks.
    bar_memory: timedelta = timedelta(days=28)
    bar_memory_share: float = 0.0
    #: What a run that opened a signal teaches the bar. "peak": the largest
    #: evidence the run reached, however long it went on; "opening": the
    #: evidence it had when it paged. A level shift keeps gathering evidence
    #: for as long as the baseline takes to relearn it (thousands of -log10 p
    #: over a day), so "peak" measures the episode's length as much as its
    #: size and can hold the series mute for weeks; "opening" compares like
    #: with like, since the bar is tested against a run at its opening.
    #: "need": the evidence it had to beat to page (the bar, the opening bar
    #: or the refractory need), not how far its opening window overshot it.
    #: A run that pages is taken for an incident, not for one of the series'
    #: ordinary bursts, so its size does not raise the standard further than
    #: the level it was held to; a page that was an ordinary burst comes back,
    #: and the refractory period answers that.
    bar_source: Literal["peak", "opening", "need"] = "peak"
    #: Persistence is waived when the evidence (the CUSUM, in practice the one
    #: window that just arrived) reaches this many times what an opening needs
    #: (None: never; one extreme window never pages by itself).
    lone_window_factor: float | None = None
    #: Refractory period: for this long after a signal resolves, a new one
    #: opens only on ``refractory_factor`` times the evidence the last one
    #: opened on (None: no refractory period). A series that flaps (the same
    #: problem back every few hours) pages less and less often, not every time
    #: it returns: a run that would have paged but for the rule restarts the
    #: period (it is still flapping), and a page inside the period doubles the
    #: evidence the next one needs (an exponential backoff, as alert
    #: re-notification does).
    refractory: timedelta | None = None
    refractory_factor: float = 2.0
    #: The long memory learns each whole run's peak even when the decaying bar
    #: learns only the opening (``bar_source`` "opening" or "need"): the memory
    #: is there to keep the size of a subject's big bursts, the bar to compare
    #: like with like.
    memory_of_peaks: bool = False
    #: Counts: also judge drops (a count far below its expected value), with
    #: the lower tail of the same negative binomial.
    drops: bool = False
    #: The day-scale test (a rise lasting all day), or None for none.
    sustained: SustainedConfig | None = None
    baseline: BaselineConfig = field(default_factory=BaselineConfig)


@dataclass(frozen=True, slots=True)
class Assessment:
    """One window through one detector."""

    window_start: datetime
    window_end: datetime
    observed: float
    expected: float
    dispersion: float
    p_value: float
    surprise: float
    score: float
    is_open: bool
    transition: Transition | None
    severity: Severity | None
    opened_at: datetime | None
    episode_start: datetime | None
    #: The last day's totals while the day-scale test is on.
    day: DayTotals | None = None


@dataclass
class EpisodeGate:
    """Persistence, cold start, hysteresis and severity: the life of one signal at a time."""

    config: DetectorConfig
    hot_streak: int = 0
    cusum: float = 0.0
    calm_streak: int = 0
    is_open: bool = False
    severity: Severity | None = None
    opened_at: datetime | None = None
    episode_start: datetime | None = None
    peak: float = 0.0
    #: The open signal was opened by the day-scale test (not by a window).
    by_day: bool = False
    #: Continuous CUSUM of surprise (open or not) and the peak of its current run.
    evidence: float = 0.0
    run_peak: float = 0.0
    #: The largest past run peak, decayed, and when it was last set (epoch s).
    bar_value: float = 0.0
    bar_at: float = 0.0
    #: Past run peaks (epoch s, peak) within bar_memory, each larger than every
    #: later one, so the first is the largest still remembered.
    memory: list[tuple[float, float]] = field(default_factory=list)
    #: The last window's calibrated anomaly score: >= 0.5 exactly on the window that opens.
    score: float = 0.0
    #: The refractory period: when it ends (epoch s; 0: none) and the evidence
    #: the last signal opened on.
    refractory_until: float = 0.0
    opened_on: float = 0.0
    #: With memory_of_peaks: the whole run's CUSUM (open or not) and its peak.
    burst: float = 0.0
    burst_peak: float = 0.0

    def track(self, end: datetime, surprise: float) -> float:
        """Follow the continuous evidence; return the bar the current run must beat."""
        cfg = self.config
        now = end.timestamp()
        keep = _decay_s(now - self.bar_at, cfg.bar_half_life) if self.bar_at else 1.0
        if cfg.memory_of_peaks:
            self.burst = max(0.0, self.burst + surprise - cfg.hold_surprise)
            if self.burst > 0.0:
                self.burst_peak = max(self.burst_peak, self.burst)
            elif self.burst_peak > 0.0:
                self._remember_peak(now, self.burst_peak)
                self.burst_peak = 0.0
        if self.is_open and cfg.bar_source != "peak":
            # An open signal's run was remembered when it paged.
            surprise = 0.0
        self.evidence = max(0.0, self.evidence + surprise - cfg.hold_surprise)
        if self.evidence > 0.0:
            self.run_peak = max(self.run_peak, self.evidence)
        elif self.run_peak > 0.0:
            self._remember_run(now, keep)
            keep = 1.0
        memory = self.memory
        horizon = now - cfg.bar_memory.total_seconds()
        while memory and memory[0][0] < horizon:
            memory.pop(0)
        floor = cfg.bar_memory_share * memory[0][1] if memory else 0.0
        return max(self.bar_value * keep, floor)

    def _remember_run(self, now: float, keep: float) -> None:
        """The current run of evidence is over (or its signal resolved): it raises the bar."""
        peak = self.run_peak
        self.bar_value = max(self.bar_value * keep, peak)
        self.bar_at, self.run_peak = now, 0.0
        if not self.config.memory_of_peaks:
            self._remember_peak(now, peak)

    def _remember_peak(self, now: float, peak: float) -> None:
        # A newer, larger peak outlasts every older, smaller one in the memory.
        while self.memory and self.memory[-1][1] <= peak:
            self.memory.pop()
        self.memory.append((now, peak))

    def severity_for(self, surprise: float, observed: float, expected: float) -> Severity:
        cfg = self.config
        ratio = observed / expected if expected > 0 else math.inf
        if surprise >= cfg.critical_surprise and ratio >= cfg.critical_ratio:
            return "critical"
        if ratio < cfg.info_ratio:
            return "info"
        return "warning"

    def step(
        self,
        start: datetime,
        end: datetime,
        surprise: float,
        observed: float,
        expected: float,
        *,
        warmed_up: bool,
        day: DayTotals | None = None,
    ) -> Transition | None:
        """One window. ``day``: the day-scale test is on (a second way to open and to stay open).

        Also sets :attr:`score`, the window's calibrated anomaly score.
        """
        cfg = self.config
        if not warmed_up:
            # A baseline that has learned little measures little: its first
            # windows are not evidence (the very first one expects nothing),
            # neither towards a signal nor towards the series' own bar.
            surprise = 0.0
        hot = surprise >= cfg.hold_surprise or day is not None
        bar = self.track(end, surprise)
        # The evidence a window needs to open: the fixed bar or the series' own.
        need = max(cfg.open_surprise, bar)
        if not self.is_open and self.refractory_until > end.timestamp():
            # The refractory period: a new signal needs a multiple of the
            # evidence the last one opened on. A page inside the period raises
            # that again (an exponential backoff), and a run that would have
            # paged but for the rule restarts the period (still flapping).
            if self.cusum + surprise - cfg.hold_surprise > need:
                self.refractory_until = end.timestamp() + _seconds(cfg.refractory)
            need = max(need, cfg.refractory_factor * self.opened_on)
            bar = max(bar, need)
        if not self.is_open:
            # Page's CUSUM on surprise: one very surprising window, or several
            # moderately surprising ones in a row, accumulate enough evidence.
            cusum = max(0.0, self.cusum + surprise - cfg.hold_surprise)
            if cusum > 0.0 and self.cusum == 0.0:
                self.episode_start = start
            self.cusum = cusum
            self.hot_streak = self.hot_streak + 1 if hot else 0
            persisted = self.hot_streak >= cfg.persistence or (
                cfg.lone_window_factor is not None and cusum >= cfg.lone_window_factor * need
            )
            ready = warmed_up and persisted and observed >= cfg.min_count
            if ready and self.cusum >= cfg.open_surprise and self.cusum > bar:
                if cfg.bar_source != "peak":
                    # The run is spent: it teaches the bar what it had (or
                    # needed) to page, and evidence gathered while open counts
                    # for nothing.
                    now = end.timestamp()
                    keep = _decay_s(now - self.bar_at, cfg.bar_half_life) if self.bar_at else 1.0
                    self.run_peak = need if cfg.bar_source == "need" else self.cusum
                    self._remember_run(now, keep)
                    self.evidence = 0.0
                self.is_open, self.by_day = True, False
                self.opened_at = end
                self.calm_streak = 0
                self.peak = observed
                self.severity = self.severity_for(surprise, observed, expected)
                self.score = 0.5 + 0.5 * (1.0 - need / self.cusum)
                self.opened_on = self.cusum
                return "open"
            if warmed_up and day is not None:
                # A day-long rise that no single window shows: the episode
                # started with the day the test summed.
                self.is_open, self.by_day = True, True
                self.opened_at = end
                self.calm_streak = 0
                self.peak = observed
                self.episode_start = day.start
                self.severity = self.severity_for(day.surprise, day.observed, day.expected)
                open_z = cfg.sustained.open_z if cfg.sustained is not None else day.z
                self.score = max(0.5, day.score(open_z))
                return "open"
            # Below the bar, the score is the share of the needed evidence
            # gathered, halved while another rule (warm-up, persistence, the
            # count floor) would still hold the signal back.
            self.score = BELOW_OPEN * min(1.0, self.cusum / need) * (1.0 if ready else 0.5)
            return None
        # An open signal pages no more: its rows rank below any fresh evidence.
        self.score = 0.5 * BELOW_OPEN * min(1.0, surprise / need)
        self.calm_streak = 0 if hot else self.calm_streak + 1
        if self.calm_streak >= cfg.resolve_after:
            self.is_open = False
            if cfg.refractory is not None:
                self.refractory_until = end.timestamp() + _seconds(cfg.refractory)
            self.hot_streak, self.cusum = 0, 0.0
            if cfg.bar_source == "peak":
                # The evidence of a big burst takes hours to drain; the episode
                # it paged for is over now, so it sets the bar for what comes next.
                now = end.timestamp()
                self._remember_run(now, _decay_s(now - self.bar_at, cfg.bar_half_life))
            return "resolved"
        severity = self.severity_for(surprise, observed, expected) if hot else self.severity
        changed = severity is not None and (
            self.severity is None or SEVERITY_RANK[severity] > SEVERITY_RANK[self.severity]
        )
        if changed or observed > 2.0 * self.peak:
            # Escalations and a doubled peak are news; everything else waits for the resolve.
            self.severity = severity if changed else self.severity
            self.peak = max(self.peak, observed)
            return "update"
        return None

    def snapshot(self) -> dict[str, Any]:
        return {
            "hot": [self.hot_streak, self.cusum],
            "calm": self.calm_streak,
            "open": self.is_open,
            "severity": self.severity,
            "opened_at": self.opened_at.isoformat() if self.opened_at else None,
            "episode_start": self.episode_start.isoformat() if self.episode_start else None,
            "peak": self.peak,
            "by_day": self.by_day,
            "bar": [self.evidence, self.run_peak, self.bar_value, self.bar_at],
            "memory": [list(entry) for entry in self.memory],
            "refractory": [self.refractory_until, self.opened_on],
            "burst": [self.burst, self.burst_peak],
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.hot_streak, self.cusum = int(state["hot"][0]), float(state["hot"][1])
        self.calm_streak = int(state["calm"])
        self.is_open = bool(state["open"])
        self.severity = state["severity"]
        self.opened_at = _parse(state["opened_at"])
        self.episode_start = _parse(state["episode_start"])
        self.peak = float(state["peak"])
        self.by_day = bool(state.get("by_day", False))
        # State written before the self-calibrating bar existed starts with none.
        bar = state.get("bar", [0.0, 0.0, 0.0, 0.0])
        self.evidence, self.run_peak = float(bar[0]), float(bar[1])
        self.bar_value, self.bar_at = float(bar[2]), float(bar[3])
        self.memory = [(float(t), float(p)) for t, p in state.get("memory", [])]
        # State written before the refractory period existed starts outside one.
        refractory = state.get("refractory", [0.0, 0.0])
        self.refractory_until, self.opened_on = float(refractory[0]), float(refractory[1])
        burst = state.get("burst", [0.0, 0.0])
        self.burst, self.burst_peak = float(burst[0]), float(burst[1])


def _decay_s(dt_s: float, half_life: timedelta) -> float:
    hl = half_life.total_seconds()
    return float(0.5 ** (dt_s / hl)) if hl > 0 else 0.0


def _seconds(span: timedelta | None) -> float:
    return span.total_seconds() if span is not None else 0.0


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


class CountDetector:
    """A count series against its seasonal negative-binomial baseline."""

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self.baseline = SeasonalBaseline(self.config.baseline)
        self.gate = EpisodeGate(self.config)
        self.trend: deque[float] = deque(maxlen=_TREND_LEN)
        sustained = self.config.sustained
        self.sustained = SustainedRise(sustained) if sustained is not None else None

    def step(self, start: datetime, end: datetime, observed: float) -> Assessment:
        """Judge one closed window, then learn from it."""
        cfg = self.config
        warmed_up = self.baseline.windows >= cfg.min_history
        gate = self.gate
        # While a signal is open the baseline holds still, for at most
        # relearn_after: a shift that lasts longer becomes the new normal.
        hold = (
            gate.is_open and gate.opened_at is not None and end - gate.opened_at < cfg.relearn_after
        )
        exp = self.baseline.update(start, end, observed, hold=hold)
        day = None
        if self.sustained is not None:
            # What a window signal has already reported is not news again for
            # the day test: while one is open, the day counts only the expected.
            counted = min(observed, exp.mean) if gate.is_open and not gate.by_day else observed
            day = self.sustained.add(start, counted)
        p = count_tail(observed, exp)
        floor_count = observed
        if cfg.drops and self.baseline.age_s >= cfg.baseline.season_warmup.total_seconds():
            # Not before the day profile is in use: until then the night's
            # trough looks like a drop, and the prior's wide spread cannot
            # cover it (a count cannot fall below zero).
            low = count_head(observed, exp)
            if low < p:
                # A drop: the count floor applies to the volume that went missing.
                p, floor_count = low, exp.mean
        surprise = surprise_of(p)
        transition = self.gate.step(
            start, end, surprise, floor_count, exp.mean, warmed_up=warmed_up, day=day
        )
        self.trend.append(observed)
        score = self.gate.score
        return Assessment(
            window_start=start,
            window_end=end,
            observed=observed,
            expected=exp.mean,
            dispersion=exp.dispersion,
            p_value=p,
            surprise=surprise,
            score=score,
            is_open=self.gate.is_open,
            transition=transition,
            severity=self.gate.severity if (self.gate.is_open or transition) else None,
            opened_at=self.gate.opened_at,
            episode_start=self.gate.episode_start,
            day=day,
        )

    def snapshot(self) -> dict[str, Any]:
        state = {
            "baseline": self.baseline.snapshot(),
            "gate": self.gate.snapshot(),
            "trend": list(self.trend),
        }
        if self.sustained is not None:
            state["sustained"] = self.sustained.snapshot()
        return state

    def restore(self, state: dict[str, Any]) -> None:
        self.baseline = SeasonalBaseline.restore(state["baseline"], self.config.baseline)
        self.gate.restore(state["gate"])
        self.trend = deque((float(v) for v in state["trend"]), maxlen=_TREND_LEN)
        sustained = self.config.sustained
        if sustained is not None:
            # State saved before the day-scale test existed starts it afresh.
            saved = state.get("sustained")
            self.sustained = (
                SustainedRise.restore(saved, sustained) if saved else SustainedRise(sustained)
            )


def _normal_surprise(z: float) -> float:
    """-log10 of the two-sided normal tail P(|Z| >= |z|)."""
    return min(_MAX_SURPRISE, -float(log_ndtr(-abs(z))) / _LN10 - math.log10(2.0))


def _laplace_surprise(z: float) -> float:
    """-log10 of the two-sided tail P(|X| >= |z|) of a unit-variance Laplace X (heavier tails)."""
    return min(_MAX_SURPRISE, abs(z) * math.sqrt(2.0) / _LN10)


def measure_config() -> DetectorConfig:
    """The measurement detector's defaults: the volume detector's rules, without a count floor.

    Its opening bar is its own (``open_surprise`` 5): a normal tail on a
    learned scale is not a negative binomial's, and nested leave-one-series-out,
    choosing per detector, chose 5 in every fold of the measurement series
    (3.5 in every fold of the count series; ``docs/detection.md``).
    """
    return replace(volume_config(), open_surprise=5.0, bar_memory_share=0.0, min_count=-math.inf)


class MeasureDetector:
    """A measurement (a percentage, a latency, a rate) against its level and hour profile.

    The counterpart of :class:`CountDetector` for series that are not counts:
    the surprise is the two-sided normal tail of the window's deviation in
    units of the learned robust scale (a drop is as news-worthy as a rise for
    a measurement; a heavier Laplace tail is available, and did worse out of
    sample), and the same :class:`EpisodeGate` decides when to open, with
    the same calibrated score. Only ``earful backtest`` uses it: the streaming
    pipeline counts mentions.
    """

    def __init__(
        self,
        config: DetectorConfig | None = None,
        level: LevelConfig | None = None,
        *,
        tail: Literal["laplace", "normal"] = "normal",
    ) -> None:
        self.config = config or measure_config()
        self.baseline = LevelBaseline(level or LevelConfig())
        self.gate = EpisodeGate(self.config)
        self.tail_surprise = _laplace_surprise if tail == "laplace" else _normal_surprise

    def step(self, start: datetime, end: datetime, observed: float) -> Assessment:
        cfg = self.config
        gate = self.gate
        # A measurement has no natural spread to assume before data (a count
        # has Poisson's), so nothing opens before its day profile is in use:
        # until then a daily rhythm cannot be told from an incident.
        baseline = self.baseline
        warmed_up = (
            baseline.windows >= cfg.min_history
            and baseline.age_s >= baseline.config.season_warmup.total_seconds()
        )
        hold = (
            gate.is_open and gate.opened_at is not None and end - gate.opened_at < cfg.relearn_after
        )
        mean, scale = baseline.update(start, end, observed, hold=hold)
        z = (observed - mean) / scale
        surprise = self.tail_surprise(z) if self.baseline.windows > 1 else 0.0
        transition = gate.step(start, end, surprise, 1.0 + abs(z), 1.0, warmed_up=warmed_up)
        return Assessment(
            window_start=start,
            window_end=end,
            observed=observed,
            expected=mean,
            dispersion=scale,
            p_value=10.0**-surprise,
            surprise=surprise,
            score=gate.score,
            is_open=gate.is_open,
            transition=transition,
            severity=gate.severity if (gate.is_open or transition) else None,
            opened_at=gate.opened_at,
            episode_start=gate.episode_start,
        )


class WindowDetector:
    """A detector over one subject's all-source windows; subclasses pick the measure."""

    kind: SignalKind
    name: str

    def assess(self, window: ClosedWindow) -> Assessment:
        raise NotImplementedError

    def evidence_samples(self, window: ClosedWindow) -> tuple[ScoredMention, ...]:
        return window.samples

    def snapshot(self) -> dict[str, Any]:
        raise NotImplementedError

    def restore(self, state: dict[str, Any]) -> None:
        raise NotImplementedError

    def trend(self) -> tuple[float, ...]:
        raise NotImplementedError


class _CountWindowDetector(WindowDetector):
    def __init__(self, config: DetectorConfig) -> None:
        self.counts = CountDetector(config)

    def measure(self, window: ClosedWindow) -> float:
        raise NotImplementedError

    def assess(self, window: ClosedWindow) -> Assessment:
        stats = window.stats
        return self.counts.step(stats.window_start, stats.window_end, self.measure(window))

    def snapshot(self) -> dict[str, Any]:
        return self.counts.snapshot()

    def restore(self, state: dict[str, Any]) -> None:
        self.counts.restore(state)

    def trend(self) -> tuple[float, ...]:
        return tuple(self.counts.trend)


def volume_config() -> DetectorConfig:
    """The volume detector's defaults.

    The opening bar (``open_surprise`` 3.5, ``hold_surprise`` 1.5), the bar
    learned from the evidence a paged run had to beat and the 24-hour
    refractory period are what nested leave-one-series-out over 53 labelled
    series chose, one configuration per fold and per detector, in every fold
    of the count series (measurements chose an opening bar of 5:
    :func:`measure_config`; ``bench/loso.py``, ``docs/detection.md``); the
    lone-window rule (persistence is waived once
    the evidence reaches twice what an opening needs) was chosen in every fold
    when it was offered. Raw volume is the burstiest
    measure, full of bursts nobody needs to hear about, so its bar also keeps a
    long memory (a run must beat 30% of the largest whole burst of the last
    four weeks). Outage reports and negative share are cleaner signals: a subject's
    second real incident must not be held to its first one's size for weeks.
    The day-scale test (:mod:`earful.analyze.sustained`) is available
    (``sustained=SustainedConfig()``) but off: its gain did not hold on series
    it was not set on.
    """
    return DetectorConfig(
        open_surprise=3.5,
        hold_surprise=1.5,
        bar_memory_share=0.3,
        lone_window_factor=2.0,
        bar_source="need",
        memory_of_peaks=True,
        refractory=timedelta(hours=24),
    )


def backtest_counts_config() -> DetectorConfig:
    """The volume defaults, judging drops too: a count series in a backtest may be requests,
    rides or bytes, where a fall is as much news as a rise."""
    return replace(volume_config(), drops=True)


class VolumeSpikeDetector(_CountWindowDetector):
    """Mentions per window against the seasonal baseline."""

    kind: SignalKind = "volume_spike"
    name = "earful-volume/1"

    def __init__(self, config: DetectorConfig | None = None) -> None:
        super().__init__(config or volume_config())

    def measure(self, window: ClosedWindow) -> float:
        return float(window.stats.mentions)


class OutageBurstDetector(_CountWindowDetector):
    """Outage reports (one per author per window) against their own baseline."""

    kind: SignalKind = "outage_burst"
    name = "earful-outage/1"

    def __init__(self, config: DetectorConfig | None = None) -> None:
        # Reports are already classified and counted once per author, so they
        # are far less bursty than raw volume: a lower bar, and three distinct
        # people in one window is already a lot.
        super().__init__(config or DetectorConfig(open_surprise=6.0, min_count=3.0))

    def measure(self, window: ClosedWindow) -> float:
        return float(window.stats.outage_reports)

    def evidence_samples(self, window: ClosedWindow) -> tuple[ScoredMention, ...]:
        return window.outage_samples or window.samples


class NegativeSurgeDetector(WindowDetector):
    """The share of negative mentions against its usual share, at the window's volume."""

    kind: SignalKind = "negative_surge"
    name = "earful-negative/1"

    def __init__(self, config: DetectorConfig | None = None) -> None:
        self.config = config or DetectorConfig()
        self.baseline = ShareBaseline(self.config.baseline)
        self.gate = EpisodeGate(self.config)
        self.history: deque[float] = deque(maxlen=_TREND_LEN)

    def assess(self, window: ClosedWindow) -> Assessment:
        cfg = self.config
        stats = window.stats
        hits, trials = float(stats.negative), float(window.scored)
        warmed_up = self.baseline.windows >= cfg.min_history
        share, corr = self.baseline.update(stats.window_end, hits, trials)
        p = share_tail(hits, trials, share, corr)
        surprise = surprise_of(p)
        observed = hits / trials if trials else 0.0
        transition = self.gate.step(
            stats.window_start,
            stats.window_end,
            surprise,
            hits,
            share * trials,
            warmed_up=warmed_up,
        )
        self.history.append(observed)
        return Assessment(
            window_start=stats.window_start,
            window_end=stats.window_end,
            observed=observed,
            expected=share,
            dispersion=corr,
            p_value=p,
            surprise=surprise,
            score=self.gate.score,
            is_open=self.gate.is_open,
            transition=transition,
            severity=self.gate.severity if (self.gate.is_open or transition) else None,
            opened_at=self.gate.opened_at,
            episode_start=self.gate.episode_start,
        )

    def evidence_samples(self, window: ClosedWindow) -> tuple[ScoredMention, ...]:
        return window.negative_samples or window.samples

    def snapshot(self) -> dict[str, Any]:
        return {
            "baseline": self.baseline.snapshot(),
            "gate": self.gate.snapshot(),
            "trend": list(self.history),
        }

    def restore(self, state: dict[str, Any]) -> None:
        self.baseline = ShareBaseline.restore(state["baseline"], self.config.baseline)
        self.gate.restore(state["gate"])
        self.history = deque((float(v) for v in state["trend"]), maxlen=_TREND_LEN)

    def trend(self) -> tuple[float, ...]:
        return tuple(self.history)


def default_detectors() -> list[WindowDetector]:
    """The three detectors every subject gets, with Earful's default configuration."""
    return [VolumeSpikeDetector(), NegativeSurgeDetector(), OutageBurstDetector()]


def build_signal(
    detector: WindowDetector, window: ClosedWindow, assessment: Assessment
) -> Signal | None:
    """The Signal record for a window whose assessment opened, updated or resolved one."""
    if assessment.transition is None or assessment.opened_at is None:
        return None
    stats = window.stats
    state: SignalState = assessment.transition
    opened_from = assessment.episode_start or stats.window_start
    observed, expected = assessment.observed, assessment.expected
    day = assessment.day
    if day is not None and day.surprise > assessment.surprise:
        # The day's rise is the stronger evidence: report the day's totals.
        observed, expected = day.observed, day.expected
    evidence = Evidence(
        samples=tuple(sample_of(m) for m in detector.evidence_samples(window)),
        top_symptoms=stats.top_symptoms,
        top_places=stats.top_places,
        top_platforms=stats.top_platforms,
        top_terms=stats.top_terms,
        trend=detector.trend(),
    )
    return Signal(
        id=f"{stats.subject}:{detector.kind}:{opened_from.strftime('%Y%m%dT%H%M%SZ')}",
        subject=stats.subject,
        kind=detector.kind,
        state=state,
        severity=assessment.severity or "warning",
        detector=detector.name,
        opened_at=assessment.opened_at,
        updated_at=stats.window_end,
        resolved_at=stats.window_end if state == "resolved" else None,
        window_start=opened_from,
        window_end=stats.window_end,
        observed=observed,
        expected=expected,
        # A signal is something that opened: its score stays at or above the
        # opening's 0.5 while it updates and resolves.
        score=max(assessment.score, 0.5),
        evidence=evidence,
    )
