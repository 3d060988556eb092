"""The leave-one-series-out harness on synthetic tables and series whose answers are known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from bench.loso import (
    ALL_PROFILES,
    PROFILES,
    Knobs,
    Pool,
    Raw,
    Series,
    evaluate,
    load_scorer,
    nested_loso,
    normalise,
    one_default,
    score_outputs,
    score_table,
)
from earful.analyze.backtest import SeriesPoint, prepare_series

COSTS = {
    "standard": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.11},
    "reward_low_FP_rate": {"tpWeight": 1.0, "fnWeight": 1.0, "fpWeight": 0.22},
    "reward_low_FN_rate": {"tpWeight": 1.0, "fnWeight": 2.0, "fpWeight": 0.11},
}


def table_of(
    scores: dict[str, dict[str, float]],
) -> dict[tuple[int, float], dict[str, dict[str, Raw]]]:
    """option name -> series -> raw score, as a one-window-per-series standard table."""
    return {
        (i, 0.5): {name: {"standard": (raw, -1.0, 1)} for name, raw in per.items()}
        for i, per in enumerate(scores.values())
    }


def test_the_held_out_series_never_chooses_its_own_option() -> None:
    # Option 0 is perfect on d alone; option 1 is good everywhere else.
    table = table_of(
        {
            "perfect on d only": {"a": -1.0, "b": -1.0, "c": -1.0, "d": 1.0},
            "good elsewhere": {"a": 0.8, "b": 0.7, "c": 0.9, "d": -1.0},
        }
    )
    held = nested_loso(table, ["a", "b", "c", "d"], "standard")
    # d is scored with option 1 (chosen on a, b, c), so it scores the miss, -1.
    assert held["d"] == ((1, 0.5), (-1.0, -1.0, 1))
    assert {name: option for name, (option, _) in held.items()} == dict.fromkeys("abcd", (1, 0.5))
    # In sample, the best single option over all four is option 1 too: 1.4 against -2.
    assert normalise(r for _, r in held.values()) == pytest.approx(100 * (1.4 + 4) / 8)


def test_the_choice_changes_with_the_fold_when_the_evidence_does() -> None:
    # Totals: option 0 = 1.5, option 1 = 1.2. Without a, option 1 wins (1.2 - 1.0 > 1.5 - 1.5).
    table = table_of(
        {
            "x": {"a": 1.5, "b": 0.0, "c": 0.0},
            "y": {"a": 1.0, "b": 0.1, "c": 0.1},
        }
    )
    held = nested_loso(table, ["a", "b", "c"], "standard")
    assert held["a"] == ((1, 0.5), (1.0, -1.0, 1))
    assert held["b"] == ((0, 0.5), (0.0, -1.0, 1))
    assert held["c"] == ((0, 0.5), (0.0, -1.0, 1))


def test_normalise_is_zero_for_never_firing_and_100_for_perfect() -> None:
    assert normalise([(-2.0, -2.0, 2), (-1.0, -1.0, 1)]) == 0.0
    assert normalise([(2.0, -2.0, 2), (1.0, -1.0, 1)]) == 100.0


def test_score_outputs_matches_nab_on_a_hand_made_series() -> None:
    scorer = load_scorer()
    n = 1000
    windows = [(500, 599)]
    first_row = [0.0] * n
    first_row[500] = 1.0  # at the window's left edge: nearly the full tp weight
    never = [0.0] * n
    noisy = [0.0] * n
    noisy[200] = 1.0  # before the first window: a full false positive
    first = score_outputs(first_row, windows, COSTS, scorer, (0.5,))[0.5]
    assert first["standard"][0] == pytest.approx(1.0, abs=0.02)
    assert score_outputs(never, windows, COSTS, scorer, (0.5,))[0.5]["standard"] == (-1.0, -1.0, 1)
    fp = score_outputs(noisy, windows, COSTS, scorer, (0.5,))[0.5]
    assert fp["standard"][0] == pytest.approx(-1.11)
    assert fp["reward_low_FP_rate"][0] == pytest.approx(-1.22)


def synthetic(name: str, spike_at: int | None, seed: int) -> Series:
    rng = np.random.default_rng(seed)
    values = [float(v) for v in rng.poisson(30, size=2000)]
    windows: tuple[tuple[int, int], ...] = ()
    if spike_at is not None:
        values[spike_at : spike_at + 6] = [600.0] * 6
        windows = ((spike_at - 20, spike_at + 80),)
    t0 = datetime(2026, 3, 2, tzinfo=UTC)
    points = tuple(
        SeriesPoint(t0 + i * timedelta(minutes=5), str(i), v) for i, v in enumerate(values)
    )
    return Series(
        "synthetic",
        name,
        points,
        prepare_series(points),
        prepare_series(points, poisson_test=False, grid_test=False),
        prepare_series(points, grid_test=False),
        windows,
    )


def test_the_harness_finds_an_obvious_spike_and_scores_it_near_perfect() -> None:
    series = [synthetic("a.csv", 1500, 1), synthetic("b.csv", 1200, 2)]
    grid = (Knobs(), Knobs(open_surprise=16.0))
    table = score_table(grid, series, COSTS)
    for option in table["alert"].values():
        for per in option.values():
            raw, null, windows = per["standard"]
            assert windows == 1 and null == -1.0
            assert raw > 0.75  # hit early in the window, no false positive
    held = nested_loso(table["alert"], ["a.csv", "b.csv"], "standard")
    assert normalise(r for _, r in held.values()) > 87.5
    # The anomaly_score protocol offers the alert's threshold, 0.5, so it has the alert's score.
    at_half = {k: v for k, v in table["anomaly_score"].items() if k[1] == 0.5}
    for (c, _), by_series in at_half.items():
        assert by_series == table["alert"][(c, 0.5)]
        assert set(by_series["a.csv"]) == set(PROFILES)


def test_one_default_is_chosen_on_the_three_profiles_together() -> None:
    # Option 0 wins the standard profile by a little, option 1 the other two by a lot.
    def per(std: float, low_fp: float, low_fn: float) -> dict[str, Raw]:
        return {
            "standard": (std, -1.0, 1),
            "reward_low_FP_rate": (low_fp, -1.0, 1),
            "reward_low_FN_rate": (low_fn, -2.0, 1),
        }

    table: dict[tuple[int, float], dict[str, dict[str, Raw]]] = {
        (0, 0.5): {n: per(0.6, -0.5, 0.5) for n in "abc"},
        (1, 0.5): {n: per(0.5, 0.4, 0.5) for n in "abc"},
    }
    assert {n: o for n, (o, _) in nested_loso(table, list("abc"), "standard").items()} == (
        dict.fromkeys("abc", (0, 0.5))
    )
    combined = one_default(table)
    assert combined[(1, 0.5)]["a"][ALL_PROFILES][0] == pytest.approx(1.4)
    held = nested_loso(combined, list("abc"), ALL_PROFILES)
    assert {n: o for n, (o, _) in held.items()} == dict.fromkeys("abc", (1, 0.5))


def test_each_detector_chooses_its_own_values_and_is_scored_on_its_own_series() -> None:
    # Counts (a, b) prefer option 0, measurements (c, d, e) option 1; over all five
    # together option 1 wins (totals 0.4 against 1.1), so one choice would cost a and b.
    def per(raw: float) -> dict[str, Raw]:
        return {p: (raw, -1.0, 1) for p in PROFILES}

    table: dict[tuple[int, float], dict[str, dict[str, Raw]]] = {
        (0, 0.5): {"a": per(0.9), "b": per(0.8), "c": per(-0.4), "d": per(-0.5), "e": per(-0.4)},
        (1, 0.5): {"a": per(-0.9), "b": per(-0.8), "c": per(0.9), "d": per(0.9), "e": per(1.0)},
    }
    grid = (Knobs(open_surprise=3.5), Knobs())
    kinds = {"a": "counts", "b": "counts", "c": "measure", "d": "measure", "e": "measure"}
    series = [
        Series("corpus", n, (), _Prepared(k), _Prepared(k), _Prepared(k), ())  # type: ignore[arg-type]
        for n, k in kinds.items()
    ]
    tables = {"alert": table, "anomaly_score": table}
    pools = [
        Pool(kind, grid, tables, tuple(n for n, k in kinds.items() if k == kind))
        for kind in ("counts", "measure")
    ]
    report = evaluate(pools, series, {"counts": grid[0], "measure": grid[1]})
    picks = report["one_default"]["folds_picked"]
    assert picks == {"counts": {grid[0].label: 2}, "measure": {grid[1].label: 3}}
    standard = report["profiles"]["standard"]
    # Every series is scored under its own detector's choice, in sample and held out alike:
    # (0.9 + 0.8 + 0.9 + 0.9 + 1.0 + 5) / (5 + 5).
    for key in ("nested_loso_one_default", "in_sample_best", "default"):
        assert standard[key]["all 53"] == pytest.approx(100 * 9.5 / 10), key
    one = [Pool("all", grid, tables, tuple(kinds))]
    together = evaluate(one, series, {"all": grid[1]})["profiles"]["standard"]
    # One choice for all five: in sample option 1 (a and b score their misses)...
    assert together["in_sample_best"]["all 53"] == pytest.approx(100 * 6.1 / 10)
    # ... and held out every fold turns against its series: without a count series the
    # measurements' option wins, without a measurement the counts' one (totals 1.2 and 3.3
    # over the three profiles): (-0.9 - 0.8 - 0.4 - 0.5 - 0.4 + 5) / 10.
    assert together["nested_loso_one_default"]["all 53"] == pytest.approx(100 * 2.0 / 10)


class _Prepared:
    """The part of a PreparedSeries ``Series.groups`` and the pools read."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
