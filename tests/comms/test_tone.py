"""The tone check on a table of realistic drafts, and its building blocks."""

from __future__ import annotations

import json
from dataclasses import dataclass

import pytest

from earful.comms.tone import (
    RULES,
    DraftError,
    ToneChecker,
    count_length,
    parse_networks,
    validate_draft,
)


@pytest.fixture(scope="module")
def checker() -> ToneChecker:
    return ToneChecker()


@dataclass(frozen=True)
class Case:
    name: str
    draft: str
    must: frozenset[str]
    must_not: frozenset[str]


def case(name: str, draft: str, must: str, must_not: str) -> Case:
    return Case(name, draft, frozenset(must.split()), frozenset(must_not.split()))


MODEL = (
    "We know many of you in the UK can't log in to the app on iOS and Android since 09:40 UTC. "
    "We're sorry, we know how frustrating this is. Our engineers are fixing it now. "
    "Next update by 10:30 UTC."
)
# Padding that adds no rule of its own: a plain, specific workaround.
WORKAROUND = (
    " If you need to pay a bill today, the website still works, and card payments in shops "
    "are not affected. Please keep the app installed; you do not need to reinstall it or reset "
    "your password."
)

CASES = [
    case(
        "model update passes",
        MODEL,
        "ack.present empathy.present specific.what specific.where specific.since "
        "next_update.promised",
        "ack.missing empathy.missing next_update.missing next_update.vague jargon.phrase "
        "blame.shift tone.cheerful sentiment.upbeat length.over time.zone_missing "
        "specific.what_missing specific.where_missing specific.since_missing",
    ),
    case(
        "acknowledgement missing",
        "Our engineers are working on a fix. Next update at 15:00 UTC. Thank you for your "
        "patience.",
        "ack.missing specific.what_missing",
        "ack.present next_update.missing time.zone_missing",
    ),
    case(
        "blame on a supplier and the user",
        "Payments are failing in Germany due to a third-party provider outage. This is not our "
        "fault. We're sorry. Next update in 30 minutes.",
        "blame.shift ack.present specific.what specific.where next_update.promised",
        "ack.missing next_update.missing",
    ),
    case(
        "blame on the customer's ISP",
        "Some of you can't reach the website. Please check with your ISP, the problem is likely "
        "on your end. Sorry for the trouble. Next update in 1 hour.",
        "blame.shift ack.present next_update.promised",
        "ack.missing",
    ),
    case(
        "jargon, codename and ticket id",
        "We are experiencing an issue causing degraded performance and elevated error rates for "
        "a subset of users. Root cause analysis is ongoing and mitigation is in progress "
        "(INC-4821, project PHOENIX). Next update in 30 minutes.",
        "jargon.phrase jargon.codename jargon.ticket_id next_update.promised",
        "next_update.missing next_update.vague",
    ),
    case(
        "vague next update",
        "We know some of you can't log in. We're sorry. We'll share more as soon as possible.",
        "next_update.vague ack.present empathy.present",
        "next_update.missing next_update.promised",
    ),
    case(
        "no next update at all",
        "We know some of you can't log in on Android. We're sorry and we're on it.",
        "next_update.missing ack.present",
        "next_update.vague next_update.promised",
    ),
    case(
        "too long for Bluesky, fine for Mastodon",
        MODEL + WORKAROUND,
        "length.over ack.present next_update.promised",
        "next_update.missing ack.missing",
    ),
    case(
        "cheerful tone during an outage",
        "Exciting news! 🎉🎉 Our engineers found the bug behind the login outage! A fix is "
        "coming soon 🚀",
        "tone.cheerful tone.exclamations next_update.vague",
        "next_update.promised",
    ),
    case(
        "upbeat wording during an outage",
        "Some of you may have trouble logging in. We love our amazing community and we are "
        "super excited to keep delivering the best experience ever. Next update in 20 minutes.",
        "sentiment.upbeat ack.present next_update.promised",
        "tone.cheerful",
    ),
    case(
        "hollow apology",
        "We are aware that card payments are failing. We apologise for any inconvenience this "
        "may have caused. Next update in 45 minutes.",
        "empathy.hollow ack.present next_update.promised",
        "empathy.present empathy.missing",
    ),
    case(
        "over-apology",
        "We're so sorry. We are truly sorry that the app is down. Our apologies to everyone, "
        "we're sorry. Next update in 30 minutes.",
        "empathy.over_apology empathy.present",
        "empathy.missing",
    ),
    case(
        "minimising",
        "Just a blip! A small hiccup means some of you can't send messages. Sorry. "
        "Next update in 15 minutes.",
        "tone.minimising ack.present",
        "tone.cheerful",
    ),
    case(
        "resolution needs no next update",
        "Logging in works normally again and the issue is resolved. We're sorry for the "
        "disruption this morning in all regions.",
        "next_update.not_needed empathy.present specific.what specific.where",
        "next_update.missing next_update.vague sentiment.upbeat tone.cheerful",
    ),
    case(
        "time without a zone",
        "We know some of you can't make transfers since 9:40. We're sorry. Next update at 10:30.",
        "time.zone_missing specific.since next_update.promised",
        "specific.since_missing",
    ),
    case(
        "severity tag",
        "SEV1: the website is down for everyone. Sorry. Next update in 30 minutes.",
        "jargon.phrase specific.where",
        "jargon.codename",
    ),
    case(
        "no specifics",
        "We're aware of an issue and are investigating. Sorry about this. Next update in 30 "
        "minutes.",
        "specific.what_missing specific.where_missing specific.since_missing ack.present",
        "specific.what specific.where",
    ),
]


