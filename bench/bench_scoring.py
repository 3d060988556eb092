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

Each round times four loops side by side, every CHUNK texts in turn: the bare
``SentimentIntensityAnalyzer().polarity_scores`` loop (the reference),
:class:`~earful.analyze.vader.ExactVader` (the same scores, as the scorer computes
them), ``Scorer.score`` (the target: Earful at or above bare VADER's
throughput), and ``Scorer.score`` with the package's ``polarity_scores``
inside, which measures Earful's own extras (language, cues, incident rules,
outage analysis, result models) apart from how VADER is computed. The best of
``--rounds`` is kept for each; with ``--repeat N`` the whole comparison runs N
times and the median run (by the unique-text ratio) is reported, with every
run's ratios. The four loops evict each other's data from the caches; the
unique texts are also timed with the bare loop and Earful alone (alternating
every CHUNK texts, and each over the whole stream in turn). Writes
``bench/results/scoring.json`` and prints a markdown table.

    python -m bench.bench_scoring [--rounds 5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import statistics
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from bench import outage_dev
from earful.analyze.scoring import MODEL_NAME, Scorer, label_for
from earful.analyze.vader import ExactVader

__all__ = [
    "complaint_scores",
    "crisislex_scores",
    "examples_table",
    "groundtruth_r",
    "load_texts",
    "macro_f1",
    "main",
    "run_bench",
]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"
TARGET_RATIO = 1.0
DEV_POSTS = DATA / "outage-posts-dev" / "posts.jsonl"
#: Posts to companies written for the complaint rules (see the file's header).
COMPLAINT_POSTS = ROOT / "bench" / "data" / "complaint_posts.tsv"
#: The written sets that no rule was changed after reading (the others are in-sample):
#: each was written before it was first scored.
COMPLAINT_CHECK_SETS = ("5", "6", "7", "8", "9", "10", "11")
_CLASSES = ("negative", "neutral", "positive")
REPOST_SHARE = 0.30
CHUNK = 100
#: The loops timed side by side (see _compare).
_LOOPS = ("bare_vader", "exact_vader", "earful", "earful_package_vader")


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


def _compare(texts: list[str], rounds: int) -> dict[str, Any]:
    package = SentimentIntensityAnalyzer()
    exact = ExactVader()
    best = dict.fromkeys(_LOOPS, float("inf"))
    for _ in range(rounds):
        # Fresh scorers (empty caches) each round, built outside the timing. The
        # loops alternate every CHUNK texts so that all see the same load on a
        # machine shared with other work.
        loops: dict[str, Callable[[str], object]] = {
            "bare_vader": package.polarity_scores,
            "exact_vader": exact.polarity_scores,
            "earful": Scorer().score,
            "earful_package_vader": Scorer(vader=package).score,
        }
        spent = dict.fromkeys(_LOOPS, 0.0)
        for i in range(0, len(texts), CHUNK):
            chunk = texts[i : i + CHUNK]
            for name, loop in loops.items():
                spent[name] += _timed(loop, chunk)
        for name in _LOOPS:
            best[name] = min(best[name], spent[name])
    us = {name: best[name] / len(texts) * 1e6 for name in _LOOPS}
    return {
        "texts": len(texts),
        "bare_vader_texts_per_s": len(texts) / best["bare_vader"],
        "earful_texts_per_s": len(texts) / best["earful"],
        "ratio": best["bare_vader"] / best["earful"],
        # The same scorer with the package's polarity_scores inside: Earful's
        # extras (language, cues, outage, models) measured alone.
        "earful_package_vader_texts_per_s": len(texts) / best["earful_package_vader"],
        "ratio_with_package_vader": best["bare_vader"] / best["earful_package_vader"],
        "us_per_text": us,
        # VADER's share of Earful's time, and what the rest costs a text.
        "vader_share_of_earful": us["exact_vader"] / us["earful"],
        "extras_us_per_text": us["earful_package_vader"] - us["bare_vader"],
    }


def _head_to_head(texts: list[str], rounds: int) -> dict[str, float]:
    """Bare VADER against Earful with no other loop between them.

    The four loops of _compare evict each other's data from the processor's
    caches every CHUNK texts, which costs Earful (whose lexicons and gazetteer
    take far more memory than VADER's one dictionary) more than the bare loop.
    Here only the two alternate: every CHUNK texts, and, separately, each over
    the whole stream in turn. Best of ``rounds`` each.
    """
    package = SentimentIntensityAnalyzer()
    out: dict[str, float] = {}
    for mode, chunk in (("chunks", CHUNK), ("whole_stream", len(texts))):
        best = {"bare_vader": float("inf"), "earful": float("inf")}
        for _ in range(rounds):
            loops: dict[str, Callable[[str], object]] = {
                "bare_vader": package.polarity_scores,
                "earful": Scorer().score,
            }
            spent = dict.fromkeys(best, 0.0)
            for i in range(0, len(texts), chunk):
                part = texts[i : i + chunk]
                for name, loop in loops.items():
                    spent[name] += _timed(loop, part)
            for name in best:
                best[name] = min(best[name], spent[name])
        out[f"ratio_{mode}"] = best["bare_vader"] / best["earful"]
    return out


def load_dev_posts() -> list[str]:
    """The real posts of ``outage-posts-dev`` (all 507), or none when absent."""
    if not DEV_POSTS.exists():
        return []
    with DEV_POSTS.open(encoding="utf-8") as fh:
        return [json.loads(line)["text"] for line in fh if line.strip()]


def run_bench(rounds: int = 5) -> dict[str, Any]:
    texts, counts = load_texts()
    rng = random.Random(4)
    with_reposts = list(texts)
    for _ in range(int(len(texts) * REPOST_SHARE)):
        with_reposts.insert(rng.randrange(len(with_reposts) + 1), rng.choice(texts))
    start = time.perf_counter()
    Scorer()
    load_s = time.perf_counter() - start
    # The same comparison per source: general tweets (ground truth) cost Earful
    # little beyond VADER; the incident's posts are short and nearly all carry
    # incident cues, places and error codes, so Earful's share of the work is larger.
    by_source: dict[str, dict[str, Any]] = {}
    offset = 0
    for source, count in counts.items():
        by_source[source] = _compare(texts[offset : offset + count], rounds)
        offset += count
    # Real public posts (tweets, Reddit comments): longer than the incident's,
    # about half with outage vocabulary. Timed as its own stream.
    dev_posts = load_dev_posts()
    if dev_posts:
        by_source["outage_posts_dev"] = _compare(dev_posts, rounds)
    return {
        "model": MODEL_NAME,
        "sources": counts,
        "rounds": rounds,
        "scorer_load_s": load_s,
        "unique": _compare(texts, rounds),
        "unique_head_to_head": _head_to_head(texts, rounds),
        "unique_by_source": by_source,
        "with_reposts": {"repost_share": REPOST_SHARE, **_compare(with_reposts, rounds)},
        "target_ratio": TARGET_RATIO,
    }


#: Posts for the plain-VADER-versus-Earful table in docs/scoring.md.
EXAMPLE_POSTS = [
    "Is acme down?",
    "acme outage",
    "can't log in to acme",
    "acme app keeps crashing on my iPhone",
    "acme is down 😂😂",
    "great, acme is down again. love it",
    "acme payments failing since 9am, error E-4012",
    "no problems with acme today",
    "acme is back up, thanks for the quick fix!",
    "still waiting for my refund 😡",
    "@acmeair please help, my flight was cancelled and I've been on hold for 2 hours",
    "thanks for nothing @acme",
    "acme will be down for maintenance tomorrow at 2pm",
    "acme stock is down 3% today",
    "acme checkout just spins, payment stuck pending",
    "no signal in Manchester since this morning",
    "acme est en panne à Paris",
]


def examples_table(posts: list[str] = EXAMPLE_POSTS) -> str:
    """Markdown: plain VADER against Earful on example posts, computed now."""
    vader = SentimentIntensityAnalyzer()
    scorer = Scorer(cache_size=0)
    lines = [
        "| post | VADER compound | Earful compound (label) | outage report | specifics |",
        "|---|---|---|---|---|",
    ]
    for post in posts:
        plain = vader.polarity_scores(post)["compound"]
        result = scorer.score(post)
        if result.sentiment is None:
            earful = f"unscored ({result.lang})"
        else:
            earful = f"{result.sentiment.compound:+.3f} ({result.sentiment.label})"
        outage = result.outage
        assert outage is not None
        specifics = ", ".join(
            [*outage.symptoms, *outage.platforms, *outage.places, *outage.error_codes]
        )
        report = f"{'yes' if outage.is_report else 'no'} ({outage.confidence:.2f})"
        lines.append(f"| {post} | {plain:+.3f} | {earful} | {report} | {specifics} |")
    return "\n".join(lines)


def groundtruth_r() -> dict[str, float]:
    """Pearson r with the human ratings, plain VADER and Earful (unscored counts as 0)."""
    path = DATA / "vader-groundtruth" / "tweets_GroundTruth.txt"
    with path.open(encoding="utf-8") as fh:
        rows = [line.rstrip("\r\n").split("\t", 2) for line in fh if line.strip()]
    gold = [float(row[1]) for row in rows]
    vader = SentimentIntensityAnalyzer()
    scorer = Scorer(cache_size=0)
    plain = [vader.polarity_scores(row[2])["compound"] for row in rows]
    results = [scorer.score(row[2]) for row in rows]
    earful = [r.sentiment.compound if r.sentiment else 0.0 for r in results]
    return {
        "plain_vader_r": statistics.correlation(plain, gold),
        "earful_r": statistics.correlation(earful, gold),
        "earful_unscored": sum(r.sentiment is None for r in results),
    }


def crisislex_scores() -> dict[str, Any]:
    """Outage-report precision and recall against CrisisLex's infrastructure label."""
    path = DATA / "crisislex-dev" / "crisislex_t26_dev.csv"
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    scorer = Scorer(cache_size=0)
    out: dict[str, Any] = {}
    not_english = ("2012_Costa_Rica_earthquake", "2012_Italy_earthquakes")
    for name, subset in (
        ("nine_english_events", [r for r in rows if r["event"] not in not_english]),
        ("all_events", rows),
    ):
        tp = fp = fn = 0
        for row in subset:
            outage = scorer.score(row["text"]).outage
            predicted = outage is not None and outage.is_report
            gold = row["is_infrastructure_and_utilities"] == "1"
            tp += predicted and gold
            fp += predicted and not gold
            fn += gold and not predicted
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        out[name] = {
            "tweets": len(subset),
            "tp": tp,
            "fp": fp,
            "fn": fn,
            "precision": precision,
            "recall": recall,
            "f1": f1,
        }
    return out


def macro_f1(gold: Sequence[str], predicted: Sequence[str]) -> tuple[float, dict[str, float]]:
    """Macro-averaged F1 over negative, neutral and positive, and each class's F1."""
    per_class: dict[str, float] = {}
    for label in _CLASSES:
        tp = sum(g == label and p == label for g, p in zip(gold, predicted, strict=True))
        fp = sum(g != label and p == label for g, p in zip(gold, predicted, strict=True))
        fn = sum(g == label and p != label for g, p in zip(gold, predicted, strict=True))
        precision = tp / (tp + fp) if tp + fp else 0.0
        recall = tp / (tp + fn) if tp + fn else 0.0
        total = precision + recall
        per_class[label] = 2 * precision * recall / total if total else 0.0
    return sum(per_class.values()) / len(_CLASSES), per_class


def complaint_scores(path: Path = COMPLAINT_POSTS) -> dict[str, Any] | None:
    """Complaint sentiment on the written posts to companies: plain VADER and Earful.

    Per part: macro-F1, F1 per class, and the negative share each reports
    against the labelled one. ``check`` is the sets no rule was changed after
    reading (also each alone: ``check_set_5`` ... ``check_set_11``); ``development``
    the sets the rules were written on.
    """
    if not path.exists():
        return None
    with path.open(encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t", 2) for line in fh if line.strip() and line[0] != "#"]
    vader = SentimentIntensityAnalyzer()
    scorer = Scorer(cache_size=0, gazetteer=None)
    out: dict[str, Any] = {}
    parts: dict[str, list[list[str]]] = {
        "check": [r for r in rows if r[0] in COMPLAINT_CHECK_SETS],
        **{f"check_set_{n}": [r for r in rows if r[0] == n] for n in COMPLAINT_CHECK_SETS},
        "development": [r for r in rows if r[0] not in COMPLAINT_CHECK_SETS],
    }
    for part, subset in parts.items():
        gold = [label for _, label, _ in subset]
        part_out: dict[str, Any] = {"posts": len(subset)}
        for name in ("vader", "earful"):
            if name == "vader":
                predicted: list[str] = [
                    label_for(vader.polarity_scores(t)["compound"]) for _, _, t in subset
                ]
            else:
                scores = [scorer.score(t).sentiment for _, _, t in subset]
                predicted = [s.label if s is not None else "neutral" for s in scores]
            macro, per_class = macro_f1(gold, predicted)
            part_out[name] = {
                "macro_f1": macro,
                "f1": per_class,
                "negative_share": predicted.count("negative") / len(predicted),
            }
        part_out["true_negative_share"] = gold.count("negative") / len(gold)
        out[part] = part_out
    return out


def outage_dev_scores() -> dict[str, Any] | None:
    """Outage reports on the real dev posts: Earful, plain VADER and a keyword rule."""
    if not DEV_POSTS.exists():
        return None
    result = outage_dev.run(outage_dev.load_posts())
    result.pop("_earful_predictions", None)
    return result


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
    h2h = result.get("unique_head_to_head")
    if h2h:
        rows.append(
            (
                "unique texts, the two loops alone: Earful / bare VADER",
                f"{h2h['ratio_chunks']:.0%} alternating every {CHUNK} texts, "
                f"{h2h['ratio_whole_stream']:.0%} each over the whole stream in turn",
                "",
            )
        )
    u = result["unique"]
    rows.append(
        (
            "unique texts: Earful with the package's polarity_scores inside / bare VADER",
            f"{u['ratio_with_package_vader']:.0%} (Earful's extras: "
            f"{u['extras_us_per_text']:.1f} us a text)",
            "",
        )
    )
    us = u["us_per_text"]
    rows.append(
        (
            "unique texts: us a text, package VADER / ExactVader / Earful",
            f"{us['bare_vader']:.1f} / {us['exact_vader']:.1f} / {us['earful']:.1f} "
            f"(VADER {u['vader_share_of_earful']:.0%} of Earful's time)",
            "",
        )
    )
    runs = result.get("runs", [])
    if len(runs) > 1:
        ratios = ", ".join(f"{r['unique_ratio']:.0%}" for r in runs)
        rows.append(("unique texts: every run's ratio (median reported)", ratios, ""))
    for source, r in result.get("unique_by_source", {}).items():
        rows.append(
            (
                f"  of which {source} ({r['texts']:,}): Earful / bare VADER",
                f"{r['ratio']:.0%} ({r['earful_texts_per_s']:,.0f} vs "
                f"{r['bare_vader_texts_per_s']:,.0f} texts/s)",
                "",
            )
        )
    rows.append(("scorer start-up (lexicon and gazetteer)", f"{result['scorer_load_s']:.2f} s", ""))
    quality = result.get("quality")
    if quality:
        gt = quality["groundtruth"]
        rows.append(("ground truth Pearson r, plain VADER", f"{gt['plain_vader_r']:.4f}", ""))
        rows.append(("ground truth Pearson r, Earful", f"{gt['earful_r']:.4f}", ">= 0.87"))
        cl = quality["crisislex"]["nine_english_events"]
        rows.append(
            (
                "CrisisLex infrastructure label, 9 English events",
                f"P {cl['precision']:.2f} R {cl['recall']:.2f} F1 {cl['f1']:.2f}",
                "",
            )
        )
        complaints = quality.get("complaints")
        if complaints:
            labels = {
                "check": "check sets 5-11",
                **{f"check_set_{n}": f"check set {n}" for n in COMPLAINT_CHECK_SETS},
                # Sets 10 and 11 were written by someone who never saw the rules or output.
                "check_set_10": "check set 10 (independent writer)",
                "check_set_11": "check set 11 (independent writer)",
                "development": "development sets 1-4 (in-sample)",
            }
            for part, label in labels.items():
                c = complaints[part]
                summary = "; ".join(
                    f"{name} macro-F1 {c[name]['macro_f1']:.2f}, negative share "
                    f"{c[name]['negative_share']:.2f}"
                    for name in ("vader", "earful")
                )
                rows.append(
                    (
                        f"complaint sentiment, written posts to companies, {label} ({c['posts']})",
                        f"{summary} (labelled {c['true_negative_share']:.2f})",
                        "",
                    )
                )
        dev = quality.get("outage_posts_dev")
        if dev:
            # Every source's errors have been read while writing rules: in-sample.
            figures = []
            for detector in ("earful", "vader", "keyword"):
                d = dev[detector]["all"]
                figures.append(
                    f"{detector} P {d['precision']:.2f} R {d['recall']:.2f} "
                    f"F1 {d['f1']:.2f} AP {d['average_precision']:.2f}"
                )
            rows.append(
                (
                    f"outage reports, real dev posts, all, in sample ({dev['earful']['all']['n']})",
                    "; ".join(figures),
                    "held-out bar: F1 >= 0.78, P >= 0.75",
                )
            )
    return rows


def main(rounds: int = 5, repeat: int = 1) -> dict[str, Any]:
    # On a shared machine one run can be unlucky: run the whole comparison
    # ``repeat`` times and keep the median run (by the unique-text ratio),
    # recording every run's ratios next to it.
    runs = [run_bench(rounds) for _ in range(max(1, repeat))]
    # Only the first run loads the lexicon and gazetteer (cached per process).
    load_s = runs[0]["scorer_load_s"]
    runs.sort(key=lambda r: r["unique"]["ratio"])
    result = runs[len(runs) // 2]
    result["scorer_load_s"] = load_s
    result["runs"] = [
        {
            "unique_ratio": r["unique"]["ratio"],
            "with_reposts_ratio": r["with_reposts"]["ratio"],
            "unique_ratio_with_package_vader": r["unique"]["ratio_with_package_vader"],
            "unique_head_to_head": r.get("unique_head_to_head"),
        }
        for r in runs
    ]
    result["quality"] = {
        "groundtruth": groundtruth_r(),
        "crisislex": crisislex_scores(),
        "outage_posts_dev": outage_dev_scores(),
        "complaints": complaint_scores(),
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "scoring.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return {"title": "scoring", "rows": _rows(result), **result}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument(
        "--repeat", type=int, default=1, help="whole runs; the median run is reported"
    )
    parser.add_argument(
        "--examples", action="store_true", help="print the VADER-versus-Earful example table only"
    )
    args = parser.parse_args()
    if args.examples:
        print(examples_table())
        raise SystemExit(0)
    out = main(args.rounds, args.repeat)
    print("| benchmark | result | target |\n|---|---|---|")
    for metric, value, target in out["rows"]:
        print(f"| scoring: {metric} | {value} | {target} |")
