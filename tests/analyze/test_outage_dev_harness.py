"""The outage development harness's measures (bench/outage_dev.py), on hand-made rankings."""

from __future__ import annotations

import pytest

from bench.outage_dev import (
    DEV_SOURCES,
    Post,
    Prediction,
    average_precision,
    evaluate,
    keyword_detector,
    part_of,
    prf,
)


def test_precision_recall_f1() -> None:
    gold = [True, True, False, False]
    assert prf(gold, [True, False, True, False]) == (0.5, 0.5, 0.5)
    assert prf(gold, [False] * 4) == (0.0, 0.0, 0.0)


def test_average_precision_of_perfect_and_inverted_rankings() -> None:
    gold = [True, False, True, False]
    assert average_precision(gold, [0.9, 0.1, 0.8, 0.2]) == 1.0
    # Positives ranked 3rd and 4th: (1/3 + 2/4) / 2.
    assert average_precision(gold, [0.1, 0.9, 0.2, 0.8]) == pytest.approx((1 / 3 + 2 / 4) / 2)


def test_ties_count_against_the_ranking() -> None:
    # Everything tied: the positive is placed after the negatives.
    assert average_precision([True, False, False], [0.5, 0.5, 0.5]) == pytest.approx(1 / 3)


def test_evaluate_reports_recall_per_symptom_and_f1_per_source() -> None:
    posts = [
        Post("a", "x", True, "power", "s1"),
        Post("b", "y", True, "power", "s1"),
        Post("c", "z", False, None, "s2"),
    ]
    predictions = [Prediction(True, 0.9), Prediction(False, 0.1), Prediction(True, 0.8)]
    result = evaluate(posts, predictions)
    assert result["recall_by_symptom"] == {"power": "1/2"}
    assert result["f1_by_source"] == {"s1": pytest.approx(0.667, abs=1e-3), "s2": 0.0}
    assert result["precision"] == 0.5


def test_the_keyword_baseline_and_the_source_split() -> None:
    assert keyword_detector("the site is down").is_report
    assert not keyword_detector("lovely morning").is_report
    assert part_of(Post("a", "x", True, None, next(iter(DEV_SOURCES)))) == "development"
    assert part_of(Post("a", "x", True, None, "s140")) == "later"
