"""Random Unicode never breaks the scorer, and every result fits the event contract."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from earful.analyze.scoring import Scorer
from earful.events import Mention, ScoredMention

SCORER = Scorer(cache_size=0, max_chars=2_000)
NOW = datetime(2026, 11, 25, tzinfo=UTC)

# Incident words and odd characters mixed in, so the fuzzer reaches the rules too.
WORDS = st.sampled_from(
    [
        "down",
        "not",
        "working",
        "#AcmeDown",
        "@acme",
        "http://x.y/down",
        "😂",
        "🙄",
        "in",
        "Nice",
        "error",
        "503",
        "E-4012",
        "0xdeadbeef",
        "ERR_X_RESET",
        "can't",
        "log",
        "in",
        "\u200b",
        "\x00",
        "\ud800",
        "\r\n",
        "ß",
        "İ",
        "ﬁ",
        "...",
        "?!",
        "'",
        "’",
    ]
)
TEXTS = st.one_of(
    st.text(max_size=300),
    st.lists(st.one_of(WORDS, st.text(max_size=8)), max_size=40).map(" ".join),
)


def _check(text: str, lang: str | None) -> None:
    result = SCORER.score(text, lang)
    mention = Mention(
        id="push:1",
        source="push",
        native_id="1",
        author="a",
        text="t",
        created_at=NOW,
        ingested_at=NOW,
        subjects=("acme",),
    )
    # Re-validating through the contract model proves every field is in range.
    ScoredMention.model_validate(
        {
            "subject": "acme",
            "mention": mention,
            "lang": result.lang,
            "sentiment": result.sentiment.model_dump() if result.sentiment else None,
            "unscored_reason": result.unscored_reason,
            "outage": result.outage.model_dump() if result.outage else None,
            "scored_at": NOW,
            "model": SCORER.model,
        }
    )
    assert (result.sentiment is None) == (result.unscored_reason is not None)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(TEXTS, st.sampled_from([None, "en", "de", "und", "zz-ZZ", ""]))
def test_random_text_scores_without_error(text: str, lang: str | None) -> None:
    _check(text, lang)


@settings(max_examples=20, deadline=None)
@given(st.text(min_size=1, max_size=50))
def test_only_the_first_max_chars_are_analysed(tail: str) -> None:
    head = "acme is down again, " * 100  # exactly 2,000 characters
    assert len(head) == 2_000
    assert SCORER.score(head + tail) == SCORER.score(head)
