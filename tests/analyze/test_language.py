"""Language: declared first, then function words, then CLD2, then a fallback."""

from __future__ import annotations

import pytest

from earful.analyze import language
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


def _general_rule(text: str, function_words: dict[str, int]) -> str | None:
    """detect_language's function-word rule with no shortcut for English-only counts."""
    english = function_words.get("en", 0)
    others = sum(function_words.values()) - english
    if english >= 2 and english >= 3 * others:
        return "en"
    if english == 1 and others == 0 and text.isascii():
        return "en"
    best = max(function_words, key=function_words.__getitem__, default="en")
    top = function_words.get(best, 0)
    if best != "en" and top >= 2 and all(n < top for c, n in function_words.items() if c != best):
        return best
    return language._by_script(text)


_SHORTCUT_TEXTS = [
    "the app is down again",
    "l'appli ne marche pas, c'est la panne",
    "Сервис не работает уже час",
    "服务器又宕机了 the",
    "Η υπηρεσία δεν λειτουργεί",
    "café déjà vu the outage 😀",
    "😀😀",
    "",
    "123 456",
    "ctrl\x01 acme down",
]
_SHORTCUT_COUNTS: list[dict[str, int]] = [
    {},
    {"en": 0},
    {"en": 1},
    {"en": 2},
    {"en": 5},
    {"en": 1, "fr": 1},
    {"en": 2, "de": 1},
    {"fr": 2},
    {"fr": 2, "de": 2},
]


@pytest.mark.parametrize("text", _SHORTCUT_TEXTS)
def test_english_only_shortcut_agrees_with_the_general_rule(text: str) -> None:
    for counts in _SHORTCUT_COUNTS:
        assert detect_language(text, None, counts) == _general_rule(text, counts), (text, counts)


def test_cld2_input_controls_check_agrees_with_the_search() -> None:
    # The printable shortcut must not skip a text whose bytes hold a C0 control.
    for text in [*_SHORTCUT_TEXTS, "a\tb\nc\rd", "x\x1fy", "\x7f del", "\u2028 sep"]:
        has_control = language._C0_CONTROL.search(text.encode("utf-8", "replace")) is not None
        assert not (text.isprintable() and has_control), text
    assert language._cld2(
        "acme\x01 is down for everyone in the whole city today"
    ) == language._cld2("acme  is down for everyone in the whole city today")
