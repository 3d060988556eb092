"""The bundled example incident: every line is a valid mention and the truth file holds.

The checks read the committed files the way the replay does
(:func:`earful.ingest.replay.parse_line`) and recompute from them what
``acme-incident.truth.json`` claims, so a change to the generator that breaks
the story (a noisy baseline, a missing update, an official post in the
silence gap) fails here.
"""

from __future__ import annotations

import itertools
import json
import re
import statistics
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from earful.events import Mention
from earful.ingest.replay import parse_line

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
JSONL = EXAMPLES / "acme-incident.jsonl"
TRUTH = EXAMPLES / "acme-incident.truth.json"
INGESTED_AT = datetime(2026, 11, 20, 12, 30, tzinfo=UTC)

#: A deliberately simple word check for "this post complains", in the five languages.
NEGATIVE = re.compile(
    r"(?i)\b(?:down|can'?t|cannot|can not|won'?t|errors?|fail\w*|broken|outage|declined|"
    r"crash\w*|stuck|useless|unacceptable|worst|awful|furious|locked out|not working|"
    r"doesn'?t work|white screen|times out|abgelehnt|fehler|kaputt|fehlgeschlagen|"
    r"impossible|panne|refusée?|plante|caído|rechazad[oa]|fallid[oa]|fallando|no puedo|"
    r"geweigerd|mislukt|eruit|crasht|storing)\b"
)
NATIVE_ID = {
    "mastodon": re.compile(r"[0-9]{17,19}"),
    "bluesky": re.compile(
        r"at://did:plc:[a-z2-7]{24}/app\.bsky\.feed\.(?:post|repost)/[2-7a-z]{13}"
    ),
    "reddit": re.compile(r"t[13]_[0-9a-z]{6,8}"),
    "hackernews": re.compile(r"[0-9]{8}"),
    "statuspage": re.compile(r"[0-9a-z]{12}"),
}
#: Every field the generator must write; the replay fills in the rest.
WRITTEN_FIELDS = {
    "source",
    "native_id",
    "url",
    "author",
    "author_handle",
    "text",
    "lang",
    "created_at",
    "subjects",
    "is_official",
    "kind",
    "in_reply_to",
    "engagement",
    "metadata",
}


@dataclass(frozen=True)
class Incident:
    raw: list[dict[str, Any]]
    mentions: list[Mention]
    truth: dict[str, Any]

    def at(self, iso: str) -> datetime:
        return datetime.fromisoformat(iso)

    def between(self, start: str, end: str) -> list[Mention]:
        lo, hi = self.at(start), self.at(end)
        return [m for m in self.mentions if lo <= m.created_at < hi]

    def phase(self, name: str) -> dict[str, Any]:
        return next(p for p in self.truth["phases"] if p["name"] == name)

    def in_phase(self, name: str) -> list[Mention]:
        phase = self.phase(name)
        return self.between(phase["start"], phase["end"])

    def labelled(self, *labels: str) -> set[str]:
        return {i for label in labels for i in self.truth["labels"].get(label, [])}

    def reports(self) -> set[str]:
        """Lines whose text says the author is affected right now."""
        return set(self.truth["reports"]["ids"])


@cache
def load_incident() -> Incident:
    raw_lines = JSONL.read_bytes().splitlines()
    mentions = [parse_line(line, ingested_at=INGESTED_AT) for line in raw_lines]
    raw = [json.loads(line) for line in raw_lines]
    return Incident(raw, mentions, json.loads(TRUTH.read_text(encoding="utf-8")))


@pytest.fixture(scope="module")
def incident() -> Incident:
    return load_incident()


def negative_share(mentions: list[Mention]) -> float:
    return sum(1 for m in mentions if NEGATIVE.search(m.text)) / len(mentions)


