"""VADER 3.3.2's ``polarity_scores``, computed with less work: the same numbers, exactly.

The package's ``SentimentIntensityAnalyzer.polarity_scores`` spends most of its
time redoing work: for every lexicon word it lower-cases the whole post again
up to five times (once per negation check, once per idiom check), and it calls
a method per word even for the words it ignores. :class:`ExactVader` runs the
same rules, in the same order, with the same floating-point operations, on
words lower-cased once:

- emoji become their descriptions by the package's own loop, only when the
  post holds a character of the emoji lexicon (an ASCII post never does);
- the tokens and the ALL-CAPS test are the package's (``str.split``, strip
  ``string.punctuation`` unless that leaves two characters or fewer);
- booster and "kind of" words, and words outside the lexicon, count 0 (the
  int, as in the package) without a method call;
- a lexicon word goes through the package's rules ("no" before a lexicon
  word, ALL CAPS, boosters up to three words back with their dampening, the
  negation and "never so"/"without doubt" checks, the special idioms, "least")
  written against the lower-cased words (``str.lower`` is idempotent on every
  code point, so lower-casing again, as the package does, changes nothing);
- "but" (rare, and the package's rule has a quirk: it rescales the first
  sentiment equal to each value) and the final sums are the package's own
  static methods and code.

Identity is proven, not assumed: ``tests/analyze/test_vader_exact.py`` compares
every field with the package's output on the VADER ground truth, the example
incident, the CrisisLex dev data, the scoring golden sample and hypothesis-
generated text. The rules were copied from vaderSentiment 3.3.2 only: with any
other installed version :class:`ExactVader` hands every post to the package.
"""

from __future__ import annotations

import math
import re
import string
from importlib import metadata
from itertools import pairwise

from vaderSentiment.vaderSentiment import (
    BOOSTER_DICT,
    C_INCR,
    N_SCALAR,
    NEGATE,
    SPECIAL_CASES,
    SentimentIntensityAnalyzer,
)

__all__ = ["VADER_VERSION", "ExactVader"]

#: The vaderSentiment version whose rules this module reproduces.
VADER_VERSION = "3.3.2"

_PUNCTUATION = string.punctuation
_NEGATE = frozenset(NEGATE)
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_OR_NOR = ("or", "nor")
#: Marks where an emoji's description starts while emoji are described.
_MARK = "\x00"
#: The words the negation checks react to, besides any word with "n't": negators,
#: "never so", "never this", "without doubt", and "so" or "this" just before a word.
_NEGATION_WORDS = _NEGATE | {"so", "this"}
#: The special idioms and multi-word boosters, framed by spaces.
_IDIOMS = tuple(f" {key} " for key in (*SPECIAL_CASES, *BOOSTER_DICT) if " " in key)
#: The first two words of each idiom (an idiom is in a post only if they are neighbours there).
_IDIOM_PAIRS = frozenset(tuple(idiom.split()[:2]) for idiom in _IDIOMS)
#: Every word VADER's rules react to but ALL CAPS: negators (and any word with
#: "n't"), "no", "never so", "this", "without doubt", "least", "but", boosters,
#: and the words of the special idioms. A post with none of them scores each
#: lexicon word at its lexicon valence (ALL CAPS aside): those rules would
#: change nothing, so they are skipped.
_RULE_WORDS = (
    _NEGATE
    | {"no", "so", "this", "never", "without", "doubt", "least", "but"}
    | {word for key in (*BOOSTER_DICT, *SPECIAL_CASES) for word in key.split()}
)


def _negated(word: str) -> bool:
    # The package's negated([word]) for one lower-cased word.
    return word in _NEGATE or "n't" in word


