"""Detectors: count-aware tails, seasonal quiet, steps, resolution, hysteresis, state."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import timedelta

import numpy as np
from scipy.stats import binom, nbinom, poisson

from earful.analyze.baseline import Expectation
from earful.analyze.detectors import (
    CountDetector,
    DetectorConfig,
    EpisodeGate,
    MeasureDetector,
    NegativeSurgeDetector,
    OutageBurstDetector,
    build_signal,
    count_tail,
    measure_config,
    share_tail,
    volume_config,
)
from earful.analyze.windows import ClosedWindow
from earful.events import WindowStats
from tests.analyze.detect_fixtures import STEP, T0, scored
from tests.analyze.detect_fixtures import run_counts as run


def seasonal(rng: np.random.Generator, days: int, base: float = 30.0) -> list[float]:
    values = []
    for i in range(288 * days):
        t = T0 + i * STEP
        hour = t.hour + t.minute / 60
        weekday = 0.6 if t.weekday() >= 5 else 1.0
        # A sharp lunchtime peak, five times the night-time rate.
        rate = base * weekday * (1 + 4 * math.exp(-(((hour - 12.5) / 1.2) ** 2)))
        values.append(float(rng.poisson(rate)))
    return values


def test_tails_match_scipy() -> None:
    exp = Expectation(mean=12.0, dispersion=0.25)
    size = 1 / 0.25
    for x in (1, 5, 12, 30, 80):
        assert math.isclose(count_tail(x, exp), nbinom.sf(x - 1, size, size / (size + 12.0)))
    assert math.isclose(count_tail(20, Expectation(12.0, 0.0)), poisson.sf(19, 12.0))
    assert count_tail(0, exp) == 1.0
    assert math.isclose(share_tail(30, 50, 0.2, 0.0), binom.sf(29, 50, 0.2))
    # Over-dispersion widens the tail.
    assert share_tail(30, 50, 0.2, 0.1) > share_tail(30, 50, 0.2, 0.0)


def test_a_jump_from_zero_to_three_is_not_an_incident() -> None:
    detector = CountDetector()
    rng = np.random.default_rng(1)
    run(detector, [float(rng.poisson(0.3)) for _ in range(288)])
    steps = run(detector, [3.0, 3.0, 3.0, 4.0], offset=288)
    assert not any(a.transition for a in steps)


def test_no_signal_for_seasonal_peaks() -> None:
    detector = CountDetector()
    steps = run(detector, seasonal(np.random.default_rng(2), days=14))
    opened = [a.window_start for a in steps if a.transition == "open"]
    assert opened == []
    # The peaks are not quiet: the baseline expects them.
    peak = max(steps[-288:], key=lambda a: a.expected)
    assert peak.expected > 3 * min(a.expected for a in steps[-288:])


def test_step_opens_within_two_windows_and_resolves_once_after_recovery() -> None:
    rng = np.random.default_rng(3)
    detector = CountDetector()
    history = seasonal(rng, days=8)[: 288 * 7 + 144]  # ends at 22:00, when it is quiet
    run(detector, history)
    n = len(history)
    # Two hours at six times the usual night-time rate, then back to normal.
    surge = [float(rng.poisson(6 * 30)) for _ in range(24)]
    after = [float(rng.poisson(30)) for _ in range(60)]
    steps = run(detector, surge + after, offset=n)
    transitions = [(i, a.transition) for i, a in enumerate(steps) if a.transition]
    assert transitions[0][1] == "open" and transitions[0][0] <= 1
    states = [t for _, t in transitions]
    assert states.count("open") == 1 and states.count("resolved") == 1
    resolved_at = next(i for i, t in transitions if t == "resolved")
    assert 24 <= resolved_at <= 24 + detector.config.resolve_after + 3
    assert all(a.is_open for a in steps[transitions[0][0] : 24])


def test_severity_grows_with_the_surge() -> None:
    rng = np.random.default_rng(4)
    detector = CountDetector()
    run(detector, [float(rng.poisson(50)) for _ in range(288 * 2)])
    steps = run(detector, [400.0, 2000.0, 5000.0], offset=288 * 2)
    severities = [a.severity for a in steps]
    assert steps[1].transition == "open" and severities[-1] == "critical"


def test_cold_start_is_quiet_then_uses_a_conservative_prior() -> None:
    detector = CountDetector()
    early = run(detector, [5.0] * 10 + [200.0, 200.0])
    assert not any(a.transition for a in early)  # under min_history windows: silent
    detector = CountDetector()
    steps = run(detector, [10.0, 12.0, 9.0, 11.0] * 10 + [25.0, 25.0] + [150.0, 160.0])
    assert [a.transition for a in steps[40:42]] == [None, None]  # 2.5x a young baseline
    assert steps[43].transition == "open"  # 15x is an incident even on day one


def test_restore_mid_episode_does_not_reopen() -> None:
    rng = np.random.default_rng(5)
    history = [float(rng.poisson(40)) for _ in range(400)]
    surge = [400.0] * 6
    tail = [float(rng.poisson(40)) for _ in range(20)]
    whole = CountDetector()
    expected = run(whole, history + surge + tail)
    first = CountDetector()
    got = run(first, history + surge[:3])
    second = CountDetector()
    second.restore(first.snapshot())
    got += run(second, surge[3:] + tail, offset=403)
    assert [(a.transition, a.severity, a.expected) for a in got] == [
        (a.transition, a.severity, a.expected) for a in expected
    ]
    assert [a.transition for a in got].count("open") == 1


def window(i: int, **fields: int) -> ClosedWindow:
    start = T0 + timedelta(minutes=i)
    stats = WindowStats(
        subject="acme",
        window_start=start,
        window_end=start + timedelta(minutes=1),
        mentions=fields.get("mentions", 0),
        unique_authors=fields.get("mentions", 0),
        negative=fields.get("negative", 0),
        negative_share=0.0,
        outage_reports=fields.get("reports", 0),
    )
    sample = scored(start, source="bluesky", text="acme is down", mention_id=f"m{i}")
    return ClosedWindow(
        stats=stats, scored=fields.get("mentions", 0), samples=(sample,), outage_samples=(sample,)
    )


def test_negative_surge_is_about_share_not_volume() -> None:
    rng = np.random.default_rng(6)
    detector = NegativeSurgeDetector()
    for i in range(120):
        n = int(rng.poisson(40))
        detector.assess(window(i, mentions=n, negative=int(rng.binomial(n, 0.2))))
    # Volume triples at the usual share: no negative surge.
    for i in range(120, 130):
        a = detector.assess(window(i, mentions=120, negative=int(rng.binomial(120, 0.2))))
        assert a.transition is None
    # The share jumps to 70%: a surge.
    transitions = [
        detector.assess(window(i, mentions=40, negative=28)).transition for i in range(130, 134)
    ]
    assert "open" in transitions[:2]


def test_outage_burst_opens_and_its_signal_carries_evidence() -> None:
    detector = OutageBurstDetector()
    windows = [window(i, mentions=10, reports=int(i % 17 == 0)) for i in range(60)]
    windows += [window(60 + i, mentions=40, reports=9) for i in range(3)]
    windows += [window(63 + i, mentions=10) for i in range(10)]
    signals = []
    for w in windows:
        signal = build_signal(detector, w, detector.assess(w))
        if signal is not None:
            signals.append(signal)
    assert [s.state for s in signals] == ["open", "resolved"]
    opened, resolved = signals
    assert opened.window_end <= T0 + timedelta(minutes=62)  # within two windows of the onset
    assert opened.id == resolved.id and opened.kind == "outage_burst"
    assert opened.observed == 9 and opened.expected < 1
    assert opened.evidence.samples[0].text == "acme is down"
    assert opened.evidence.trend[-1] == 9
    assert resolved.resolved_at is not None


def test_a_smaller_burst_soon_after_a_big_one_does_not_page_again() -> None:
    """The self-calibrating bar: a subject's own recent bursts raise its bar, for a while."""

    def opened(config: DetectorConfig) -> list[int]:
        rng = np.random.default_rng(8)
        values = [float(rng.poisson(30)) for _ in range(288 * 3)]
        big, small = 288 * 2, 288 * 2 + 36  # the second burst comes three hours later
        values[big : big + 6] = [float(rng.poisson(400)) for _ in range(6)]
        values[small : small + 3] = [float(rng.poisson(200)) for _ in range(3)]
        steps = run(CountDetector(config), values)
        return [i - big for i, a in enumerate(steps) if a.transition == "open"]

    calibrated = opened(DetectorConfig())
    assert len(calibrated) == 1 and 0 <= calibrated[0] <= 1
    # Without the bar the smaller burst would have paged too.
    assert len(opened(DetectorConfig(bar_half_life=timedelta(0)))) == 2


