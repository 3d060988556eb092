"""The day-scale test and the bar's long memory: what the window test alone misses or over-pages."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from earful.analyze.detectors import (
    CountDetector,
    DetectorConfig,
    VolumeSpikeDetector,
    build_signal,
    volume_config,
)
from earful.analyze.sustained import SustainedConfig, SustainedRise
from earful.analyze.windows import ClosedWindow
from earful.events import WindowStats
from tests.analyze.detect_fixtures import STEP, T0, scored
from tests.analyze.detect_fixtures import run_counts as run

DAY = 288  # 5-minute windows


def day_config() -> DetectorConfig:
    """The volume defaults with the day-scale test switched on, and the window test's bar at
    10 / 2 (the setting the day test was built with), so a rise no window shows is left to it."""
    return replace(
        volume_config(), open_surprise=10.0, hold_surprise=2.0, sustained=SustainedConfig()
    )


def rate_at(i: int, base: float) -> float:
    """A daily rhythm (busy afternoons) and quieter weekends."""
    t = T0 + i * STEP
    hour = t.hour + t.minute / 60
    weekday = 0.6 if t.weekday() >= 5 else 1.0
    return base * weekday * (1 + 2 * math.exp(-(((hour - 15) / 3) ** 2)))


def series(rng: np.random.Generator, days: int, base: float = 30.0) -> list[float]:
    # Gamma-Poisson counts: as over-dispersed as real chatter (dispersion 0.05).
    return [float(rng.poisson(rng.gamma(20.0, rate_at(i, base) / 20.0))) for i in range(DAY * days)]


def with_day_long_rise(rng: np.random.Generator) -> tuple[list[float], int]:
    """Ten calm days, then a working day at 1.8 times the usual rate, ramping up over an hour."""
    values = series(rng, days=13)
    rise = DAY * 10  # a Thursday, midnight
    for i in range(rise, rise + DAY):
        ramp = min(1.0, (i - rise) / 12)
        values[i] = float(rng.poisson(rng.gamma(20.0, rate_at(i, 30.0) * (1 + 0.8 * ramp) / 20.0)))
    return values, rise


def test_a_day_long_rise_that_no_window_shows_opens_one_signal_and_resolves() -> None:
    values, rise = with_day_long_rise(np.random.default_rng(11))
    window_only = run(CountDetector(DetectorConfig(bar_memory_share=0.3)), values)
    # The window test alone never sees it: its level catches up within hours.
    assert not any(a.transition == "open" for a in window_only[rise:])

    steps = run(CountDetector(day_config()), values)
    opens = [i for i, a in enumerate(steps) if a.transition == "open"]
    assert opens and all(rise < i < rise + DAY for i in opens), opens
    assert len(opens) == 1
    opened = steps[opens[0]]
    assert opened.day is not None and opened.day.ratio > 1.3
    # The anomaly score says the day test is on, though the window itself is ordinary.
    assert opened.score >= 0.5 and opened.surprise < 2.0
    assert math.isclose(opened.score, opened.day.z / (opened.day.z + 2.0))
    assert opened.severity == "info"  # a sustained 1.5x: significant, not a spike
    assert opened.episode_start == opened.day.start
    resolved = [i for i, a in enumerate(steps) if a.transition == "resolved"]
    # It resolves once the last 24 hours no longer hold the rise and are back
    # to normal: a day after the rise ends, plus a few hours.
    assert len(resolved) == 1 and rise + 2 * DAY <= resolved[0] < rise + 2 * DAY + 72


def test_no_day_scale_signal_for_an_ordinary_fortnight() -> None:
    for seed in (12, 13, 14):
        steps = run(CountDetector(day_config()), series(np.random.default_rng(seed), days=14))
        assert [a.window_start for a in steps if a.transition] == [], seed


def test_nothing_is_tested_before_the_warm_up() -> None:
    rng = np.random.default_rng(15)
    values = series(rng, days=3)
    # The third day triples: the day-scale test has not warmed up yet.
    values[2 * DAY :] = [v * 3 for v in values[2 * DAY :]]
    rise = SustainedRise()
    for i, v in enumerate(values):
        assert rise.add(T0 + i * STEP, v) is None
    assert rise.totals is None


def test_a_gap_restarts_the_day_sum() -> None:
    rise = SustainedRise()
    for i in range(DAY * 4):
        rise.add(T0 + i * STEP, 10.0)
    assert len(rise.recent) == 24
    rise.add(T0 + (DAY * 4 + 36) * STEP, 10.0)  # three hours without data
    assert len(rise.recent) == 1


def test_restore_mid_rise_gives_the_same_signals() -> None:
    values, rise = with_day_long_rise(np.random.default_rng(16))
    whole = run(CountDetector(day_config()), values)
    cut = rise + DAY // 2 + 7  # mid-hour, while the day-scale test is on
    first = CountDetector(day_config())
    got = run(first, values[:cut])
    assert first.sustained is not None and first.sustained.is_on
    second = CountDetector(day_config())
    second.restore(first.snapshot())
    got += run(second, values[cut:], offset=cut)
    assert [(a.transition, a.severity, a.expected, a.day) for a in got] == [
        (a.transition, a.severity, a.expected, a.day) for a in whole
    ]


def test_state_saved_before_the_day_scale_test_restores() -> None:
    old = CountDetector(DetectorConfig())
    run(old, series(np.random.default_rng(17), days=1))
    state = old.snapshot()
    assert "sustained" not in state
    state["gate"].pop("memory")
    new = CountDetector(day_config())
    new.restore(state)
    assert new.sustained is not None and new.sustained.recent == type(new.sustained.recent)()
    assert new.gate.memory == []


def test_the_signal_of_a_day_long_rise_reports_the_day() -> None:
    values, _ = with_day_long_rise(np.random.default_rng(11))
    detector = VolumeSpikeDetector(day_config())
    signals = []
    for i, v in enumerate(values):
        start = T0 + i * STEP
        stats = WindowStats(
            subject="acme",
            window_start=start,
            window_end=start + STEP,
            mentions=int(v),
            unique_authors=int(v),
            negative=0,
            negative_share=0.0,
            outage_reports=0,
        )
        w = ClosedWindow(stats=stats, scored=int(v), samples=(scored(start),), outage_samples=())
        signal = build_signal(detector, w, detector.assess(w))
        if signal is not None:
            signals.append(signal)
    opened = signals[0]
    assert opened.state == "open" and opened.kind == "volume_spike"
    # Observed and expected are the day's totals, from the start of the day summed.
    assert opened.observed > 1000 and 1.3 < opened.observed / opened.expected < 2.5
    assert timedelta(hours=24) <= opened.opened_at - opened.window_start <= timedelta(hours=25)


def test_the_bar_remembers_a_big_burst_for_weeks() -> None:
    """A burst far smaller than last week's big one does not page; a comparable one does."""

    def opened(share: float, second: float) -> list[int]:
        rng = np.random.default_rng(18)
        values = [float(rng.poisson(30)) for _ in range(DAY * 12)]
        big, later = DAY * 2, DAY * 9  # the second burst comes a week later
        values[big : big + 6] = [float(rng.poisson(400)) for _ in range(6)]
        values[later : later + 4] = [float(rng.poisson(second)) for _ in range(4)]
        steps = run(CountDetector(DetectorConfig(bar_memory_share=share)), values)
        return [i - later for i, a in enumerate(steps) if a.transition == "open" and i >= later]

    # A week on, the two-day decayed bar alone has forgotten the big burst ...
    assert len(opened(0.0, 150.0)) == 1
    # ... the long memory has not: 20 minutes at 150 are under 30% of half an hour at 400.
    assert opened(0.3, 150.0) == []
    # A burst of the big one's order of magnitude still pages, at once.
    late = opened(0.3, 400.0)
    assert len(late) == 1 and late[0] <= 1


