"""Does a post report a disruption, and what do responders need to know about it?

Evidence comes from the cue scan: failure phrases ("is down", "can't log in",
"over capacity", "stuck pending", and the same in de, fr, es, nl, pt, it),
weaker complaint phrases ("anyone else?", "no ETA"), error codes, and a named
symptom, service or platform next to a failure. Against it count:

- tense and status: a failure in a forecast, a plan, a hypothesis or the
  future ("outages possible tonight", "will be down for maintenance") keeps
  a fifth of its weight; recovery phrases ("back up", "working again"),
  unless only wished for ("until this is fixed");
- other senses: "down" as an amount, a place or a mood ("stock is down 3%",
  "goes down Main Street", "I'm so down"), a state said of a person ("he's
  not working"), and longer phrases in another sense ("broke the record");
- context words: plans, prices, parcels, one's own belongings, limits on
  purpose ("account suspended").

Negated failures ("no outage") count for nothing. Confidence is
``1 - exp(-2 * evidence)`` and ranks posts; a report needs 0.5.

Specifics (symptoms, platforms, places, error codes) are only extracted when
there is some evidence, so "I love the new app" names no symptom.
"""

from __future__ import annotations

import math
import re

from earful.analyze.cues import NEGATORS, TextCues
from earful.analyze.gazetteer import Gazetteer
from earful.events import OutageAnalysis

__all__ = [
    "NOT_A_REPORT",
    "REPORT_THRESHOLD",
    "analyze_outage",
    "confidence_for",
    "find_error_codes",
    "is_other_sense",
    "is_pending_recovery",
]

REPORT_THRESHOLD = 0.5
#: Extra evidence an error code gives.
ERROR_CODE_EVIDENCE = 0.6
#: Extra evidence a named symptom or platform gives next to a failure.
SPECIFIC_EVIDENCE = 0.2
NOT_A_REPORT = OutageAnalysis(is_report=False, confidence=0.0)
#: How much of a failure's weight is left when its sentence puts it in the
#: future, a plan or a hypothesis ("will be down tomorrow", "if the power goes out").
UNREAL_WEIGHT = 0.2
#: Failure evidence of a negated recovery ("not fixed", "still not back up").
NEGATED_RECOVERY_EVIDENCE = 0.8
#: Words before a failure, in its sentence, that make it unreal: a forecast,
#: a plan, a hypothesis or a hope (up to UNREAL_REACH words back).
_UNREAL_BEFORE = frozenset(
    [
        "if",
        "imagine",
        "unless",
        "possible",
        "possibly",
        "could",
        "might",
        "may",
        "expected",
        "expect",
        "expecting",
        "likely",
        "hope",
        "hopefully",
        "planned",
        "scheduled",
        "prepare",
        "preparing",
        "prepared",
        "case",
        "forecast",
        "potential",
        "chance",
        "whether",
        "risk",
        # habits and generalities, not this failure: "usually a power outage means no water"
        "usually",
        "normally",
        "typically",
        "generally",
    ]
)
#: "can" makes a generality only before a verb of causing ("storms can cause outages";
#: "how can the site be down again" is a report).
_CAUSING = frozenset(["cause", "causes", "lead", "result", "trigger", "knock", "bring"])
#: Future auxiliaries count only before one of these ("will be down", not "will not load").
_FUTURE = frozenset(["will", "'ll", "gonna", "going"])
_FUTURE_VERBS = frozenset(["be", "go", "have", "experience", "cause", "hit", "take", "face", "get"])
#: Words after a failure, in its sentence, that make it unreal ("outages possible overnight").
_UNREAL_AFTER = frozenset(
    [
        "possible",
        "possibly",
        "may",
        "expected",
        "likely",
        "tomorrow",
        "planned",
        "scheduled",
        "forecast",
        "risk",
    ]
)
_WEEKDAYS = frozenset(
    ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
)
_UNREAL_REACH = 12
#: Words after which a new clause starts: a cause stated as a fact ("due to",
#: "because of") or a contrast ("usually works but today it won't load"). Unreal
#: words before them do not reach the failure after them.
_CLAUSE_MARKS = frozenset(["due", "because", "caused", "thanks", "but", "however"])
#: "if" after these asks whether something is failing now ("anyone know if X is down").
_ASKING = frozenset(
    ["know", "knows", "wonder", "wondering", "see", "check", "tell", "ask", "asking", "sure"]
)
#: Stock tickers ($AAPL): a post about a share price.
_CASHTAG = re.compile(r"\$[A-Za-z]{1,5}\b")
#: Counter-evidence of a cashtag (as a price word in the lexicon).
CASHTAG_CONTEXT = -0.8
#: "down" followed by one of these is a direction, an amount or a place, not an outage
#: ("goes down Main Street", "stock is down 3%", "down the road", "down to earth").
_DOWN_NOT_BEFORE = frozenset(
    [
        "the",
        "a",
        "an",
        "to",
        "my",
        "your",
        "his",
        "her",
        "their",
        "our",
        "main",
        "memory",
        "this",
        "that",
        "these",
        "those",
        "from",
        "by",
        "with",
        "into",
        "onto",
        "stairs",
        "street",
        "road",
        "hill",
        "south",
        "north",
        "under",
        "low",
        "lower",
        "below",
    ]
)
#: Street words: "down" two words before one is a route ("goes down High Street").
_STREETS = frozenset(
    [
        "street",
        "st",
        "road",
        "rd",
        "avenue",
        "ave",
        "lane",
        "boulevard",
        "blvd",
        "drive",
        "highway",
        "hill",
        "way",
        "parade",
        "row",
        "terrace",
    ]
)
#: "down" after one of these is a mood ("I'm so down", "feeling down").
_DOWN_NOT_AFTER = frozenset(
    [
        "i'm",
        "im",
        "am",
        "feel",
        "feeling",
        "felt",
        "feels",
        "so",
        "bit",
        "little",
        "kinda",
        "pretty",
        "really",
        "too",
        "on",
        "taken",
        "took",
        "take",
        "shot",
        "turned",
        "turn",
        "voted",
        "put",
        "cut",
        "tone",
        "toned",
        "slowed",
        "wind",
        "winding",
        "settle",
        "sit",
        "sat",
        "lie",
        "lay",
        "lying",
        "laid",
        "back",
        "upside",
        "hands",
        "thumbs",
        "knock",
        "knocked",
        "bring",
        "brought",
        "break",
        "pin",
        "pinned",
        "narrow",
        "narrowed",
        "boil",
        "boils",
        "track",
        "tracked",
        "hunt",
        "hunted",
        "write",
        "wrote",
        "written",
        "jot",
        "note",
        "step",
        "stepped",
        "stand",
        "stood",
        "count",
        "calm",
        "cool",
        "quiet",
        # a posture: "sitting down in the session", "lying down"
        "sitting",
        "settling",
        "lying",
        "laying",
        "kneel",
        "kneeling",
        "bend",
        "bending",
        "bent",
        "looking",
        "slowing",
        # an amount done: "four hours down, six to go", "10 pounds down"
        "minutes",
        "hours",
        "days",
        "weeks",
        "months",
        "years",
        "miles",
        "pounds",
        "lbs",
        "kilos",
        "kg",
        "episodes",
        "chapters",
    ]
)
#: Failure phrases that describe their subject's state ("is down", "not working",
#: "crashed"): said of a person they mean something else ("he's not working",
#: "she is down", "I crashed early", "I'm stuck").
_STATE_HEADS = frozenset(
    [
        "is",
        "are",
        "was",
        "were",
        "been",
        "be",
        "isn't",
        "aren't",
        "wasn't",
        "weren't",
        "not",
        "down",
        "crashed",
        "crashes",
        "crash",
        "died",
        "broke",
        "broken",
        "stuck",
        "froze",
        "freezes",
        "frozen",
        # ("lagging" is left out: "I was lagging" in a game is the connection)
        "dead",
        "went",
        "goes",
        "going",
        "unresponsive",
        "stopped",
        # "I was so slow at the quiz": slowness of a person
        "so",
        "really",
        "super",
        "very",
        "too",
        # "he has been off sick": a person away
        "has",
        "have",
        # "my mum keeps saying I should rest": a person repeating themself
        "keeps",
        # "I failed my exam", "she's failing maths": a person failing, not a service
        "failed",
        "fail",
        "fails",
        "failing",
        # "the kids are crashing after the party": a person tired out
        "crashing",
        # a person refusing or not doing it ("I won't send it", "he doesn't respond",
        # "she refuses to update"), not a service failing to
        "won't",
        "wont",
        "will",
        "doesn't",
        "doesnt",
        "does",
        "didn't",
        "didnt",
        "did",
        "wouldn't",
        "wouldnt",
        "would",
        "refuses",
        "refused",
        "refusing",
        # "my brother kicked me out": a person throwing one out, not an app
        "kicks",
        "kicked",
        "kicking",
        "boots",
        "booted",
        "booting",
        # "I haven't synced my phone in ages": the person has not done it
        "haven't",
        "havent",
        "hasn't",
        "hasnt",
    ]
)
#: Words of receiving: a person is the subject of a failure to receive ("I'm not
#: getting any texts", "I have not received my code"), so such a phrase is no state
#: of the person.
_RECEIVING = frozenset(["received", "receiving", "receive", "getting", "get", "got"])
#: Auxiliaries and adverbs that may stand between a subject and its state.
_BETWEEN_SUBJECT_AND_STATE = frozenset(
    [
        "is",
        "was",
        "are",
        "were",
        "has",
        "had",
        "keeps",
        "kept",
        "just",
        "totally",
        "always",
        "that's",
        "that",
        "who's",
        "who",
    ]
)
#: People as the subject right before a state phrase. "you", "we" and "they" are
#: left out: customers write "you're down again" to a company, utilities "we are".
_PERSONS = frozenset(
    [
        "i",
        "i'm",
        "im",
        "i've",
        "ive",
        "am",
        "he",
        "she",
        "he's",
        "she's",
        "hes",
        "shes",
        "him",
        "her",
        "mom",
        "mum",
        "dad",
        "brother",
        "sister",
        "bf",
        "gf",
        "boyfriend",
        "girlfriend",
        "husband",
        "wife",
        "son",
        "daughter",
        "baby",
        "friend",
        "guy",
        "girl",
        "man",
        "woman",
        "dude",
        "bro",
        "grandma",
        "grandpa",
        "boss",
        "team",
        "player",
        "enemy",
        "brain",
        "heart",
        "head",
        "body",
        "legs",
        "stomach",
        "hearing",
        "eyesight",
        "eyes",
        "memory",
        "health",
        "knees",
        "voice",
        "dog",
        "cat",
        "puppy",
        "kids",
        "children",
        "toddler",
        # things whose going down or crashing is not a service's: "my mood went down"
        "mood",
        "spirits",
        "morale",
        "temperature",
        "fever",
        "swelling",
        "prices",
        "price",
        "sales",
        "value",
        # stories, shows and days are slow or dead without any service failing:
        # "the first episode is slow", "business was slow today"
        "episode",
        "episodes",
        "book",
        "film",
        "movie",
        "show",
        "season",
        "series",
        "story",
        "plot",
        "pace",
        "chapter",
        "match",
        "day",
        "week",
        "weekend",
        "morning",
        "afternoon",
        "shift",
        "business",
        "queue",
        # more people: "my flatmate keeps crashing on our sofa"
        "flatmate",
        "roommate",
        "housemate",
        "mate",
        "cousin",
        "uncle",
        "aunt",
        "nan",
        "grandad",
        "partner",
        "buyer",
        "seller",
    ]
)

