"""The scoring benchmark's quality measures: macro-F1 and the written complaint posts."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.bench_scoring import COMPLAINT_POSTS, complaint_scores, macro_f1


def test_macro_f1_averages_the_three_classes() -> None:
    gold = ["negative", "negative", "neutral", "positive"]
    predicted = ["negative", "neutral", "neutral", "negative"]
    macro, per_class = macro_f1(gold, predicted)
    # negative: P 1/2, R 1/2; neutral: P 1/2, R 1; positive: never right.
    assert per_class == pytest.approx({"negative": 0.5, "neutral": 2 / 3, "positive": 0.0})
    assert macro == pytest.approx((0.5 + 2 / 3) / 3)


def test_the_written_complaint_posts_are_scored_by_part() -> None:
    assert COMPLAINT_POSTS.exists()
    result = complaint_scores()
    assert result is not None
    check, development = result["check"], result["development"]
    assert check["posts"] == 390 and development["posts"] == 200
    assert [result[f"check_set_{n}"]["posts"] for n in (5, 6, 7, 8, 9, 10, 11)] == [
        44,
        63,
        40,
        63,
        60,
        60,
        60,
    ]
    for part in (check, development):
        # Complaint-aware sentiment reads more of the complaints as negative than VADER.
        assert part["earful"]["macro_f1"] > part["vader"]["macro_f1"]
        assert part["earful"]["negative_share"] > part["vader"]["negative_share"]
        assert 0.5 < part["true_negative_share"] < 0.7


def test_a_missing_file_gives_no_figures(tmp_path: Path) -> None:
    assert complaint_scores(tmp_path / "absent.tsv") is None