def test_the_bar_decays_and_survives_a_restore() -> None:
    detector = CountDetector()
    rng = np.random.default_rng(9)
    values = [float(rng.poisson(30)) for _ in range(288)]
    values[200:204] = [400.0, 420.0, 380.0, 390.0]
    run(detector, values)
    end = T0 + 288 * STEP
    bar_now = detector.gate.track(end, 0.0)
    assert bar_now > detector.config.open_surprise
    copy = CountDetector()
    copy.restore(detector.snapshot())
    # Two days later the same burst counts half (the default half-life is two days).
    later = end + timedelta(days=2)
    assert math.isclose(copy.gate.track(later, 0.0), bar_now / 2, rel_tol=1e-6)


def test_a_long_shift_teaches_the_bar_only_what_it_needed_to_page() -> None:
    """bar_source="opening": an episode's length does not raise the bar, its opening does."""

    def detector(source: str) -> CountDetector:
        return CountDetector(replace(volume_config(), bar_source=source))  # type: ignore[arg-type]

    rng = np.random.default_rng(12)
    values = [float(rng.poisson(30)) for _ in range(288 * 2)]
    # A shift to ten times the level for a day: the baseline takes hours to relearn it.
    values[300:588] = [float(rng.poisson(300)) for _ in range(288)]
    peak, opening = detector("peak"), detector("opening")
    run(peak, values)
    run(opening, values)
    end = T0 + len(values) * STEP
    opening_bar = opening.gate.track(end, 0.0)
    # The opening evidence is a few windows' worth; the whole day's is far more.
    assert opening.config.open_surprise <= opening_bar < 300.0
    assert peak.gate.track(end, 0.0) > 10 * opening_bar
    copy = detector("opening")
    copy.restore(opening.snapshot())
    assert copy.gate.track(end, 0.0) == opening_bar