_HTTP_WORDS = (
    r"bad\s+gateway|service\s+unavailable|internal\s+server\s+error|gateway\s+time-?out|"
    r"not\s+found|forbidden|unauthori[sz]ed|too\s+many\s+requests|server\s+error|error|errors"
)
# "error 503", "HTTP 502", "status code: 500", "got a 504", "503 Service Unavailable".
# The look-ahead (the first letters of the alternatives) lets most positions fail
# at once; it is part of every match, so the matches are the same: 40% faster.
# It is written with both cases, outside (?i:), because a case-blind class is
# tested more slowly: _HTTP_FIRST is every character that (?i:[hescgrt45])
# matches, "ſ" (long s) included. The words are grouped by first letter (in
# their order within each group; words with different first letters cannot
# match at the same place), so a position tries one group, not every word.
_HTTP_FIRST = "45CEGHRSTceghrst\u017f"
_HTTP = re.compile(
    rf"(?=[{_HTTP_FIRST}])(?i:"
    rf"\b(?:http|e(?:rror|rr)|s(?:tatus|eeing\s+an?|hows?\s+an?)|code|"
    rf"g(?:ot\s+an?|etting\s+an?|iv(?:es|ing)(?:\s+me)?\s+an?)|return(?:s?|ing)|"
    rf"throwing(?:\s+an?)?)"
    rf"\s*(?:code)?\s*[:#]?\s*([45]\d\d)s?\b|\b([45]\d\d)s?\s*[-:]?\s*(?:{_HTTP_WORDS})\b)"
)
# E-4012, AUTH-401, ERR-77; ERR_CONNECTION_RESET, DNS_PROBE_FINISHED_NXDOMAIN; 0x80070005;
# "error code 1234", "code: 12-345".
# Every branch starts at a word boundary with one of the look-ahead's characters
# ("e" or "E" for "error code"): the class first, then the boundary (once, not per
# branch), lets most positions fail at once (about 40% faster than a look-ahead
# with an alternative in it and a boundary in each branch).
_CODE = re.compile(
    r"(?=[0-9A-Ze])\b(?:"
    r"(0x[0-9A-Fa-f]{6,8})\b"
    r"|([A-Z][A-Z0-9]{0,7}[-_][0-9]{3,6})\b"
    r"|((?:[A-Z0-9]+_){1,6}[A-Z0-9]+)\b"
    r"|(?i:error\s+code\s*[:#]?\s*)([A-Za-z]{0,4}-?[0-9]{2,6})\b"
    r")"
)
# Upper-case words with underscores are codes only when they read like one.
_CODE_WORDS = re.compile(
    r"ERR|FAIL|TIMEOUT|TIMED|PROBE|DENIED|RESET|REFUSED|INVALID|NXDOMAIN|UNAVAILABLE|"
    r"UNREACHABLE|ABORTED|CLOSED|EXPIRED|FORBIDDEN|REJECTED|EXCEPTION"
)
_UNDERSCORED_CODE = re.compile(r"[A-Z0-9]_[A-Z0-9]")
#: The characters on either side of an underscore in _UNDERSCORED_CODE.
_CODE_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")


