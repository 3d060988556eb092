"""Incident cues in a post: one normalisation and one Aho-Corasick scan feed every stage.

:func:`normalise` turns a post into lower-case words between single spaces:
URLs and @handles are dropped (``status.acme.com/down`` and ``@acme_down``
say nothing about the author's experience), hashtags become words
(``#AcmeDown`` -> "acme down ."), and sentence ends (. ! ? ; : ,) become a
"." token, so the lexicon can say "down at the end of a sentence".

:class:`CueScanner` then finds every lexicon phrase (``lexicon/incident.tsv``,
all languages at once), the function words that tell languages apart
(``lexicon/function_words.tsv``) and the emoji that matter in incident
chatter (``lexicon/emoji.tsv``), and marks phrases negated by a word just
before them ("no outage", "isn't down").
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from operator import attrgetter, itemgetter
from typing import NamedTuple

import ahocorasick  # type: ignore[import-not-found]  # C extension without type stubs

__all__ = [
    "NEGATORS",
    "Cue",
    "CueScanner",
    "Entry",
    "TextCues",
    "default_scanner",
    "expand_phrase",
    "lexicon_entries",
    "normalise",
    "scanner_for",
]

#: Kinds of lexicon entries that compete for the same words (longest phrase wins).
#: "sense" phrases take a failure word in another sense ("broke the record",
#: "crash course") so that the shorter failure phrase inside them does not match.
SCORED_KINDS = frozenset({"failure", "complaint", "recovery", "sense"})
#: Words that negate a phrase when one of the two words before it.
NEGATORS = frozenset(
    [
        "not",
        "no",
        "never",
        "isn't",
        "wasn't",
        "aren't",
        "weren't",
        "don't",
        "doesn't",
        "didn't",
        "won't",
        "haven't",
        "hasn't",
        "hadn't",
        "nothing",
        "without",
        "hardly",
        "nobody",
        "none",
        "zero",
        "isnt",
        "wasnt",
        "arent",
        "dont",
        "doesnt",
        "didnt",
        "wont",
        "havent",
        "hasnt",
        "nicht",
        "kein",
        "keine",
        "keinen",
        "pas",
        "jamais",
        "nunca",
        "niet",
        "geen",
        "nooit",
    ]
)
#: How far back (in words) a negator reaches.
NEGATION_WINDOW = 2

# The look-ahead ("h" or "w", in the same case-insensitive sense) lets most
# positions fail at once; the matches are the same.
_URL = re.compile(r"(?=[hw])(?:https?://|www\.)\S+", re.IGNORECASE)
# Fediverse handles carry an instance (@user@mastodon.social). The look-behind
# comes after the "@" or "#" (the same condition: no word character before it)
# so that the engine can jump from one "@" or "#" to the next: 4x faster.
_HANDLE = re.compile(r"@(?<!\w@)\w+(?:@[\w.-]+)?")
_HASHTAG = re.compile(r"#(?<!\w#)(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|(?<=[A-Za-z])(?=[0-9])")
_SENTENCE_END = re.compile(r"[.!?;:,\u2026\u3002\uff01\uff1f]+")
_APOSTROPHES = re.compile(r"[\u2019\u2018\u02bc`\u00b4]")
# Underscores are word characters to the regex engine but not to Earful: they
# become spaces in a second, plain str.replace (one character class is faster
# than an alternation, and the spaces are collapsed afterwards anyway).
_NON_WORD = re.compile(r"[^\w'.]+")
#: Hashtags that end in one of these split into subject and symptom (#acmedown).
_HASHTAG_SUFFIXES = ("down", "outage", "outages", "fail", "crash", "broken", "storing", "panne")


#: The words of each hashtag seen (an incident repeats a few hashtags); bounded:
#: past _TAG_WORDS_MAX hashtags, new ones are worked out each time.
_TAG_WORDS: dict[str, str] = {}
_TAG_WORDS_MAX = 20_000


def _hashtag_words(match: re.Match[str]) -> str:
    tag = match.group(1)
    words = _TAG_WORDS.get(tag)
    if words is None:
        words = _tag_words(tag)
        if len(_TAG_WORDS) < _TAG_WORDS_MAX:
            _TAG_WORDS[tag] = words
    return words


def _tag_words(tag: str) -> str:
    # All lower-case letters: nothing for _CAMEL to split (most hashtags).
    words = tag if tag.isalpha() and tag.islower() else _CAMEL.sub(" ", tag)
    if words == tag:
        low = tag.lower()
        if not low.endswith(_HASHTAG_SUFFIXES):
            return f" {words} . "
        for suffix in _HASHTAG_SUFFIXES:
            if low.endswith(suffix) and len(low) > len(suffix) + 1:
                words = f"{tag[: -len(suffix)]} {suffix}"
                break
    # A hashtag stands on its own, like a sentence.
    return f" {words} . "


def _ascii_table() -> bytes:
    table = bytearray(range(256))
    for code in range(128):
        ch = chr(code)
        if ch.isupper():
            table[code] = ord(ch.lower())
        elif not ch.isalnum() and ch != "'":
            table[code] = ord(".") if ch in ".!?;:," else ord(" ")
    return bytes(table)


# Lower-cases ASCII, turns sentence ends into "." and other punctuation into spaces.
_ASCII_TABLE = _ascii_table()


def _non_ascii_path_table() -> bytes:
    """What the non-ASCII expressions do to ASCII characters, one byte each.

    Lower case; ` is an apostrophe; sentence ends become "." (runs of them
    are then one " . "); anything else but letters, digits, ' and
    "." becomes a space (the underscore too).
    """
    table = bytearray(range(256))
    for code in range(128):
        ch = chr(code)
        if ch.isupper():
            table[code] = ord(ch.lower())
        elif ch == "`":
            table[code] = ord("'")
        elif ch in ".!?;:,":
            table[code] = ord(".")
        elif not ch.isalnum() and ch != "'":
            table[code] = ord(" ")
    return bytes(table)