def test_the_bar_memory_forgets_after_its_horizon_and_survives_a_restore() -> None:
    config = DetectorConfig(bar_memory_share=0.3, bar_memory=timedelta(days=7))
    detector = CountDetector(config)
    rng = np.random.default_rng(19)
    values = [float(rng.poisson(30)) for _ in range(DAY)]
    values[100:112] = [600.0] * 12
    run(detector, values)
    end = T0 + DAY * STEP
    memory = list(detector.gate.memory)
    assert memory and memory[0][1] > 100
    peak = memory[0][1]
    copy = CountDetector(config)
    copy.restore(detector.snapshot())
    assert copy.gate.memory == memory
    # Within the horizon the bar never falls below 30% of the big peak ...
    assert math.isclose(copy.gate.track(end + timedelta(days=6), 0.0), 0.3 * peak)
    # ... past it, only the decayed bar is left (1/16 of the peak after 8 days).
    past = detector.gate.track(end + timedelta(days=8), 0.0)
    assert past < 0.1 * peak and detector.gate.memory == []


def test_a_day_scale_config_can_be_switched_off() -> None:
    detector = VolumeSpikeDetector(DetectorConfig())
    assert detector.counts.sustained is None
    assert VolumeSpikeDetector().counts.sustained is None  # off by default (bench/loso.py)
    custom = VolumeSpikeDetector(DetectorConfig(sustained=SustainedConfig(open_z=3.0)))
    assert custom.counts.sustained is not None and custom.counts.sustained.config.open_z == 3.0


