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

The phrase lists are data in :mod:`earful.comms.tone.phrases`; each entry
carries its own suggestion. :meth:`ToneChecker.review` returns a
:class:`ToneReport` with ``to_text()`` for a terminal and
``to_dict()``/``to_json()`` for machines.

The package: :mod:`.length` (what a reviewable draft is, and its length per
network), :mod:`.matching` (the phrase engine), :mod:`.findings` (the report
model) and :mod:`.checker` (the rules run over a draft).
"""

from earful.comms.tone.checker import ToneChecker
from earful.comms.tone.findings import Finding, NetworkFit, PhraseMatch, ToneReport
from earful.comms.tone.length import (
    DEFAULT_NETWORKS,
    MAX_DRAFT_CHARS,
    NETWORK_LIMITS,
    DraftError,
    count_length,
    parse_networks,
    validate_draft,
)
from earful.comms.tone.phrases import RULES, SEVERITIES, Phrase, Rule, Severity

__all__ = [
    "DEFAULT_NETWORKS",
    "MAX_DRAFT_CHARS",
    "NETWORK_LIMITS",
    "RULES",
    "SEVERITIES",
    "DraftError",
    "Finding",
    "NetworkFit",
    "Phrase",
    "PhraseMatch",
    "Rule",
    "Severity",
    "ToneChecker",
    "ToneReport",
    "count_length",
    "parse_networks",
    "validate_draft",
]
