"""The shipped incident lexicon is well-formed, and a scanner can be built over any part of it."""

from __future__ import annotations

from collections import Counter

from earful.analyze.cues import default_scanner, lexicon_entries, scanner_for

KINDS = {
    "failure",
    "complaint",
    "recovery",
    "sense",
    "sarcasm",
    "laugh",
    "topic",
    "platform",
    "codehint",
    "context",
    "polite",
    "request",
}


def test_every_entry_has_a_known_kind_and_sane_numbers() -> None:
    entries = lexicon_entries()
    assert {e.kind for e in entries} <= KINDS
    for e in entries:
        assert e.phrase == e.phrase.lower().strip(), e.phrase
        assert -4.0 <= e.valence <= 4.0 and -1.0 <= e.report <= 1.0, e
        if e.kind == "context":
            assert e.report != 0.0 and e.valence == 0.0, e
        if e.kind == "polite":
            assert e.valence < 0.0, e
        if e.kind == "sense":
            assert e.report == 0.0, e


def test_no_phrase_is_listed_twice_with_the_same_kind() -> None:
    counts = Counter((e.lang, e.phrase, e.kind) for e in lexicon_entries())
    assert [key for key, n in counts.items() if n > 1] == []


def test_a_scanner_over_the_whole_lexicon_scans_as_the_default_one() -> None:
    text = "@acme the app is down again, can't log in. stock is down 3% lol"
    rebuilt = scanner_for(lexicon_entries()).scan(text)
    assert rebuilt == default_scanner().scan(text)


def test_a_scanner_without_sense_phrases_lets_the_shorter_failure_match() -> None:
    entries = [e for e in lexicon_entries() if e.kind != "sense"]
    phrases = [c.entry.phrase for c in scanner_for(entries).scan("we broke the record").scored]
    assert "broke" in phrases
    assert not default_scanner().scan("we broke the record").has("failure")
