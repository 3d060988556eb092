"""Review a drafted official update before it is posted: the tone check.

Rule-based and explainable: every finding names its rule, a severity, the
phrase that triggered it (with its character offset in the draft) and a
concrete suggestion. The rules, in the order of :data:`RULES`:

* acknowledgement: does the draft say that something is wrong for people?
* empathy: a plain apology or a line of understanding; hollow stock phrases
  ("any inconvenience") and over-apology are flagged;
* specificity: what is affected (the incident lexicon's symptoms and
  platforms, see :mod:`earful.analyze.cues`), where (places from
  :mod:`earful.analyze.gazetteer`, platforms, "all regions"), since when;
* the next update: a promised time ("next update in 30 minutes", "by 14:00
  UTC"); "soon" or "as soon as possible" without a time is flagged;
* robotic or jargon phrases, internal codenames in capitals, ticket ids;
* blame-shifting ("due to a third-party provider", "your ISP");
* tone: cheerful words or party emoji during an outage, minimising words,
  an upbeat sentiment score (Earful's incident sentiment, :mod:`earful.analyze.scoring`);
* length per network: Bluesky 300 graphemes, Mastodon 500 (URLs count 23),
  X 280 weighted characters (URLs 23, CJK and emoji 2).

The phrase lists are data at the top of this module; each entry carries its
own suggestion. :meth:`ToneChecker.review` returns a :class:`ToneReport` with
``to_text()`` for a terminal and ``to_dict()``/``to_json()`` for machines.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import regex

# X's own counting rules (twitter-text v3 port, passes the official conformance suite).
import twitter_text  # type: ignore[import-untyped]

from earful.analyze.cues import CueScanner, TextCues, default_scanner
from earful.analyze.gazetteer import Gazetteer, default_gazetteer
from earful.analyze.outage import find_error_codes
from earful.analyze.scoring import Scorer
from earful.analyze.tone_phrases import (
    ACKNOWLEDGEMENTS,
    ALLOWED_CAPITALS,
    APOLOGY_WORDS,
    BLAME,
    CAPITAL_WORD,
    CHEERFUL,
    CHEERFUL_EMOJI,
    CLOCK_TIME,
    EMPATHY,
    HOLLOW,
    JARGON,
    MINIMISING,
    NEXT_UPDATE,
    OVER_APOLOGY_COUNT,
    RESOLUTION,
    RULES,
    SCOPE,
    SEVERITIES,
    SEVERITY_TAGS,
    SINCE,
    TICKET_ID,
    VAGUE_TIMES,
    ZONE_AFTER,
    Phrase,
    Rule,
    Severity,
)

__all__ = [
    "DEFAULT_NETWORKS",
    "MAX_DRAFT_CHARS",
    "NETWORK_LIMITS",
    "RULES",
    "SEVERITIES",
    "DraftError",
    "Evidence",
    "Finding",
    "NetworkFit",
    "Phrase",
    "Rule",
    "Severity",
    "ToneChecker",
    "ToneReport",
    "count_length",
    "parse_networks",
    "validate_draft",
]


#: Longest draft reviewed; the CLI and the endpoint refuse longer ones.
MAX_DRAFT_CHARS = 10_000

# -- networks ------------------------------------------------------------------

#: Post limits: Bluesky 300 graphemes; Mastodon 500 (the default; instances
#: may set their own) with every URL counted as 23; X 280 weighted characters.
NETWORK_LIMITS: dict[str, int] = {"bluesky": 300, "mastodon": 500, "x": 280}
DEFAULT_NETWORKS: tuple[str, ...] = ("bluesky", "mastodon", "x")
_NETWORK_NAMES = {"bluesky": "Bluesky", "mastodon": "Mastodon", "x": "X"}
#: Mastodon counts every URL as 23 characters and a remote mention as its local part.
MASTODON_URL_LENGTH = 23
_REMOTE_MENTION = re.compile(r"(?<![\w@])@(\w+)@[\w.-]+\w")
_GRAPHEME = regex.compile(r"\X")


class DraftError(ValueError):
    """The draft cannot be reviewed (empty, too long); the message says why."""


def validate_draft(text: str, *, max_chars: int = MAX_DRAFT_CHARS) -> str:
    """The draft, stripped; raises :class:`DraftError` when empty or too long."""
    stripped = text.strip()
    if not stripped:
        raise DraftError("the draft is empty")
    if len(stripped) > max_chars:
        raise DraftError(f"the draft has {len(stripped)} characters; the limit is {max_chars}")
    return stripped


def parse_networks(spec: str | Sequence[str]) -> tuple[str, ...]:
    """Networks from "bluesky,x" or a list; raises :class:`DraftError` for unknown names."""
    names = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[str] = []
    for name in names:
        key = name.strip().lower()
        if key in ("twitter", "x.com"):
            key = "x"
        if not key:
            continue
        if key not in NETWORK_LIMITS:
            known = ", ".join(NETWORK_LIMITS)
            raise DraftError(f"unknown network {name.strip()!r} (known: {known})")
        if key not in out:
            out.append(key)
    if not out:
        raise DraftError("no network given")
    return tuple(out)


def _graphemes(text: str) -> int:
    return len(_GRAPHEME.findall(text))


def count_length(text: str, network: str) -> int:
    """The draft's length as ``network`` counts it."""
    if network == "x":
        # twitter-text's v3 rules: URLs 23, CJK and emoji 2, most other characters 1.
        return int(twitter_text.parse_tweet(text).weightedLength)
    if network == "mastodon":
        # Mastodon's StatusLengthValidator: URLs (with a scheme) become 23
        # characters, remote mentions their local part; then graphemes.
        urls = twitter_text.extract_urls_with_indices(text, False)
        pieces: list[str] = []
        last = 0
        for url in sorted(urls, key=lambda u: int(u["indices"][0])):
            start, end = int(url["indices"][0]), int(url["indices"][1])
            pieces.append(text[last:start])
            pieces.append("x" * MASTODON_URL_LENGTH)
            last = end
        pieces.append(text[last:])
        return _graphemes(_REMOTE_MENTION.sub(r"@\1", "".join(pieces)))
    if network == "bluesky":
        return _graphemes(text)
    raise DraftError(f"unknown network {network!r}")


