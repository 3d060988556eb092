"""The tone check itself: :class:`ToneChecker` runs every rule over a draft."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import replace

from earful.analyze.cues import CueScanner, TextCues, default_scanner
from earful.analyze.gazetteer import Gazetteer, default_gazetteer
from earful.analyze.outage import find_error_codes
from earful.analyze.scoring import Scorer
from earful.comms.tone.findings import Finding, NetworkFit, PhraseMatch, ToneReport, report_order
from earful.comms.tone.length import (
    DEFAULT_NETWORKS,
    GRAPHEME,
    NETWORK_LIMITS,
    NETWORK_NAMES,
    count_length,
    parse_networks,
)
from earful.comms.tone.matching import (
    APOSTROPHES,
    compile_all,
    dedupe,
    evidence_of,
    find,
    first_evidence,
    inside,
    regex_evidence,
    word_pattern,
)
from earful.comms.tone.phrases import (
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
    SEVERITY_TAGS,
    SINCE,
    TICKET_ID,
    VAGUE_TIMES,
    ZONE_AFTER,
)

__all__ = ["ToneChecker"]


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
        self._ack = compile_all(ACKNOWLEDGEMENTS)
        self._empathy = compile_all(EMPATHY)
        self._hollow = compile_all(HOLLOW)
        self._jargon = compile_all(JARGON)
        self._blame = compile_all(BLAME)
        self._cheerful = compile_all(CHEERFUL)
        self._minimising = compile_all(MINIMISING)
        self._resolution = compile_all(RESOLUTION)
        self._vague = compile_all(VAGUE_TIMES)
        self._scope = compile_all(SCOPE)

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
        text = draft.translate(APOSTROPHES)  # same length: offsets stay valid
        cues = self._scanner.scan(text)
        score = self._scorer.score(text)
        resolution_hits = find(text, self._resolution)
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
                    rule.id,
                    rule.severity,
                    f"the draft reads as '{score.lang}': phrase rules and sentiment read English",
                    "Review it by hand too, or check an English version.",
                )
            )
        fits = tuple(
            NetworkFit(n, limits[n], count_length(text, n)) for n in parse_networks(networks)
        )
        for fit in fits:
            if not fit.fits:
                findings.append(
                    Finding(
                        "length.over",
                        "problem",
                        f"{NETWORK_NAMES[fit.network]}: {fit.length} of {fit.limit} "
                        f"(over by {fit.over_by})",
                        f"Cut {fit.over_by} characters for {NETWORK_NAMES[fit.network]}, "
                        "or post a short version that links to the status page.",
                    )
                )
        findings.sort(key=report_order)
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
        hits = evidence_of(find(text, self._ack))
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
                "ack.missing",
                "problem",
                "does not say that something is wrong for people",
                "Open with the impact: 'We know some of you can't log in right now.'",
            )
        ]

    def _empathy_findings(self, text: str) -> list[Finding]:
        hollow = find(text, self._hollow)
        hollow_spans = evidence_of(hollow)
        # An apology inside a stock phrase ("we apologize for any inconvenience") is hollow.
        sincere = [
            h
            for h in find(text, self._empathy)
            if not any(
                h.evidence.start < s.end + 30 and s.start - 40 < h.evidence.end
                for s in hollow_spans
            )
        ]
        out: list[Finding] = []
        if sincere:
            out.append(
                Finding("empathy.present", "ok", "shows empathy", evidence=evidence_of(sincere))
            )
        for hit in hollow:
            out.append(
                Finding(
                    "empathy.hollow",
                    "warning",
                    "a stock phrase that reads as boilerplate",
                    hit.phrase.suggestion,
                    (hit.evidence,),
                )
            )
        if not sincere and not hollow:
            out.append(
                Finding(
                    "empathy.missing",
                    "warning",
                    "no apology or understanding",
                    "Add one plain line: 'We're sorry, we know how frustrating this is.'",
                )
            )
        apologies = regex_evidence(APOLOGY_WORDS, text)
        if len(apologies) >= OVER_APOLOGY_COUNT:
            out.append(
                Finding(
                    "empathy.over_apology",
                    "warning",
                    f"{len(apologies)} apologies: one clear apology reads more sincere",
                    "Keep one 'We're sorry' and use the space for facts and the next update time.",
                    apologies,
                )
            )
        return out

    def _locate(self, phrase: str, text: str) -> tuple[PhraseMatch, ...]:
        """Where a lexicon phrase appears in the draft (the scan works on normalised text)."""
        words = phrase.replace(".", " ").split()
        if not words:
            return ()
        pattern = re.compile(
            r"(?i)(?<!\w)" + r"[\s\W]+".join(word_pattern(w) for w in words) + r"(?!\w)"
        )
        m = pattern.search(text)
        return (PhraseMatch(m.group(0), m.start(), m.end()),) if m else ()

    def _specificity(
        self, text: str, cues: TextCues
    ) -> tuple[list[Finding], list[Finding], tuple[str, ...], tuple[str, ...], tuple[str, ...]]:
        symptoms: dict[str, list[PhraseMatch]] = {}
        platforms: dict[str, list[PhraseMatch]] = {}
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
                Finding(
                    "specific.what", "ok", f"names what is affected: {named}", evidence=dedupe(ev)
                )
            )
        else:
            what.append(
                Finding(
                    "specific.what_missing",
                    "warning",
                    "does not say which service or feature is affected",
                    "Name it as people see it: 'logging in', 'card payments', 'the iOS app'.",
                )
            )
        scope = evidence_of(find(text, self._scope))
        place_ev = [e for name in places for e in first_evidence(text, name)]
        where: list[Finding] = []
        if places or platforms or scope:
            named = ", ".join([*places, *platforms, *(e.text for e in scope)])
            ev = [*place_ev, *(e for es in platforms.values() for e in es), *scope]
            where.append(
                Finding("specific.where", "ok", f"says where: {named}", evidence=dedupe(ev))
            )
        else:
            where.append(
                Finding(
                    "specific.where_missing",
                    "suggestion",
                    "does not say where or on which platforms",
                    "Say the scope: 'in the UK', 'on iOS and Android', or 'in all regions'.",
                )
            )
        return what, where, tuple(symptoms), tuple(platforms), places

    def _since(self, text: str) -> list[Finding]:
        out: list[Finding] = []
        since = regex_evidence(SINCE, text)
        if since:
            out.append(Finding("specific.since", "ok", "says when it started", evidence=since))
        else:
            out.append(
                Finding(
                    "specific.since_missing",
                    "suggestion",
                    "does not say when it started",
                    "Add the start: 'since 09:40 UTC' or 'since about 9:40 this morning'.",
                )
            )
        bare = tuple(
            PhraseMatch(m.group(0), m.start(), m.end())
            for m in CLOCK_TIME.finditer(text)
            if not ZONE_AFTER.match(text, m.end())
        )
        if bare:
            out.append(
                Finding(
                    "time.zone_missing",
                    "suggestion",
                    "a time without a time zone",
                    "Add the zone: '14:30 UTC' (or the zone most of your customers live in).",
                    bare,
                )
            )
        return out

    def _next_update(self, text: str, resolution: bool) -> list[Finding]:
        promised = regex_evidence(NEXT_UPDATE, text)
        if promised:
            return [
                Finding("next_update.promised", "ok", "promises the next update", evidence=promised)
            ]
        if resolution:
            return [Finding("next_update.not_needed", "ok", "a resolution: no next update needed")]
        vague = find(text, self._vague)
        if vague:
            return [
                Finding(
                    "next_update.vague",
                    "problem",
                    "promises an update without a time",
                    "Replace it with a time: 'Next update in 30 minutes' or 'by 14:30 UTC'.",
                    evidence_of(vague),
                )
            ]
        return [
            Finding(
                "next_update.missing",
                "problem",
                "no time for the next update",
                "End with 'Next update by 14:30 UTC' (or 'in 30 minutes'), and keep the promise.",
            )
        ]

    def _jargon_findings(self, text: str, places: Iterable[str]) -> list[Finding]:
        out = [
            Finding(
                "jargon.phrase",
                "warning",
                "robotic or jargon phrase",
                hit.phrase.suggestion,
                (hit.evidence,),
            )
            for hit in find(text, self._jargon)
        ]
        out += [
            Finding(
                "jargon.phrase",
                "warning",
                "internal severity tag",
                "Drop it; describe the impact instead.",
                (e,),
            )
            for e in regex_evidence(SEVERITY_TAGS, text)
        ]
        tickets = regex_evidence(TICKET_ID, text)
        out += [
            Finding(
                "jargon.ticket_id",
                "warning",
                "an internal ticket id",
                "Drop it, or link to the public status page instead.",
                (e,),
            )
            for e in tickets
        ]
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
                or inside(PhraseMatch(word, m.start(1), m.end(1)), tickets)
            ):
                continue
            out.append(
                Finding(
                    "jargon.codename",
                    "warning",
                    "looks like an internal codename",
                    f"Say what '{word}' is in plain words ('our login service').",
                    (PhraseMatch(word, m.start(1), m.end(1)),),
                )
            )
        return out

    def _blame_findings(self, text: str) -> list[Finding]:
        return [
            Finding(
                "blame.shift",
                hit.phrase.severity or RULES["blame.shift"].severity,
                "shifts the blame",
                hit.phrase.suggestion,
                (hit.evidence,),
            )
            for hit in find(text, self._blame)
        ]

    def _tone(self, text: str, ongoing: bool, compound: float | None) -> list[Finding]:
        out: list[Finding] = []
        cheerful = evidence_of(find(text, self._cheerful))
        emoji = tuple(
            PhraseMatch(m.group(0), m.start(), m.end())
            for m in GRAPHEME.finditer(text)
            if any(ch in CHEERFUL_EMOJI for ch in m.group(0))
        )
        found = tuple(sorted((*cheerful, *emoji), key=lambda e: e.start))
        if found:
            out.append(
                Finding(
                    "tone.cheerful",
                    "problem" if ongoing else "suggestion",
                    "cheerful words or emoji" + (" while people are affected" if ongoing else ""),
                    "Keep it calm and factual; save celebration for never.",
                    found,
                )
            )
        for hit in find(text, self._minimising):
            out.append(
                Finding(
                    "tone.minimising",
                    "warning",
                    "minimises the impact",
                    hit.phrase.suggestion,
                    (hit.evidence,),
                )
            )
        bangs = tuple(PhraseMatch(m.group(0), m.start(), m.end()) for m in re.finditer(r"!+", text))
        if sum(len(e.text) for e in bangs) >= 2:
            out.append(
                Finding(
                    "tone.exclamations",
                    "suggestion",
                    "several exclamation marks",
                    "Use full stops: calm reads as in control.",
                    bangs,
                )
            )
        if ongoing and compound is not None and compound >= self.upbeat_compound:
            out.append(
                Finding(
                    "sentiment.upbeat",
                    "warning",
                    f"reads upbeat (sentiment {compound:+.2f}) while the incident is ongoing",
                    "Match people's mood: state the problem, then what you are doing about it.",
                )
            )
        return out


def _quoting(finding: Finding, draft: str) -> Finding:
    """The finding with its evidence quoted from the draft as written (curly apostrophes)."""
    if not finding.evidence:
        return finding
    quoted = tuple(PhraseMatch(draft[e.start : e.end], e.start, e.end) for e in finding.evidence)
    return replace(finding, evidence=quoted)


def _error_codes(text: str) -> tuple[str, ...]:
    """Error codes people may see ("HTTP 503", "ERR_CONNECTION_RESET"), minus ticket ids."""
    tickets = {m.group(0) for m in TICKET_ID.finditer(text)}
    return tuple(code for code in find_error_codes(text, True) if code not in tickets)
