"""Speed work must not change results: the Scorer's output equals the pinned output exactly.

``fixtures/scoring_golden.jsonl`` holds 1,809 inputs (ground-truth tweets,
CrisisLex tweets, the example incident's posts, the test phrasings, edge cases
and seeded random mixes) with the output the scorer gave before its speed
work (see ``fixtures/make_scoring_golden.py``).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from earful.analyze.scoring import Scorer
from tests.analyze.fixtures.make_scoring_golden import GOLDEN, result_record


@pytest.fixture(scope="module")
def golden() -> list[dict[str, Any]]:
    with GOLDEN.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _mismatches(scorer: Scorer, golden: list[dict[str, Any]]) -> list[str]:
    out = []
    for record in golden:
        got = result_record(scorer.score(record["text"], record["declared_lang"]))
        if got != record["expected"]:
            out.append(f"{record['text'][:80]!r}: expected {record['expected']}, got {got}")
    return out


def test_the_golden_sample_covers_every_path(golden: list[dict[str, Any]]) -> None:
    expected = [r["expected"] for r in golden]
    assert len(golden) == 1809
    assert sum(e["outage"] is not None and e["outage"]["is_report"] for e in expected) > 300
    assert sum(bool(e["outage"] and e["outage"]["places"]) for e in expected) > 50
    assert sum(bool(e["outage"] and e["outage"]["error_codes"]) for e in expected) > 20
    assert sum(e["sentiment"] is None for e in expected) > 50
    compounds = [e["sentiment"] for e in expected if e["sentiment"] is not None]
    assert sum(s["compound"] != s["vader"]["compound"] for s in compounds) > 300


def test_scorer_output_is_unchanged(golden: list[dict[str, Any]]) -> None:
    mismatches = _mismatches(Scorer(cache_size=0), golden)
    assert not mismatches, f"{len(mismatches)} changed, first: {mismatches[:3]}"


def test_cached_answers_are_the_same_answers(golden: list[dict[str, Any]]) -> None:
    scorer = Scorer(cache_size=100)
    assert not _mismatches(scorer, golden)
    # The second pass is answered from the cache for the last 100 texts.
    assert not _mismatches(scorer, golden[-100:])
    assert scorer.cache_hits >= 100