@pytest.mark.parametrize("c", CASES, ids=lambda c: c.name)
def test_draft_findings(checker: ToneChecker, c: Case) -> None:
    report = checker.review(c.draft)
    rules = set(report.rules)
    assert c.must <= rules, f"missing {sorted(c.must - rules)}\n{report.to_text()}"
    assert not (c.must_not & rules), f"unexpected {sorted(c.must_not & rules)}\n{report.to_text()}"


def test_every_rule_in_the_table_exists() -> None:
    named = {rule for c in CASES for rule in c.must | c.must_not}
    assert named <= set(RULES)
    # The table exercises most of the catalogue.
    assert len({rule for c in CASES for rule in c.must}) >= 20


def test_model_update_is_ready_with_evidence_at_its_position(checker: ToneChecker) -> None:
    report = checker.review(MODEL)
    assert report.verdict == "ready"
    assert report.score == 100
    assert not report.has_problems
    assert report.places == ("United Kingdom",)
    assert set(report.platforms) == {"ios", "android"}
    assert "login" in report.symptoms
    promised = next(f for f in report.findings if f.rule == "next_update.promised")
    (evidence,) = promised.evidence
    assert evidence.text == "Next update by 10:30 UTC"
    assert MODEL[evidence.start : evidence.end] == evidence.text


def test_too_long_for_bluesky_fits_mastodon(checker: ToneChecker) -> None:
    draft = MODEL + WORKAROUND
    report = checker.review(draft)
    fits = {fit.network: fit for fit in report.fits}
    assert len(draft) > 300
    assert fits["bluesky"].length == len(draft)  # plain ASCII: one grapheme per character
    assert not fits["bluesky"].fits
    assert fits["bluesky"].over_by == len(draft) - 300
    assert fits["mastodon"].fits and fits["mastodon"].over_by == 0
    assert not fits["x"].fits
    over = [f for f in report.findings if f.rule == "length.over"]
    assert [f.severity for f in over] == ["problem", "problem"]
    assert "Bluesky" in over[0].message and f"over by {len(draft) - 300}" in over[0].message
    # Checking Mastodon alone: no length problem, so no problem at all.
    only_mastodon = checker.review(draft, networks=["mastodon"])
    assert [fit.network for fit in only_mastodon.fits] == ["mastodon"]
    assert "length.over" not in only_mastodon.rules
    assert not only_mastodon.has_problems


def test_mastodon_limit_is_configurable() -> None:
    small = ToneChecker(mastodon_limit=100)
    report = small.review(MODEL, networks=("mastodon",))
    assert report.fits[0].limit == 100
    assert report.fits[0].over_by == len(MODEL) - 100
    assert "length.over" in report.rules


def test_jargon_evidence_positions(checker: ToneChecker) -> None:
    draft = CASES[4].draft
    report = checker.review(draft)
    jargon = {f.evidence[0].text.lower(): f for f in report.findings if f.rule == "jargon.phrase"}
    assert {
        "degraded performance",
        "elevated error rates",
        "a subset of users",
        "root cause",
    } <= set(jargon)
    for text, finding in jargon.items():
        e = finding.evidence[0]
        assert draft[e.start : e.end].lower() == text
        assert finding.suggestion
    codenames = [f.evidence[0].text for f in report.findings if f.rule == "jargon.codename"]
    tickets = [f.evidence[0].text for f in report.findings if f.rule == "jargon.ticket_id"]
    assert codenames == ["PHOENIX"]
    assert tickets == ["INC-4821"]


