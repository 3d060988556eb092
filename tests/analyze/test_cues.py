from __future__ import annotations

import copy

import pytest

from earful.analyze.cues import default_scanner

_EMOJI_TEXTS = [
    "acme is down 😂😂",
    "🤣 lol acme est en panne à Paris 😭",
    "still down 📉🔥🙃 ugh",
    "Störung bei acme 😡😡😡",
    "no emoji but é and ü",
    "x\u200b😭 y",
]


@pytest.mark.parametrize("text", _EMOJI_TEXTS)
def test_emoji_found_by_lookup_match_the_expression(text: str) -> None:
    scanner = default_scanner()
    # The shipped emoji are single non-ASCII characters: found by a dict lookup.
    assert scanner._emoji_by_lookup
    by_expression = copy.copy(scanner)
    by_expression._emoji_by_lookup = False
    fast, slow = scanner.scan(text), by_expression.scan(text)
    assert (fast.laugh_emoji, fast.emoji_valence) == (slow.laugh_emoji, slow.emoji_valence)


def test_emoji_are_counted() -> None:
    cues = default_scanner().scan("acme is down 😂😂")
    assert cues.laugh_emoji == 2
