"""Outage-report detection on real posts: the development harness.

Reads ``shared/data/outage-posts-dev/posts.jsonl`` (real public posts labelled
by a written rubric; see its README) and scores three detectors on the posts
with a clear label (``ambiguous: false``):

- ``earful``: :class:`~earful.analyze.scoring.Scorer`'s ``outage.is_report``, ranked
  by ``outage.confidence``;
- ``vader``: plain VADER, a post counted as a report when its compound is
  negative (<= -0.05), ranked by minus the compound;
- ``keyword``: a plain outage-keyword regular expression (down, outage, not
  working, crash, error...), ranked by the number of keywords.

For each: precision, recall, F1, average precision of the ranking, recall
per symptom and F1 per source.

**In sample.** Earful's rules are written by hand, so "training" is a person
reading errors. The posts are split by source into two parts: the first rules
were developed reading only the errors of the *development* sources
(``DEV_SOURCES``), and the other sources' posts were held out. For the rules
of issue 14 the errors of both parts were read, so every figure here is
in-sample since then. The split is kept, as the *development* and the *later*
sources, so that the figures stay comparable with earlier ones
(docs/scoring.md says which rules were written reading which part).
``--errors`` lists the errors of the development part unless
``--errors-part later`` or ``all`` is asked for.

    python -m bench.outage_dev [--errors] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from unittest import mock

from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

from earful.analyze import outage
from earful.analyze.cues import CueScanner, Entry, lexicon_entries, scanner_for
from earful.analyze.scoring import Scorer

__all__ = [
    "ABLATIONS",
    "DEV_SOURCES",
    "Post",
    "Prediction",
    "ablate",
    "average_precision",
    "evaluate",
    "keyword_detector",
    "load_posts",
    "main",
    "prf",
]

ROOT = Path(__file__).resolve().parent.parent
POSTS = ROOT.parent / "shared" / "data" / "outage-posts-dev" / "posts.jsonl"
RESULTS = ROOT / "bench" / "results"
#: Sources whose errors were read while writing the first rules. The other sources
#: (s140, poweroutage19, goemotions, sxsw) were held out until issue 14 (now "later"),
#: whose rules were written reading the errors of both parts.
DEV_SOURCES = frozenset({"twcs", "textemotion", "tweeteval", "sanders", "appledfe", "reddit_top"})
PARTS = ("later", "development", "all")

# A plain keyword baseline: what a first attempt at "is this an outage report" looks like.
_KEYWORDS = re.compile(
    r"\b(?:down|outages?|not working|isn't working|doesn't work|can't (?:log ?in|connect|access)|"
    r"crash(?:es|ed|ing)?|errors?|broken|offline|fail(?:s|ed|ing|ure)?|no (?:internet|power|"
    r"signal|service|water)|blackout|glitch|bug|lag(?:gy|ging)?|slow|stuck|frozen|freez(?:es|ing))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Post:
    id: str
    text: str
    is_report: bool
    symptom: str | None
    source: str


@dataclass(frozen=True, slots=True)
class Prediction:
    is_report: bool
    #: Higher means more likely a report (used for average precision).
    rank: float


def load_posts(path: Path = POSTS) -> list[Post]:
    """The posts with a clear label (ambiguous ones are left out, as the README says)."""
    if not path.exists():
        raise SystemExit(f"no dev posts at {path}")
    posts = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if not line.strip():
                continue
            row = json.loads(line)
            if row["ambiguous"]:
                continue
            posts.append(
                Post(row["id"], row["text"], bool(row["is_report"]), row["symptom"], row["source"])
            )
    return posts


def part_of(post: Post) -> str:
    return "development" if post.source in DEV_SOURCES else "later"


def prf(gold: Sequence[bool], predicted: Sequence[bool]) -> tuple[float, float, float]:
    tp = sum(g and p for g, p in zip(gold, predicted, strict=True))
    fp = sum(p and not g for g, p in zip(gold, predicted, strict=True))
    fn = sum(g and not p for g, p in zip(gold, predicted, strict=True))
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def average_precision(gold: Sequence[bool], rank: Sequence[float]) -> float:
    """Average precision of the ranking; tied scores are counted pessimistically."""
    positives = sum(gold)
    if not positives:
        return 0.0
    # Within a tie, negatives first: a ranking cannot gain from ties.
    order = sorted(range(len(gold)), key=lambda i: (-rank[i], gold[i]))
    hits = 0
    total = 0.0
    for k, i in enumerate(order, start=1):
        if gold[i]:
            hits += 1
            total += hits / k
    return total / positives


def evaluate(posts: Sequence[Post], predictions: Sequence[Prediction]) -> dict[str, Any]:
    gold = [p.is_report for p in posts]
    flagged = [p.is_report for p in predictions]
    precision, recall, f1 = prf(gold, flagged)
    by_symptom: dict[str, list[int]] = {}
    for post, pred in zip(posts, predictions, strict=True):
        if post.is_report and post.symptom:
            found = by_symptom.setdefault(post.symptom, [0, 0])
            found[0] += pred.is_report
            found[1] += 1
    by_source: dict[str, float] = {}
    for source in sorted({p.source for p in posts}):
        idx = [i for i, p in enumerate(posts) if p.source == source]
        by_source[source] = prf([gold[i] for i in idx], [flagged[i] for i in idx])[2]
    return {
        "n": len(posts),
        "positives": sum(gold),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(f1, 3),
        "average_precision": round(average_precision(gold, [p.rank for p in predictions]), 3),
        "recall_by_symptom": {
            k: f"{v[0]}/{v[1]}" for k, v in sorted(by_symptom.items(), key=lambda kv: -kv[1][1])
        },
        "f1_by_source": {k: round(v, 3) for k, v in by_source.items()},
    }


def earful_detector(scanner: CueScanner | None = None) -> Callable[[str], Prediction]:
    scorer = Scorer(cache_size=0, scanner=scanner, gazetteer=None)

    def predict(text: str) -> Prediction:
        outage = scorer.score(text).outage
        if outage is None:
            return Prediction(False, 0.0)
        return Prediction(outage.is_report, outage.confidence)

    return predict


def vader_detector() -> Callable[[str], Prediction]:
    analyzer = SentimentIntensityAnalyzer()

    def predict(text: str) -> Prediction:
        compound = analyzer.polarity_scores(text)["compound"]
        return Prediction(compound <= -0.05, -compound)

    return predict


def keyword_detector(text: str) -> Prediction:
    hits = len(_KEYWORDS.findall(text))
    return Prediction(hits > 0, float(hits))


def run(posts: Sequence[Post]) -> dict[str, Any]:
    detectors: dict[str, Callable[[str], Prediction]] = {
        "earful": earful_detector(),
        "vader": vader_detector(),
        "keyword": keyword_detector,
    }
    out: dict[str, Any] = {}
    for name, detect in detectors.items():
        predictions = [detect(p.text) for p in posts]
        parts: dict[str, Any] = {}
        for part in PARTS:
            idx = [i for i, p in enumerate(posts) if part == "all" or part_of(p) == part]
            parts[part] = evaluate([posts[i] for i in idx], [predictions[i] for i in idx])
        out[name] = parts
        if name == "earful":
            out["_earful_predictions"] = predictions
    return out


def table(result: dict[str, Any]) -> str:
    lines = [
        "| detector | part | posts | precision | recall | F1 | average precision |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("earful", "vader", "keyword"):
        for part in PARTS:
            r = result[name][part]
            lines.append(
                f"| {name} | {part} | {r['n']} | {r['precision']:.3f} | {r['recall']:.3f} | "
                f"{r['f1']:.3f} | {r['average_precision']:.3f} |"
            )
    return "\n".join(lines)


def _without_context(entries: list[Entry]) -> list[Entry]:
    # Context words go, and topics that count against (parcels) count for nothing.
    return [
        dataclasses.replace(e, report=0.0) if e.kind == "topic" and e.report < 0 else e
        for e in entries
        if e.kind != "context"
    ]


#: Each mechanism of the outage rules, and how to turn it off.
ABLATIONS: dict[str, Callable[[], contextlib.AbstractContextManager[Any]]] = {
    "tense and status (forecast, plan, hypothesis)": lambda: mock.patch.object(
        outage, "_is_unreal", lambda before, after: False
    ),
    "'down' as amount, place or mood; a person as subject": lambda: mock.patch.object(
        outage, "is_other_sense", lambda norm, start, phrase: False
    ),
    "a recovery only wished for does not count": lambda: mock.patch.object(
        outage, "is_pending_recovery", lambda norm, start: False
    ),
    "a service and a failure predicate in one clause (composed rule)": lambda: mock.patch.object(
        outage, "composed_failure", lambda norm, words, taken, may_be_unreal: (0.0, False)
    ),
}
#: Mechanisms that live in the lexicon: the entries without them.
LEXICON_ABLATIONS: dict[str, Callable[[list[Entry]], list[Entry]]] = {
    "other-sense phrases (kind 'sense')": lambda es: [e for e in es if e.kind != "sense"],
    "context words (plans, prices, parcels; now-words)": _without_context,
    # the lexicon's template lines: classes of failing by a service's verb, status-page
    # words, lateness of messages ... (the entries given as argument are not used)
    "classes of failing (the lexicon's template lines)": lambda es: lexicon_entries(
        templates=False
    ),
}


@contextlib.contextmanager
def _nothing() -> Iterator[None]:
    yield


def ablate(posts: Sequence[Post]) -> list[dict[str, Any]]:
    """F1 and AP with each mechanism turned off, per part (the gain each one brings)."""
    entries = lexicon_entries()
    runs: list[tuple[str, Callable[[], contextlib.AbstractContextManager[Any]], Any]] = [
        ("all rules", _nothing, None)
    ]
    runs += [(name, off, None) for name, off in ABLATIONS.items()]
    runs += [
        (name, _nothing, scanner_for(drop(entries))) for name, drop in LEXICON_ABLATIONS.items()
    ]
    out = []
    for name, off, scanner in runs:
        with off():
            detect = earful_detector(scanner)
            predictions = [detect(p.text) for p in posts]
        row: dict[str, Any] = {"without": name}
        for part in ("later", "development"):
            idx = [i for i, p in enumerate(posts) if part_of(p) == part]
            r = evaluate([posts[i] for i in idx], [predictions[i] for i in idx])
            row[part] = {k: r[k] for k in ("precision", "recall", "f1", "average_precision")}
        out.append(row)
    return out


def ablation_table(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| turned off | later F1 | later AP | development F1 | development AP |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        h, d = row["later"], row["development"]
        lines.append(
            f"| {row['without']} | {h['f1']:.3f} | {h['average_precision']:.3f} | "
            f"{d['f1']:.3f} | {d['average_precision']:.3f} |"
        )
    return "\n".join(lines)


def errors(
    posts: Sequence[Post], predictions: Sequence[Prediction], part: str
) -> list[dict[str, Any]]:
    out = []
    for post, pred in zip(posts, predictions, strict=True):
        if (part != "all" and part_of(post) != part) or post.is_report == pred.is_report:
            continue
        kind = "missed" if post.is_report else "false alarm"
        out.append(
            {
                "id": post.id,
                "kind": kind,
                "symptom": post.symptom,
                "source": post.source,
                "confidence": pred.rank,
                "text": post.text,
            }
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--errors", action="store_true", help="list the errors")
    parser.add_argument("--errors-part", choices=PARTS, default="development")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    parser.add_argument(
        "--ablate", action="store_true", help="F1 and AP with each mechanism turned off"
    )
    args = parser.parse_args(argv)
    posts = load_posts()
    result = run(posts)
    predictions = result.pop("_earful_predictions")
    print(table(result))
    for part in PARTS:
        r = result["earful"][part]
        print(f"\nearful, {part}: recall by symptom {r['recall_by_symptom']}")
        print(f"earful, {part}: F1 by source {r['f1_by_source']}")
    if args.errors:
        print()
        for err in errors(posts, predictions, args.errors_part):
            print(
                f"{err['id']} {err['kind']:<11} {err['source']:<12} {err['symptom'] or '-':<12} "
                f"{err['confidence']:.2f} {err['text'][:300]!r}"
            )
    if args.ablate:
        result["ablation"] = ablate(posts)
        print()
        print(ablation_table(result["ablation"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
