"""The admission step: Post -> Mention for connectors and push; recorded mentions for replay."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from earful.errors import SchemaError
from earful.events import MAX_SUBJECTS, MAX_TEXT_CHARS, Mention
from earful.ingest.admission import (
    MAX_LANG_CHARS,
    MAX_URL_CHARS,
    Admission,
    DedupScreen,
    admit_recorded,
    fit_contract,
)
from earful.ingest.base import Post
from earful.ingest.dedup import FloodDetector, SeenIds
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.rules import SubjectRule, TrackingConfig, TrackingRules
from tests.ingest.acme_rules import RULES

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 25, 10, 5, tzinfo=UTC)
PRIVACY = Pseudonymiser(b"admission-test-key-0123")
ADMISSION = Admission(connector="test", rules=RULES, privacy=PRIVACY)


def post(native_id: str = "1", text: str = "is acme down?", **kw: Any) -> Post:
    values: dict[str, Any] = {
        "source": "mastodon",
        "native_id": native_id,
        "text": text,
        "created_at": T0,
        "author_handle": f"user{native_id}",
    }
    return Post(**{**values, **kw})


# -- Post -> Mention ------------------------------------------------------------------


def test_rules_decide_the_subjects_from_text_hashtags_and_reply_to() -> None:
    assert ADMISSION.admit(post(text="lovely weather"), NOW) is None
    by_tag = ADMISSION.admit(post(text="down again", hashtags=("#AcmeDown",)), NOW)
    assert by_tag is not None and by_tag.subjects == ("acme",)
    by_reply = ADMISSION.admit(post(text="any news?", reply_to_handle="@AcmeStatus"), NOW)
    assert by_reply is not None and by_reply.subjects == ("acme",)
    assert not by_reply.is_official  # replying to the official account is not being it


def test_author_is_pseudonymised_and_ids_are_mention_ids() -> None:
    mention = ADMISSION.admit(post("7", in_reply_to="3", repost_of="2"), NOW)
    assert mention is not None
    assert mention.id == "mastodon:7" and mention.ingested_at == NOW
    assert mention.author == PRIVACY.pseudonym("mastodon", "user7")
    assert mention.author_handle is None
    assert mention.in_reply_to == "mastodon:3"
    assert mention.kind == "repost" and mention.metadata["repost_of"] == "mastodon:2"
    assert mention.metadata["connector"] == "test"


def test_an_official_account_is_marked_with_the_account_name() -> None:
    mention = ADMISSION.admit(post(text="we are investigating", author_handle="AcmeStatus"), NOW)
    assert mention is not None
    assert mention.subjects == ("acme",) and mention.is_official
    assert mention.metadata["official_account"] == "acmestatus"


def test_given_subjects_are_kept_and_official_only_for_the_accounts_own_subject() -> None:
    kept = ADMISSION.admit(post(text="no brand"), NOW, subjects=("acme-pay", "elsewhere"))
    assert kept is not None and kept.subjects == ("acme-pay", "elsewhere")
    own = ADMISSION.admit(post(text="fixed", author_handle="acmestatus"), NOW, subjects=("acme",))
    assert own is not None and own.is_official
    assert own.metadata["official_account"] == "acmestatus"
    other = ADMISSION.admit(
        post(text="fixed", author_handle="acmestatus"), NOW, subjects=("acme-pay",)
    )
    assert other is not None and not other.is_official
    assert "official_account" not in other.metadata


def test_contract_caps_cut_text_drop_long_urls_and_cut_language_tags() -> None:
    long_text = "acme " + "x" * MAX_TEXT_CHARS
    mention = ADMISSION.admit(
        post(text=long_text, url="https://a.example/" + "y" * MAX_URL_CHARS, lang="en-" + "x" * 30),
        NOW,
    )
    assert mention is not None
    assert mention.text == long_text[:MAX_TEXT_CHARS] and mention.metadata["truncated"] is True
    assert mention.url is None
    assert mention.lang is not None and len(mention.lang) == 16
    short = ADMISSION.admit(post(url="https://a.example/1", lang=""), NOW)
    assert short is not None and short.url == "https://a.example/1" and short.lang is None
    assert "truncated" not in short.metadata


def test_a_post_naming_more_subjects_than_the_contract_allows_keeps_the_first() -> None:
    names = [f"brand-{i:03d}" for i in range(MAX_SUBJECTS + 6)]
    rules = TrackingRules(
        TrackingConfig(subjects=tuple(SubjectRule(name=n, terms=(n,)) for n in names))
    )
    admission = Admission(connector="test", rules=rules, privacy=PRIVACY)
    mention = admission.admit(post("1", text=" ".join(names)), NOW)
    assert mention is not None
    assert mention.subjects == tuple(names[:MAX_SUBJECTS])
    assert mention.metadata["subjects_truncated"] is True


def test_a_post_that_cannot_be_a_mention_raises() -> None:
    naive = datetime(2026, 11, 25, 10, 0)  # noqa: DTZ001 - the bug under test
    with pytest.raises(ValueError, match="created_at"):
        ADMISSION.admit(post(created_at=naive), NOW)


# -- recorded mentions (replay) ---------------------------------------------------------


def recorded(**kw: Any) -> dict[str, Any]:
    return {
        "native_id": "r1",
        "source": "bluesky",
        "author": "u_recorded",
        "text": "nothing a rule would match",
        "created_at": "2026-11-25T10:00:00Z",
        "subjects": ["not-in-any-rules"],
        **kw,
    }


def test_recorded_mentions_skip_rules_and_pseudonymising() -> None:
    mention = admit_recorded(recorded(is_official=True), ingested_at=NOW)
    assert mention.id == "bluesky:r1"
    assert mention.subjects == ("not-in-any-rules",)  # as recorded, no rules applied
    assert mention.author == "u_recorded"  # a pseudonym already: not hashed again
    assert mention.is_official and mention.ingested_at == NOW
    assert "connector" not in mention.metadata


def test_recorded_mentions_get_the_contract_caps_instead_of_being_refused() -> None:
    long_text = "z" * (MAX_TEXT_CHARS + 10)
    mention = admit_recorded(
        recorded(text=long_text, url="https://" + "u" * MAX_URL_CHARS, metadata={"k": "v"}),
        ingested_at=NOW,
    )
    assert len(mention.text) == MAX_TEXT_CHARS
    assert mention.metadata == {"k": "v", "truncated": True}
    assert mention.url is None
    with pytest.raises(SchemaError, match="subjects"):
        admit_recorded(recorded(subjects=[]), ingested_at=NOW)


def test_fit_contract_leaves_wrong_types_for_validation() -> None:
    fields: dict[str, Any] = {"text": 5, "url": ["x"], "lang": None, "metadata": "odd"}
    fit_contract(fields, origin="test")
    assert fields == {"text": 5, "url": ["x"], "lang": None, "metadata": "odd"}


# -- dedup and flood flags ------------------------------------------------------------


def test_screen_drops_repeats_and_remembers_only_when_told() -> None:
    screen = DedupScreen(SeenIds(100), FloodDetector(threshold=3, window_s=600, min_words=6))
    first = [ADMISSION.admit(post(i), NOW) for i in ("1", "1", "2")]
    screened = screen.screen([m for m in first if m is not None], NOW)
    assert [m.id for m in screened.fresh] == ["mastodon:1", "mastodon:2"]
    assert screened.duplicates == 1
    again = screen.screen([m for m in first if m is not None], NOW)
    assert again.duplicates == 1  # nothing remembered yet: a failed write is tried again
    screen.remember(screened)
    assert screen.screen([m for m in first if m is not None], NOW).fresh == []


def test_screen_flags_flood_copies_without_dropping_them() -> None:
    spam = "Acme gives free credits to everyone who clicks this link today"
    screen = DedupScreen(SeenIds(100), FloodDetector(threshold=3, window_s=600, min_words=6))
    mentions = [ADMISSION.admit(post(str(i), f"{spam} {i}"), NOW) for i in range(4)]
    screened = screen.screen([m for m in mentions if m is not None], NOW)
    assert [m.metadata.get("copies") for m in screened.fresh] == [None, None, 3, 4]
    assert screened.flooded == 2


def test_copies_count_once_they_are_produced_so_a_retried_write_does_not_inflate_them() -> None:
    spam = "Acme gives free credits to everyone who clicks this link today"
    screen = DedupScreen(SeenIds(100), FloodDetector(threshold=3, window_s=600, min_words=6))
    first = [ADMISSION.admit(post(str(i), f"{spam} {i}"), NOW) for i in range(2)]
    batch = [m for m in first if m is not None]
    for _ in range(3):  # Kafka refused the write three times: nothing is counted
        assert screen.screen(batch, NOW).flooded == 0
    screen.remember(screen.screen(batch, NOW))
    later = ADMISSION.admit(post("9", f"{spam} 9"), NOW)
    assert later is not None
    (third,) = screen.screen([later], NOW).fresh
    assert third.metadata["copies"] == 3  # two produced before it, not eight


def test_the_caps_are_the_contracts_own_bounds() -> None:
    def max_length(field: str) -> int | None:
        bounds = [
            m.max_length for m in Mention.model_fields[field].metadata if hasattr(m, "max_length")
        ]
        return bounds[0] if bounds else None

    assert max_length("url") == MAX_URL_CHARS
    assert max_length("lang") == MAX_LANG_CHARS
    assert max_length("text") == MAX_TEXT_CHARS
