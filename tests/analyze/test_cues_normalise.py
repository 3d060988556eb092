"""The byte-table fast paths of ``normalise`` give exactly what the regular expressions give;
template lines of the lexicon stand for each of their phrases."""

from __future__ import annotations

import random

from earful.analyze import cues
from earful.analyze.cues import default_scanner, expand_phrase, lexicon_entries, normalise


def reference_normalise(text: str) -> str:
    """``normalise`` as it was before its fast paths: the three expressions for every text."""
    if "http" in text or "www." in text:
        text = cues._URL.sub(" ", text)
    if "@" in text:
        text = cues._HANDLE.sub(" ", text)
    if "#" in text:
        text = cues._HASHTAG.sub(cues._hashtag_words, text)
    if text.isascii():
        text = text.encode("ascii").translate(cues._ASCII_TABLE).decode("ascii")
        text = text.replace(".", " . ")
    else:
        text = cues._APOSTROPHES.sub("'", text.lower())
        text = cues._SENTENCE_END.sub(" . ", text)
        text = cues._NON_WORD.sub(" ", text).replace("_", " ")
    text = f" {' '.join(text.split())} "
    while " '" in text or "' " in text:
        text = text.replace(" '", " ").replace("' ", " ")
    return f"{text}. "


POOL = list(
    "aAzZ09_ '`´’‘ʼ.!?;:,…。！？-/\t\n\x00ßİﬁéÉ😂😡👎\u200b\ufe0f\u2028\xa0Ⓐ²½Ⅰ\u0301\ud800—“»"
)


def test_examples() -> None:
    # A run of sentence ends is one ".", and the text's own end is another.
    assert normalise("Acme is DOWN!!! 😡😡") == " acme is down . . "
    assert normalise("can’t log in… again?!") == " can't log in . again . . "
    assert normalise("Ça ne marche pas — erreur_503") == " ça ne marche pas erreur 503 . "
    assert normalise("'quoted' and `ticked`") == " quoted and ticked . "


def test_every_character_next_to_words_and_punctuation() -> None:
    # Every 3rd code point beyond ASCII (and all of the first 0x3000): letters,
    # marks, symbols, emoji, spaces and surrogates all take the right path.
    code_points = [*range(0x80, 0x3000), *range(0x3000, 0x110000, 3)]
    mismatches = [
        hex(cp)
        for cp in code_points
        if normalise(f"Ab{chr(cp)}!c") != reference_normalise(f"Ab{chr(cp)}!c")
    ]
    assert not mismatches, mismatches[:10]


def test_random_mixes() -> None:
    rng = random.Random(11)
    for _ in range(20_000):
        text = "".join(rng.choice(POOL) for _ in range(rng.randrange(1, 25)))
        assert normalise(text) == reference_normalise(text), repr(text)


def test_a_template_line_stands_for_each_of_its_phrases() -> None:
    assert expand_phrase("(won't|isn't) (load|loading)") == [
        "won't load",
        "won't loading",
        "isn't load",
        "isn't loading",
    ]
    # an empty alternative drops the group, and its space with it
    assert expand_phrase("nothing (is|) loading") == ["nothing is loading", "nothing loading"]
    assert expand_phrase("is down") == ["is down"]


def test_template_phrases_are_in_the_lexicon_and_a_listed_phrase_keeps_its_own_line() -> None:
    entries = lexicon_entries()
    phrases = {e.phrase for e in entries}
    assert "hasn't synced" in phrases and "nothing will load" in phrases
    assert not any("(" in p or "|" in p for p in phrases)
    # "won't load" has its own line (weight 1.0) besides the template's (0.9)
    assert [e.report for e in entries if e.phrase == "won't load" and e.kind == "failure"] == [1.0]


def test_a_list_of_lacks_is_no_negation() -> None:
    listed = default_scanner().scan("no calls no data since the storm")
    assert [(c.entry.phrase, c.negated) for c in listed.scored] == [("no data", False)]
    # a real negator before a lack still negates it
    negated = default_scanner().scan("there is not no data, just slow")
    assert any(c.entry.phrase == "no data" and c.negated for c in negated.scored)
