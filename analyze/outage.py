"""Does a post report a disruption, and what do responders need to know about it?

Evidence comes from the cue scan: failure phrases ("is down", "can't log in",
"no signal", "trains cancelled", and the same in de, fr, es, nl, pt, it),
weaker complaint phrases ("anyone else?", "no ETA"), error codes, and a named
symptom or platform next to a failure. Recovery phrases ("back up",
"working again") count against, negated failures ("no outage") count for
nothing. Confidence is ``1 - exp(-2 * evidence)``; a report needs 0.5.

Specifics (symptoms, platforms, places, error codes) are only extracted when
there is some evidence, so "I love the new app" names no symptom.
"""

from __future__ import annotations

import math
import re

from analyze.cues import TextCues
from analyze.gazetteer import Gazetteer
from earful.events import OutageAnalysis

__all__ = [
    "NOT_A_REPORT",
    "REPORT_THRESHOLD",
    "analyze_outage",
    "confidence_for",
    "find_error_codes",
]

REPORT_THRESHOLD = 0.5
#: Extra evidence an error code gives.
ERROR_CODE_EVIDENCE = 0.6
#: Extra evidence a named symptom or platform gives next to a failure.
SPECIFIC_EVIDENCE = 0.2
NOT_A_REPORT = OutageAnalysis(is_report=False, confidence=0.0)

_HTTP_WORDS = (
    r"bad\s+gateway|service\s+unavailable|internal\s+server\s+error|gateway\s+time-?out|"
    r"not\s+found|forbidden|unauthori[sz]ed|too\s+many\s+requests|server\s+error|error|errors"
)
# "error 503", "HTTP 502", "status code: 500", "got a 504", "503 Service Unavailable".
# The look-ahead (the first letters of the alternatives) lets most positions fail
# at once; it is part of every match, so the matches are the same: 40% faster.
_HTTP = re.compile(
    rf"(?i:(?=[hescgrt45])(?:"
    rf"\b(?:http|error|err|status|code|got\s+an?|getting\s+an?|returns?|returning|throwing)"
    rf"\s*(?:code)?\s*[:#]?\s*([45]\d\d)\b|\b([45]\d\d)\s*[-:]?\s*(?:{_HTTP_WORDS})\b))"
)
# E-4012, AUTH-401, ERR-77; ERR_CONNECTION_RESET, DNS_PROBE_FINISHED_NXDOMAIN; 0x80070005;
# "error code 1234", "code: 12-345".
# The look-ahead (what every branch starts with) lets most positions fail at once.
_CODE = re.compile(
    r"(?=[0-9A-Z]|(?i:e))(?:"
    r"\b(0x[0-9A-Fa-f]{6,8})\b"
    r"|\b([A-Z][A-Z0-9]{0,7}[-_][0-9]{3,6})\b"
    r"|\b((?:[A-Z0-9]+_){1,6}[A-Z0-9]+)\b"
    r"|(?i:\berror\s+code\s*[:#]?\s*)([A-Za-z]{0,4}-?[0-9]{2,6})\b"
    r")"
)
# Upper-case words with underscores are codes only when they read like one.
_CODE_WORDS = re.compile(
    r"ERR|FAIL|TIMEOUT|TIMED|PROBE|DENIED|RESET|REFUSED|INVALID|NXDOMAIN|UNAVAILABLE|"
    r"UNREACHABLE|ABORTED|CLOSED|EXPIRED|FORBIDDEN|REJECTED|EXCEPTION"
)
_UNDERSCORED_CODE = re.compile(r"[A-Z0-9]_[A-Z0-9]")
# Every code pattern above needs an ASCII digit or an underscore: most posts
# have neither and skip the two long patterns. Each pattern also has a short
# necessary part that a quick search finds (or not) far faster than the pattern.
_MAY_HOLD_CODE = re.compile(r"[0-9_]")
_MAY_HOLD_HTTP = re.compile(r"[45]\d\d")
_MAY_HOLD_DASHED = re.compile(r"-[0-9]{3}")
_MAY_HOLD_AFTER_ERROR = re.compile(r"(?i:error\s+code)")
_ERROR_CONTEXT = re.compile(r"(?i:error|err\b|code|fail|exception|fehler|erreur|erro|fout|crash)")


