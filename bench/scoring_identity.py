"""Snapshot the scorer's full output over a wide text set, and check it is unchanged.

Speed work on the scorer must not change a single byte of its results. This
writes, for every text, the full result record (as the scoring golden test
builds it) to a JSON-lines file, or compares the current scorer's records
with such a file:

    python -m bench.scoring_identity write /tmp/scoring_snapshot.jsonl
    python -m bench.scoring_identity check /tmp/scoring_snapshot.jsonl

Texts: the benchmark's texts (VADER ground truth, example incident), the
outage-posts-dev posts, the complaint posts, every CrisisLex dev tweet, the
scoring golden inputs; then variants of all of them: upper case, lower case,
accented vowels, Cyrillic and Greek look-alike letters, put to an account
("@acme " in front), with a question mark, with emoji; and a sample with
declared languages. Each text is scored by a cache-less scorer (every text
computed) and, in a second pass, by a caching scorer fed every text twice
(the cached answer must equal the computed one).
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

from bench.bench_scoring import COMPLAINT_POSTS, load_dev_posts, load_texts
from earful.analyze.scoring import Scorer

__all__ = ["identity_texts", "main", "records"]

ROOT = Path(__file__).resolve().parent.parent
CRISISLEX = ROOT.parent / "shared" / "data" / "crisislex-dev" / "crisislex_t26_dev.csv"

_ACCENTS = str.maketrans("aeiouAEIOUcn", "áéíóúÀÉÍÓÚçñ")
_LOOKALIKES = str.maketrans("aeopcxyABEKMHOPCTX", "аеорсхуАВЕКМНОРСТХ")
_GREEK = str.maketrans("abgdezhiklmnoprstuf", "αβγδεζηικλμνοπρστυφ")
_DECLARED = ("en", "de", "fr-CA", "und", "EN-us", "")


def _base_texts() -> list[str]:
    texts, _ = load_texts()
    texts = list(texts)
    texts += load_dev_posts()
    if COMPLAINT_POSTS.exists():
        with COMPLAINT_POSTS.open(encoding="utf-8") as fh:
            texts += [
                line.rstrip("\n").split("\t", 2)[2]
                for line in fh
                if line.strip() and line[0] != "#"
            ]
    if CRISISLEX.exists():
        with CRISISLEX.open(encoding="utf-8", newline="") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    try:
        from tests.analyze.fixtures.make_scoring_golden import golden_inputs

        texts += [text for _, text, _ in golden_inputs()]
    except (ImportError, OSError):
        pass
    return texts


def identity_texts() -> list[tuple[str, str | None]]:
    """(text, declared language) pairs, base texts first, then their variants."""
    base = _base_texts()
    out: list[tuple[str, str | None]] = [(t, None) for t in base]
    for t in base:
        out.append((t.upper(), None))
        out.append((t.lower(), None))
        out.append((t.translate(_ACCENTS), None))
        out.append((t.translate(_LOOKALIKES), None))
        out.append((t.translate(_GREEK), None))
        out.append((f"@acme {t}", None))
        out.append((f"{t}?", None))
        out.append((f"{t} 😂🙄", None))
    for i, t in enumerate(base[::7]):
        out.append((t, _DECLARED[i % len(_DECLARED)]))
    return out


def records() -> list[str]:
    """One JSON line per input: the input and its full result record."""
    # The record the scoring golden test pins, so both check the same fields.
    from tests.analyze.fixtures.make_scoring_golden import result_record as _record

    pairs = identity_texts()
    fresh = Scorer(cache_size=0)
    lines = []
    for text, lang in pairs:
        rec = {"text": text, "lang": lang, "result": _record(fresh.score(text, lang))}
        lines.append(json.dumps(rec, ensure_ascii=True, sort_keys=True))
    # Through a small cache: every text scored, then asked again (a cache hit).
    cached = Scorer(cache_size=1_000)
    for i, (text, lang) in enumerate(pairs):
        first = json.dumps(_record(cached.score(text, lang)), sort_keys=True)
        again = json.dumps(_record(cached.score(text, lang)), sort_keys=True)
        expected = json.dumps(json.loads(lines[i])["result"], sort_keys=True)
        if not first == again == expected:
            raise SystemExit(f"cached result differs for input {i}: {text!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("mode", choices=("write", "check"))
    parser.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    lines = records()
    if args.mode == "write":
        args.path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        print(f"wrote {len(lines)} records to {args.path}")
        return 0
    expected = args.path.read_text(encoding="utf-8").splitlines()
    if len(expected) != len(lines):
        print(f"{len(lines)} records, the snapshot has {len(expected)}")
        return 1
    differ = [i for i, (a, b) in enumerate(zip(expected, lines, strict=True)) if a != b]
    for i in differ[:10]:
        print(f"- {expected[i]}\n+ {lines[i]}")
    print(f"{len(lines) - len(differ)} of {len(lines)} records identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