def test_a_lone_window_opens_only_with_the_lone_window_rule_and_enough_evidence() -> None:
    def opened(factor: float | None, spike: float) -> list[int]:
        rng = np.random.default_rng(13)
        values = [float(rng.poisson(30)) for _ in range(400)]
        values[350] = spike
        config = replace(volume_config(), lone_window_factor=factor)
        return [i for i, a in enumerate(run(CountDetector(config), values)) if a.transition]

    assert opened(None, 600.0) == []  # persistence: one window never pages by itself
    assert opened(2.0, 600.0)[:1] == [350]
    # A lone window must bring twice what an opening needs: 45 against about 30 does not.
    assert opened(2.0, 45.0) == []


def test_a_measurement_window_carries_at_most_the_count_detectors_largest_surprise() -> None:
    detector = MeasureDetector()
    rng = np.random.default_rng(14)
    steps = [
        detector.step(T0 + i * STEP, T0 + (i + 1) * STEP, float(v))
        for i, v in enumerate(rng.normal(5.0, 0.1, size=400))
    ]
    # A reading 1e13 scales out: its normal tail underflows any float, as a count's can.
    jump = detector.step(T0 + 400 * STEP, T0 + 401 * STEP, 1e12)
    assert max(a.surprise for a in steps[300:]) < 20.0  # once the day profile is in use
    assert jump.surprise == 300.0