class ExactVader:
    """``polarity_scores`` equal, field by field, to vaderSentiment 3.3.2's.

    ``analyzer`` provides the lexicons (a new ``SentimentIntensityAnalyzer``
    by default).
    """

    def __init__(self, analyzer: SentimentIntensityAnalyzer | None = None) -> None:
        self.analyzer = analyzer if analyzer is not None else SentimentIntensityAnalyzer()
        self._lexicon: dict[str, float] = self.analyzer.lexicon
        self._emojis: dict[str, str] = self.analyzer.emojis
        # The package looks up one character at a time: only one-character keys count.
        self._emoji_chars = frozenset(key for key in self._emojis if len(key) == 1)
        # The marks of _describe_emoji are exact while no description holds the mark
        # or ends with a space (see there).
        self._marks_exact = not any(
            _MARK in self._emojis[key] or self._emojis[key].endswith(" ")
            for key in self._emoji_chars
        )
        # No emoji is an ASCII character (the package's lexicon has none): then a
        # post's emoji are found among its non-ASCII characters.
        self._emoji_beyond_ascii = not any(key.isascii() for key in self._emoji_chars)
        self.exact = metadata.version("vaderSentiment") == VADER_VERSION

    def polarity_scores(self, text: str) -> dict[str, float]:
        if not self.exact:
            result: dict[str, float] = self.analyzer.polarity_scores(text)
            return result
        if not text.isascii():
            # Emoji are among the post's few non-ASCII characters (found by one
            # expression in C): cheaper than testing every character of the post.
            emoji = self._emoji_chars.intersection(
                _NON_ASCII.findall(text) if self._emoji_beyond_ascii else text
            )
            if emoji:
                text = self._describe_emoji(text, emoji)
        text = text.strip()
        words = [
            token if len(stripped := token.strip(_PUNCTUATION)) <= 2 else stripped
            for token in text.split()
        ]
        if text.isascii():
            # Lower-casing ASCII is per character: the joined words lower-cased at
            # once split back into the same words, each lower-cased.
            joined = " ".join(words).lower()
            lowers = joined.split(" ")
        else:
            lowers = [word.lower() for word in words]
            joined = " ".join(lowers)
        lexicon = self._lexicon
        # The package appends an int 0 for every word that carries no sentiment:
        # start from that and work only on the words the lexicon holds.
        count = len(words)
        sentiments: list[float] = [0] * count
        hits: list[int] = []
        is_cap_diff: bool | None = None
        plain = False
        negations = idioms = True
        last = count - 1
        for i, lower in enumerate(lowers):
            valence = lexicon.get(lower)
            if valence is None or lower in BOOSTER_DICT:
                continue
            if i < last and lower == "kind" and lowers[i + 1] == "of":
                continue
            if is_cap_diff is None:
                all_caps = sum(map(str.isupper, words))
                is_cap_diff = 0 < count - all_caps < count
                plain = "n't" not in joined and _RULE_WORDS.isdisjoint(lowers)
                if not plain:
                    # Which of the rules can apply: the negation checks need a negator
                    # (or a word with "n't"), "so" or "this"; the idiom check an idiom
                    # or a multi-word booster, word for word.
                    negations = "n't" in joined or not _NEGATION_WORDS.isdisjoint(lowers)
                    # Every idiom starts with one of a few word pairs: a set test on
                    # the post's neighbouring words settles most posts without a search.
                    idioms = not _IDIOM_PAIRS.isdisjoint(pairwise(lowers)) and any(
                        idiom in f" {joined} " for idiom in _IDIOMS
                    )
            if plain:
                # sentiment_valence with no rule to apply: the lexicon valence, ALL CAPS
                # aside (the boosters' 0.0 added to a non-zero valence changes nothing).
                if is_cap_diff and words[i].isupper():
                    valence = valence + C_INCR if valence > 0 else valence - C_INCR
                sentiments[i] = valence
            else:
                sentiments[i] = self._valence(
                    words, lowers, i, valence, is_cap_diff, negations, idioms
                )
            hits.append(i)
        if "but" in lowers:
            sentiments = SentimentIntensityAnalyzer._but_check(words, sentiments)
        return _score_valence(sentiments, text, hits)

    def _describe_emoji(self, text: str, emoji: frozenset[str]) -> str:
        """Each emoji becomes its description, as the package's loop does.

        The package writes a space before a description unless it starts the
        text or the character before the emoji is a space. Here each distinct
        emoji is replaced at once by a mark and its description; a mark at the
        start or after a space then goes, and the others become spaces. (The
        character before a mark is the one before the emoji, or the end of the
        previous emoji's description, which never ends with a space.) A text
        holding the mark itself takes the package's loop.
        """
        emojis = self._emojis
        if self._marks_exact and _MARK not in text:
            for ch in emoji:
                text = text.replace(ch, _MARK + emojis[ch])
            if text.startswith(_MARK):
                text = text[1:]
            return text.replace(" " + _MARK, " ").replace(_MARK, " ")
        # The package's loop, verbatim.
        text_no_emoji = ""
        prev_space = True
        for ch in text:
            if ch in emojis:
                description = emojis[ch]
                if not prev_space:
                    text_no_emoji += " "
                text_no_emoji += description
                prev_space = False
            else:
                text_no_emoji += ch
                prev_space = ch == " "
        return text_no_emoji

    def _valence(
        self,
        words: list[str],
        lowers: list[str],
        i: int,
        lexicon_valence: float,
        is_cap_diff: bool,
        negations: bool = True,
        idioms: bool = True,
    ) -> float:
        """The package's sentiment_valence for the lexicon word at ``i``.

        ``negations`` False: no word of the post is one the negation checks react
        to; ``idioms`` False: no special idiom or multi-word booster is in it.
        Those checks are then skipped, as they would change nothing.
        """
        lexicon = self._lexicon
        lower = lowers[i]
        valence = lexicon_valence
        if lower == "no" and i != len(lowers) - 1 and lowers[i + 1] in lexicon:
            valence = 0.0
        if (
            (i > 0 and lowers[i - 1] == "no")
            or (i > 1 and lowers[i - 2] == "no")
            or (i > 2 and lowers[i - 3] == "no" and lowers[i - 1] in _OR_NOR)
        ):
            valence = lexicon_valence * N_SCALAR
        if is_cap_diff and words[i].isupper():
            if valence > 0:
                valence += C_INCR
            else:
                valence -= C_INCR
        for start_i in range(3):
            if i > start_i and lowers[i - (start_i + 1)] not in lexicon:
                before = i - (start_i + 1)
                # scalar_inc_dec(words[before], valence, is_cap_diff)
                scalar = 0.0
                booster = BOOSTER_DICT.get(lowers[before])
                if booster is not None:
                    scalar = booster
                    if valence < 0:
                        scalar *= -1
                    if words[before].isupper() and is_cap_diff:
                        if valence > 0:
                            scalar += C_INCR
                        else:
                            scalar -= C_INCR
                if start_i == 1 and scalar != 0:
                    scalar = scalar * 0.95
                if start_i == 2 and scalar != 0:
                    scalar = scalar * 0.9
                valence = valence + scalar
                if negations:
                    valence = _negation_check(valence, lowers, start_i, i)
                if start_i == 2 and idioms:
                    valence = _special_idioms_check(valence, lowers, i)
        return _least_check(valence, lowers, i, lexicon)