# -- report --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Evidence:
    """A matched phrase and its character offsets in the draft."""

    text: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    severity: Severity
    message: str
    suggestion: str = ""
    evidence: tuple[Evidence, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "suggestion": self.suggestion,
            "evidence": [{"text": e.text, "start": e.start, "end": e.end} for e in self.evidence],
        }


@dataclass(frozen=True, slots=True)
class NetworkFit:
    """How long the draft is on one network, against its limit."""

    network: str
    limit: int
    length: int

    @property
    def fits(self) -> bool:
        return self.length <= self.limit

    @property
    def over_by(self) -> int:
        return max(0, self.length - self.limit)

    def to_dict(self) -> dict[str, Any]:
        return {
            "network": self.network,
            "limit": self.limit,
            "length": self.length,
            "fits": self.fits,
            "over_by": self.over_by,
        }


_PENALTY = {"ok": 0, "suggestion": 3, "warning": 10, "problem": 25}
Verdict = Literal["ready", "revise", "not_ready"]


@dataclass(frozen=True, slots=True)
class ToneReport:
    """The review of one draft.

    ``score`` starts at 100 and loses 25 per problem, 10 per warning and 3 per
    suggestion (never below 0). ``verdict``: ``not_ready`` with any problem,
    ``revise`` with warnings, ``ready`` otherwise.
    """

    findings: tuple[Finding, ...]
    fits: tuple[NetworkFit, ...]
    characters: int
    resolution: bool
    lang: str | None
    sentiment: float | None
    symptoms: tuple[str, ...] = field(default=())
    platforms: tuple[str, ...] = field(default=())
    places: tuple[str, ...] = field(default=())

    def count(self, severity: Severity) -> int:
        return sum(1 for f in self.findings if f.severity == severity)

    @property
    def has_problems(self) -> bool:
        return self.count("problem") > 0

    @property
    def rules(self) -> tuple[str, ...]:
        """The rule ids found, in report order (ids may repeat)."""
        return tuple(f.rule for f in self.findings)

    @property
    def score(self) -> int:
        return max(0, 100 - sum(_PENALTY[f.severity] for f in self.findings))

    @property
    def verdict(self) -> Verdict:
        if self.has_problems:
            return "not_ready"
        if self.count("warning"):
            return "revise"
        return "ready"

    def to_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.verdict,
            "score": self.score,
            "counts": {s: self.count(s) for s in SEVERITIES},
            "kind": "resolution" if self.resolution else "ongoing",
            "characters": self.characters,
            "lang": self.lang,
            "sentiment": self.sentiment,
            "symptoms": list(self.symptoms),
            "platforms": list(self.platforms),
            "places": list(self.places),
            "fits": {fit.network: fit.to_dict() for fit in self.fits},
            "findings": [f.to_dict() for f in self.findings],
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_text(self) -> str:
        """A short report for a terminal: verdict, fits, then findings, worst first."""
        verdict = {"ready": "READY", "revise": "REVISE", "not_ready": "NOT READY"}[self.verdict]
        counts = ", ".join(
            f"{self.count(s)} {s}{'s' if self.count(s) != 1 else ''}"
            for s in ("problem", "warning", "suggestion")
        )
        lines = [f"Tone check: {verdict} (score {self.score}/100): {counts}"]
        if self.fits:
            parts = []
            for fit in self.fits:
                state = "fits" if fit.fits else f"OVER by {fit.over_by}"
                parts.append(f"{_NETWORK_NAMES[fit.network]} {fit.length}/{fit.limit} {state}")
            lines.append("Length: " + " | ".join(parts))
        for finding in self.findings:
            where = ""
            if finding.evidence:
                shown = [f'"{e.text}" at {e.start}' for e in finding.evidence[:3]]
                more = len(finding.evidence) - len(shown)
                where = " [" + "; ".join(shown) + (f"; +{more} more" if more > 0 else "") + "]"
            lines.append(
                f"{finding.severity.upper():<10} {finding.rule:<22} {finding.message}{where}"
            )
            if finding.suggestion:
                lines.append(f"{'':<10} {'':<22} -> {finding.suggestion}")
        return "\n".join(lines)