def _gate_opens(config: DetectorConfig, surprises: dict[int, float], windows: int) -> list[int]:
    """The windows where an EpisodeGate opens, fed ``surprises`` (window -> surprise, else 0)."""
    gate = EpisodeGate(config)
    opened = []
    for i in range(windows):
        start = T0 + i * STEP
        transition = gate.step(
            start, start + STEP, surprises.get(i, 0.0), 100.0, 10.0, warmed_up=True
        )
        if transition == "open":
            opened.append(i)
    return opened


#: No self-calibrating bar, so only the refractory rule raises what an opening needs.
_PLAIN = DetectorConfig(open_surprise=3.5, hold_surprise=1.5, bar_half_life=timedelta(0))
_DAY = 288  # five-minute windows


def test_a_problem_back_within_the_refractory_period_needs_twice_the_evidence() -> None:
    # Opens on its second window at evidence 2.5 + 2.5 = 5; resolves 5 calm windows later.
    first = {0: 4.0, 1: 4.0}
    # The same problem an hour later gathers 2.5 a window: 2.5, 5, 7.5, 10, 12.5.
    again = {12 + i: 4.0 for i in range(5)}
    assert _gate_opens(_PLAIN, first | again, 40) == [1, 13]
    refractory = replace(_PLAIN, refractory=timedelta(hours=24))
    # Twice the 5 the first signal opened on: only evidence above 10 opens.
    assert _gate_opens(refractory, first | again, 40) == [1, 16]
    # The same size of problem only pages again once the period is over.
    assert _gate_opens(refractory, first | {12: 4.0, 13: 4.0}, 40) == [1]
    late = {_DAY + 10: 4.0, _DAY + 11: 4.0}
    assert _gate_opens(refractory, first | late, _DAY + 20) == [1, _DAY + 11]


def test_a_problem_that_keeps_flapping_restarts_the_refractory_period() -> None:
    refractory = replace(_PLAIN, refractory=timedelta(hours=24))
    first = {0: 4.0, 1: 4.0}
    late = {_DAY + 10: 4.0, _DAY + 11: 4.0}
    # 24 h after the first signal resolved, the period is over.
    assert _gate_opens(refractory, first | late, _DAY + 20) == [1, _DAY + 11]
    # Back an hour later with enough to page but for the rule: the period restarts there.
    flap = {12: 4.0, 13: 4.0}
    assert _gate_opens(refractory, first | flap | late, _DAY + 20) == [1]
    assert _gate_opens(refractory, first | flap | {_DAY + 20: 4.0, _DAY + 21: 4.0}, _DAY + 30) == [
        1,
        _DAY + 21,
    ]


def test_a_page_inside_the_refractory_period_doubles_what_the_next_one_needs() -> None:
    refractory = replace(_PLAIN, refractory=timedelta(hours=24))
    first = {0: 4.0, 1: 4.0}  # opens on 5
    second = {12 + i: 4.0 for i in range(5)}  # needs above 10: opens on 12.5 at window 16
    # The next one needs above 25: ten windows bring 25.0, the eleventh 27.5.
    third = {40 + i: 4.0 for i in range(10)}
    assert _gate_opens(refractory, first | second | third, 80) == [1, 16]
    fourth = {40 + i: 4.0 for i in range(11)}
    assert _gate_opens(refractory, first | second | fourth, 80) == [1, 16, 50]


def test_the_refractory_period_survives_a_restore() -> None:
    config = replace(_PLAIN, refractory=timedelta(hours=24))
    gate = EpisodeGate(config)
    for i, surprise in enumerate([4.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0]):
        gate.step(T0 + i * STEP, T0 + (i + 1) * STEP, surprise, 100.0, 10.0, warmed_up=True)
    assert not gate.is_open and gate.opened_on == 5.0
    copy = EpisodeGate(config)
    copy.restore(gate.snapshot())
    assert copy.refractory_until == gate.refractory_until == (T0 + 7 * STEP).timestamp() + 86400
    assert copy.opened_on == 5.0