def _score_valence(sentiments: list[float], text: str, hits: list[int]) -> dict[str, float]:
    """The package's score_valence (with its punctuation emphasis), the same operations.

    ``hits`` are the positions of the lexicon words: every other sentiment is
    0, which adds nothing to the sums (the package adds it; the result is the same).
    """
    if not sentiments:
        return {"neg": 0.0, "neu": 0.0, "pos": 0.0, "compound": 0.0}
    if not hits or not any(sentiments):
        # No word carries sentiment (most incident posts): the package's sums give
        # compound 0.0, pos and neg 0.0 and neu n / n, whatever the punctuation.
        return {"neg": 0.0, "neu": 1.0, "pos": 0.0, "compound": 0.0}
    ep_count = text.count("!")
    if ep_count > 4:
        ep_count = 4
    ep_amplifier = ep_count * 0.292
    qm_count = text.count("?")
    qm_amplifier: float = 0
    if qm_count > 1:
        qm_amplifier = qm_count * 0.18 if qm_count <= 3 else 0.96
    punct_emph_amplifier = ep_amplifier + qm_amplifier
    # sum() starts from the int 0 and adds floats in order: the zeros between
    # the lexicon words change nothing (0.0 added to a float that is not -0.0).
    sum_s = float(sum([sentiments[i] for i in hits]))
    if sum_s > 0:
        sum_s += punct_emph_amplifier
    elif sum_s < 0:
        sum_s -= punct_emph_amplifier
    # vaderSentiment.normalize(sum_s) with alpha 15.
    compound = sum_s / math.sqrt((sum_s * sum_s) + 15)
    if compound < -1.0:
        compound = -1.0
    elif compound > 1.0:
        compound = 1.0
    pos_sum = 0.0
    neg_sum = 0.0
    # The same additions in the same order as the package's loop over every word.
    neu_count = len(sentiments) - len(hits)
    for i in hits:
        sentiment_score = sentiments[i]
        if sentiment_score > 0:
            pos_sum += float(sentiment_score) + 1
        elif sentiment_score < 0:
            neg_sum += float(sentiment_score) - 1
        else:
            neu_count += 1
    if pos_sum > math.fabs(neg_sum):
        pos_sum += punct_emph_amplifier
    elif pos_sum < math.fabs(neg_sum):
        neg_sum -= punct_emph_amplifier
    total = pos_sum + math.fabs(neg_sum) + neu_count
    return {
        "neg": _round(math.fabs(neg_sum / total), 1000.0, 3),
        "neu": _round(math.fabs(neu_count / total), 1000.0, 3),
        "pos": _round(math.fabs(pos_sum / total), 1000.0, 3),
        "compound": _round(compound, 10000.0, 4),
    }


