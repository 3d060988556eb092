"""ExactVader gives vaderSentiment 3.3.2's polarity_scores, field by field, on every text tried.

"Equal" here is strict: the same keys in the same order, and for each value the
same type and the same ``repr`` (so 0 and 0.0, or 0.0 and -0.0, would differ).
Texts: the 4,200 VADER ground-truth tweets, every post of the example incident,
the CrisisLexT26 dev tweets, the scoring golden sample, hand-written cases for
each rule, and hypothesis-generated mixes of the words the rules react to.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from vaderSentiment.vaderSentiment import BOOSTER_DICT, SPECIAL_CASES, SentimentIntensityAnalyzer

from earful.analyze.scoring import Scorer
from earful.analyze.vader import ExactVader, _round
from tests.analyze.fixtures.make_scoring_golden import GOLDEN

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT.parent / "shared" / "data"
GROUND_TRUTH = DATA / "vader-groundtruth" / "tweets_GroundTruth.txt"
CRISISLEX = DATA / "crisislex-dev" / "crisislex_t26_dev.csv"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"

PACKAGE = SentimentIntensityAnalyzer()
EXACT = ExactVader()


def _strict(scores: dict[str, float]) -> list[tuple[str, str, str]]:
    return [(key, type(value).__name__, repr(value)) for key, value in scores.items()]


def _differences(texts: list[str]) -> list[str]:
    out = []
    for text in texts:
        expected = _strict(PACKAGE.polarity_scores(text))
        got = _strict(EXACT.polarity_scores(text))
        if got != expected:
            out.append(f"{text[:80]!r}: package {expected}, ExactVader {got}")
    return out


def _require(path: Path) -> Path:
    if not path.exists():
        pytest.fail(f"data missing: {path}")
    return path


def test_the_fast_path_is_the_one_under_test() -> None:
    # With another vaderSentiment version ExactVader hands posts to the package,
    # and every comparison below would pass without testing anything.
    assert EXACT.exact


def test_identical_on_the_vader_ground_truth() -> None:
    with _require(GROUND_TRUTH).open(encoding="utf-8") as fh:
        texts = [line.rstrip("\r\n").split("\t", 2)[2] for line in fh if line.strip()]
    assert len(texts) == 4200
    assert _differences(texts) == []


def test_identical_on_the_example_incident() -> None:
    with _require(INCIDENT).open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    assert len(texts) > 4000
    assert _differences(texts) == []


def test_identical_on_the_crisislex_dev_data() -> None:
    with _require(CRISISLEX).open(encoding="utf-8", newline="") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    assert len(texts) > 12000
    assert _differences(texts) == []


def test_identical_on_the_scoring_golden_sample() -> None:
    with GOLDEN.open(encoding="utf-8") as fh:
        texts = [json.loads(line)["text"] for line in fh if line.strip()]
    assert len(texts) == 1809
    assert _differences(texts) == []


#: One or more posts for each of VADER's rules, and the quirks of its code.
RULE_CASES = [
    "",
    "   ",
    "good",
    "GOOD",
    "GOOD day, bad NIGHT",
    "VERY good",
    "very GOOD movie",
    "it is VERY GOOD",
    "not good",
    "isn't good",
    "not very good",
    "not so very good",
    "never so good",
    "never this good",
    "it was never so good",
    "without doubt good",
    "without a doubt good",
    "no good",
    "no problem",
    "no",
    "no, no, no",
    "no or sad",
    "no thanks or nor sad",
    "no fine or sad",
    "no fine nor sad",
    "no way then sad",
    "least good",
    "at least good",
    "very least good",
    "the least bad thing",
    "kind of good",
    "kind of",
    "it is kind of a good day",
    "sort of bad",
    "just enough good",
    "the shit",
    "this is the bomb",
    "yeah right",
    "that is to die for",
    "kiss of death",
    "bus stop",
    "what a badass move",
    "it was good but bad",
    "good good but bad bad",
    "but",
    "good but",
    "but good but bad",
    "great!!!",
    "great!!!!!!",
    "bad??",
    "bad?????",
    "bad?!?!",
    ":) :-( :D <3 </3",
    "(-:O yes",
    "'good' \"bad\" ...good...",
    "good\u00a0bad",
    "I ❤️ it 😂😂 👍",
    "😂",
    "😂😂x 😂, 👍!",
    " 😂 starts with a space",
    "a\x00😂 holds the mark the emoji rule uses",
    "⬆ UP! button",
    "🔛 on",
    "café GÖOD ΣΟΦΟΣ İstanbul ﬁne",
    "can't stand it",
    "fed up with this",
    "uh-uh good",
    "no no good",
    "very no good",
    "not bad at all, but not good either",
    "ugh SO bad",
    "so sad this is",
    "it is so bad",
    "it is this bad",
]


def test_identical_on_each_rule() -> None:
    assert _differences(RULE_CASES) == []


# Words VADER's rules react to, mixed with lexicon words in every case, emoji,
# punctuation and odd characters, so that the fuzzer reaches the rules.
_RULE_WORDS = [
    "no",
    "not",
    "never",
    "without",
    "doubt",
    "so",
    "this",
    "least",
    "at",
    "very",
    "kind",
    "of",
    "but",
    "BUT",
    "or",
    "nor",
    "isn't",
    "cant",
    "n't",
    "uh-uh",
    "the",
    "to",
    "die",
    "for",
    "bus",
    "stop",
    "yeah",
    "right",
    "kiss",
    "death",
]
_LEXICON_SAMPLE = sorted(PACKAGE.lexicon)[::40]
_EMOJI_SAMPLE = sorted(k for k in PACKAGE.emojis if len(k) == 1)[::30]
_WORD = st.one_of(
    st.sampled_from(_RULE_WORDS),
    st.sampled_from(sorted(BOOSTER_DICT)),
    st.sampled_from(sorted(SPECIAL_CASES)),
    st.sampled_from(_LEXICON_SAMPLE),
    st.sampled_from(_EMOJI_SAMPLE),
    st.sampled_from(["!", "?", "!!", "???", ".", ",", "'", '"', ":)", "...", "\u00a0", "\t"]),
    st.text(max_size=6),
)
_CASED = st.tuples(_WORD, st.sampled_from(["as is", "upper", "title"])).map(
    lambda pair: (
        pair[0].upper()
        if pair[1] == "upper"
        else pair[0].title()
        if pair[1] == "title"
        else pair[0]
    )
)
_JOINER = st.sampled_from([" ", " ", " ", "", ", ", "! ", "? ", "\n"])
_TEXTS = st.one_of(
    st.text(max_size=200),
    st.lists(st.tuples(_CASED, _JOINER), max_size=30).map(
        lambda parts: "".join(word + joiner for word, joiner in parts)
    ),
)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_TEXTS)
def test_identical_on_generated_text(text: str) -> None:
    assert _differences([text]) == []


def test_the_scorer_keeps_the_packages_raw_scores() -> None:
    scorer = Scorer(cache_size=0, gazetteer=None)
    for text in RULE_CASES[2:]:
        result = scorer.score(text, "en")
        assert result.sentiment is not None
        assert result.sentiment.vader.model_dump() == PACKAGE.polarity_scores(text)


def _same_float(a: float, b: float) -> bool:
    return repr(a) == repr(b) and math.copysign(1.0, a) == math.copysign(1.0, b)


@settings(max_examples=3000, deadline=None)
@given(st.floats(min_value=-1.0, max_value=1.0))
def test_the_fast_rounding_equals_round(x: float) -> None:
    assert _same_float(_round(x, 1000.0, 3), round(x, 3))
    assert _same_float(_round(x, 10000.0, 4), round(x, 4))


def test_the_fast_rounding_on_halves_zeros_and_ratios() -> None:
    values = [0.0, -0.0, 1.0, -1.0, 0.0004, -0.00004]
    # Decimal halves, the floats either side of them, and ratios as VADER forms them.
    for n in range(-20_000, 20_001):
        half = (n + 0.5) / 10_000
        values += [half, math.nextafter(half, 2.0), math.nextafter(half, -2.0)]
    values += [a / (a + b) for a in range(0, 60) for b in range(1, 60)]
    for x in values:
        assert _same_float(_round(x, 1000.0, 3), round(x, 3)), x
        assert _same_float(_round(x, 10000.0, 4), round(x, 4)), x