def test_the_long_memory_can_learn_whole_runs_while_the_bar_learns_openings() -> None:
    """memory_of_peaks: a long episode teaches the long memory its size, not its opening."""
    config = replace(
        _PLAIN, bar_source="opening", bar_memory_share=0.5, bar_memory=timedelta(days=28)
    )
    # Twenty windows at 4 gather 2.5 each: the run opens at 5 and peaks at 50.
    long_run = {i: 4.0 for i in range(20)}
    # Later, a run of twelve windows: 2.5, 5, ..., 30.
    later = {200 + i: 4.0 for i in range(12)}
    # The memory holds the opening evidence 5: half of it is 2.5, so 5 opens.
    assert _gate_opens(config, long_run | later, 260) == [1, 201]
    # The memory holds the whole run's 50: half of it is 25, so only evidence above 25 opens.
    peaks = replace(config, memory_of_peaks=True)
    assert _gate_opens(peaks, long_run | later, 260) == [1, 210]


def test_a_page_teaches_the_bar_what_it_needed_not_how_far_it_overshot() -> None:
    """bar_source="need": one window at p = 1e-100 does not hold the series to 98.5 for days."""
    opening = replace(
        _PLAIN, bar_half_life=timedelta(days=2), lone_window_factor=2.0, bar_source="opening"
    )
    need = replace(opening, bar_source="need")
    # A lone window of 100 opens on 98.5 (twice the 3.5 needed is enough); eight hours later
    # (100 five-minute windows) a run of two windows at 4 gathers 2.5 + 2.5 = 5.
    spike_then_run = {0: 100.0, 100: 4.0, 101: 4.0}
    # Learned from the opening evidence, the bar is 98.5 decayed over about 8 hours (a sixth
    # of its two-day half-life): about 87, and 5 does not open.
    assert _gate_opens(opening, spike_then_run, 120) == [0]
    # Learned from the need, it is 3.5 decayed alike, about 3.1: 5 opens.
    assert _gate_opens(need, spike_then_run, 120) == [0, 101]
    gate = EpisodeGate(need)
    for i in range(6):
        gate.step(
            T0 + i * STEP,
            T0 + (i + 1) * STEP,
            100.0 if i == 0 else 0.0,
            100.0,
            10.0,
            warmed_up=True,
        )
    assert gate.bar_value == 3.5 and gate.opened_on == 98.5


def test_a_flapping_count_series_backs_off() -> None:
    """The volume defaults: a burst back every three hours pages less and less often."""

    def opened(config: DetectorConfig) -> list[int]:
        rng = np.random.default_rng(21)
        values = [float(rng.poisson(30)) for _ in range(288 * 3)]
        for start in range(288 + 36, 288 * 2, 36):  # day two, every three hours
            values[start : start + 4] = [float(rng.poisson(150)) for _ in range(4)]
        return [
            i for i, a in enumerate(run(CountDetector(config), values)) if a.transition == "open"
        ]

    every_time = opened(replace(volume_config(), refractory=None))
    assert len(every_time) == 7  # each of the seven bursts
    backing_off = opened(volume_config())
    # The first burst pages as before; the next ones need twice the evidence, then four times.
    assert len(backing_off) == 3 and backing_off[0] == every_time[0]
    assert backing_off[2] - backing_off[1] > backing_off[1] - backing_off[0]


def test_counts_and_measurements_each_open_on_their_own_bar() -> None:
    # Two windows at 3.5 each gather 2 + 2 = 4 of evidence: a count's bar is 3.5, a
    # measurement's 5, since a negative binomial's surprise and a normal tail's on a learned
    # scale are not the same currency (each chosen in every fold of its own series).
    two = {10: 3.5, 11: 3.5}
    assert _gate_opens(volume_config(), two, 20) == [11]
    assert _gate_opens(measure_config(), two, 20) == []
    # A third such window brings the evidence to 6: the measurement opens there.
    assert _gate_opens(measure_config(), two | {12: 3.5}, 20) == [12]
    # 1.5 + 1.5 = 3 is below either bar.
    assert _gate_opens(volume_config(), {10: 3.0, 11: 3.0}, 20) == []