_NON_ASCII_PATH_TABLE = _non_ascii_path_table()
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_APOSTROPHE_CHARS = frozenset("\u2019\u2018\u02bc\u00b4")
_SENTENCE_END_CHARS = frozenset("\u2026\u3002\uff01\uff1f")
#: What each non-ASCII character seen so far stands for in ASCII: "'" (an
#: apostrophe), "." (a sentence end), " " (an emoji, a symbol, a space: not
#: a word character, and unchanged by lower()), or "" (a letter or digit:
#: the text needs the full expressions). Bounded: past _NON_ASCII_AS_MAX
#: characters, new ones are worked out each time.
_NON_ASCII_AS: dict[str, str] = {}
_NON_ASCII_AS_MAX = 20_000


def _ascii_for(ch: str) -> str:
    if ch in _APOSTROPHE_CHARS:
        return "'"
    if ch in _SENTENCE_END_CHARS:
        return "."
    if ch.lower() == ch and not ch.isalnum():
        return " "
    return ""


def _as_ascii(text: str) -> str | None:
    """The text with its non-ASCII characters replaced, or None if one is a letter."""
    for ch in set(_NON_ASCII.findall(text)):
        stand_in = _NON_ASCII_AS.get(ch)
        if stand_in is None:
            stand_in = _ascii_for(ch)
            if len(_NON_ASCII_AS) < _NON_ASCII_AS_MAX:
                _NON_ASCII_AS[ch] = stand_in
        if not stand_in:
            return None
        text = text.replace(ch, stand_in)
    return text