def test_error_codes_and_time_zones_are_not_codenames(checker: ToneChecker) -> None:
    draft = (
        "We know some of you see ERR_CONNECTION_RESET or HTTP 503 in the EU since 08:00 UTC. "
        "Sorry. Next update in 30 minutes."
    )
    report = checker.review(draft)
    assert "jargon.codename" not in report.rules
    what = next(f for f in report.findings if f.rule == "specific.what")
    assert "ERR_CONNECTION_RESET" in what.message


def test_blame_severity_depends_on_the_phrase(checker: ToneChecker) -> None:
    report = checker.review(CASES[2].draft)
    blame = {
        f.evidence[0].text.lower(): f.severity for f in report.findings if f.rule == "blame.shift"
    }
    assert blame == {"third-party": "warning", "not our fault": "problem"}


def test_curly_apostrophes_match(checker: ToneChecker) -> None:
    report = checker.review("We\u2019re aware you can\u2019t log in. Next update in 30 minutes.")
    ack = next(f for f in report.findings if f.rule == "ack.present")
    assert ack.evidence[0].text == "We\u2019re aware"


def test_apology_inside_a_stock_phrase_is_not_sincere(checker: ToneChecker) -> None:
    report = checker.review(CASES[10].draft)
    hollow = [f for f in report.findings if f.rule == "empathy.hollow"]
    # The longest stock phrase wins over the shorter one inside it ("any inconvenience").
    assert [f.evidence[0].text for f in hollow] == ["inconvenience this may have caused"]
    assert "empathy.present" not in report.rules


def test_report_orders_worst_first_and_scores(checker: ToneChecker) -> None:
    report = checker.review(CASES[2].draft)
    ranks = ["ok", "suggestion", "warning", "problem"]
    severities = [ranks.index(f.severity) for f in report.findings]
    assert severities == sorted(severities, reverse=True)
    penalty = {"ok": 0, "suggestion": 3, "warning": 10, "problem": 25}
    assert report.score == max(0, 100 - sum(penalty[f.severity] for f in report.findings))
    assert report.verdict == "not_ready"


def test_to_dict_and_json(checker: ToneChecker) -> None:
    report = checker.review(CASES[5].draft)
    data = json.loads(report.to_json())
    assert data == report.to_dict()
    assert data["verdict"] == "not_ready"
    assert data["counts"]["problem"] == 1
    assert data["kind"] == "ongoing"
    assert set(data["fits"]) == {"bluesky", "mastodon", "x"}
    vague = next(f for f in data["findings"] if f["rule"] == "next_update.vague")
    assert vague["evidence"][0]["text"] == "as soon as possible"
    assert vague["severity"] == "problem"


def test_to_text_is_short_and_names_fixes(checker: ToneChecker) -> None:
    text = checker.review(CASES[5].draft).to_text()
    first, second = text.splitlines()[:2]
    assert first.startswith("Tone check: NOT READY")
    assert second.startswith("Length: Bluesky 84/300 fits")
    assert '"as soon as possible" at' in text
    assert "-> Replace it with a time" in text


def test_count_length_per_network() -> None:
    url = "https://status.example.com/incidents/abcdefghijklmnopqrstuvwxyz0123456789"
    text = f"Logins fail. Details: {url}"
    assert count_length(text, "bluesky") == len(text)
    assert count_length(text, "mastodon") == len("Logins fail. Details: ") + 23
    assert count_length(text, "x") == len("Logins fail. Details: ") + 23
    family = "\U0001f468\u200d\U0001f469\u200d\U0001f467"  # one grapheme, five code points
    assert count_length(f"ok {family}", "bluesky") == 4
    assert count_length(f"ok {family}", "x") == 5  # X counts an emoji as 2
    assert count_length("\u969c\u5bb3", "x") == 4  # CJK characters count 2 on X
    assert count_length("@ops@mastodon.social hi", "mastodon") == len("@ops hi")
    with pytest.raises(DraftError):
        count_length("hi", "myspace")


def test_validate_draft_and_networks() -> None:
    assert validate_draft("  hello \n") == "hello"
    with pytest.raises(DraftError, match="empty"):
        validate_draft(" \n ")
    with pytest.raises(DraftError, match="10001 characters"):
        validate_draft("a" * 10_001)
    assert parse_networks("Bluesky, twitter") == ("bluesky", "x")
    with pytest.raises(DraftError, match="unknown network 'myspace'"):
        parse_networks("bluesky,myspace")
    with pytest.raises(DraftError):
        parse_networks(",")
