"""Language: declared first, then function words, then CLD2, then a fallback."""

from __future__ import annotations

import pytest

from earful.analyze.cues import default_scanner
from earful.analyze.language import UNDETERMINED, detect_language, normalise_declared


def detect(text: str, declared: str | None = None) -> str | None:
    return detect_language(text, declared, default_scanner().scan(text).function_words)


@pytest.mark.parametrize(
    ("declared", "expected"),
    [("en-US", "en"), ("pt_BR", "pt"), ("DE", "de"), ("und", None), ("", None), (None, None)],
)
def test_declared_tags_become_iso_639_1(declared: str | None, expected: str | None) -> None:
    assert normalise_declared(declared) == expected


def test_a_declared_language_is_trusted() -> None:
    assert detect("acme is down again and I can't log in", "fr") == "fr"


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("I can't log in to acme and the app is not loading", "en"),
        ("acme outage", "en"),
        ("lol", "en"),
        ("acme ist schon wieder down, ich kann mich nicht einloggen", "de"),
        ("acme est en panne depuis ce matin", "fr"),
        ("acme est en panne à Paris", "fr"),
        ("no puedo entrar a acme desde esta mañana, ya es la tercera vez", "es"),
        ("storing bij acme, ik kan niet inloggen", "nl"),
        ("o acme está fora do ar de novo, não consigo entrar", "pt"),
        ("il sito di acme non funziona da stamattina", "it"),
        ("приложение acme опять не работает, не могу войти", "ru"),
        ("acme 又崩溃了，无法登录，太糟糕了", "zh"),
    ],
)
def test_detected_languages(text: str, lang: str) -> None:
    assert detect(text) == lang


def test_text_without_letters_has_no_language() -> None:
    assert detect("😡😡😡 !!!") is None


def test_short_latin_text_cld2_cannot_place_is_english() -> None:
    # CLD2 calls some short English posts Scots or Hawaiian; Earful reads them as English.
    assert detect("Bye bye Hanoi :-(") == "en"


def test_unknown_non_latin_text_is_undetermined() -> None:
    assert detect("ᚠᚢᚦᚨᚱᚲ") == UNDETERMINED
