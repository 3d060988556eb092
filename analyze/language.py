"""Which language a post is in: the declared one, a cheap guess, or CLD2.

Order, cheapest first:

1. The language the source declared (Mastodon, Bluesky and X tag posts);
   "en-GB" becomes "en".
2. Function words (``lexicon/function_words.tsv``): two distinct English ones
   ("the", "you", "can't"...) and three times as many as the other languages',
   or one in plain ASCII text with no other, settle it; two of another
   language's, more than any other language's, settle that language.
   Most English posts stop here; the words come from the cue scan that runs
   anyway, so this costs nothing.
3. CLD2 (``pycld2``: Google's Compact Language Detector 2, a C++ library with
   its model compiled in; about 19 us a tweet here, against about 106 us for
   py3langid and 69 us for lingua's low-accuracy mode). Only a reliable answer
   counts.
4. No answer: Latin-script text is taken as English (VADER reads "acme
   outage" and "lol" fine), text without letters (emoji only) has no
   language but is still scored, anything else is "und" (undetermined).
"""

from __future__ import annotations

import re
from typing import Final

import pycld2  # type: ignore[import-untyped]  # C extension without type stubs

__all__ = ["UNDETERMINED", "detect_language", "normalise_declared"]

UNDETERMINED: Final = "und"
#: Latin-script languages CLD2 is trusted with. On short English posts CLD2
#: sometimes answers Scots, Hawaiian, Akan or Latin; those become English.
LATIN_SCRIPT_LANGUAGES = frozenset(
    [
        "de",
        "fr",
        "es",
        "nl",
        "pt",
        "it",
        "sv",
        "no",
        "nb",
        "nn",
        "da",
        "fi",
        "pl",
        "cs",
        "sk",
        "tr",
        "ro",
        "hu",
        "id",
        "ms",
        "tl",
        "ca",
        "gl",
        "eu",
        "hr",
        "sr",
        "bs",
        "sl",
        "et",
        "lv",
        "lt",
        "vi",
        "sw",
        "af",
        "cy",
        "ga",
        "is",
        "sq",
        "mt",
    ]
)
#: CLD2 reads at most this many characters (language is clear well before).
DETECT_CHARS = 1_000


def normalise_declared(declared: str | None) -> str | None:
    """ISO 639-1 from a declared tag ("en-US" -> "en"); None for empty or "und"."""
    if not declared:
        return None
    lang = declared.replace("_", "-").split("-")[0].strip().lower()
    if not lang or lang in ("und", "mul", "zxx", "un", "xx"):
        return None
    return lang


def _latin_letters_only(text: str) -> tuple[bool, bool]:
    """(has letters, every letter is Latin script)."""
    if text.isascii():
        return _ASCII_LETTER.search(text) is not None, True
    # Latin letters live below U+0250 and in the Latin Extended Additional block;
    # a letter anywhere else is not Latin (emoji there are not letters).
    for ch in _BEYOND_LATIN.findall(text):
        if ch.isalpha():
            return True, False
    return _LATIN_LETTER.search(text) is not None, True


def detect_language(text: str, declared: str | None, function_words: dict[str, int]) -> str | None:
    """The post's language as ISO 639-1, "und" when unknown, None when it has no letters."""
    if declared:
        lang = normalise_declared(declared)
        if lang is not None:
            return lang
    english = function_words.get("en", 0)
    if english and len(function_words) == 1:
        # English function words only (most posts): the checks below, with no others.
        if english >= 2 or text.isascii():
            return "en"
        return _by_script(text)
    if not function_words:
        return _by_script(text)
    others = sum(function_words.values()) - english
    if english >= 2 and english >= 3 * others:
        return "en"
    if english == 1 and others == 0 and text.isascii():
        return "en"
    best = max(function_words, key=function_words.__getitem__, default="en")
    if (
        best != "en"
        and function_words[best] >= 2
        and all(n < function_words[best] for code, n in function_words.items() if code != best)
    ):
        return best
    return _by_script(text)


def _by_script(text: str) -> str | None:
    """CLD2's reliable answer, else English for Latin script, "und" otherwise."""
    has_letters, latin = _latin_letters_only(text)
    if not has_letters:
        return None
    detected = _cld2(text[:DETECT_CHARS])
    if detected is not None and (not latin or detected in LATIN_SCRIPT_LANGUAGES):
        return detected
    return "en" if latin else UNDETERMINED


_ASCII_LETTER = re.compile("[A-Za-z]")
_BEYOND_LATIN = re.compile("[\u0250-\u1dff\u1f00-\U0010ffff]")
# Every character str.isalpha() calls a letter in the Latin ranges, spelled out
# once so that one regular-expression search replaces a loop over the text.
_LATIN_LETTER = re.compile(
    "["
    + re.escape(
        "".join(ch for ch in map(chr, [*range(0x250), *range(0x1E00, 0x1F00)]) if ch.isalpha())
    )
    + "]"
)
# C0 controls other than tab, line feed and carriage return, which CLD2 refuses.
_C0_CONTROLS = bytes(b for b in range(0x20) if b not in (9, 10, 13))
_C0_CONTROL = re.compile(b"[" + re.escape(_C0_CONTROLS) + b"]")
_C0_TO_SPACE = bytes.maketrans(_C0_CONTROLS, b" " * len(_C0_CONTROLS))


def _cld2(text: str) -> str | None:
    # CLD2 wants valid UTF-8 without C0 controls; lone surrogates become "?".
    data = text.encode("utf-8", "replace")
    # A printable text has no controls at all (most posts): no search needed.
    if not text.isprintable() and _C0_CONTROL.search(data) is not None:
        data = data.translate(_C0_TO_SPACE)
    try:
        reliable, _, details = pycld2.detect(data)
    except pycld2.error:
        return None
    code: str = details[0][1]
    # "xx-Runr" and the like name only a script.
    if not reliable or code == "un" or code.startswith("xx"):
        return None
    return code.split("-")[0].lower()