def per_minute(mentions: list[Mention], start: datetime, minutes: int) -> list[int]:
    counts = Counter(int((m.created_at - start).total_seconds() // 60) for m in mentions)
    return [counts.get(i, 0) for i in range(minutes)]


# -- the file as a replay reads it ------------------------------------------


def test_every_line_parses_with_the_replay_and_writes_the_contract_fields(
    incident: Incident,
) -> None:
    assert len(incident.mentions) == incident.truth["totals"]["lines"]
    assert 3000 <= len(incident.mentions) <= 4500
    for record, mention in zip(incident.raw, incident.mentions, strict=True):
        assert set(record) == WRITTEN_FIELDS  # id, ingested_at, schema_version left to the replay
        assert mention.id == f"{mention.source}:{mention.native_id}"
        assert mention.ingested_at == INGESTED_AT
        assert record["created_at"].endswith("Z")
    assert JSONL.stat().st_size < 3 * 1024 * 1024


def test_ids_are_unique_and_native_ids_look_like_each_network(incident: Incident) -> None:
    ids = [m.id for m in incident.mentions]
    assert len(set(ids)) == len(ids)
    assert {m.source for m in incident.mentions} == set(NATIVE_ID)
    for m in incident.mentions:
        assert NATIVE_ID[m.source].fullmatch(m.native_id), m.id
        assert m.url is not None and m.url.startswith("https://")
    reddit_kinds = {(m.native_id[:3], m.kind) for m in incident.mentions if m.source == "reddit"}
    assert reddit_kinds == {("t3_", "post"), ("t1_", "comment")}


def test_event_times_are_sorted_and_within_the_span(incident: Incident) -> None:
    start, end = (
        incident.at(incident.truth["span"]["start"]),
        incident.at(incident.truth["span"]["end"]),
    )
    times = [m.created_at for m in incident.mentions]
    assert times == sorted(times)
    assert start <= times[0] and times[-1] < end
    assert end - start == timedelta(hours=2)


def test_subjects_always_acme_and_acme_pay_for_payment_posts(incident: Incident) -> None:
    for m in incident.mentions:
        assert m.subjects[0] == "acme"
        assert set(m.subjects) <= {"acme", "acme-pay"}
        if "acme pay" in m.text.lower():
            assert "acme-pay" in m.subjects, m.text
    pay_share = sum("acme-pay" in m.subjects for m in incident.mentions) / len(incident.mentions)
    assert 0.15 < pay_share < 0.6
    assert (
        sum("acme-pay" in m.subjects for m in incident.mentions)
        == (incident.truth["totals"]["acme_pay"])
    )


def test_authors_are_pseudonymous_with_a_long_tail(incident: Incident) -> None:
    per_author = Counter(m.author for m in incident.mentions)
    assert all(re.fullmatch(r"u-[0-9a-f]{12}", a) for a in per_author)
    assert len(per_author) == incident.truth["totals"]["authors"]
    assert 300 <= len(per_author) <= 1000
    once = sum(1 for n in per_author.values() if n == 1)
    assert once >= 0.15 * len(per_author)  # many people post once...
    assert per_author.most_common(1)[0][1] >= 10  # ...a few post a lot
    assert per_author.most_common(1)[0][1] <= 0.03 * len(incident.mentions)
    assert all(m.author_handle is None for m in incident.mentions)


def test_languages_mostly_english_with_about_five_percent_others(incident: Incident) -> None:
    declared = Counter(m.lang for m in incident.mentions if m.lang is not None)
    assert set(declared) == {"en", "de", "fr", "es", "nl"}
    others = sum(n for lang, n in declared.items() if lang != "en")
    assert 0.03 <= others / sum(declared.values()) <= 0.08
    undeclared = {m.source for m in incident.mentions if m.lang is None}
    assert {"reddit", "hackernews"} <= undeclared  # those networks declare none
    written = incident.truth["totals"]["by_written_lang"]
    assert sum(n for lang, n in written.items() if lang != "en") / len(incident.mentions) < 0.08


def test_texts_are_mostly_unique(incident: Incident) -> None:
    texts = [m.text for m in incident.mentions]
    share = len(set(texts)) / len(texts)
    assert share >= incident.truth["claims"]["min_unique_text_share"]
    assert len(set(texts)) == incident.truth["totals"]["unique_texts"]


# -- the story the truth file tells ---------------------------------------------


def test_phase_counts_match_the_truth(incident: Incident) -> None:
    phases = incident.truth["phases"]
    assert [p["name"] for p in phases] == ["baseline", "onset", "outage", "recovery"]
    assert phases[0]["start"] == incident.truth["span"]["start"]
    assert phases[-1]["end"] == incident.truth["span"]["end"]
    for before, after in itertools.pairwise(phases):
        assert before["end"] == after["start"]
    for phase in phases:
        inside = incident.in_phase(phase["name"])
        assert len(inside) == phase["mentions"], phase["name"]
        start, end = incident.at(phase["start"]), incident.at(phase["end"])
        series = per_minute(inside, start, int((end - start).total_seconds() // 60))
        assert max(series) == phase["per_minute"]["max"]
        assert statistics.median(series) == phase["per_minute"]["median"]
        ids = {m.id for m in inside}
        assert len(ids & incident.reports()) == phase["reports"]
    assert sum(p["mentions"] for p in phases) == len(incident.mentions)


def test_labels_cover_every_line_once(incident: Incident) -> None:
    labelled = [i for ids in incident.truth["labels"].values() for i in ids]
    assert sorted(labelled) == sorted(m.id for m in incident.mentions)


def test_baseline_is_calm_and_mostly_not_negative(incident: Incident) -> None:
    claims = incident.truth["claims"]
    baseline = incident.in_phase("baseline")
    start = incident.at(incident.phase("baseline")["start"])
    series = per_minute(baseline, start, 45)
    assert 5 <= statistics.median(series) <= 15
    assert max(series) <= claims["baseline_max_per_minute"]
    assert negative_share(baseline) <= claims["baseline_max_negative_share"]
    assert not any(m.is_official for m in baseline)
    assert not {m.id for m in baseline} & incident.reports()


def test_onset_grows_into_a_dense_outage(incident: Incident) -> None:
    claims = incident.truth["claims"]
    onset = incident.at(incident.truth["onset"])
    first_report = incident.at(incident.truth["first_report"])
    assert onset <= first_report < onset + timedelta(minutes=1)
    reports = incident.reports()
    assert incident.labelled("report", "same_here", "copypasta", "residual") <= reports
    assert len(reports) == incident.truth["reports"]["count"]
    assert all(m.created_at >= onset for m in incident.mentions if m.id in reports)
    outage_ids = {m.id for m in incident.in_phase("outage")}
    assert len(outage_ids & reports) >= 0.5 * len(outage_ids)
    window = claims["onset_peak_within_minutes"]
    early = per_minute(
        incident.between(incident.truth["onset"], "9999-01-01T00:00:00Z"), onset, window
    )
    assert early[0] <= 20 and max(early) >= 60  # scattered first, then a burst

    outage = incident.in_phase("outage")
    series = per_minute(outage, incident.at(incident.phase("outage")["start"]), 40)
    assert statistics.median(series) >= claims["outage_min_median_per_minute"]
    assert negative_share(outage) >= claims["outage_min_negative_share"]
    assert negative_share(outage) > 3 * negative_share(incident.in_phase("baseline"))
    peak = incident.truth["peak"]
    assert (
        incident.phase("outage")["start"]
        <= peak["minute_start"]
        < (incident.phase("outage")["end"])
    )
    assert 60 <= peak["mentions"] <= 120


def test_reports_carry_the_specifics_responders_need(incident: Incident) -> None:
    reports = [m for m in incident.mentions if m.id in incident.labelled("report")]
    text = "\n".join(m.text for m in reports)
    for symptom in ("log in", "Acme Pay", "crash", "website", "API"):
        assert symptom.lower() in text.lower(), symptom
    for platform in ("iOS", "Android", "web", "desktop"):
        assert platform.lower() in text.lower(), platform
    for place in (
        "Berlin",
        "London",
        "Madrid",
        "Paris",
        "Amsterdam",
        "New York",
        "Toronto",
        "Sydney",
        "Texas",
        "Bavaria",
    ):
        assert place in text, place
    for code in ("AUTH-401", "E-4012", "error 503"):
        assert code in text, code
    everything = "\n".join(m.text for m in incident.mentions)
    for cue in ("#acmedown", "@acmestatus", "any update?", "🙃", "😂"):
        assert cue in everything, cue


def test_official_updates_are_present_marked_and_in_order(incident: Incident) -> None:
    by_id = {m.id: m for m in incident.mentions}
    updates = incident.truth["official_updates"]
    for update in updates:
        mention = by_id[update["id"]]
        assert mention.is_official
        assert mention.text == update["text"]
        assert mention.created_at == incident.at(update["created_at"])
        assert mention.kind == ("status_update" if mention.source == "statuspage" else "post")
    official = [m for m in incident.mentions if m.is_official]
    assert [m.id for m in official] == [u["id"] for u in updates]
    status_page = [u for u in updates if u["source"] == "statuspage"]
    assert [u["status"] for u in status_page] == [
        "investigating",
        "identified",
        "monitoring",
        "resolved",
    ]
    assert {u["source"] for u in updates} == {"statuspage", "mastodon", "bluesky"}
    # Only the official accounts are official, and they post nothing else.
    official_authors = {m.author for m in official}
    assert len(official_authors) == 3
    assert all(m.is_official for m in incident.mentions if m.author in official_authors)
    for m in official:
        if m.source == "statuspage":
            assert str(m.metadata["status"]) in m.text.lower()
            assert m.engagement.likes is None


def test_acknowledgement_then_a_silence_gap_while_questions_rise(incident: Incident) -> None:
    truth = incident.truth
    onset, ack = incident.at(truth["onset"]), incident.at(truth["acknowledged_at"])
    assert timedelta(minutes=12) <= ack - onset <= timedelta(minutes=15)
    assert truth["ack_delay_minutes"] == round((ack - onset).total_seconds() / 60, 2)
    gap = truth["silence_gap"]
    start, end = incident.at(gap["start"]), incident.at(gap["end"])
    assert timedelta(minutes=20) <= end - start <= timedelta(minutes=30)
    assert gap["minutes"] == round((end - start).total_seconds() / 60, 2)
    inside = [m for m in incident.mentions if start < m.created_at < end]
    assert not any(m.is_official for m in inside)
    questions = incident.labelled("question")
    minutes = int((end - start).total_seconds() // 60)
    asked = per_minute([m for m in inside if m.id in questions], start, minutes)
    half = minutes // 2
    assert sum(asked[half:]) > sum(asked[:half])  # questions pile up as the silence goes on


def test_replies_to_official_posts_are_more_negative(incident: Incident) -> None:
    by_id = {m.id: m for m in incident.mentions}
    replies = [m for m in incident.mentions if m.in_reply_to and by_id[m.in_reply_to].is_official]
    assert len(replies) >= 60
    assert all(m.kind == "reply" and not m.is_official for m in replies)
    assert {m.id for m in replies} == incident.labelled("official_reply")
    ack = incident.at(incident.truth["acknowledged_at"])
    others = [
        m
        for m in incident.mentions
        if m.created_at >= ack and not m.is_official and m.in_reply_to is None
    ]
    assert incident.truth["claims"]["official_replies_more_negative_than_others"]
    assert negative_share(replies) > negative_share(others)


def test_replies_comments_and_reposts_point_to_earlier_mentions(incident: Incident) -> None:
    by_id = {m.id: m for m in incident.mentions}
    reposts = 0
    for m in incident.mentions:
        if m.kind in ("reply", "comment"):
            assert m.in_reply_to is not None, m.id
            parent = by_id[m.in_reply_to]
            assert parent.source == m.source and parent.created_at <= m.created_at
            assert (parent.engagement.replies or 0) >= 1
        else:
            assert m.in_reply_to is None
        if m.kind == "repost":
            reposts += 1
            if m.source == "mastodon":
                parent = by_id[str(m.metadata["reblog_of"])]
            else:
                parent = by_id[f"bluesky:{m.metadata['subject']}"]
            assert parent.text == m.text and parent.created_at < m.created_at
            assert parent.kind == "post" and (parent.engagement.reposts or 0) >= 1
    assert reposts >= 50


def test_copypasta_flood_is_near_identical(incident: Incident) -> None:
    copypasta = incident.truth["copypasta"]
    ids = incident.labelled("copypasta")
    flood = [m for m in incident.mentions if m.id in ids]
    assert len(flood) == copypasta["count"] >= 30
    assert len({m.author for m in flood}) >= 0.7 * len(flood)
    head = copypasta["template"].split(".")[0][:10]  # "ACME IS DO"
    assert all(m.text.startswith(head) and "can't pay" in m.text for m in flood)
    assert len({m.text for m in flood}) > 5  # copies, but not all byte-identical
    span = max(m.created_at for m in flood) - min(m.created_at for m in flood)
    assert span <= timedelta(minutes=10)


def test_recovery_declines_to_baseline_with_praise_and_leftovers(incident: Incident) -> None:
    recovery = incident.in_phase("recovery")
    start = incident.at(incident.phase("recovery")["start"])
    series = per_minute(recovery, start, 25)
    assert statistics.fmean(series[-5:]) <= 20 < max(series[:5])
    ids = {m.id for m in recovery}
    for label in ("recovered", "residual", "refund", "postmortem"):
        assert ids & incident.labelled(label), label
    assert negative_share(recovery) < negative_share(incident.in_phase("outage"))


def test_generator_rewrites_the_files_byte_for_byte(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / "generate_incident.py"), "--out-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert (tmp_path / JSONL.name).read_bytes() == JSONL.read_bytes()
    assert (tmp_path / TRUTH.name).read_bytes() == TRUTH.read_bytes()