def normalise(text: str) -> str:
    """Lower-case words between single spaces, framed by spaces, ending with " . "."""
    if "http" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _HANDLE.sub(" ", text)
    if "#" in text:
        text = _HASHTAG.sub(_hashtag_words, text)
    if text.isascii():
        # Most posts: one byte-table pass instead of three regular expressions.
        text = text.encode("ascii").translate(_ASCII_TABLE).decode("ascii")
        if "." in text:
            text = text.replace(".", " . ")
    else:
        ascii_text = _as_ascii(text)
        if ascii_text is not None:
            # ASCII plus emoji and punctuation (most other posts): the same result
            # as the three expressions below, by a byte table.
            text = ascii_text.encode("ascii").translate(_NON_ASCII_PATH_TABLE).decode("ascii")
            if "." in text:
                # Each run of dots becomes one " . " (as r"\.+" replaced would, for
                # a fifth of the cost: most posts have no run to shorten).
                while ".." in text:
                    text = text.replace("..", ".")
                text = text.replace(".", " . ")
        else:
            text = _APOSTROPHES.sub("'", text.lower())
            text = _SENTENCE_END.sub(" . ", text)
            text = _NON_WORD.sub(" ", text)
            if "_" in text:
                text = text.replace("_", " ")
    text = " ".join(text.split())
    if "'" not in text:
        return f" {text} . "
    text = f" {text} "
    # Quotes around words go; apostrophes inside them (can't, it's) stay.
    while " '" in text or "' " in text:
        text = text.replace(" '", " ").replace("' ", " ")
    return f"{text}. "


@dataclass(frozen=True, slots=True)
class Entry:
    """One lexicon line (see the header of ``lexicon/incident.tsv``)."""

    lang: str
    phrase: str
    kind: str
    valence: float
    report: float
    tag: str
    not_after: frozenset[str]


class Cue(NamedTuple):
    entry: Entry
    start: int
    negated: bool


class TextCues(NamedTuple):
    """What the scan found in one post."""

    normalised: str
    #: Failure, complaint and recovery phrases, non-overlapping, longest first.
    scored: tuple[Cue, ...]
    #: Topic, platform, sarcasm and laugh phrases (may overlap the scored ones).
    tags: tuple[Entry, ...]
    #: Function words seen, per language.
    function_words: dict[str, int]
    laugh_emoji: int
    emoji_valence: float

    def has(self, kind: str) -> bool:
        if kind in SCORED_KINDS:
            return any(c.entry.kind == kind and not c.negated for c in self.scored)
        # In C (no generator, which costs more than the few tags a post has).
        return kind in map(_KIND, self.tags)


_LONGEST_THEN_LEFTMOST = itemgetter(0, 1)
_KIND = attrgetter("kind")


def _complaints_yield(
    candidates: list[tuple[int, int, int, Entry]],
) -> list[tuple[int, int, int, Entry]]:
    """Drop complaint phrases that share words with a failure phrase they do not contain.

    "still no" (a complaint) and "no power" (a failure) overlap in "still no
    power": longest-first would let the complaint take "no" and lose the
    failure. A complaint keeps a failure's words only when it holds the whole
    failure phrase (it was written as the longer, more precise reading).
    """
    complaints = [c for c in candidates if c[3].kind == "complaint"]
    if not complaints:
        return candidates
    failures = [(c[1], c[2]) for c in candidates if c[3].kind == "failure"]
    if not failures:
        return candidates
    dropped = [
        c
        for c in complaints
        if any(c[1] < e - 1 and s + 1 < c[2] and not (c[1] <= s and e <= c[2]) for s, e in failures)
    ]
    if not dropped:
        return candidates
    return [c for c in candidates if c not in dropped]


_START = itemgetter(1)
_tuple_new = tuple.__new__
_COMPLAINT_BIT = 1
_FAILURE_BIT = 2
#: A post with both a complaint and a failure phrase among its candidates.
_BOTH_BITS = _COMPLAINT_BIT | _FAILURE_BIT


def _kind_bits(entries: tuple[Entry, ...]) -> int:
    bits = 0
    for entry in entries:
        if entry.kind == "complaint":
            bits |= _COMPLAINT_BIT
        elif entry.kind == "failure":
            bits |= _FAILURE_BIT
    return bits


def _read(name: str) -> list[list[str]]:
    text = resources.files("earful.analyze").joinpath("lexicon", name).read_text(encoding="utf-8")
    return [
        line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#")
    ]


def _spellings(phrase: str) -> list[str]:
    """The phrase, and without apostrophes in n't (people type "cant", "doesnt")."""
    out = [phrase]
    if "n't" in phrase:
        out.append(phrase.replace("n't", "nt"))
    return out


