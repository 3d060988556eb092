"""Tracking-rule matching speed: 1,000 subjects over real tweets, one core.

Texts: the CrisisLex and VADER ground-truth tweets in ``shared/data`` (real
posts, with URLs, hashtags, @mentions and non-English text), or synthetic
sentences when those are absent. Subjects: 1,000 made-up brands, each with
two terms, a phrase, a hashtag, a handle, an official account and an
exclude term; 64 of them use everyday words ("delta", "target", "apple") so
the automaton also has frequent hits to reject on word boundaries. A share of
the posts gets a brand name spliced in, so the matched path is measured too.

Measures ``TrackingRules.match`` (the runner's call: normalise, one
Aho-Corasick scan, boundary checks, hashtags, reply and author lookups) in one
thread, best of several rounds. Writes ``bench/results/rules.json`` and
``bench/results/rules.md``.

    python -m bench.bench_rules [--subjects 1000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from earful.ingest.rules import SubjectRule, TrackingConfig, TrackingRules

__all__ = ["RulesBenchResult", "main", "run_bench"]

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "bench" / "results"
TARGET_POSTS_PER_S = 50_000

_COMMON_WORDS = [
    "delta",
    "target",
    "apple",
    "amazon",
    "oracle",
    "shell",
    "visa",
    "square",
    "slack",
    "zoom",
    "notion",
    "linear",
    "signal",
    "discord",
    "twitch",
    "reddit",
    "github",
    "gitlab",
    "stripe",
    "twilio",
    "cloudflare",
    "fastly",
    "akamai",
    "heroku",
    "vercel",
    "netlify",
    "figma",
    "canva",
    "miro",
    "asana",
    "trello",
    "jira",
    "confluence",
    "dropbox",
    "box",
    "uber",
    "lyft",
    "airbnb",
    "spotify",
    "tidal",
    "deezer",
    "hulu",
    "netflix",
    "disney",
    "peacock",
    "paramount",
    "max",
    "crunchyroll",
    "steam",
    "epic",
    "origin",
    "riot",
    "valve",
    "xbox",
    "playstation",
    "nintendo",
    "sega",
    "capcom",
    "atari",
    "sony",
]


@dataclass
class RulesBenchResult:
    subjects: int
    patterns: int
    posts: int
    matched_share: float
    posts_per_s: float
    us_per_post: float
    target_posts_per_s: int
    meets_target: bool
    python: str
    machine: str


def _brand(rng: random.Random) -> str:
    consonants, vowels = "bcdfghjklmnprstvwz", "aeiou"
    length = rng.randint(2, 4)
    return "".join(rng.choice(consonants) + rng.choice(vowels) for _ in range(length))


def make_subjects(n: int, rng: random.Random) -> list[SubjectRule]:
    names: list[str] = list(_COMMON_WORDS)
    seen = set(names)
    while len(names) < n:
        name = _brand(rng)
        if name not in seen:
            seen.add(name)
            names.append(name)
    return [
        SubjectRule(
            name=name,
            terms=(name, f"{name} cloud"),
            phrases=(f"is {name} down",),
            hashtags=(f"{name}down",),
            handles=(name,),
            official_accounts=(f"{name}status",),
            exclude=(f"{name} museum",),
        )
        for name in names[:n]
    ]


def load_texts() -> list[str]:
    texts: list[str] = []
    crisis = DATA / "crisislex-dev" / "crisislex_t26_dev.csv"
    if crisis.exists():
        with crisis.open(encoding="utf-8", newline="") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    vader = DATA / "vader-groundtruth" / "tweets_GroundTruth.txt"
    if vader.exists():
        for line in vader.read_text(encoding="utf-8").splitlines():
            parts = line.split("\t", 2)
            if len(parts) == 3:
                texts.append(parts[2])
    if not texts:  # no shared data: synthetic sentences of similar length
        rng = random.Random(7)
        words = [
            "the",
            "service",
            "is",
            "down",
            "again",
            "cannot",
            "log",
            "in",
            "app",
            "error",
            "please",
            "fix",
            "outage",
        ]
        texts = [" ".join(rng.choice(words) for _ in range(18)) for _ in range(10_000)]
    return texts


def make_posts(
    texts: list[str], names: list[str], rng: random.Random, share: float
) -> list[dict[str, Any]]:
    posts = []
    for text in texts:
        if rng.random() < share:
            name = rng.choice(names)
            text = rng.choice(
                (f"is {name.upper()} down? {text}", f"{text} #{name}down", f"@{name} {text}")
            )
        posts.append({"text": text, "author_handle": f"user{rng.randint(1, 10**6)}", "lang": "en"})
    return posts


def run_bench(n_subjects: int = 1000, rounds: int = 5, share: float = 0.1) -> RulesBenchResult:
    rng = random.Random(42)
    subjects = make_subjects(n_subjects, rng)
    rules = TrackingRules(TrackingConfig(subjects=tuple(subjects)))
    posts = make_posts(load_texts(), [s.name for s in subjects], rng, share)
    match = rules.match
    matched = sum(
        1
        for p in posts
        if match(p["text"], author_handle=p["author_handle"], lang=p["lang"]).subjects
    )
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        for post in posts:
            match(post["text"], author_handle=post["author_handle"], lang=post["lang"])
        best = min(best, time.perf_counter() - start)
    rate = len(posts) / best
    return RulesBenchResult(
        subjects=n_subjects,
        patterns=sum(len(s.terms) + len(s.phrases) + 3 for s in subjects),
        posts=len(posts),
        matched_share=round(matched / len(posts), 4),
        posts_per_s=round(rate),
        us_per_post=round(1e6 / rate, 2),
        target_posts_per_s=TARGET_POSTS_PER_S,
        meets_target=rate >= TARGET_POSTS_PER_S,
        python=platform.python_version(),
        machine=platform.processor() or platform.machine(),
    )


def write_results(result: RulesBenchResult, directory: Path = RESULTS) -> tuple[Path, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    json_path = directory / "rules.json"
    json_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    md_path = directory / "rules.md"
    md_path.write_text(
        "| subjects | patterns | posts | matched | posts/s (1 core) | µs/post | target |\n"
        "|---:|---:|---:|---:|---:|---:|---:|\n"
        f"| {result.subjects:,} | {result.patterns:,} | {result.posts:,} "
        f"| {result.matched_share:.1%} | {result.posts_per_s:,.0f} | {result.us_per_post} "
        f"| {result.target_posts_per_s:,} {'met' if result.meets_target else 'MISSED'} |\n",
        encoding="utf-8",
    )
    return json_path, md_path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subjects", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args(argv)
    result = run_bench(args.subjects, args.rounds)
    for path in write_results(result):
        print(path)
    print(json.dumps(asdict(result), indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