def test_a_burst_already_reported_is_not_a_busy_day_too() -> None:
    rng = np.random.default_rng(20)
    values = series(rng, days=12)
    burst = DAY * 10 + 60  # a Thursday, 05:00, when it is quiet
    values[burst : burst + 36] = [float(rng.poisson(10 * 30)) for _ in range(36)]
    # Three hours at ten times the night rate would make the whole day look busy ...
    day_sum = sum(values[burst - DAY + 36 : burst + 36])
    assert day_sum > 1.6 * sum(values[burst - 8 * DAY + 36 : burst - 7 * DAY + 36])
    steps = run(CountDetector(day_config()), values)
    transitions = [(i - burst, a.transition) for i, a in enumerate(steps) if a.transition]
    # ... but the window signal reported it: one page, at the burst, and the
    # signal resolves when the burst is over instead of staying open a day as
    # a busy day (nor opening again as one).
    assert [t for _, t in transitions].count("open") == 1
    assert transitions[0][1] == "open" and transitions[0][0] <= 3
    assert transitions[-1][1] == "resolved" and transitions[-1][0] <= 36 + 12
    assert all(a.day is None for a in steps[burst:])


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(min_value=0, max_value=50), min_size=1, max_size=6 * 40),
    cut=st.integers(min_value=0, max_value=6 * 40),
)
def test_blocks_hold_every_count_and_a_restore_anywhere_changes_nothing(
    counts: list[int], cut: int
) -> None:
    """Property: the day sum is the last 24 hours' counts; a snapshot mid-block loses none."""
    config = SustainedConfig(warmup=timedelta(hours=2), span_blocks=3, persistence=1)
    step = timedelta(minutes=10)
    whole = SustainedRise(config)
    split = SustainedRise(config)
    outputs_whole, outputs_split = [], []
    cut %= len(counts)
    for i, c in enumerate(counts):
        outputs_whole.append(whole.add(T0 + i * step, float(c)))
        if i == cut:
            split = SustainedRise.restore(split.snapshot(), config)
        outputs_split.append(split.add(T0 + i * step, float(c)))
    assert outputs_split == outputs_whole
    assert split.snapshot() == whole.snapshot()
    # Every count is in a closed block or the open one: none lost, none twice.
    closed_blocks = (len(counts) - 1) // 6
    in_recent = sum(o for o, _ in whole.recent)
    last = counts[(closed_blocks - len(whole.recent)) * 6 : closed_blocks * 6]
    assert in_recent == sum(last)
    assert whole.block_count == sum(counts[closed_blocks * 6 :])
