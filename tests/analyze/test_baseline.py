"""The seasonal negative-binomial baseline: profile, drift, dispersion, state."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np

from earful.analyze.baseline import BaselineConfig, SeasonalBaseline, ShareBaseline
from tests.analyze.detect_fixtures import T0

STEP = timedelta(minutes=5)


def daily_rate(i: int, base: float = 40.0) -> float:
    """A lunchtime peak four times the night-time rate."""
    hour = ((T0 + i * STEP).hour + (T0 + i * STEP).minute / 60.0) % 24
    return base * (1.0 + 1.5 * (1.0 + math.cos((hour - 13.0) / 24.0 * 2 * math.pi)))


def feed(baseline: SeasonalBaseline, values: list[float], offset: int = 0) -> None:
    for i, v in enumerate(values, start=offset):
        start = T0 + i * STEP
        baseline.update(start, start + STEP, v)


def test_learns_the_time_of_day_profile() -> None:
    rng = np.random.default_rng(1)
    n = 288 * 10
    baseline = SeasonalBaseline()
    feed(baseline, [float(rng.poisson(daily_rate(i))) for i in range(n)])
    noon, night = n + (13 - 10) * 12, n + (25 - 10) * 12  # 13:00 and 01:00 the next day
    got = baseline.expect(T0 + noon * STEP).mean / baseline.expect(T0 + night * STEP).mean
    want = daily_rate(noon) / daily_rate(night)
    assert abs(got / want - 1) < 0.25, (got, want)


def test_follows_a_lasting_level_shift() -> None:
    rng = np.random.default_rng(2)
    baseline = SeasonalBaseline()
    feed(baseline, [float(rng.poisson(50)) for _ in range(288 * 3)])
    feed(baseline, [float(rng.poisson(100)) for _ in range(288 * 2)], offset=288 * 3)
    assert abs(baseline.expect(T0 + 288 * 5 * STEP).mean / 100 - 1) < 0.2


def test_one_burst_does_not_move_the_baseline() -> None:
    rng = np.random.default_rng(3)
    baseline = SeasonalBaseline()
    feed(baseline, [float(rng.poisson(20)) for _ in range(288)])
    before = baseline.expect(T0 + 288 * STEP).mean
    feed(baseline, [5000.0], offset=288)
    after = baseline.expect(T0 + 289 * STEP).mean
    assert after < before * 1.3


def test_dispersion_is_learned_and_starts_conservative() -> None:
    rng = np.random.default_rng(4)
    cfg = BaselineConfig()
    poisson, bursty = SeasonalBaseline(cfg), SeasonalBaseline(cfg)
    assert poisson.dispersion() == cfg.dispersion_prior
    feed(poisson, [float(rng.poisson(30)) for _ in range(288 * 4)])
    # Gamma-Poisson with dispersion 0.3: variance = mu + 0.3 mu^2.
    lam = rng.gamma(1 / 0.3, 30 * 0.3, size=288 * 4)
    feed(bursty, [float(rng.poisson(x)) for x in lam])
    assert poisson.dispersion() < 0.05
    assert 0.12 < bursty.dispersion() < 0.45


def test_a_burst_barely_widens_the_learned_spread() -> None:
    """The dispersion learns from winsorised residuals: a calm NB stream's spread is
    learned about right, and an hour at four times the usual count hardly moves it
    (with the old uncorrected 3-sigma clip it rose by almost 40%)."""
    rng = np.random.default_rng(5)
    baseline = SeasonalBaseline()
    n, size, mean = 288 * 4, 20.0, 40.0  # dispersion 1/size = 0.05
    feed(baseline, [float(v) for v in rng.negative_binomial(size, size / (size + mean), n)])
    calm = baseline.learned_dispersion()
    assert 0.035 < calm < 0.07
    feed(baseline, [4 * mean] * 12, offset=n)
    assert baseline.learned_dispersion() < calm * 1.1


def test_snapshot_round_trip() -> None:
    rng = np.random.default_rng(5)
    a = SeasonalBaseline()
    feed(a, [float(rng.poisson(10)) for _ in range(500)])
    b = SeasonalBaseline.restore(a.snapshot(), a.config)
    later = T0 + 600 * STEP
    assert b.expect(later) == a.expect(later)
    feed(a, [7.0], offset=500)
    feed(b, [7.0], offset=500)
    assert b.snapshot() == a.snapshot()


def test_share_baseline_learns_share_and_overdispersion() -> None:
    rng = np.random.default_rng(6)
    share = ShareBaseline()
    for i in range(2000):
        n = 40
        q = rng.beta(0.3 * 9, 0.7 * 9)  # share 0.3, correlation 0.1
        share.update(T0 + i * STEP, float(rng.binomial(n, q)), float(n))
    assert abs(share.share() - 0.3) < 0.05
    assert 0.05 < share.correlation() < 0.2
    restored = ShareBaseline.restore(share.snapshot(), share.config)
    assert restored.share() == share.share() and restored.correlation() == share.correlation()


def test_a_snapshot_from_before_the_weekly_level_restores() -> None:
    from datetime import UTC, datetime, timedelta

    baseline = SeasonalBaseline()
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    for i in range(600):
        start = t0 + i * timedelta(minutes=5)
        baseline.update(start, start + timedelta(minutes=5), 10.0 + i % 3)
    state = baseline.snapshot()
    del state["slow"]  # written before the weekday factors had their own weekly level
    restored = SeasonalBaseline.restore(state, BaselineConfig())
    assert (restored.slow_sum, restored.slow_weight) == (0.0, 0.0)
    start = t0 + 600 * timedelta(minutes=5)
    after = restored.update(start, start + timedelta(minutes=5), 11.0)
    assert after == baseline.expect(start)
    assert restored.slow_weight == 1.0  # it starts learning again
