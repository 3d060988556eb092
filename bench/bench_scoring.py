"""Scoring throughput against a bare VADER loop over the same texts, in the same run.

Texts: the 4,200 VADER ground-truth tweets (``shared/data/vader-groundtruth``)
plus the example incident's posts (``examples/acme-incident.jsonl``) when it
exists. Two streams:

- *unique*: every text once; a fresh :class:`Scorer` per round, so nothing is
  cached and each text goes through language detection, VADER, the incident
  rules and the outage analysis;
- *with reposts*: the same texts plus 30% reposts of earlier ones (drawn with
  a fixed seed), as an incident's timeline has; the scorer's cache answers
  the reposts, the bare loop scores them again.

Each round times the bare ``SentimentIntensityAnalyzer().polarity_scores``
loop and ``Scorer.score`` back to back; the best of ``--rounds`` is kept for
each. The target is Earful >= 70% of bare VADER's throughput. Writes
``bench/results/scoring.json`` and prints a markdown table.

    python -m bench.bench_scoring [--rounds 5]
"""

from __future__ import annotations

import argparse
import json
import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from analyze.scoring import MODEL_NAME, Scorer

__all__ = ["load_texts", "main", "run_bench"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"
TARGET_RATIO = 0.70
REPOST_SHARE = 0.30
CHUNK = 100


def load_texts() -> tuple[list[str], dict[str, int]]:
    texts: list[str] = []
    counts: dict[str, int] = {}
    ground_truth = DATA / "vader-groundtruth" / "tweets_GroundTruth.txt"
    if ground_truth.exists():
        with ground_truth.open(encoding="utf-8") as fh:
            rows = [line.rstrip("\r\n").split("\t", 2) for line in fh if line.strip()]
        texts.extend(row[2] for row in rows)
        counts["vader_groundtruth"] = len(rows)
    if INCIDENT.exists():
        incident = []
        with INCIDENT.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    text = json.loads(line).get("text")
                    if isinstance(text, str):
                        incident.append(text)
        texts.extend(incident)
        counts["acme_incident"] = len(incident)
    if not texts:
        raise SystemExit("no texts: shared/data/vader-groundtruth is missing")
    return texts, counts


def _timed(run: Callable[[str], object], texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        run(text)
    return time.perf_counter() - start


def _compare(texts: list[str], rounds: int) -> dict[str, float]:
    vader = SentimentIntensityAnalyzer()
    bare_s = earful_s = float("inf")
    for _ in range(rounds):
        # A fresh scorer (empty cache) each round, built outside the timing.
        # The loops alternate every CHUNK texts so that both see the same load
        # on a machine shared with other work.
        scorer = Scorer()
        bare_round = earful_round = 0.0
        for i in range(0, len(texts), CHUNK):
            chunk = texts[i : i + CHUNK]
            bare_round += _timed(vader.polarity_scores, chunk)
            earful_round += _timed(scorer.score, chunk)
        bare_s = min(bare_s, bare_round)
        earful_s = min(earful_s, earful_round)
    return {
        "texts": len(texts),
        "bare_vader_texts_per_s": len(texts) / bare_s,
        "earful_texts_per_s": len(texts) / earful_s,
        "ratio": bare_s / earful_s,
    }


def run_bench(rounds: int = 5) -> dict[str, Any]:
    texts, counts = load_texts()
    rng = random.Random(4)
    with_reposts = list(texts)
    for _ in range(int(len(texts) * REPOST_SHARE)):
        with_reposts.insert(rng.randrange(len(with_reposts) + 1), rng.choice(texts))
    start = time.perf_counter()
    Scorer()
    load_s = time.perf_counter() - start
    return {
        "model": MODEL_NAME,
        "sources": counts,
        "rounds": rounds,
        "scorer_load_s": load_s,
        "unique": _compare(texts, rounds),
        "with_reposts": {"repost_share": REPOST_SHARE, **_compare(with_reposts, rounds)},
        "target_ratio": TARGET_RATIO,
    }


def _rows(result: dict[str, Any]) -> list[tuple[str, str, str]]:
    rows: list[tuple[str, str, str]] = []
    for key, label in (("unique", "unique texts"), ("with_reposts", "with 30% reposts")):
        r = result[key]
        rows.append(
            (
                f"{label} ({r['texts']:,}): Earful / bare VADER",
                f"{r['ratio']:.0%} ({r['earful_texts_per_s']:,.0f} vs "
                f"{r['bare_vader_texts_per_s']:,.0f} texts/s)",
                f">= {TARGET_RATIO:.0%}",
            )
        )
    rows.append(("scorer start-up (lexicon and gazetteer)", f"{result['scorer_load_s']:.2f} s", ""))
    return rows


def main(rounds: int = 5) -> dict[str, Any]:
    result = run_bench(rounds)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scoring.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return {"title": "scoring", "rows": _rows(result), **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    out = main(parser.parse_args().rounds)
    print("| benchmark | result | target |\n|---|---|---|")
    for metric, value, target in out["rows"]:
        print(f"| scoring: {metric} | {value} | {target} |")