def _has_underscored_code(text: str) -> bool:
    """_UNDERSCORED_CODE's question, asked at each underscore (most posts with one
    have one or two, in a handle): the expression, with no first character to look
    for, is tried at every position of the post."""
    at = text.find("_", 1)
    while 0 < at < len(text) - 1:
        if text[at - 1] in _CODE_CHARS and text[at + 1] in _CODE_CHARS:
            return True
        at = text.find("_", at + 1)
    return False


# Every code pattern above needs an ASCII digit or an underscore: most posts
# have neither and skip the two long patterns. Each pattern also has a short
# necessary part that a quick search finds (or not) far faster than the pattern.
_MAY_HOLD_HTTP = re.compile(r"[45]\d\d")
_MAY_HOLD_DASHED = re.compile(r"-[0-9]{3}")
_MAY_HOLD_AFTER_ERROR = re.compile(r"(?i:error\s+code)")
# The look-ahead (each word's first letter, in every case (?i:) matches) lets most
# positions fail before the case-blind words are tried: three times faster.
_ERROR_CONTEXT = re.compile(
    r"(?=[CEFcef])(?i:error|err\b|code|fail|exception|fehler|erreur|erro|fout|crash)"
)


def _may_hold_code(text: str) -> bool:
    """Whether the text holds a digit or an underscore, by eleven substring tests (three times
    faster than the class ``[0-9_]``)."""
    return (
        "0" in text
        or "1" in text
        or "2" in text
        or "3" in text
        or "4" in text
        or "5" in text
        or "6" in text
        or "7" in text
        or "8" in text
        or "9" in text
        or "_" in text
    )


