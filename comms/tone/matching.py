"""The phrase engine: phrase lists compiled to patterns, and where they match.

A phrase is written as people write it ("we're aware", "any ... inconvenience"):
contractions match their long forms, hyphens match a space or nothing, "..."
stands for up to four words. Matches never overlap: the longest wins, then the
leftmost.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from earful.comms.tone.findings import PhraseMatch
from earful.comms.tone.phrases import Phrase

__all__ = [
    "APOSTROPHES",
    "CompiledPhrase",
    "Hit",
    "compile_all",
    "compile_phrase",
    "dedupe",
    "evidence_of",
    "find",
    "first_evidence",
    "inside",
    "regex_evidence",
    "word_pattern",
]

_CONTRACTIONS = {
    "we're": r"we(?:'re|re|\s+are)",
    "we've": r"we(?:'ve|ve|\s+have)",
    "we'll": r"we(?:'ll|\s+will)",
    "you're": r"you(?:'re|re|\s+are)",
    "can't": r"(?:can't|cant|cannot|can\s+not)",
    "it's": r"it(?:'s|\s+is)",
}
APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def word_pattern(word: str) -> str:
    if word == "...":
        return r"(?:\S+\s+){0,4}?"
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    return r"[-\s]?".join(re.escape(part) for part in word.split("-"))


def compile_phrase(phrase: str) -> re.Pattern[str]:
    parts = [word_pattern(w) for w in phrase.lower().split()]
    body = ""
    for i, part in enumerate(parts):
        body += part
        if i < len(parts) - 1 and not part.endswith("{0,4}?"):
            body += r"\s+"
    return re.compile(rf"(?i)(?<![\w'])(?:{body})(?![\w'])")


@dataclass(frozen=True, slots=True)
class CompiledPhrase:
    phrase: Phrase
    pattern: re.Pattern[str]


def compile_all(phrases: Iterable[Phrase]) -> tuple[CompiledPhrase, ...]:
    return tuple(CompiledPhrase(p, compile_phrase(p.phrase)) for p in phrases)


@dataclass(frozen=True, slots=True)
class Hit:
    phrase: Phrase
    evidence: PhraseMatch


def find(text: str, phrases: tuple[CompiledPhrase, ...]) -> list[Hit]:
    """Non-overlapping hits, longest first then leftmost, returned in text order."""
    candidates: list[Hit] = []
    for compiled in phrases:
        for m in compiled.pattern.finditer(text):
            candidates.append(Hit(compiled.phrase, PhraseMatch(m.group(0), m.start(), m.end())))
    candidates.sort(key=lambda h: (h.evidence.start - h.evidence.end, h.evidence.start))
    kept: list[Hit] = []
    for hit in candidates:
        e = hit.evidence
        if any(e.start < k.evidence.end and k.evidence.start < e.end for k in kept):
            continue
        kept.append(hit)
    kept.sort(key=lambda h: h.evidence.start)
    return kept


def evidence_of(hits: Iterable[Hit]) -> tuple[PhraseMatch, ...]:
    return tuple(h.evidence for h in hits)


def inside(e: PhraseMatch, spans: Iterable[PhraseMatch]) -> bool:
    return any(s.start <= e.start and e.end <= s.end for s in spans)


def regex_evidence(pattern: re.Pattern[str], text: str) -> tuple[PhraseMatch, ...]:
    return tuple(PhraseMatch(m.group(0), m.start(), m.end()) for m in pattern.finditer(text))


def first_evidence(text: str, name: str) -> tuple[PhraseMatch, ...]:
    start = text.find(name)
    return (PhraseMatch(name, start, start + len(name)),) if start >= 0 else ()


def dedupe(evidence: Iterable[PhraseMatch]) -> tuple[PhraseMatch, ...]:
    return tuple(sorted(set(evidence), key=lambda e: (e.start, e.end)))
