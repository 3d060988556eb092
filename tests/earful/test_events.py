from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earful.errors import SchemaError
from earful.events import (
    MAX_RECORD_BYTES,
    MAX_TEXT_CHARS,
    Mention,
    ScoredMention,
    SentimentScore,
    VaderScores,
    decode,
    encode,
    make_mention_id,
)


def mention(**kw: object) -> Mention:
    base: dict[str, object] = {
        "id": "mastodon:1",
        "source": "mastodon",
        "native_id": "1",
        "author": "u-1",
        "text": "is acme down?",
        "created_at": datetime(2026, 11, 20, 10, 0, tzinfo=UTC),
        "ingested_at": datetime(2026, 11, 20, 10, 0, 2, tzinfo=UTC),
        "subjects": ("acme",),
    }
    base.update(kw)
    return Mention.model_validate(base)


def test_mention_round_trip_is_lossless() -> None:
    m = mention(engagement={"likes": 3}, metadata={"instance": "mastodon.social"})
    assert decode(Mention, encode(m)) == m


def test_scored_mention_round_trip_keeps_nested_scores() -> None:
    vader = VaderScores(neg=0.5, neu=0.5, pos=0.0, compound=-0.4)
    s = ScoredMention(
        subject="acme",
        mention=mention(),
        lang="en",
        sentiment=SentimentScore(label="negative", compound=-0.6, vader=vader),
        scored_at=datetime(2026, 11, 20, 10, 0, 3, tzinfo=UTC),
        model="test",
    )
    back = decode(ScoredMention, encode(s))
    assert back == s
    assert back.sentiment is not None and back.sentiment.vader.compound == -0.4


def test_timestamps_are_normalised_to_utc_and_written_with_z() -> None:
    cet = timezone(timedelta(hours=1))
    m = mention(created_at=datetime(2026, 11, 20, 11, 0, tzinfo=cet))
    assert m.created_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert m.created_at.utcoffset() == timedelta(0)
    assert json.loads(encode(m))["created_at"] == "2026-11-20T10:00:00Z"


@given(
    moment=st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 (hypothesis bounds are naive; room for any offset)
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.sampled_from(
            [UTC, timezone(timedelta(0)), timezone(timedelta(hours=5, minutes=30)),
             timezone(timedelta(hours=-8))]
        ),
    )
)  # fmt: skip
def test_timestamps_are_written_as_utc_isoformat_with_z(moment: datetime) -> None:
    # The canonical form (written by pydantic-core, not a Python serializer):
    # isoformat in UTC with +00:00 as Z, microseconds only when present.
    expected = moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
    m = mention(created_at=moment)
    assert json.loads(encode(m))["created_at"] == expected
    scored = ScoredMention(subject="acme", mention=m, scored_at=moment, model="test")
    assert json.loads(encode(scored))["scored_at"] == expected
    assert decode(Mention, encode(m)).created_at == moment


def test_naive_timestamp_is_rejected() -> None:
    raw = json.loads(encode(mention()))
    raw["created_at"] = "2026-11-20T10:00:00"
    with pytest.raises(SchemaError) as info:
        decode(Mention, json.dumps(raw).encode())
    assert info.value.reason == "invalid"
    assert "created_at" in str(info.value)


def test_unknown_fields_are_ignored_for_forward_compatibility() -> None:
    raw = json.loads(encode(mention()))
    raw["added_in_a_later_minor"] = {"x": 1}
    assert decode(Mention, json.dumps(raw).encode()) == mention()


@pytest.mark.parametrize(
    ("raw", "reason", "words"),
    [
        (b"not json", "not_json", "not JSON"),
        (b"\xff\xfe{}", "not_utf8", "UTF-8"),
        (b"[1, 2]", "not_object", "expected an object"),
        (b'{"schema_version": 2}', "schema_version", "schema_version 2"),
        (b'{"id": "x"}', "schema_version", "schema_version None"),
        (b'{"schema_version": 1, "id": "x:1"}', "invalid", "source"),
        (None, "empty", "empty"),
    ],
)
def test_malformed_records_get_a_clear_reason(raw: bytes | None, reason: str, words: str) -> None:
    with pytest.raises(SchemaError) as info:
        decode(Mention, raw)
    assert info.value.reason == reason
    assert words in str(info.value)


def test_oversized_record_is_rejected_before_parsing() -> None:
    raw = b'{"schema_version": 1, "text": "' + b"a" * MAX_RECORD_BYTES + b'"}'
    with pytest.raises(SchemaError) as info:
        decode(Mention, raw)
    assert info.value.reason == "too_large"


def test_text_over_the_limit_is_invalid() -> None:
    with pytest.raises(ValueError, match="at most"):
        mention(text="a" * (MAX_TEXT_CHARS + 1))


def test_unknown_source_is_invalid() -> None:
    raw = json.loads(encode(mention()))
    raw["source"] = "myspace"
    with pytest.raises(SchemaError) as info:
        decode(Mention, json.dumps(raw).encode())
    assert "source" in str(info.value)


def test_mention_needs_at_least_one_subject() -> None:
    with pytest.raises(ValueError, match="subjects"):
        mention(subjects=())


def test_records_are_immutable() -> None:
    m = mention()
    with pytest.raises(ValueError, match="frozen"):
        m.text = "changed"


def test_mention_id_is_stable_and_bounded() -> None:
    assert make_mention_id("bluesky", "3kq2x") == "bluesky:3kq2x"
    long = "at://did:plc:" + "x" * 400
    first, second = make_mention_id("bluesky", long), make_mention_id("bluesky", long)
    assert first == second and len(first) < 64 and first.startswith("bluesky:h:")