class CueScanner:
    """Scans posts for lexicon phrases, function words and emoji."""

    def __init__(
        self,
        entries: list[Entry],
        function_words: dict[str, list[str]],
        emoji: dict[str, tuple[str, float]],
    ) -> None:
        scored: dict[str, list[Entry]] = {}
        tagged: dict[str, list[Entry]] = {}
        languages: dict[str, list[str]] = {}
        for entry in entries:
            target = scored if entry.kind in SCORED_KINDS else tagged
            for spelling in _spellings(entry.phrase):
                target.setdefault(f" {spelling} ", []).append(entry)
        for lang, words in function_words.items():
            for word in words:
                for spelling in _spellings(word):
                    languages.setdefault(f" {spelling} ", []).append(lang)
        self._automaton = ahocorasick.Automaton()
        for key in scored.keys() | tagged.keys() | languages.keys():
            # One flat tuple per key keeps the per-match work small.
            langs = tuple(languages.get(key, ()))
            if len(langs) == 1 and key not in scored and key not in tagged:
                # Most matches: a function word of one language, stored as the
                # language alone (the scan counts it without unpacking a tuple).
                self._automaton.add_word(key, langs[0])
                continue
            scored_entries = tuple(scored.get(key, ()))
            value = (
                len(key),
                langs,
                scored_entries,
                tuple(tagged.get(key, ())),
                # Which of the kinds _complaints_yield weighs the phrase's entries have.
                _kind_bits(scored_entries),
            )
            self._automaton.add_word(key, value)
        self._automaton.make_automaton()
        self._emoji = emoji
        chars = "".join(sorted(emoji))
        self._emoji_re = re.compile(f"[{re.escape(chars)}]") if chars else None
        # Emoji that are single non-ASCII characters (all the shipped ones) are found
        # among a post's non-ASCII characters by a dict lookup: a class of emoji in
        # an expression is tested about four times more slowly, character by character.
        self._emoji_by_lookup = all(len(key) == 1 and not key.isascii() for key in emoji)

    def scan(self, text: str) -> TextCues:
        norm = normalise(text)
        candidates: list[tuple[int, int, int, Entry]] = []
        tags: list[Entry] = []
        function_words: dict[str, int] = {}
        kinds = 0
        for end, value in self._automaton.iter(norm):
            if value.__class__ is str:
                function_words[value] = function_words.get(value, 0) + 1
                continue
            length, langs, scored_entries, tagged_entries, bits = value
            for lang in langs:
                function_words[lang] = function_words.get(lang, 0) + 1
            if scored_entries:
                kinds |= bits
                start = end - length + 1
                for entry in scored_entries:
                    candidates.append((start - end, start, end, entry))
            if tagged_entries:
                tags.extend(tagged_entries)
        scored = self._resolve(norm, candidates, kinds == _BOTH_BITS) if candidates else ()
        laughs = 0
        valence = 0.0
        if self._emoji_re is not None and not text.isascii():
            if self._emoji_by_lookup:
                emoji = self._emoji
                found = [ch for ch in _NON_ASCII.findall(text) if ch in emoji]
            else:
                found = self._emoji_re.findall(text)
            for ch in found:
                kind, value = self._emoji[ch]
                if kind == "laugh":
                    laughs += 1
                valence += value
        # TextCues(normalised, scored, tags, function_words, laugh_emoji, emoji_valence),
        # built as the tuple it is (a named tuple's __new__ is a Python function).
        return _tuple_new(TextCues, (norm, scored, tuple(tags), function_words, laughs, valence))

    @staticmethod
    def _resolve(
        norm: str, candidates: list[tuple[int, int, int, Entry]], complaints_and_failures: bool
    ) -> tuple[Cue, ...]:
        """Non-overlapping cues from (start - end, start, end, entry) candidates.

        ``complaints_and_failures``: both kinds are among the candidates (else no
        complaint has to yield to a failure).
        """
        # Longest phrase first, then leftmost: "not working again" is one failure,
        # not a failure and a recovery. Neighbours share their framing space.
        if len(candidates) > 1:
            if complaints_and_failures:
                candidates = _complaints_yield(candidates)
            candidates.sort(key=_LONGEST_THEN_LEFTMOST)
        taken: list[tuple[int, int]] = []
        cues: list[Cue] = []
        for _, start, end, entry in candidates:
            if taken:
                overlaps = False
                # A loop, not any() over a generator: a post has one or two cues taken.
                for s, e in taken:
                    if start < e - 1 and s + 1 < end:
                        overlaps = True
                        break
                if overlaps:
                    continue
            # The last words before the phrase (rsplit: only the last two are needed).
            before = norm[max(0, start - 60) : start].rsplit(None, NEGATION_WINDOW)
            if not before:
                taken.append((start, end))
                cues.append(_tuple_new(Cue, (entry, start, False)))
                continue
            last = before[-1]
            if last in entry.not_after:
                continue
            taken.append((start, end))
            # "nothing but errors": "but" right before the phrase ends the negation.
            negated = last != "but" and not NEGATORS.isdisjoint(before[-NEGATION_WINDOW:])
            if negated and entry.phrase.startswith("no "):
                # "no calls no data": a list of lacks, the first "no" is another noun's
                negated = not NEGATORS.isdisjoint(
                    [word for word in before[-NEGATION_WINDOW:] if word != "no"]
                )
            cues.append(_tuple_new(Cue, (entry, start, negated)))
        if len(cues) > 1:
            cues.sort(key=_START)
        return tuple(cues)