def find_error_codes(text: str, with_failure: bool) -> tuple[str, ...]:
    """Error codes in a post: HTTP 4xx/5xx in context ("HTTP 503") and named codes.

    Bare letter-digit codes (AUTH-401) count only next to a failure or an
    error word, so "COVID-19" and "F-150" are not codes.
    """
    if not _may_hold_code(text):
        return ()
    codes: list[str] = []
    if ("4" in text or "5" in text) and _MAY_HOLD_HTTP.search(text) is not None:
        for match in _HTTP.finditer(text):
            codes.append(f"HTTP {match.group(1) or match.group(2)}")
    if (
        # every match of _CODE with an underscore has a capital or a digit on both
        # sides of it (a handle's "_" in "@acme_help" is none)
        ("_" not in text or not _has_underscored_code(text))
        and "0x" not in text
        and _MAY_HOLD_DASHED.search(text) is None
        # "error" in the lower-cased text is necessary for the case-blind pattern (the
        # only characters (?i:) matches for e, r, o, c, d are their two cases) and
        # found three times faster
        and ("error" not in text.lower() or _MAY_HOLD_AFTER_ERROR.search(text) is None)
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
#: Pydantic's validator for the model, called on a dict (the same validation as
#: ``OutageAnalysis(...)``, without building the dict from keywords first).
_validate_analysis = OutageAnalysis.__pydantic_validator__.validate_python


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
        analysis = _validate_analysis(
            {
                "is_report": confidence >= REPORT_THRESHOLD,
                "confidence": confidence,
                "symptoms": symptoms,
                "platforms": platforms,
                "places": places,
                "error_codes": codes,
            }
        )
        if len(_ANALYSES) >= _ANALYSES_MAX:
            _ANALYSES.clear()
        _ANALYSES[key] = analysis
    return analysis


def _sentence_before(norm: str, start: int) -> list[str]:
    """The words of the cue's sentence before it (at most _UNREAL_REACH)."""
    head = norm[max(0, start - 120) : start]
    cut = head.rfind(" . ")
    if cut >= 0:
        head = head[cut + 3 :]
    return head.split()[-_UNREAL_REACH:]


def _sentence_after(norm: str, end: int) -> list[str]:
    """The words of the cue's sentence after it (at most _UNREAL_REACH)."""
    tail = norm[end : end + 120]
    cut = tail.find(" . ")
    if cut >= 0:
        tail = tail[:cut]
    return tail.split()[:_UNREAL_REACH]


#: Every word _is_unreal looks for (besides "...'ll"): a post without any skips it.
_UNREAL_WORDS = _UNREAL_BEFORE | _FUTURE | _UNREAL_AFTER | _WEEKDAYS | {"during", "can"}


def _may_be_unreal(norm: str, words: list[str]) -> bool:
    """Does the post (``words``: its words) hold any word of a forecast, a plan or a hypothesis?"""
    return "'ll " in norm or not _UNREAL_WORDS.isdisjoint(words)


def _counterfactual_of_fact(before: list[str], i: int) -> bool:
    """ "if it wasn't for the outages", "if not for": the condition is a fact."""
    following = before[i + 1 : i + 4]
    return following[:2] == ["not", "for"] or (
        len(following) == 3
        and following[1] in ("wasn't", "weren't", "wasnt", "werent")
        and following[2] == "for"
    )


def _is_unreal(before: list[str], after: list[str]) -> bool:
    """Is the failure in a forecast, a plan, a hypothesis or the future?"""
    # "if I need to call, I still have no service": "still" says it holds now.
    if "still" in before[-3:]:
        return False
    if not _UNREAL_AFTER.isdisjoint(after):
        return True
    # "may have no water due to a power outage": what follows a stated cause is a
    # fact, and what follows "but" a new clause, whatever came before them.
    for i in range(len(before) - 1, -1, -1):
        if before[i] in _CLAUSE_MARKS:
            before = before[i + 1 :]
            break
    for i, word in enumerate(before):
        # "does anyone know if it's down" asks about now; "if it goes down" imagines.
        if word in _UNREAL_BEFORE and (
            word != "if"
            or ((i == 0 or before[i - 1] not in _ASKING) and not _counterfactual_of_fact(before, i))
        ):
            return True
        if word == "can" and not _CAUSING.isdisjoint(before[i + 1 :]):
            return True
        # "during a power outage" is any outage (advice, a story), not this one.
        if word == "during" and before[i + 1 : i + 2] in (["a"], ["an"]):
            return True
        if word in _FUTURE or word.endswith("'ll"):
            following = before[i + 1 : i + 3]
            if following and (
                following[0] in _FUTURE_VERBS or (word == "going" and following == ["to", "be"])
            ):
                return True
    # "on Monday", "next Tuesday": a date ahead; "since Monday" is not.
    return any(
        word in _WEEKDAYS and i > 0 and after[i - 1] in ("on", "next", "this")
        for i, word in enumerate(after)
    )


def _other_sense_of_down(norm: str, start: int, phrase: str) -> bool:
    """ "down" as a direction, an amount or a mood, not a service being down."""
    if phrase.endswith("down"):
        following = norm[start + len(phrase) + 2 : start + len(phrase) + 40].split(None, 2)
        if following and (following[0] in _DOWN_NOT_BEFORE or following[0][0].isdigit()):
            return True
        # "goes down High Street", "went down Elm Road": a route by a named street
        if len(following) > 1 and following[1] in _STREETS:
            return True
    if phrase.startswith("down"):
        previous = norm[max(0, start - 40) : start].rsplit(None, 1)
        if previous and previous[-1] in _DOWN_NOT_AFTER:
            return True
    return False


def _said_of_a_person(norm: str, start: int, phrase: str) -> bool:
    """A state phrase whose subject, right before it, is a person.

    Up to two auxiliaries or adverbs between them are skipped ("my grandad's
    hearing is failing", "I was so slow at the quiz").
    """
    head = phrase.split(" ", 1)[0]
    if head not in _STATE_HEADS:
        return False
    return _person_right_before(norm, start, phrase)


def _person_right_before(norm: str, start: int, phrase: str) -> bool:
    """_said_of_a_person for a phrase whose head is a state word."""
    previous = norm[max(0, start - 60) : start].rsplit(None, 3)[-3:]
    for word in reversed(previous):
        if word in _PERSONS:
            # "I'm not getting any texts": the person is the one not receiving
            return _RECEIVING.isdisjoint(phrase.split())
        if word not in _BETWEEN_SUBJECT_AND_STATE:
            return False
    return False


#: Words before a recovery, in its sentence, that make it a wish or a condition:
#: "until this is fixed", "once it's back up", "hope it's resolved soon".
_RECOVERY_PENDING = frozenset(
    "until till once when if hope hopefully wish soon will 'll".split()  # noqa: SIM905
)


def is_pending_recovery(norm: str, start: int) -> bool:
    """Is the recovery phrase at ``start`` only wished for or awaited?"""
    return not _RECOVERY_PENDING.isdisjoint(_sentence_before(norm, start)[-4:])


#: Freezing words, and what a freeze of money is of ("froze its subscription price").
_FREEZES = frozenset(["froze", "freezes", "frozen", "freezing"])
_PRICES = frozenset(
    ["price", "prices", "rates", "rate", "fares", "fees", "wages", "pay", "salaries", "rent"]
)


#: What a bank or a service freezes on purpose ("froze my acme card after a login from
#: abroad"): a block or a feature, not a frozen app.
_FROZEN_ON_PURPOSE = frozenset(["card", "account", "cards", "accounts", "funds", "assets"])


def _freeze_of_a_price(norm: str, start: int, phrase: str) -> bool:
    """A price, a rate, wages, a card or an account within three words after a freezing word."""
    following = norm[start + len(phrase) + 2 : start + len(phrase) + 60].split()[:3]
    return not (_PRICES.isdisjoint(following) and _FROZEN_ON_PURPOSE.isdisjoint(following))


#: Difficulty phrases: followed by a verb in -ing they say what the author finds hard.
_DIFFICULTIES = frozenset(
    ["having trouble", "having problems", "having issues", "having a problem", "having an issue"]
)
#: What a service is for: trouble doing one of these is the service failing ("having
#: trouble logging in"); trouble doing anything else is the author's ("having trouble
#: deciding", "having trouble sleeping").
_SERVICE_ACTIONS = frozenset(
    """logging signing connecting loading accessing getting sending receiving paying
    streaming playing watching opening downloading uploading updating syncing using viewing
    reaching calling making placing checking booking ordering posting refreshing installing
    launching buying purchasing seeing hearing transferring withdrawing topping browsing
    searching saving running joining entering starting tweeting texting messaging emailing
    redeeming activating verifying authenticating resetting changing adding linking
    listening printing scanning casting submitting""".split()  # noqa: SIM905
)


def _difficulty_of_the_author(norm: str, start: int, phrase: str) -> bool:
    """ "having trouble deciding": a verb in -ing that is no service's action follows."""
    following = norm[start + len(phrase) + 2 : start + len(phrase) + 30].split(None, 1)
    return bool(following) and following[0].endswith("ing") and following[0] not in _SERVICE_ACTIONS


#: The last post's answers of is_other_sense: the outage analysis and the
#: sentiment ask the same questions of the same post, one after the other.
_SENSE_MEMO: dict[tuple[str, int, str], bool] = {}
_SENSE_MEMO_MAX = 256


#: Which of is_other_sense's checks can apply to a phrase ("down" in it, a freezing
#: word, a difficulty, a state word at its head), found once per lexicon phrase
#: instead of once per post.
_SENSE_CHECKS: dict[str, tuple[bool, bool, bool, bool]] = {}


def _sense_checks(phrase: str) -> tuple[bool, bool, bool, bool]:
    return (
        "down" in phrase,
        phrase in _FREEZES,
        phrase in _DIFFICULTIES,
        phrase.split(" ", 1)[0] in _STATE_HEADS,
    )


def is_other_sense(norm: str, start: int, phrase: str) -> bool:
    """Is this failure phrase, at ``start`` in the normalised post, about something else?

    "down" as a direction, an amount or a mood ("goes down Main Street",
    "stock is down 3%", "I'm so down"), a freeze of prices or of a card ("froze
    its subscription price", "froze my card"), a difficulty of the author's ("having trouble
    deciding"), or a state said of a person ("he's not working").
    Sentiment skips such phrases too.
    """
    key = (norm, start, phrase)
    answer = _SENSE_MEMO.get(key)
    if answer is None:
        checks = _SENSE_CHECKS.get(phrase)
        if checks is None:
            checks = _SENSE_CHECKS[phrase] = _sense_checks(phrase)
        down, freeze, difficulty, state = checks
        answer = (
            (down and _other_sense_of_down(norm, start, phrase))
            or (freeze and _freeze_of_a_price(norm, start, phrase))
            or (difficulty and _difficulty_of_the_author(norm, start, phrase))
            or (state and _person_right_before(norm, start, phrase))
        )
        if len(_SENSE_MEMO) >= _SENSE_MEMO_MAX:
            _SENSE_MEMO.clear()
        _SENSE_MEMO[key] = answer
    return answer


#: "can't get the app to work", "couldn't get my messages to send": a failure told
#: as a vain attempt, with any object between "get" and the verb.
_CANT_GET_TO = re.compile(
    r" (?:can't|cant|cannot|can not|couldn't|couldnt|unable to) (?:even )?get "
    r"((?:\S+ ){1,5}?)to (?:work|load|open|connect|play|sync|send|start|respond|go through)"
    r" (?!out |hard |together )"
)
#: Objects of "can't get ... to work" that make it about people ("can't get him to work").
_PEOPLE_OBJECTS = frozenset(["them", "anyone", "anybody", "people", "kids", "myself", "us"])
#: Evidence of "can't get X to work": like "not working".
CANT_GET_TO_WORK_EVIDENCE = 1.0


#: "is out" and the like: a failure only when the post names a supply or a connection
#: ("the broadband is out", "power's been out"; "the new album is out" is not). Found
#: here, not in the lexicon, so that sentiment does not read "is out" as bad news.
_SUPPLY_OUT = re.compile(r" (?:is|are|was|were|been|went|'s) out (?!of )")
_SUPPLY_TAGS = frozenset(["connectivity", "power", "water"])
#: Evidence of "<supply> is out".
SUPPLY_OUT_EVIDENCE = 0.9
#: Failure nouns in the plural: after "for" they name a kind of event ("a kit for outages").
_GENERIC_PLURALS = frozenset(["outages", "power outages", "power cuts", "blackouts"])


_SUPPLY_NOUNS = frozenset(["power", "water", "internet", "network", "service", "phone"])


def _after_for(norm: str, start: int) -> bool:
    """Does "for" (or "for power", "for internet") stand right before ``start``?"""
    previous = norm[max(0, start - 30) : start].split()[-2:]
    return previous[-1:] == ["for"] or (
        len(previous) == 2 and previous[0] == "for" and previous[1] in _SUPPLY_NOUNS
    )


def _names_a_supply(cues: TextCues) -> bool:
    return any(entry.tag in _SUPPLY_TAGS for entry in cues.tags if entry.kind == "topic")


#: "back in 2012", "in 2015", "the outage of 2019": a story of a past year ("back in"
#: is as strong as "back when").
_IN_YEAR = re.compile(r" (back )?(?:in|of) ((?:19|20)\d\d) ")
_PAST_YEAR_CONTEXT = -0.8
_BACK_IN_YEAR_CONTEXT = -1.0
#: Years before this one are the past whenever a post is read. Later years are
#: left alone rather than compared with today's date: a score must not depend
#: on the clock (a replay, the repost cache and the golden tests would drift).
PAST_YEARS_BEFORE = 2026


def _past_year(norm: str) -> float:
    """Counter-evidence of a past year named in the post (0.0 if none)."""
    against = 0.0
    for match in _IN_YEAR.finditer(norm):
        if int(match.group(2)) < PAST_YEARS_BEFORE:
            weight = _BACK_IN_YEAR_CONTEXT if match.group(1) else _PAST_YEAR_CONTEXT
            against = min(against, weight)
    return against


#: "none of my emails are sending", "nothing on acme is loading": no part of the
#: service does its job, whatever the words between name.
_NONE_DOES = re.compile(
    r" (?:none of|nothing (?:on|in)) ((?:\S+ ){0,5}?)"
    r"(?:is |are |will |seems to |seem to |wants to |want to )?"
    r"(?:loads?|loading|works?|working|opens?|opening|sends?|sending|syncs?|syncing|plays?|"
    r"playing|connects?|connecting|streams?|streaming|refresh(?:es|ing)?|uploads?|uploading|"
    r"downloads?|downloading|(?:go|goes|going|come|comes|coming) through|arrives?|arriving) "
)
#: Objects that make "none of ... work" about people ("none of my friends work weekends").
_PEOPLE_NOUNS = frozenset(
    ["friends", "colleagues", "coworkers", "family", "staff", "people", "us", "them", "you"]
)
#: Evidence of "none of X loads": like "nothing is loading".
NONE_DOES_EVIDENCE = 0.9


def _start_unless_people(pattern: re.Pattern[str], people: frozenset[str], norm: str) -> int:
    """Where ``pattern`` starts in the post, or -1 if absent or its object is people.

    The pattern's first group is the object ("can't get *the app* to load", "none of
    *my apps* load"); a person there ("can't get him to work on") makes it no report.
    """
    match = pattern.search(norm)
    if match is None:
        return -1
    objects = match.group(1).split()
    if not people.isdisjoint(objects) or not _PERSONS.isdisjoint(objects):
        return -1
    return match.start()


#: Slowness told with a time: "pages taking a full minute to open", "took 20 minutes
#: to load". The time and the service's verb must both be there ("it took ten minutes
#: to walk there" is no service).
_SLOW_BY_TIME = re.compile(
    r" (?:taking|takes|take|took|taken) (?:(?:a|an|over|nearly|almost|about|like|full|whole|"
    r"good|few|couple|of|several|\d+|two|three|five|ten|twenty|thirty) ){0,3}"
    r"(?:seconds|minutes?|mins?|hours?) to (?:load|open|send|connect|respond|refresh|"
    r"log in|login|sign in|come through|go through|sync|upload|download|update|play|"
    r"stream|buffer|check out) "
)
#: Evidence of slowness told with a time: like "taking ages".
SLOW_BY_TIME_EVIDENCE = 0.6


#: Topics of messages, whose lateness is the service's failure ("texts arriving a day
#: late"); a parcel or a train arriving late is no service outage (nor, alone, a report).
_MESSAGE_TAGS = frozenset(["email", "messaging", "notifications", "login"])
#: Evidence of a lateness phrase ("arriving hours late") in a post about messages.
LATE_MESSAGE_EVIDENCE = 0.8


def _late_messages(cues: TextCues) -> bool:
    """Does the post name messages (e-mail, texts, codes) and no parcel?"""
    messages = False
    for entry in cues.tags:
        if entry.kind == "topic":
            if entry.tag == "delivery":
                return False
            messages = messages or entry.tag in _MESSAGE_TAGS
    return messages


# -- A service and a failure predicate in one clause -------------------------------------
#
# Phrase lists do not reach phrasings nobody wrote down ("the transfer page just
# loops", "the card reader is refusing every card"). The rule below composes: a
# service, product or feature noun (a small open class) and a failure predicate (a
# broad class of failure words and forms) in the same clause, in either order, within
# _COMPOSED_REACH words. The guards of the lexicon's phrases apply to it too: a negated
# predicate, a person as its subject, "down" as a direction or a mood, a forecast, a
# plan or a hypothesis; context words (prices, plans, one's own belongings) and
# recovery phrases count against it as against any failure.

#: Services, products and features whose failing is an outage (one word each).
_SERVICE_NOUNS = frozenset(
    """app apps site sites website websites webpage page pages portal login logins
    payment payments transfer transfers transaction transactions checkout card cards
    contactless email emails mail inbox texts messages dms calls call api apis server
    servers service services network internet wifi broadband signal connection data
    fibre fiber water electricity power gas heating trains train buses bus tube metro
    tram trams lines landline landlines voicemail tv channels stream streaming video
    videos music search feed timeline notifications tracker banking dashboard cloud
    upload uploads download downloads sync backup vpn router modem reader readers terminal
    terminals atm atms kiosk kiosks gates machines system systems platform chat chatbot
    assistant calendar maps account accounts password checkin booking bookings
    ticketing tickets
    button buttons basket cart gps nav satnav till tills""".split()  # noqa: SIM905
)
#: Supplies: water, power and gas fail by being cut, not by freezing or buffering.
_SUPPLIES = frozenset(["water", "electricity", "power", "gas", "heating"])
_DIGITAL_NOUNS = _SERVICE_NOUNS - _SUPPLIES
#: Failure words said only of software and devices.
_SOFTWARE_FAILURES = frozenset(
    """erroring errored crashing crashed crashes frozen froze freezing hanging hangs
    hung glitching glitched bugged glitchy spinning spins blank lagging laggy buffering
    looping loops gibberish garbled corrupted scrambled nonsense""".split()  # noqa: SIM905
)
#: Failure words said of a service, by strength. Strong ones report with a service
#: named; medium ones too, with less confidence; weak ones need other evidence.
_STRONG_PREDICATES = frozenset(
    """unavailable unreachable unresponsive offline erroring errored crashing crashed
    crashes frozen froze freezing hanging hangs hung failing fails failed glitching
    glitched bugged broken broke dead down""".split()  # noqa: SIM905
)
_MEDIUM_PREDICATES = frozenset(
    """stuck spinning spins blank lagging laggy buffering crawling jammed flickering
    dropping drops dropped declined declining rejected rejects rejecting refusing refuses
    refused bouncing bounces bounced looping loops trickle vanished disappeared
    disappearing glitchy timing
    blip blips""".split()  # noqa: SIM905
)
_WEAK_PREDICATES = frozenset(["empty", "missing", "slow", "gone"])
#: "does nothing", "shows nothing", "returns nothing": a control or a page without effect.
_NOTHING_VERBS = frozenset(
    """does did shows showed returns returned loads loaded plays played displays
    displayed brings""".split()  # noqa: SIM905
)
#: "reboots itself", "turns itself off", "empties itself": a thing acting on its own;
#: "speaks for itself" and "pays for itself" are praise.
_ON_ITS_OWN = frozenset(["itself", "themselves"])
#: Output that makes no sense: a service's failure whatever it is said of.
_GARBLED = frozenset(["gibberish", "garbled", "corrupted", "scrambled", "nonsense"])
#: Verbs of losing or destroying what one entrusted to a service: a failure only with
#: the service as their subject, before them ("the calendar has lost my events"; "lost
#: my card on the bus" is the author's loss).
_SUBJECT_ONLY = frozenset(
    """lost losing loses deleted deleting deletes wiped wiping wipes ate eaten eating
    eats forgot forgotten forgetting forgets cut cuts""".split()  # noqa: SIM905
)
#: Words before a service verb that say it cannot or does not happen ("won't load",
#: "isn't registering", "stopped arriving"). "don't" and "never" are left out: they
#: give orders and habits ("don't update the app yet", "I never open the app").
_CANNOT = frozenset(
    """won't wont can't cant cannot couldn't couldnt isn't isnt aren't arent not
    doesn't doesnt didn't didnt hasn't hasnt haven't havent stopped unable""".split()  # noqa: SIM905
)
#: Of those, the ones that a person refusing or not doing something says ("I won't
#: pay", "he doesn't work here"); after a person they are no failure. Ability ("I
#: can't log in") is the service's failure whoever the subject is.
_REFUSING = frozenset(
    """won't wont isn't isnt aren't arent not doesn't doesnt didn't didnt hasn't hasnt
    haven't havent stopped""".split()  # noqa: SIM905
)
#: Words that may stand between _CANNOT and the verb ("can't even", "unable to",
#: "won't let me", "isn't being").
_CANNOT_FILLER = frozenset(["even", "to", "be", "being", "get", "seem", "seems", "always"])
#: What a service does, in the forms that follow "won't", "isn't", "stopped": its core
#: work (a service that will not load has failed) ...
_SERVICE_VERBS = frozenset(
    """load loads loading loaded open opening opened work working worked connect
    connecting connected send sending sent arrive arriving arrived sync syncing synced
    refresh refreshing refreshed respond responding responded log logging sign signing
    stream streaming start starting launch launching boot booting authenticate
    authenticating go going come coming""".split()  # noqa: SIM905
)
#: ... and what it may not do by design ("the app doesn't show prices in euros",
#: "doesn't accept cash"): weaker, and weak after "doesn't".
_FEATURE_VERBS = frozenset(
    """play playing played update updating updated show showing register registering
    registered recognise recognising recognize recognizing pay paying download
    downloading upload uploading accept accepting process processing ring ringing
    dial dialling dialing find finding save saving post posting search searching display
    displaying render rendering verify verifying scan scanning read reading""".split()  # noqa: SIM905
)
_HABITUAL = frozenset(["doesn't", "doesnt"])
#: "go" and "come" are a service's only with "through" or "in" ("won't go through").
_NEEDS_THROUGH = frozenset(["go", "going", "come", "coming"])
#: "keeps ...ing" with one of these is a service failing again and again.
_KEEPS = frozenset(["keeps", "kept", "keep", "constantly", "randomly"])
_FAILING_GERUNDS = frozenset(
    """crashing freezing dropping failing disconnecting buffering erroring timing
    cutting restarting rebooting closing quitting hanging lagging glitching spinning
    looping logging kicking booting throwing signing declining rejecting refusing bouncing stalling
    pausing skipping flickering resetting reloading""".split()  # noqa: SIM905
)
#: "keeps saying ..." counts when an error word follows within _SAYING_REACH words.
_SAYING = frozenset(["saying", "telling", "showing", "giving", "says", "shows", "gives"])
_ERROR_WORDS = frozenset(
    """error errors wrong unavailable failed invalid expired denied offline problem
    unable can't cant cannot not no try""".split()  # noqa: SIM905
)
_SAYING_REACH = 6
#: How far apart (in words) a service and its predicate may be.
_COMPOSED_REACH = 6
#: Words that end a clause: a service on the other side is not the predicate's.
_CLAUSE_ENDS = frozenset([".", "but", "however", "although", "though", "whereas"])
#: "dead" and "down" after these are another sense ("dead simple", "down to earth").
_DEAD_NOT_BEFORE = frozenset(
    """simple easy on set serious right good cheap quiet tired end centre center
    weight ringer last""".split()  # noqa: SIM905
)
#: "shut down", "closed down": closed on purpose (a business, a product), not failing.
_CLOSED_ON_PURPOSE = frozenset(["shut", "shuts", "shutting", "closed", "close", "closing"])
_HANGS = frozenset(["hung", "hangs", "hanging"])
_DROPPING = frozenset(["dropping", "drops", "dropped"])
_DROPPED_WHAT = frozenset(["its", "their", "the", "support", "to", "by", "in", "prices"])
_REJECTING = frozenset(
    "declined declining rejected rejects rejecting refusing refuses refused".split()  # noqa: SIM905
)
#: Things that are turned down on purpose: an application, a claim, an appeal.
_ELIGIBILITY = frozenset(
    """application applications claim claims appeal appeals request requests refund
    refunds offer proposal bid loan mortgage overdraft""".split()  # noqa: SIM905
)
#: Gerunds of putting one out: failures only with "out" or "off" ("logging me out").
_PUTTING_OUT = frozenset(["logging", "kicking", "booting", "throwing", "signing"])
_HANG_OUT = frozenset(["up", "out", "around", "about"])
#: Determiners before an adjective that stands before its noun ("a blank page").
_DETERMINERS = frozenset(["a", "an", "the", "this", "that", "my", "your", "our", "their", "its"])
#: Evidence by strength of the predicate.
COMPOSED_STRONG = 0.8
COMPOSED_MEDIUM = 0.45
COMPOSED_WEAK = 0.1
#: The rule runs only where the lexicon found no failure this strong: it is for the
#: posts the phrases do not read (and it costs time on every post it runs on).
COMPOSED_GATE = 0.5
#: Every word that may start a predicate: a post with none skips the rule.
_PREDICATE_STARTS = (
    _ON_ITS_OWN
    | frozenset(["nothing"])
    | _STRONG_PREDICATES
    | _MEDIUM_PREDICATES
    | _WEAK_PREDICATES
    | _GARBLED
    | _SUBJECT_ONLY
    | _CANNOT
    | _KEEPS
)


def _predicate_at(words: list[str], i: int) -> tuple[float, int]:
    """The evidence of a predicate starting at ``words[i]`` and the index of its last word."""
    word = words[i]
    following = words[i + 1 : i + 4]
    if word in _CANNOT:
        j = i + 1
        if word == "unable" and following[:1] != ["to"]:
            return 0.0, i
        while j < len(words) and j <= i + 3 and words[j] in _CANNOT_FILLER:
            j += 1
        if j < len(words) and words[j] in ("let", "allow") and words[j + 1 : j + 2] == ["me"]:
            return COMPOSED_STRONG, j + 1
        if j >= len(words):
            return 0.0, i
        verb = words[j]
        if verb in _SERVICE_VERBS:
            weight = COMPOSED_STRONG
        elif verb in _FEATURE_VERBS:
            weight = COMPOSED_WEAK if word in _HABITUAL else COMPOSED_MEDIUM
        else:
            return 0.0, i
        after = words[j + 1 : j + 2]
        if verb in _NEEDS_THROUGH and after not in (["through"], ["in"]):
            return 0.0, i
        if after in (["out"], ["hard"], ["together"], ["for"]) and verb.startswith("work"):
            # "can't work out", "not working hard", "not working for a living"
            return 0.0, i
        return weight, j
    if word == "nothing":
        if i > 0 and words[i - 1] in _NOTHING_VERBS:
            return COMPOSED_MEDIUM, i
        return 0.0, i
    if word in _ON_ITS_OWN:
        if i > 0 and words[i - 1] != "for":
            return COMPOSED_MEDIUM, i
        return 0.0, i
    if word in _KEEPS:
        if not following:
            return 0.0, i
        gerund = following[0]
        if gerund in _PUTTING_OUT and "out" not in following and "off" not in following:
            # "keeps logging me out", not "keeps logging my steps"
            return 0.0, i
        if gerund in _FAILING_GERUNDS:
            return COMPOSED_MEDIUM, i + 1
        if gerund in _SAYING and not _ERROR_WORDS.isdisjoint(words[i + 2 : i + 2 + _SAYING_REACH]):
            return COMPOSED_MEDIUM, i + 1
        return 0.0, i
    if word in _HANGS and following[:1] and following[0] in _HANG_OUT:
        # "hung up on me": a call ended by a person; "hanging out": company kept
        return 0.0, i
    if word == "timing":
        return (COMPOSED_STRONG, i + 1) if following[:1] == ["out"] else (0.0, i)
    if word == "dead" or word == "down":
        if following and (
            following[0] in _DEAD_NOT_BEFORE
            or following[0] in _DOWN_NOT_BEFORE
            or following[0][0].isdigit()
        ):
            return 0.0, i
        if i > 0 and (words[i - 1] in _DOWN_NOT_AFTER or words[i - 1] in _CLOSED_ON_PURPOSE):
            return 0.0, i
    if i > 0 and words[i - 1] in _DETERMINERS and following[:1] and following[0] in _SERVICE_NOUNS:
        # "a blank page", "the broken link": naming a thing, not saying it fails
        return 0.0, i
    if word in _DROPPING and following[:1] and following[0] in _DROPPED_WHAT:
        # "dropping its free channels", "dropped to £10": ending a product, a price
        return 0.0, i
    if word in _REJECTING and not _ELIGIBILITY.isdisjoint(
        words[max(0, i - _COMPOSED_REACH) : i + _COMPOSED_REACH]
    ):
        # "card application rejected": eligibility, not a failure
        return 0.0, i
    if word in _STRONG_PREDICATES:
        return COMPOSED_STRONG, i
    if word in _MEDIUM_PREDICATES or word in _GARBLED or word in _SUBJECT_ONLY:
        return COMPOSED_MEDIUM, i
    if word in _WEAK_PREDICATES:
        return COMPOSED_WEAK, i
    return 0.0, i


def _service_near(words: list[str], services: list[int], first: int, last: int) -> bool:
    """A service noun in the clause of words[first..last], within _COMPOSED_REACH words.

    ``services`` are the positions of the post's service nouns. A software failure
    ("freezing", "buffering") is a supply's only in another sense ("the water is
    freezing"): it needs a service that is not a supply. A verb of losing needs the
    service before it, as its subject.
    """
    software = words[first] in _SOFTWARE_FAILURES
    subject_only = words[first] in _SUBJECT_ONLY
    for j in services:
        if j < first:
            if first - j > _COMPOSED_REACH or not _CLAUSE_ENDS.isdisjoint(words[j + 1 : first]):
                continue
        elif j > last:
            if subject_only or j - last > _COMPOSED_REACH:
                break
            if not _CLAUSE_ENDS.isdisjoint(words[last + 1 : j]):
                break
        else:
            continue
        if not software or words[j] not in _SUPPLIES:
            return True
    return False


def _person_subject(words: list[str], i: int) -> bool:
    """A person right before words[i], auxiliaries and adverbs skipped."""
    for j in range(i - 1, max(-1, i - 4), -1):
        word = words[j]
        if word in _PERSONS:
            return True
        if word not in _BETWEEN_SUBJECT_AND_STATE and word not in ("so", "really", "very"):
            return False
    return False


def composed_failure(
    norm: str,
    words: list[str],
    taken: list[tuple[int, int]],
    may_be_unreal: bool,
) -> tuple[float, bool]:
    """The strongest service-and-failure composition in the post, and whether it is real.

    ``words`` are the post's words. ``taken`` are the character spans of the lexicon's
    phrases (a predicate inside one is judged there). ``may_be_unreal``: does the post
    hold any word of a forecast, a plan or a hypothesis. Returns (0.0, False) if there
    is none.
    """
    services = [i for i, word in enumerate(words) if word in _SERVICE_NOUNS]
    best = 0.0
    best_real = False
    after = -1
    for i, word in enumerate(words):
        if word not in _PREDICATE_STARTS or i <= after:
            continue
        if services[0] - i > _COMPOSED_REACH + 5 or i - services[-1] > _COMPOSED_REACH:
            # no service noun within reach (a predicate ends at most five words on)
            continue
        start = _offset(norm, words, i)
        inside = False
        for span_start, span_end in taken:
            if span_start <= start < span_end:
                inside = True
                break
        if inside:
            # inside a lexicon phrase, judged there
            continue
        weight, last = _predicate_at(words, i)
        if weight <= best or not _service_near(words, services, i, last):
            continue
        if word not in _CANNOT and not NEGATORS.isdisjoint(words[max(0, i - 2) : i]):
            # "isn't down", "no longer stuck"
            continue
        if (word in _REFUSING or word not in _CANNOT) and _person_subject(
            words, i - 1 if word == "nothing" or word in _ON_ITS_OWN else i
        ):
            # "I'm stuck", "he doesn't work", "I won't pay"
            continue
        real = not (
            may_be_unreal
            and _is_unreal(
                _sentence_before(norm, start),
                _sentence_after(norm, _offset(norm, words, last) + len(words[last]) + 1),
            )
        )
        if not real:
            weight *= UNREAL_WEIGHT
        if weight > best:
            best, best_real = weight, real
        after = last
    return best, best_real


def _offset(norm: str, words: list[str], i: int) -> int:
    """The position in ``norm`` of the space before ``words[i]`` (as cue starts are)."""
    if "  " not in norm:
        # single spaces: each word before it and its space
        return sum(map(len, words[:i])) + i
    position = 0
    for word in words[: i + 1]:
        position = norm.index(word, position) + len(word)
    return position - len(words[i]) - 1


def analyze_outage(text: str, cues: TextCues, gazetteer: Gazetteer | None) -> OutageAnalysis:
    """The outage analysis of one post (any language the lexicon covers)."""
    norm = cues.normalised
    attempt = (
        _start_unless_people(_CANT_GET_TO, _PEOPLE_OBJECTS, norm)
        if " get " in norm and " to " in norm
        else -1
    )
    none_does = (
        _start_unless_people(_NONE_DOES, _PEOPLE_NOUNS, norm)
        if " none of " in norm or " nothing " in norm
        else -1
    )
    slow = (
        _SLOW_BY_TIME.search(norm)
        if (" tak" in norm or " took " in norm) and " to " in norm
        else None
    )
    # The post's words, split once when first needed.
    words: list[str] | None = None
    if (
        not cues.scored
        and attempt < 0
        and none_does < 0
        and slow is None
        and "_" not in text
        and "0x" not in text
        and (
            not cues.tags
            or (not cues.has("codehint") and (" out " not in norm or not _names_a_supply(cues)))
        )
    ):
        # Most posts: no phrase, no supply said to be out, nothing that could be an
        # error code (no code hint among the tags either), and no service noun with a
        # predicate word for the composed rule: no evidence at all. (Tags alone, topics,
        # platforms and context words, add to evidence only where there is some.)
        words = norm.split()
        if _SERVICE_NOUNS.isdisjoint(words) or _PREDICATE_STARTS.isdisjoint(words):
            return NOT_A_REPORT
    failure = complaint = recovery = 0.0
    failures: list[float] = []
    symptoms: list[str] = []
    # A failure said to be happening (not forecast, planned or imagined).
    real = False
    may_be_unreal: bool | None = None
    unreal_phrases: dict[str, bool] = {}
    late_messages: bool | None = None
    for cue in cues.scored:
        entry = cue.entry
        kind = entry.kind
        if cue.negated:
            if kind == "recovery":
                # "not fixed", "still not back up": it is still failing.
                failures.append(NEGATED_RECOVERY_EVIDENCE)
                real = True
            continue
        if kind == "failure":
            phrase = entry.phrase
            if is_other_sense(norm, cue.start, phrase):
                continue
            weight = entry.report
            if phrase.endswith(" late"):
                # lateness: the service's failure only for messages ("emails arriving
                # hours late"), not for a parcel or a train
                if late_messages is None:
                    late_messages = _late_messages(cues)
                if late_messages:
                    weight = max(weight, LATE_MESSAGE_EVIDENCE)
            end = cue.start + len(phrase) + 1
            if may_be_unreal is None:
                if words is None:
                    words = norm.split()
                may_be_unreal = _may_be_unreal(norm, words)
            if phrase in _GENERIC_PLURALS and _after_for(norm, cue.start):
                # "a kit for power outages", "tips for outages": any outage, not one.
                unreal = True
            elif not may_be_unreal:
                unreal = False
            elif phrase in unreal_phrases:
                # The same phrase again ("planned power outage ... #poweroutage")
                # names the same event: it keeps the status it was first given.
                unreal = unreal_phrases[phrase]
            else:
                unreal = _is_unreal(_sentence_before(norm, cue.start), _sentence_after(norm, end))
                unreal_phrases[phrase] = unreal
            if unreal:
                weight *= UNREAL_WEIGHT
            else:
                real = True
            failures.append(weight)
        elif kind == "complaint":
            complaint = max(complaint, entry.report)
        elif kind == "recovery":
            if is_pending_recovery(norm, cue.start):
                # "until this is fixed": the failure goes on.
                continue
            recovery = max(recovery, -entry.report)
        else:
            # Another sense of a failure word ("broke the record"): no evidence.
            continue
        if entry.tag and kind != "recovery":
            symptoms.append(entry.tag)
    if may_be_unreal is None and (
        attempt >= 0 or slow is not None or none_does >= 0 or " out " in norm
    ):
        if words is None:
            words = norm.split()
        may_be_unreal = _may_be_unreal(norm, words)
    if " out " in norm and _names_a_supply(cues):
        supply_out = _SUPPLY_OUT.search(norm)
        if supply_out is not None and not any(
            # already read as a phrase of the lexicon ("power went out")
            cue.start < supply_out.end() - 1
            and supply_out.start() < cue.start + len(cue.entry.phrase) + 1
            for cue in cues.scored
        ):
            if may_be_unreal and _is_unreal(
                _sentence_before(norm, supply_out.start()),
                _sentence_after(norm, supply_out.end() - 1),
            ):
                failures.append(SUPPLY_OUT_EVIDENCE * UNREAL_WEIGHT)
            else:
                failures.append(SUPPLY_OUT_EVIDENCE)
                real = True
    if attempt >= 0:
        if may_be_unreal and _is_unreal(_sentence_before(norm, attempt), []):
            failures.append(CANT_GET_TO_WORK_EVIDENCE * UNREAL_WEIGHT)
        else:
            failures.append(CANT_GET_TO_WORK_EVIDENCE)
            real = True
    if slow is not None:
        if may_be_unreal and _is_unreal(_sentence_before(norm, slow.start()), []):
            failures.append(SLOW_BY_TIME_EVIDENCE * UNREAL_WEIGHT)
        else:
            failures.append(SLOW_BY_TIME_EVIDENCE)
            real = True
        symptoms.append("performance")
    if none_does >= 0:
        if may_be_unreal and _is_unreal(_sentence_before(norm, none_does), []):
            failures.append(NONE_DOES_EVIDENCE * UNREAL_WEIGHT)
        else:
            failures.append(NONE_DOES_EVIDENCE)
            real = True
    strongest = max(failures) if failures else 0.0
    if strongest < COMPOSED_GATE:
        # The composed rule: a service noun and a predicate word. Words inside a
        # lexicon phrase are judged by the phrase ("is down", "broke the record").
        if words is None:
            words = norm.split()
        if not _SERVICE_NOUNS.isdisjoint(words) and not _PREDICATE_STARTS.isdisjoint(words):
            if may_be_unreal is None:
                may_be_unreal = _may_be_unreal(norm, words)
            composed, composed_real = composed_failure(
                norm,
                words,
                [(cue.start, cue.start + len(cue.entry.phrase) + 1) for cue in cues.scored],
                may_be_unreal,
            )
            if composed > strongest:
                failures.append(composed)
                real = real or composed_real
    if failures:
        failures.sort(reverse=True)
        # The strongest failure phrase, plus a little for each further one.
        failure = failures[0] + 0.3 * sum(failures[1:])
    # Codes come with a failure or an error word, or look like one (ERR_..., 0x...).
    maybe_codes = (
        failures
        or complaint
        or cues.has("codehint")
        or ("_" in text and _has_underscored_code(text))
        or "0x" in text
    )
    codes = find_error_codes(text, bool(failures)) if maybe_codes else ()
    evidence = failure + 0.5 * complaint
    if codes:
        evidence += ERROR_CODE_EVIDENCE
    if evidence <= 0.0:
        return NOT_A_REPORT
    platforms: list[str] = []
    # Context words: a plan, a price, a parcel count against; a service named counts for.
    context_for = context_against = 0.0
    named = False
    for entry in cues.tags:
        kind = entry.kind
        if kind == "topic" or kind == "context":
            if entry.tag:
                symptoms.append(entry.tag)
                # A service or symptom named ("internet", "payments"); words that
                # weigh as evidence themselves ("slow", "lag") name no one affected.
                named = named or entry.report == 0.0
            if entry.report < context_against:
                context_against = entry.report
            elif entry.report > context_for:
                context_for = entry.report
        elif kind == "platform":
            platforms.append(entry.tag)
    if real:
        # Who is affected: a named symptom, service or platform.
        if named or platforms:
            evidence += SPECIFIC_EVIDENCE
        evidence += context_for
    if "$" in text and _CASHTAG.search(text) is not None:
        context_against = min(context_against, CASHTAG_CONTEXT)
    if (
        " in 19" in norm or " in 20" in norm or " of 19" in norm or " of 20" in norm
    ) and context_against > _BACK_IN_YEAR_CONTEXT:
        context_against = min(context_against, _past_year(norm))
    evidence += context_against - recovery
    places = gazetteer.find(cues.normalised, text) if gazetteer is not None else ()
    return _analysis(
        confidence_for(evidence),
        tuple(dict.fromkeys(symptoms)),
        tuple(dict.fromkeys(platforms)),
        places,
        codes,
    )