# -- matching ------------------------------------------------------------------

_CONTRACTIONS = {
    "we're": r"we(?:'re|re|\s+are)",
    "we've": r"we(?:'ve|ve|\s+have)",
    "we'll": r"we(?:'ll|\s+will)",
    "you're": r"you(?:'re|re|\s+are)",
    "can't": r"(?:can't|cant|cannot|can\s+not)",
    "it's": r"it(?:'s|\s+is)",
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


def _word_pattern(word: str) -> str:
    if word == "...":
        return r"(?:\S+\s+){0,4}?"
    if word in _CONTRACTIONS:
        return _CONTRACTIONS[word]
    return r"[-\s]?".join(re.escape(part) for part in word.split("-"))


def _compile(phrase: str) -> re.Pattern[str]:
    parts = [_word_pattern(w) for w in phrase.lower().split()]
    body = ""
    for i, part in enumerate(parts):
        body += part
        if i < len(parts) - 1 and not part.endswith("{0,4}?"):
            body += r"\s+"
    return re.compile(rf"(?i)(?<![\w'])(?:{body})(?![\w'])")


@dataclass(frozen=True, slots=True)
class _Compiled:
    phrase: Phrase
    pattern: re.Pattern[str]


def _compile_all(phrases: Iterable[Phrase]) -> tuple[_Compiled, ...]:
    return tuple(_Compiled(p, _compile(p.phrase)) for p in phrases)


@dataclass(frozen=True, slots=True)
class _Hit:
    phrase: Phrase
    evidence: Evidence


def _find(text: str, phrases: tuple[_Compiled, ...]) -> list[_Hit]:
    """Non-overlapping hits, longest first then leftmost, returned in text order."""
    candidates: list[_Hit] = []
    for compiled in phrases:
        for m in compiled.pattern.finditer(text):
            candidates.append(_Hit(compiled.phrase, Evidence(m.group(0), m.start(), m.end())))
    candidates.sort(key=lambda h: (h.evidence.start - h.evidence.end, h.evidence.start))
    kept: list[_Hit] = []
    for hit in candidates:
        e = hit.evidence
        if any(e.start < k.evidence.end and k.evidence.start < e.end for k in kept):
            continue
        kept.append(hit)
    kept.sort(key=lambda h: h.evidence.start)
    return kept


def _evidence(hits: Iterable[_Hit]) -> tuple[Evidence, ...]:
    return tuple(h.evidence for h in hits)


def _inside(e: Evidence, spans: Iterable[Evidence]) -> bool:
    return any(s.start <= e.start and e.end <= s.end for s in spans)


def _regex_evidence(pattern: re.Pattern[str], text: str) -> tuple[Evidence, ...]:
    return tuple(Evidence(m.group(0), m.start(), m.end()) for m in pattern.finditer(text))


# -- the checker ---------------------------------------------------------------


class ToneChecker:
    """Reviews drafts. Build once (the lexicon and the gazetteer load in about a second).

    ``scanner``, ``gazetteer`` and ``scorer`` default to Earful's shipped
    lexicon, the GeoNames gazetteer and a :class:`~earful.analyze.scoring.Scorer`
    sharing them; pass ``gazetteer=None`` to skip place names.
    """

    #: Earful's incident compound at or above this reads upbeat during an outage.
    upbeat_compound = 0.5

    def __init__(
        self,
        *,
        scanner: CueScanner | None = None,
        gazetteer: Gazetteer | bool | None = True,
        scorer: Scorer | None = None,
        mastodon_limit: int = NETWORK_LIMITS["mastodon"],
    ) -> None:
        self._scanner = scanner if scanner is not None else default_scanner()
        if gazetteer is True:
            self._gazetteer: Gazetteer | None = default_gazetteer()
        else:
            self._gazetteer = gazetteer or None
        self._scorer = (
            scorer
            if scorer is not None
            else Scorer(cache_size=256, scanner=self._scanner, gazetteer=self._gazetteer or False)
        )
        self.limits = {**NETWORK_LIMITS, "mastodon": mastodon_limit}
        self._ack = _compile_all(ACKNOWLEDGEMENTS)
        self._empathy = _compile_all(EMPATHY)
        self._hollow = _compile_all(HOLLOW)
        self._jargon = _compile_all(JARGON)
        self._blame = _compile_all(BLAME)
        self._cheerful = _compile_all(CHEERFUL)
        self._minimising = _compile_all(MINIMISING)
        self._resolution = _compile_all(RESOLUTION)
        self._vague = _compile_all(VAGUE_TIMES)
        self._scope = _compile_all(SCOPE)

    def review(
        self,
        draft: str,
        networks: Sequence[str] = DEFAULT_NETWORKS,
        *,
        mastodon_limit: int | None = None,
    ) -> ToneReport:
        """Review one draft (see :func:`validate_draft` for the limits callers enforce).

        ``mastodon_limit`` overrides the checker's for this draft (instances set their own).
        """
        limits = (
            self.limits if mastodon_limit is None else {**self.limits, "mastodon": mastodon_limit}
        )
        text = draft.translate(_APOSTROPHES)  # same length: offsets stay valid
        cues = self._scanner.scan(text)
        score = self._scorer.score(text)
        resolution_hits = _find(text, self._resolution)
        failures = [c for c in cues.scored if c.entry.kind == "failure" and not c.negated]
        resolution = bool(resolution_hits) or (not failures and cues.has("recovery"))
        ongoing = not resolution
        findings: list[Finding] = []
        findings += self._acknowledgement(text, cues)
        findings += self._empathy_findings(text)
        what, where, symptoms, platforms, places = self._specificity(text, cues)
        findings += what + where
        findings += self._since(text)
        findings += self._next_update(text, resolution)
        findings += self._jargon_findings(text, places)
        findings += self._blame_findings(text)
        findings += self._tone(text, ongoing, score.sentiment.compound if score.sentiment else None)
        if score.lang is not None and score.lang != "en":
            rule = RULES["language.unsupported"]
            findings.append(
                Finding(
                    rule.id, rule.severity,
                    f"the draft reads as '{score.lang}': phrase rules and sentiment read English",
                    "Review it by hand too, or check an English version.",
                )
            )  # fmt: skip
        fits = tuple(
            NetworkFit(n, limits[n], count_length(text, n)) for n in parse_networks(networks)
        )
        for fit in fits:
            if not fit.fits:
                findings.append(
                    Finding(
                        "length.over", "problem",
                        f"{_NETWORK_NAMES[fit.network]}: {fit.length} of {fit.limit} "
                        f"(over by {fit.over_by})",
                        f"Cut {fit.over_by} characters for {_NETWORK_NAMES[fit.network]}, "
                        "or post a short version that links to the status page.",
                    )
                )  # fmt: skip
        findings.sort(key=_report_order)
        return ToneReport(
            findings=tuple(_quoting(f, draft) for f in findings),
            fits=fits,
            characters=len(draft),
            resolution=resolution,
            lang=score.lang,
            sentiment=score.sentiment.compound if score.sentiment else None,
            symptoms=symptoms,
            platforms=platforms,
            places=places,
        )

    # -- the checks --------------------------------------------------------------

    def _acknowledgement(self, text: str, cues: TextCues) -> list[Finding]:
        hits = _evidence(_find(text, self._ack))
        if not hits:
            # A failure phrase from the incident lexicon ("is down", "can't log in") names it too.
            hits = tuple(
                e
                for c in cues.scored
                if c.entry.kind == "failure" and not c.negated
                for e in self._locate(c.entry.phrase, text)
            )
        if hits:
            return [Finding("ack.present", "ok", "acknowledges the impact", evidence=hits)]
        return [
            Finding(
                "ack.missing", "problem",
                "does not say that something is wrong for people",
                "Open with the impact: 'We know some of you can't log in right now.'",
            )
        ]  # fmt: skip

    def _empathy_findings(self, text: str) -> list[Finding]:
        hollow = _find(text, self._hollow)
        hollow_spans = _evidence(hollow)
        # An apology inside a stock phrase ("we apologize for any inconvenience") is hollow.
        sincere = [
            h
            for h in _find(text, self._empathy)
            if not any(
                h.evidence.start < s.end + 30 and s.start - 40 < h.evidence.end
                for s in hollow_spans
            )
        ]
        out: list[Finding] = []
        if sincere:
            out.append(
                Finding("empathy.present", "ok", "shows empathy", evidence=_evidence(sincere))
            )
        for hit in hollow:
            out.append(
                Finding(
                    "empathy.hollow", "warning", "a stock phrase that reads as boilerplate",
                    hit.phrase.suggestion, (hit.evidence,),
                )
            )  # fmt: skip
        if not sincere and not hollow:
            out.append(
                Finding(
                    "empathy.missing", "warning", "no apology or understanding",
                    "Add one plain line: 'We're sorry, we know how frustrating this is.'",
                )
            )  # fmt: skip
        apologies = _regex_evidence(APOLOGY_WORDS, text)
        if len(apologies) >= OVER_APOLOGY_COUNT:
            out.append(
                Finding(
                    "empathy.over_apology", "warning",
                    f"{len(apologies)} apologies: one clear apology reads more sincere",
                    "Keep one 'We're sorry' and use the space for facts and the next update time.",
                    apologies,
                )
            )  # fmt: skip
        return out

    def _locate(self, phrase: str, text: str) -> tuple[Evidence, ...]:
        """Where a lexicon phrase appears in the draft (the scan works on normalised text)."""
        words = phrase.replace(".", " ").split()
        if not words:
            return ()
        pattern = re.compile(
            r"(?i)(?<!\w)" + r"[\s\W]+".join(_word_pattern(w) for w in words) + r"(?!\w)"
        )
        m = pattern.search(text)
        return (Evidence(m.group(0), m.start(), m.end()),) if m else ()

    def _specificity(
        self, text: str, cues: TextCues
    ) -> tuple[list[Finding], list[Finding], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        symptoms: dict[str, list[Evidence]] = {}
        platforms: dict[str, list[Evidence]] = {}
        for cue in cues.scored:
            if cue.entry.tag and cue.entry.kind == "failure":
                symptoms.setdefault(cue.entry.tag, []).extend(self._locate(cue.entry.phrase, text))
        for entry in cues.tags:
            if entry.kind == "topic" and entry.tag:
                symptoms.setdefault(entry.tag, []).extend(self._locate(entry.phrase, text))
            elif entry.kind == "platform" and entry.tag:
                platforms.setdefault(entry.tag, []).extend(self._locate(entry.phrase, text))
        codes = _error_codes(text)
        places: tuple[str, ...] = ()
        if self._gazetteer is not None:
            places = self._gazetteer.find(cues.normalised, text)
        what: list[Finding] = []
        if symptoms or platforms or codes:
            named = ", ".join([*symptoms, *platforms, *codes])
            ev = [e for es in (*symptoms.values(), *platforms.values()) for e in es]
            what.append(
                Finding("specific.what", "ok", f"names what is affected: {named}",
                        evidence=_dedupe(ev))
            )  # fmt: skip
        else:
            what.append(
                Finding(
                    "specific.what_missing", "warning",
                    "does not say which service or feature is affected",
                    "Name it as people see it: 'logging in', 'card payments', 'the iOS app'.",
                )
            )  # fmt: skip
        scope = _evidence(_find(text, self._scope))
        place_ev = [e for name in places for e in _first(text, name)]
        where: list[Finding] = []
        if places or platforms or scope:
            named = ", ".join([*places, *platforms, *(e.text for e in scope)])
            ev = [*place_ev, *(e for es in platforms.values() for e in es), *scope]
            where.append(
                Finding("specific.where", "ok", f"says where: {named}", evidence=_dedupe(ev))
            )
        else:
            where.append(
                Finding(
                    "specific.where_missing", "suggestion",
                    "does not say where or on which platforms",
                    "Say the scope: 'in the UK', 'on iOS and Android', or 'in all regions'.",
                )
            )  # fmt: skip
        return what, where, tuple(symptoms), tuple(platforms), places

    def _since(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        since = _regex_evidence(SINCE, text)
        if since:
            out.append(Finding("specific.since", "ok", "says when it started", evidence=since))
        else:
            out.append(
                Finding(
                    "specific.since_missing", "suggestion", "does not say when it started",
                    "Add the start: 'since 09:40 UTC' or 'since about 9:40 this morning'.",
                )
            )  # fmt: skip
        bare = tuple(
            Evidence(m.group(0), m.start(), m.end())
            for m in CLOCK_TIME.finditer(text)
            if not ZONE_AFTER.match(text, m.end())
        )
        if bare:
            out.append(
                Finding(
                    "time.zone_missing", "suggestion", "a time without a time zone",
                    "Add the zone: '14:30 UTC' (or the zone most of your customers live in).",
                    bare,
                )
            )  # fmt: skip
        return out

    def _next_update(self, text: str, resolution: bool) -> list[Finding]:
        promised = _regex_evidence(NEXT_UPDATE, text)
        if promised:
            return [Finding("next_update.promised", "ok", "promises the next update",
                            evidence=promised)]  # fmt: skip
        if resolution:
            return [Finding("next_update.not_needed", "ok", "a resolution: no next update needed")]
        vague = _find(text, self._vague)
        if vague:
            return [
                Finding(
                    "next_update.vague", "problem", "promises an update without a time",
                    "Replace it with a time: 'Next update in 30 minutes' or 'by 14:30 UTC'.",
                    _evidence(vague),
                )
            ]  # fmt: skip
        return [
            Finding(
                "next_update.missing", "problem", "no time for the next update",
                "End with 'Next update by 14:30 UTC' (or 'in 30 minutes'), and keep the promise.",
            )
        ]  # fmt: skip

    def _jargon_findings(self, text: str, places: Iterable[str]) -> list[Finding]:
        out = [
            Finding("jargon.phrase", "warning", "robotic or jargon phrase",
                    hit.phrase.suggestion, (hit.evidence,))
            for hit in _find(text, self._jargon)
        ]  # fmt: skip
        out += [
            Finding("jargon.phrase", "warning", "internal severity tag",
                    "Drop it; describe the impact instead.", (e,))
            for e in _regex_evidence(SEVERITY_TAGS, text)
        ]  # fmt: skip
        tickets = _regex_evidence(TICKET_ID, text)
        out += [
            Finding("jargon.ticket_id", "warning", "an internal ticket id",
                    "Drop it, or link to the public status page instead.", (e,))
            for e in tickets
        ]  # fmt: skip
        codes = set(_error_codes(text))
        for m in CAPITAL_WORD.finditer(text):
            word = m.group(1)
            letters = sum(ch.isalpha() for ch in word)
            if (
                letters < 3
                or word in ALLOWED_CAPITALS
                or word in codes
                or word in places
                or SEVERITY_TAGS.fullmatch(word)
                or _inside(Evidence(word, m.start(1), m.end(1)), tickets)
            ):
                continue
            out.append(
                Finding(
                    "jargon.codename", "warning", "looks like an internal codename",
                    f"Say what '{word}' is in plain words ('our login service').",
                    (Evidence(word, m.start(1), m.end(1)),),
                )
            )  # fmt: skip
        return out

    def _blame_findings(self, text: str) -> list[Finding]:
        return [
            Finding(
                "blame.shift", hit.phrase.severity or RULES["blame.shift"].severity,
                "shifts the blame", hit.phrase.suggestion, (hit.evidence,),
            )
            for hit in _find(text, self._blame)
        ]  # fmt: skip

    def _tone(self, text: str, ongoing: bool, compound: float | None) -> list[Finding]:
        out: list[Finding] = []
        cheerful = _evidence(_find(text, self._cheerful))
        emoji = tuple(
            Evidence(m.group(0), m.start(), m.end())
            for m in _GRAPHEME.finditer(text)
            if any(ch in CHEERFUL_EMOJI for ch in m.group(0))
        )
        found = tuple(sorted((*cheerful, *emoji), key=lambda e: e.start))
        if found:
            out.append(
                Finding(
                    "tone.cheerful", "problem" if ongoing else "suggestion",
                    "cheerful words or emoji" + (" while people are affected" if ongoing else ""),
                    "Keep it calm and factual; save celebration for never.",
                    found,
                )
            )  # fmt: skip
        for hit in _find(text, self._minimising):
            out.append(
                Finding("tone.minimising", "warning", "minimises the impact",
                        hit.phrase.suggestion, (hit.evidence,))
            )  # fmt: skip
        bangs = tuple(Evidence(m.group(0), m.start(), m.end()) for m in re.finditer(r"!+", text))
        if sum(len(e.text) for e in bangs) >= 2:
            out.append(
                Finding("tone.exclamations", "suggestion", "several exclamation marks",
                        "Use full stops: calm reads as in control.", bangs)
            )  # fmt: skip
        if ongoing and compound is not None and compound >= self.upbeat_compound:
            out.append(
                Finding(
                    "sentiment.upbeat", "warning",
                    f"reads upbeat (sentiment {compound:+.2f}) while the incident is ongoing",
                    "Match people's mood: state the problem, then what you are doing about it.",
                )
            )  # fmt: skip
        return out


def _quoting(finding: Finding, draft: str) -> Finding:
    """The finding with its evidence quoted from the draft as written (curly apostrophes)."""
    if not finding.evidence:
        return finding
    quoted = tuple(Evidence(draft[e.start : e.end], e.start, e.end) for e in finding.evidence)
    return replace(finding, evidence=quoted)


def _first(text: str, name: str) -> tuple[Evidence, ...]:
    start = text.find(name)
    return (Evidence(name, start, start + len(name)),) if start >= 0 else ()


def _dedupe(evidence: Iterable[Evidence]) -> tuple[Evidence, ...]:
    return tuple(sorted(set(evidence), key=lambda e: (e.start, e.end)))


_SEVERITY_RANK = {s: i for i, s in enumerate(SEVERITIES)}
_RULE_RANK = {rule: i for i, rule in enumerate(RULES)}


def _report_order(finding: Finding) -> tuple[int, int, int]:
    """Worst first; then in the order of :data:`RULES`; then by position."""
    start = finding.evidence[0].start if finding.evidence else -1
    return (-_SEVERITY_RANK[finding.severity], _RULE_RANK[finding.rule], start)


def _error_codes(text: str) -> tuple[str, ...]:
    """Error codes people may see ("HTTP 503", "ERR_CONNECTION_RESET"), minus ticket ids."""
    tickets = {m.group(0) for m in TICKET_ID.finditer(text)}
    return tuple(code for code in find_error_codes(text, True) if code not in tickets)