def find_error_codes(text: str, with_failure: bool) -> tuple[str, ...]:
    """Error codes in a post: HTTP 4xx/5xx in context ("HTTP 503") and named codes.

    Bare letter-digit codes (AUTH-401) count only next to a failure or an
    error word, so "COVID-19" and "F-150" are not codes.
    """
    if _MAY_HOLD_CODE.search(text) is None:
        return ()
    codes: list[str] = []
    if _MAY_HOLD_HTTP.search(text) is not None:
        for match in _HTTP.finditer(text):
            codes.append(f"HTTP {match.group(1) or match.group(2)}")
    if (
        "_" not in text
        and "0x" not in text
        and _MAY_HOLD_DASHED.search(text) is None
        and _MAY_HOLD_AFTER_ERROR.search(text) is None
    ):
        return tuple(dict.fromkeys(codes))
    context: bool | None = None
    for match in _CODE.finditer(text):
        hexcode, dashed, underscored, after_error = match.groups()
        if hexcode:
            codes.append(hexcode.lower())
        elif after_error:
            codes.append(after_error.upper())
        elif underscored:
            if "_" in underscored and _CODE_WORDS.search(underscored):
                codes.append(underscored)
        elif dashed:
            if context is None:
                context = with_failure or _ERROR_CONTEXT.search(text) is not None
            if context:
                codes.append(dashed)
    return tuple(dict.fromkeys(codes))


def confidence_for(evidence: float) -> float:
    return round(1.0 - math.exp(-2.0 * max(evidence, 0.0)), 4)


#: Analyses already built, by their fields: an incident repeats the same few
#: (validating a model costs more than finding it here). Bounded: cleared when full.
_AnalysisKey = tuple[float, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]
_ANALYSES: dict[_AnalysisKey, OutageAnalysis] = {}
_ANALYSES_MAX = 4_096


def _analysis(
    confidence: float,
    symptoms: tuple[str, ...],
    platforms: tuple[str, ...],
    places: tuple[str, ...],
    codes: tuple[str, ...],
) -> OutageAnalysis:
    key = (confidence, symptoms, platforms, places, codes)
    analysis = _ANALYSES.get(key)
    if analysis is None:
        analysis = OutageAnalysis(
            is_report=confidence >= REPORT_THRESHOLD,
            confidence=confidence,
            symptoms=symptoms,
            platforms=platforms,
            places=places,
            error_codes=codes,
        )
        if len(_ANALYSES) >= _ANALYSES_MAX:
            _ANALYSES.clear()
        _ANALYSES[key] = analysis
    return analysis


def analyze_outage(text: str, cues: TextCues, gazetteer: Gazetteer | None) -> OutageAnalysis:
    """The outage analysis of one post (any language the lexicon covers)."""
    if not cues.scored and not cues.tags and "_" not in text and "0x" not in text:
        # Most posts: no phrase and nothing that could be an error code.
        return NOT_A_REPORT
    failure = complaint = recovery = 0.0
    failures: list[float] = []
    symptoms: list[str] = []
    for cue in cues.scored:
        if cue.negated:
            continue
        entry = cue.entry
        if entry.kind == "failure":
            failures.append(entry.report)
        elif entry.kind == "complaint":
            complaint = max(complaint, entry.report)
        else:
            recovery = max(recovery, -entry.report)
        if entry.tag and entry.kind != "recovery":
            symptoms.append(entry.tag)
    if failures:
        failures.sort(reverse=True)
        # The strongest failure phrase, plus a little for each further one.
        failure = failures[0] + 0.3 * sum(failures[1:])
    # Codes come with a failure or an error word, or look like one (ERR_..., 0x...).
    maybe_codes = (
        failures
        or complaint
        or cues.has("codehint")
        or ("_" in text and _UNDERSCORED_CODE.search(text) is not None)
        or "0x" in text
    )
    codes = find_error_codes(text, bool(failures)) if maybe_codes else ()
    evidence = failure + 0.5 * complaint
    if codes:
        evidence += ERROR_CODE_EVIDENCE
    if evidence <= 0.0:
        return NOT_A_REPORT
    platforms: list[str] = []
    for entry in cues.tags:
        if entry.kind == "topic" and entry.tag:
            symptoms.append(entry.tag)
        elif entry.kind == "platform":
            platforms.append(entry.tag)
    if failures and (symptoms or platforms):
        evidence += SPECIFIC_EVIDENCE
    evidence -= recovery
    places = gazetteer.find(cues.normalised, text) if gazetteer is not None else ()
    return _analysis(
        confidence_for(evidence),
        tuple(dict.fromkeys(symptoms)),
        tuple(dict.fromkeys(platforms)),
        places,
        codes,
    )
