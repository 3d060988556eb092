"""The tone check's rules and phrase lists, as data (see :mod:`earful.comms.tone`).

Each rule says what it looks for and why it matters; each phrase carries what
to write instead. Edit the lists here to tune the check; the tests in
``tests/comms/test_tone.py`` pin the behaviour on realistic drafts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

__all__ = [
    "ACKNOWLEDGEMENTS",
    "ALLOWED_CAPITALS",
    "APOLOGY_WORDS",
    "BLAME",
    "CAPITAL_WORD",
    "CHEERFUL",
    "CHEERFUL_EMOJI",
    "CLOCK_TIME",
    "EMPATHY",
    "HOLLOW",
    "JARGON",
    "MINIMISING",
    "NEXT_UPDATE",
    "OVER_APOLOGY_COUNT",
    "RESOLUTION",
    "RULES",
    "SCOPE",
    "SEVERITIES",
    "SEVERITY_TAGS",
    "SINCE",
    "TICKET_ID",
    "VAGUE_TIMES",
    "ZONE_AFTER",
    "Phrase",
    "Rule",
    "Severity",
]

Severity = Literal["ok", "suggestion", "warning", "problem"]
#: Severities from the least to the most serious.
SEVERITIES: tuple[Severity, ...] = ("ok", "suggestion", "warning", "problem")

# -- rules ---------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Rule:
    """One check: what it looks for and why it matters."""

    id: str
    severity: Severity
    looks_for: str
    why: str


_RULE_LIST = (
    Rule("ack.present", "ok", "an acknowledgement of impact", "people know you have seen it"),
    Rule(
        "ack.missing",
        "problem",
        "no acknowledgement that something is wrong for people",
        "a fast public acknowledgement cuts negative sentiment at once (Domino's, Microsoft)",
    ),
    Rule("empathy.present", "ok", "an apology or a line of understanding", "it reads human"),
    Rule(
        "empathy.missing",
        "warning",
        "no apology or understanding",
        "a plain apology measurably reduced negative sentiment (Domino's, 2009)",
    ),
    Rule(
        "empathy.hollow",
        "warning",
        "stock phrases such as 'any inconvenience'",
        "people recognise boilerplate; it reads as not caring",
    ),
    Rule(
        "empathy.over_apology",
        "warning",
        "three or more apologies",
        "one clear apology reads sincere; many read as panic and bury the facts",
    ),
    Rule("specific.what", "ok", "the affected service or symptom", "people can tell if it is them"),
    Rule(
        "specific.what_missing",
        "warning",
        "no affected service, symptom or platform",
        "people cannot tell whether their problem is this one",
    ),
    Rule("specific.where", "ok", "places, platforms or 'all regions'", "scope is clear"),
    Rule(
        "specific.where_missing",
        "suggestion",
        "no place, platform or scope",
        "people elsewhere wonder whether they are affected",
    ),
    Rule("specific.since", "ok", "when it started", "people can match it to what they saw"),
    Rule(
        "specific.since_missing",
        "suggestion",
        "no start time",
        "'since 09:40 UTC' lets people match it to their own failures",
    ),
    Rule(
        "time.zone_missing",
        "suggestion",
        "a clock time without a time zone",
        "followers read it in their own zone",
    ),
    Rule("next_update.promised", "ok", "a time for the next update", "silence invites rumour"),
    Rule(
        "next_update.not_needed",
        "ok",
        "a resolution update",
        "a resolved incident needs no further promise",
    ),
    Rule(
        "next_update.missing",
        "problem",
        "no time for the next update",
        "without a promised time, every quiet minute reads as silence",
    ),
    Rule(
        "next_update.vague",
        "problem",
        "'soon' or 'as soon as possible' without a time",
        "vague promises set no expectation and are easy to break",
    ),
    Rule(
        "jargon.phrase",
        "warning",
        "robotic or internal phrases",
        "customers do not speak in incident-report language",
    ),
    Rule(
        "jargon.codename",
        "warning",
        "internal codenames in capitals",
        "names only staff know confuse everyone else",
    ),
    Rule("jargon.ticket_id", "warning", "internal ticket ids", "they mean nothing outside"),
    Rule(
        "blame.shift",
        "problem",
        "blaming a supplier, the user or 'not our fault'",
        "to customers your supplier is you; blame reads as an excuse",
    ),
    Rule(
        "tone.cheerful",
        "problem",
        "cheerful words or party emoji during an outage",
        "celebration while people are stuck reads as mockery",
    ),
    Rule(
        "tone.minimising",
        "warning",
        "'a small hiccup', 'just a blip'",
        "it belittles what people are going through",
    ),
    Rule("tone.exclamations", "suggestion", "several exclamation marks", "calm reassures"),
    Rule(
        "sentiment.upbeat",
        "warning",
        "an upbeat sentiment score during an outage",
        "a bright tone clashes with people's experience",
    ),
    Rule(
        "language.unsupported",
        "suggestion",
        "a draft not in English",
        "the phrase rules and the sentiment score read English only",
    ),
    Rule("length.over", "problem", "a draft over a network's limit", "the network refuses it"),
)
#: Every rule by id: what it looks for and why.
RULES: dict[str, Rule] = {rule.id: rule for rule in _RULE_LIST}


# -- phrase lists (data) -------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Phrase:
    """A phrase to look for, with what to write instead.

    Syntax: words are matched case-insensitively with any whitespace between
    them; contractions match both spellings ("we're" also matches "we are");
    a hyphen matches a hyphen, a space or nothing; ``...`` stands for up to
    four words.
    """

    phrase: str
    suggestion: str = ""
    severity: Severity | None = None


ACKNOWLEDGEMENTS: tuple[Phrase, ...] = tuple(
    Phrase(p)
    for p in (
        "we're aware",
        "we know",
        "we're investigating",
        "we're looking into",
        "we've identified",
        "we've found",
        "we're seeing",
        "we're experiencing",
        "is affected",
        "are affected",
        "is impacted",
        "are impacted",
        "affecting",
        "some of you",
        "many of you",
        "you may be",
        "you might be",
        "you may have",
        "you can't",
        "you're unable",
        "you're having",
        "unable to",
        "having trouble",
        "not working",
        "disruption",
        "outage",
        "problems with",
        "issues with",
        "trouble with",
    )
)

EMPATHY: tuple[Phrase, ...] = tuple(
    Phrase(p)
    for p in (
        "sorry",
        "we apologise",
        "we apologize",
        "our apologies",
        "apologies",
        "we understand how frustrating",
        "frustrating",
        "we know how important",
        "we know you rely",
        "we know this is",
        "we let you down",
        "not good enough",
        "not the experience",
        "thank you for your patience",
        "thanks for your patience",
        "thanks for bearing with us",
        "we hear you",
    )
)

_NAME_IT = "Name the real impact: 'We're sorry you can't log in this morning.'"
HOLLOW: tuple[Phrase, ...] = (
    Phrase("any inconvenience", _NAME_IT),
    Phrase("the inconvenience", _NAME_IT),
    Phrase("inconvenience this may have caused", _NAME_IT),
    Phrase("sorry if", "Drop the 'if': 'We're sorry you couldn't pay this morning.'"),
    Phrase("sorry to anyone who", "Say 'We're sorry' to the people affected, plainly."),
    Phrase("we regret", "Say 'We're sorry'."),
    Phrase("we take ... very seriously", "Show it instead: say what you are doing and when."),
    Phrase("we take ... seriously", "Show it instead: say what you are doing and when."),
    Phrase("your patience and understanding", "'Thank you for bearing with us' is enough."),
    Phrase("valued customers", "Say 'you'."),
    Phrase("we value your business", "Drop it; say what you are doing to fix it."),
    Phrase("we're committed to providing", "Drop it; say what you are doing to fix it."),
    Phrase("we strive to", "Drop it; say what you are doing to fix it."),
)

#: Words counted for over-apology.
APOLOGY_WORDS = re.compile(r"(?i)\b(?:sorry|apologi[sz]e[sd]?|apologies|apologi[sz]ing|regret)\b")
OVER_APOLOGY_COUNT = 3

JARGON: tuple[Phrase, ...] = (
    Phrase("we're experiencing an issue", "Say what is broken: 'Logins are failing.'"),
    Phrase("we're currently experiencing", "Say what is broken: 'Logins are failing.'"),
    Phrase("experiencing issues", "Say what is broken: 'Payments are failing.'"),
    Phrase("experiencing an issue", "Say what is broken: 'Payments are failing.'"),
    Phrase("degraded performance", "Say 'slow' or 'not loading'."),
    Phrase("performance degradation", "Say 'slow' or 'not loading'."),
    Phrase("service degradation", "Say 'slow' or 'failing'."),
    Phrase("a subset of users", "Say 'some of you' (or how many: 'about 1 in 10 of you')."),
    Phrase("a subset of customers", "Say 'some of you' (or how many: 'about 1 in 10 of you')."),
    Phrase("a subset of", "Say 'some of you'."),
    Phrase("elevated error rates", "Say 'some requests fail' or what fails."),
    Phrase("increased error rates", "Say 'some requests fail' or what fails."),
    Phrase("elevated latency", "Say 'slow' or 'delayed'."),
    Phrase("increased latency", "Say 'slow' or 'delayed'."),
    Phrase("latency", "Say 'delays' or 'slowness'."),
    Phrase("root cause", "Say 'what caused it'."),
    Phrase("mitigation", "Say 'a fix' or 'a workaround'."),
    Phrase("mitigate", "Say 'fix' or 'work around'."),
    Phrase("mitigated", "Say 'fixed' or 'worked around'."),
    Phrase("remediation", "Say 'the fix'."),
    Phrase("upstream", "Say what failed in plain words."),
    Phrase("failover", "Say 'we switched to backup systems'."),
    Phrase("rolled back", "Say 'we undid a recent change'."),
    Phrase("rollback", "Say 'we are undoing a recent change'."),
    Phrase("intermittent", "Say 'on and off'."),
    Phrase("customers may experience", "Say what they see: 'you may not be able to log in'."),
    Phrase("users may experience", "Say what they see: 'you may not be able to log in'."),
    Phrase("please be advised", "Drop it; start with the news."),
    Phrase("at this time", "Say 'now'."),
    Phrase("impacted functionality", "Say what does not work."),
    Phrase("incident commander", "Drop internal roles."),
)
#: Severity and priority tags ("SEV1", "P0") are internal incident language.
SEVERITY_TAGS = re.compile(r"(?i)\b(?:sev|p)[- ]?[0-4]\b")

BLAME: tuple[Phrase, ...] = (
    Phrase("not our fault", "Own it: 'This is on us and we're fixing it.'", "problem"),
    Phrase("not caused by us", "Own it: 'This is on us and we're fixing it.'", "problem"),
    Phrase("user error", "Own the experience: say how to get back in, not whose fault it was."),
    Phrase("your fault", "Own it: 'This is on us and we're fixing it.'"),
    Phrase("beyond our control", "Say what you are doing about it, not what you cannot."),
    Phrase("outside our control", "Say what you are doing about it, not what you cannot."),
    Phrase("out of our hands", "Say what you are doing about it, not what you cannot."),
    Phrase(
        "third-party",
        "To customers your supplier is you: 'A system we rely on failed; we're working with "
        "them to fix it.'",
        "warning",
    ),
    Phrase(
        "our provider",
        "To customers your supplier is you: 'A system we rely on failed.'",
        "warning",
    ),
    Phrase(
        "our vendor", "To customers your supplier is you: 'A system we rely on failed.'", "warning"
    ),
    Phrase("your isp", "Do not send people to their ISP unless you are sure; say what you know."),
    Phrase("your internet provider", "Do not send people to their provider; say what you know."),
    Phrase("on your end", "Say what you know about the problem on your side first."),
    Phrase("on your side", "Say what you know about the problem on your side first."),
)

CHEERFUL: tuple[Phrase, ...] = tuple(
    Phrase(p, "Keep it calm and factual while people are affected.")
    for p in (
        "exciting news",
        "great news",
        "good news everyone",
        "yay",
        "woohoo",
        "woo hoo",
        "hooray",
        "oops",
        "oopsie",
        "whoops",
        "lol",
        "haha",
        "fun fact",
    )
)
#: Emoji that celebrate or joke (a pictographic character set, checked one by one).
CHEERFUL_EMOJI = frozenset("🎉🥳🎊🎈😂🤣😅😜🙃😎🙌🚀✨🤪😆😁😄😃🤩🍾🥂")

MINIMISING: tuple[Phrase, ...] = tuple(
    Phrase(p, "Describe the impact as people feel it; let them judge its size.")
    for p in (
        "small hiccup",
        "minor hiccup",
        "little hiccup",
        "a hiccup",
        "small glitch",
        "minor glitch",
        "little glitch",
        "just a blip",
        "a small blip",
        "minor blip",
        "only a few",
        "a tiny",
    )
)

#: A resolution update needs no promise of another update.
RESOLUTION: tuple[Phrase, ...] = tuple(
    Phrase(p)
    for p in (
        "is resolved",
        "is now resolved",
        "has been resolved",
        "have been resolved",
        "are resolved",
        "is fixed",
        "is now fixed",
        "has been fixed",
        "have been fixed",
        "fully restored",
        "has been restored",
        "have been restored",
        "is restored",
        "are restored",
        "back to normal",
        "all systems operational",
        "is back up",
        "are back up",
        "working normally again",
        "working again",
        "should now be working",
    )
)

VAGUE_TIMES: tuple[Phrase, ...] = tuple(
    Phrase(p, "Promise a time: 'Next update in 30 minutes' or 'by 14:30 UTC'.")
    for p in (
        "as soon as possible",
        "as soon as we can",
        "as soon as we have",
        "asap",
        "soon",
        "shortly",
        "in due course",
        "when we know more",
        "when we have more",
        "as more information becomes available",
        "in a bit",
        "later today",
        "later",
    )
)

SCOPE: tuple[Phrase, ...] = tuple(
    Phrase(p)
    for p in (
        "all regions",
        "every region",
        "everywhere",
        "worldwide",
        "globally",
        "all countries",
        "all platforms",
        "everyone",
        "all users",
        "all customers",
        "all of you",
        "nationwide",
        "on mobile",
        "on desktop",
        "on the web",
        "in the app",
    )
)

#: Capitals that are common words, not codenames.
ALLOWED_CAPITALS = frozenset(
    {
        "UTC",
        "GMT",
        "CET",
        "CEST",
        "EET",
        "EEST",
        "BST",
        "IST",
        "JST",
        "AEST",
        "AEDT",
        "EST",
        "EDT",
        "CST",
        "CDT",
        "MST",
        "MDT",
        "PST",
        "PDT",
        "API",
        "APIS",
        "SMS",
        "FAQ",
        "FAQS",
        "ATM",
        "ATMS",
        "PIN",
        "VPN",
        "ETA",
        "TV",
        "PC",
        "OK",
        "AM",
        "PM",
        "USA",
        "UK",
        "EU",
        "US",
        "DNS",
        "URL",
        "USB",
        "GPS",
        "SIM",
        "ID",
        "IDS",
        "HTTP",
        "HTTPS",
        "FYI",
        "ASAP",
        "NB",
        "PS",
        "CEO",
        "CTO",
        "IOS",
        "WIFI",
        "LTE",
        "5G",
        "4G",
        "2FA",
        "MFA",
        "SSO",
        "ISP",
        "NHS",
    }
)
CAPITAL_WORD = re.compile(r"(?<![\w@#/.-])([A-Z][A-Z0-9]*(?:[-_][A-Z0-9]+)*)(?![\w-])")
TICKET_ID = re.compile(
    r"(?<![\w-])(?:INC|INCIDENT|CHG|PRB|SEV|OPS|JIRA|SR|CASE|TKT|TICKET|PD|REQ|RITM)"
    r"[-_ ]?#?\d{2,}(?![\w-])"
    r"|(?i:\b(?:ticket|case|jira|incident)\s*#\s*\d+\b)"
)

# -- time expressions ----------------------------------------------------------

_TZ = (
    r"(?:UTC|GMT|Z|[+-]\d{2}:?\d{2}|CET|CEST|EET|EEST|BST|IST|JST|AEST|AEDT|EST|EDT|CST|CDT|"
    r"MST|MDT|PST|PDT|ET|CT|MT|PT|local\s+time)"
)
_CLOCK = r"\d{1,2}(?::\d{2}|\s*(?:[ap]\.?m\.?)(?!\w))"
_NUMBER = (
    r"(?:\d+|a|an|one|two|three|four|five|six|ten|fifteen|twenty|thirty|forty-five|sixty|"
    r"a\s+few|half\s+an?|a\s+couple\s+of)"
)
_DURATION = rf"{_NUMBER}\s*(?:-\s*)?(?:min(?:ute)?s?|hours?|hrs?|h)(?!\w)"
_WHEN = (
    rf"(?:{_DURATION}|{_CLOCK}(?:\s*{_TZ})?|\d{{1,2}}\s*{_TZ}|the\s+hour|the\s+top\s+of\s+the\s+"
    r"hour|noon|midday|midnight|the\s+end\s+of\s+the\s+day|end\s+of\s+day)"
)
#: "next update in 30 minutes", "we'll update you by 14:00 UTC", "more news within the hour".
NEXT_UPDATE = re.compile(
    r"(?i)(?:\b(?:update|updates|updating|post|posting|report\s+back|get\s+back\s+to\s+you|"
    r"check\s+back|let\s+you\s+know|keep\s+you\s+posted|hear\s+from\s+us|more\s+(?:information|"
    r"info|news|details))\b[^.!?\n]{0,60}?\b(?:in|within|by|at|before|around|every|"
    r"no\s+later\s+than)\s+(?:the\s+next\s+|about\s+|approximately\s+|around\s+|roughly\s+)?"
    rf"{_WHEN}"
    rf"|\bnext\s+update\s*(?::|-|at|by|in|around)?\s*(?:{_WHEN}))"
)
#: "since 09:40 UTC", "since this morning", "for the last 30 minutes", "started at 9am".
SINCE = re.compile(
    r"(?i)\b(?:since|starting\s+(?:at|from)|started\s+(?:at|around|about)|began\s+(?:at|around)"
    r"|beginning\s+at|from)\s+(?:about\s+|around\s+|approximately\s+|roughly\s+)?"
    rf"(?:{_CLOCK}(?:\s*{_TZ})?|\d{{1,2}}\s*{_TZ}|this\s+(?:morning|afternoon|evening)|"
    r"last\s+night|earlier\s+today|yesterday|midnight|noon|(?:mon|tues|wednes|thurs|fri|satur|"
    rf"sun)day|{_NUMBER}\s+(?:minutes?|hours?)\s+ago)"
    rf"|\bfor\s+(?:the\s+)?(?:last|past)\s+{_DURATION}"
)
CLOCK_TIME = re.compile(rf"(?i)\b{_CLOCK}")
ZONE_AFTER = re.compile(rf"\s*(?:{_TZ})\b")