_ALTERNATIVES = re.compile(r"\(([^()]*)\)")


def expand_phrase(phrase: str) -> list[str]:
    """Every phrase a template line stands for: "(won't|isn't) (load|loading)" gives four.

    A class of phrasings (verbs of failing by service, words of a status page)
    is one line that says what it covers, not a list that misses a member. An
    empty alternative drops the group ("(the )?" is written "(the|)").
    """
    match = _ALTERNATIVES.search(phrase)
    if match is None:
        return [" ".join(phrase.split())]
    head, tail = phrase[: match.start()], phrase[match.end() :]
    return [
        expanded
        for alternative in match.group(1).split("|")
        for expanded in expand_phrase(f"{head}{alternative}{tail}")
    ]


def lexicon_entries(templates: bool = True) -> list[Entry]:
    """The shipped incident lexicon (``lexicon/incident.tsv``), one Entry a phrase.

    A template line ("(won't|isn't) (load|loading)") gives an Entry for each
    phrase it stands for, unless a line of its own lists that phrase with the
    same kind (the phrase's own line, more precise, wins). ``templates=False``
    leaves the template lines out (to measure what they bring).
    """
    rows = [row for row in _read("incident.tsv") if templates or "(" not in row[1]]
    listed = {(row[0], row[1], row[2]) for row in rows if "(" not in row[1]}
    entries: list[Entry] = []
    for row in rows:
        phrases = [row[1]]
        if "(" in row[1]:
            phrases = [p for p in expand_phrase(row[1]) if (row[0], p, row[2]) not in listed]
            listed.update((row[0], p, row[2]) for p in phrases)
        entries.extend(
            Entry(
                lang=row[0],
                phrase=phrase,
                kind=row[2],
                valence=float(row[3]),
                report=float(row[4]),
                tag=row[5] if len(row) > 5 else "",
                not_after=frozenset(row[6].split()) if len(row) > 6 else frozenset(),
            )
            for phrase in phrases
        )
    return entries


def scanner_for(entries: list[Entry]) -> CueScanner:
    """A scanner over ``entries`` with the shipped function words and emoji."""
    function_words = {row[0]: row[1].split() for row in _read("function_words.tsv")}
    emoji = {row[0]: (row[1], float(row[2])) for row in _read("emoji.tsv")}
    return CueScanner(entries, function_words, emoji)


@lru_cache(maxsize=1)
def default_scanner() -> CueScanner:
    """The scanner over Earful's shipped lexicon, built once per process."""
    return scanner_for(lexicon_entries())