#: How close to a half the scaled value must be for round() to settle it.
_NEAR_HALF = 1e-9


def _round(x: float, scale: float, ndigits: int) -> float:
    """``round(x, ndigits)`` for ``scale == 10.0 ** ndigits`` and ``abs(x) <= 1``.

    round() finds the decimal nearest the exact value of ``x`` through a decimal
    string (dtoa, then snprintf and strtod); here it takes a few float operations.
    ``x * scale`` is within 1e-12 of the exact product, so unless it is within
    _NEAR_HALF of a half the rounding direction is certain, and the decimal
    ``k / 10 ** ndigits`` becomes the same float by one correctly rounded
    division. Near halves are left to round(); a zero keeps the sign of ``x``.
    """
    scaled = x * scale
    whole = math.floor(scaled)
    part = scaled - whole
    if -_NEAR_HALF < part - 0.5 < _NEAR_HALF:
        return round(x, ndigits)
    if part > 0.5:
        whole += 1
    if whole == 0:
        return math.copysign(0.0, x)
    return whole / scale


def _negation_check(valence: float, lowers: list[str], start_i: int, i: int) -> float:
    # The package's _negation_check, on words lower-cased once.
    if start_i == 0:
        if _negated(lowers[i - 1]):
            valence = valence * N_SCALAR
    elif start_i == 1:
        if lowers[i - 2] == "never" and (lowers[i - 1] == "so" or lowers[i - 1] == "this"):
            valence = valence * 1.25
        elif lowers[i - 2] == "without" and lowers[i - 1] == "doubt":
            pass
        elif _negated(lowers[i - 2]):
            valence = valence * N_SCALAR
    else:
        # The package's precedence: (never and (so or this)) or (so or this just before).
        if (lowers[i - 3] == "never" and (lowers[i - 2] == "so" or lowers[i - 2] == "this")) or (
            lowers[i - 1] == "so" or lowers[i - 1] == "this"
        ):
            valence = valence * 1.25
        elif lowers[i - 3] == "without" and (lowers[i - 2] == "doubt" or lowers[i - 1] == "doubt"):
            pass
        elif _negated(lowers[i - 3]):
            valence = valence * N_SCALAR
    return valence


def _special_idioms_check(valence: float, lowers: list[str], i: int) -> float:
    # The package's _special_idioms_check (called with i >= 3), on words lower-cased once.
    onezero = f"{lowers[i - 1]} {lowers[i]}"
    twoonezero = f"{lowers[i - 2]} {lowers[i - 1]} {lowers[i]}"
    twoone = f"{lowers[i - 2]} {lowers[i - 1]}"
    threetwoone = f"{lowers[i - 3]} {lowers[i - 2]} {lowers[i - 1]}"
    threetwo = f"{lowers[i - 3]} {lowers[i - 2]}"
    for seq in (onezero, twoonezero, twoone, threetwoone, threetwo):
        if seq in SPECIAL_CASES:
            valence = SPECIAL_CASES[seq]
            break
    if len(lowers) - 1 > i:
        zeroone = f"{lowers[i]} {lowers[i + 1]}"
        if zeroone in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroone]
    if len(lowers) - 1 > i + 1:
        zeroonetwo = f"{lowers[i]} {lowers[i + 1]} {lowers[i + 2]}"
        if zeroonetwo in SPECIAL_CASES:
            valence = SPECIAL_CASES[zeroonetwo]
    for n_gram in (threetwoone, threetwo, twoone):
        if n_gram in BOOSTER_DICT:
            valence = valence + BOOSTER_DICT[n_gram]
    return valence


def _least_check(valence: float, lowers: list[str], i: int, lexicon: dict[str, float]) -> float:
    # The package's _least_check, on words lower-cased once.
    if i > 1 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
        if lowers[i - 2] != "at" and lowers[i - 2] != "very":
            valence = valence * N_SCALAR
    elif i > 0 and lowers[i - 1] not in lexicon and lowers[i - 1] == "least":
        valence = valence * N_SCALAR
    return valence
