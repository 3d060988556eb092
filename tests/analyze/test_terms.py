"""Complaint terms: one definition, the same counts in the windows and on their own."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

from earful.analyze.terms import complaint_terms
from earful.analyze.windows import WindowAggregator, WindowConfig
from tests.analyze.detect_fixtures import scored

TEXTS = (
    "Acme login is DOWN again, can't log in https://acme.example/status #acmedown",
    "acme login still down... the app says error 503",
    "Why is the Acme app down? Login fails, login FAILS",
)


def test_terms_are_words_without_stop_words_links_or_the_subject() -> None:
    terms = complaint_terms(TEXTS, "Acme")
    assert terms["login"] == 4 and terms["fails"] == 2 and terms["down"] == 3
    assert terms["#acmedown"] == 1  # a hashtag is a term of its own
    assert "acme" not in terms  # the subject's own name
    assert not {"the", "again", "can't", "why", "still"} & terms.keys()  # stop words
    assert not [t for t in terms if t.startswith("http")]
    assert "is" not in terms and "in" not in terms  # shorter than three letters


def test_the_windows_count_the_same_terms() -> None:
    config = WindowConfig(
        width=timedelta(minutes=1), watermark_delay=timedelta(0), top_n=1_000, per_source=False
    )
    aggregator = WindowAggregator(config)
    closed = []
    for i, text in enumerate(TEXTS):
        closed += aggregator.add(scored(float(i), text=text, author=f"a{i}"))
    closed += aggregator.flush()
    [window] = [w for w in closed if w.stats.source is None]
    counted = Counter({t.term: t.count for t in window.stats.top_terms})
    assert counted == complaint_terms(TEXTS, "acme")
