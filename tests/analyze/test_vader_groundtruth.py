"""On general tweets Earful must not be worse than VADER: Pearson r >= 0.87 with human ratings.

Data: the 4,200 tweets VADER was validated on (Hutto & Gilbert 2014), in
``shared/data/vader-groundtruth``. Plain vaderSentiment 3.3.2 reaches r = 0.8722.
"""

from __future__ import annotations

import statistics
from pathlib import Path

import pytest
from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from earful.analyze.scoring import Scorer

GROUND_TRUTH = (
    Path(__file__).resolve().parents[3] / "shared/data/vader-groundtruth/tweets_GroundTruth.txt"
)


@pytest.fixture(scope="module")
def ratings() -> tuple[list[float], list[str]]:
    if not GROUND_TRUTH.exists():
        pytest.fail(f"ground truth missing: {GROUND_TRUTH}")
    with GROUND_TRUTH.open(encoding="utf-8") as fh:
        rows = [line.rstrip("\r\n").split("\t", 2) for line in fh if line.strip()]
    return [float(row[1]) for row in rows], [row[2] for row in rows]


def test_the_data_and_vader_are_the_documented_ones(
    ratings: tuple[list[float], list[str]],
) -> None:
    gold, texts = ratings
    assert len(texts) == 4200
    vader = SentimentIntensityAnalyzer()
    plain = [vader.polarity_scores(t)["compound"] for t in texts]
    assert statistics.correlation(plain, gold) == pytest.approx(0.8722, abs=5e-4)


def test_earful_correlates_with_human_ratings_at_least_0_87(
    ratings: tuple[list[float], list[str]],
) -> None:
    gold, texts = ratings
    scorer = Scorer(cache_size=0)
    results = [scorer.score(t) for t in texts]
    # A post Earful leaves unscored (not English) counts as neutral, as a consumer would see it.
    earful = [r.sentiment.compound if r.sentiment else 0.0 for r in results]
    assert statistics.correlation(earful, gold) >= 0.87
    assert sum(r.sentiment is None for r in results) < 20
