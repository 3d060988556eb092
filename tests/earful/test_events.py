from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earful.errors import SchemaError
from earful.events import (
    DECODE_REASONS,
    MAX_DEPTH,
    MAX_RECORD_BYTES,
    MAX_SUBJECT_CHARS,
    MAX_SUBJECTS,
    MAX_TEXT_CHARS,
    Alert,
    Evidence,
    Mention,
    OfficialUpdate,
    OutageAnalysis,
    ReactionStats,
    SampleMention,
    ScoredMention,
    SentimentScore,
    Signal,
    TermCount,
    UpdateReaction,
    VaderScores,
    WindowStats,
    _Versioned,
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
            [
                UTC,
                timezone(timedelta(0)),
                timezone(timedelta(hours=5, minutes=30)),
                timezone(timedelta(hours=-8)),
            ]
        ),
    )
)
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
        (b'{"id": "x"}', "schema_version", "schema_version missing"),
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


# -- the strict reader: what the contract does not allow, each with its reason --------

T = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _reject(model: type[_Versioned], raw: bytes) -> SchemaError:
    with pytest.raises(SchemaError) as info:
        decode(model, raw)
    return info.value


def _mention_json(**changes: object) -> dict[str, object]:
    obj: dict[str, object] = json.loads(encode(mention()))
    obj.update(changes)
    return obj


def _nested_arrays(levels: int) -> str:
    return "[" * levels + "]" * levels


@pytest.mark.parametrize("where", ["unknown field", "metadata value", "whole record"])
def test_json_nested_deeper_than_the_bound_is_too_deep_not_a_recursion_error(where: str) -> None:
    deep = _nested_arrays(3000)
    record = encode(mention())
    raw = {
        "unknown field": record[:-1] + b',"later":' + deep.encode() + b"}",
        "metadata value": record.replace(b'"metadata":{}', b'"metadata":{"a":%b}' % deep.encode()),
        "whole record": deep.encode(),
    }[where]
    error = _reject(Mention, raw)
    assert error.reason == "too_deep"
    assert str(MAX_DEPTH) in str(error)


def test_the_depth_bound_is_exact() -> None:
    # The record is level 1: an unknown field may nest MAX_DEPTH - 1 more levels.
    at_bound = encode(mention())[:-1] + b',"later":' + _nested_arrays(MAX_DEPTH - 1).encode() + b"}"
    assert decode(Mention, at_bound) == mention()
    over = encode(mention())[:-1] + b',"later":' + _nested_arrays(MAX_DEPTH).encode() + b"}"
    assert _reject(Mention, over).reason == "too_deep"


@pytest.mark.parametrize("where", ["engagement.likes", "unknown field"])
def test_a_5000_digit_integer_gets_a_named_reason(where: str) -> None:
    digits = b"9" * 5000
    if where == "engagement.likes":
        raw = encode(mention()).replace(b'"likes":null', b'"likes":' + digits)
    else:
        raw = encode(mention())[:-1] + b',"later":' + digits + b"}"
    error = _reject(Mention, raw)
    assert error.reason == "too_many_digits"


@pytest.mark.parametrize(
    "subjects",
    [[""], ["a" * (MAX_SUBJECT_CHARS + 1)], [f"s{i}" for i in range(MAX_SUBJECTS + 1)], []],
    ids=["empty", "too long", "too many", "none"],
)
def test_subjects_are_checked_where_the_mention_is_read(subjects: list[str]) -> None:
    error = _reject(Mention, json.dumps(_mention_json(subjects=subjects)).encode())
    assert error.reason == "invalid"
    assert "subjects" in str(error)


def test_subjects_at_the_bounds_are_accepted() -> None:
    longest = "a" * MAX_SUBJECT_CHARS
    most = [longest] + [f"s{i}" for i in range(MAX_SUBJECTS - 1)]
    assert decode(Mention, json.dumps(_mention_json(subjects=most)).encode()).subjects[0] == longest


@pytest.mark.parametrize(
    ("version", "shown"),
    [(True, "True"), (1.0, "1.0"), ("1", "'1'"), (None, "None"), (2, "2"), (0, "0")],
)
def test_schema_version_must_be_the_integer_this_reader_knows(version: object, shown: str) -> None:
    error = _reject(Mention, json.dumps(_mention_json(schema_version=version)).encode())
    assert error.reason == "schema_version"
    assert f"schema_version {shown} " in str(error)


def test_a_missing_schema_version_is_rejected_even_when_the_rest_is_valid() -> None:
    obj = _mention_json()
    del obj["schema_version"]
    error = _reject(Mention, json.dumps(obj).encode())
    assert error.reason == "schema_version"
    assert "missing" in str(error)


def test_a_nested_record_needs_its_schema_version_too() -> None:
    scored = json.loads(
        encode(ScoredMention(subject="acme", mention=mention(), scored_at=T, model="m"))
    )
    del scored["mention"]["schema_version"]
    assert _reject(ScoredMention, json.dumps(scored).encode()).reason == "schema_version"


@pytest.mark.parametrize(
    "value",
    [
        1763632800,
        1763632800.5,
        "1763632800",
        "2026-11-20T10:00Z",
        "2026-11-20",
        "2026-11-20T10:00:00",
        "20261120T100000Z",
        "2026-W47-5T10:00:00Z",
        "2026-11-20T10:00:60Z",
        True,
        None,
    ],
)
def test_timestamps_must_be_rfc3339_strings(value: object) -> None:
    error = _reject(Mention, json.dumps(_mention_json(created_at=value)).encode())
    assert error.reason == "invalid"
    assert "created_at" in str(error)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-20T11:00:00+01:00", T),
        ("2026-11-20t10:00:00z", T),
        ("2026-11-20T10:00:00.123456789Z", T.replace(microsecond=123456)),
        ("2026-11-20T10:00:00.5Z", T.replace(microsecond=500000)),
    ],
)
def test_every_rfc3339_form_is_read_and_normalised_to_utc(text: str, expected: datetime) -> None:
    got = decode(Mention, json.dumps(_mention_json(created_at=text)).encode()).created_at
    assert got == expected and got.utcoffset() == timedelta(0)


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("is_official", "yes"),
        ("is_official", 1),
        ("is_official", "true"),
        ("is_official", None),
        ("engagement", {"likes": 3.0}),
        ("engagement", {"likes": "3"}),
        ("engagement", {"likes": True}),
        ("kind", 1),
        ("text", 5),
        ("subjects", "acme"),
    ],
)
def test_no_coercion_booleans_are_booleans_and_integers_integers(field: str, value: object) -> None:
    error = _reject(Mention, json.dumps(_mention_json(**{field: value})).encode())
    assert error.reason == "invalid"
    assert field in str(error)


@pytest.mark.parametrize(
    "raw",
    [
        encode(mention())[:-1] + b',"text":"something else"}',
        encode(mention())[:-1] + b',"schema_version":1}',  # the same value twice is still two
        encode(mention()).replace(b'"likes":null', b'"likes":null,"likes":5'),
        encode(mention(metadata={"a": "x"})).replace(b'"a":"x"', b'"a":"x","a":"y"'),
        encode(mention())[:-1] + b',"te\\u0078t":"escaped, still text"}',
        # whitespace before the colon: the case the cheap proof cannot clear alone
        encode(mention())[:-1] + b',"text" : "spaced"}',
        encode(mention())[:-1] + b',"unknown":1,"unknown":2}',
    ],
    ids=["top", "same value", "nested", "metadata", "escaped key", "spaced", "unknown key"],
)
def test_a_repeated_key_is_rejected(raw: bytes) -> None:
    error = _reject(Mention, raw)
    assert error.reason == "duplicate_key"


def test_a_quote_colon_inside_a_text_is_not_taken_for_a_key() -> None:
    m = mention(text='the status page says "status": "ok", it is not: ":-("')
    assert decode(Mention, encode(m)) == m


@st.composite
def _json_layouts(draw: st.DrawFn) -> tuple[dict[str, object], bytes]:
    """An encoded mention re-written with arbitrary JSON whitespace."""
    m = mention(
        text=draw(st.text(max_size=40)),
        metadata=draw(
            st.dictionaries(st.text(max_size=8), st.integers() | st.text(max_size=8), max_size=3)
        ),
    )
    obj = json.loads(encode(m))
    sep = draw(st.sampled_from([" ", "\n", "\t", "  ", "\r\n"]))
    indent = draw(st.none() | st.integers(0, 3))
    key_sep = draw(st.sampled_from([":", " :", ": ", "\t:\n"]))
    raw = json.dumps(
        obj, indent=indent, separators=("," + sep, key_sep), ensure_ascii=draw(st.booleans())
    )
    return obj, raw.encode()


@given(_json_layouts())
def test_any_json_layout_of_a_valid_record_is_read(layout: tuple[dict[str, object], bytes]) -> None:
    obj, raw = layout
    assert decode(Mention, raw) == Mention.model_validate(obj)


def _dumps_repeating(value: object, target: int, counter: list[int]) -> str:
    """JSON of ``value``, the first key of its ``target``-th object (walk order) written twice."""
    if isinstance(value, dict):
        index = counter[0]
        counter[0] += 1
        items = [
            f"{json.dumps(k)}:{_dumps_repeating(v, target, counter)}" for k, v in value.items()
        ]
        if index == target and items:
            items.append(items[0])
        return "{" + ",".join(items) + "}"
    if isinstance(value, list):
        return "[" + ",".join(_dumps_repeating(v, target, counter) for v in value) + "]"
    return json.dumps(value)


@given(target=st.integers(0, 6), spaced=st.booleans())
def test_a_key_repeated_in_any_object_of_a_scored_mention_is_rejected(
    target: int, spaced: bool
) -> None:
    vader = VaderScores(neg=0.5, neu=0.5, pos=0.0, compound=-0.4)
    scored = ScoredMention(
        subject="acme",
        mention=mention(engagement={"likes": 2}, metadata={"k": "v"}),
        sentiment=SentimentScore(label="negative", compound=-0.6, vader=vader),
        outage=OutageAnalysis(is_report=True, confidence=0.9),
        scored_at=T,
        model="m",
    )
    obj = json.loads(encode(scored))
    text = _dumps_repeating(obj, target, [0])
    if spaced:
        text = text.replace('":', '" :')
    assert _reject(ScoredMention, text.encode()).reason == "duplicate_key"


@given(
    st.binary(max_size=300)
    | st.builds(
        lambda cut, junk: encode(mention())[:cut] + junk,
        st.integers(0, 400),
        st.binary(max_size=20),
    )
)
def test_any_bytes_give_a_record_or_a_schema_error_never_a_bug(raw: bytes) -> None:
    try:
        decode(Mention, raw)
    except SchemaError as exc:
        assert exc.reason in DECODE_REASONS


# -- the same strictness for every event type the pipeline reads ----------------------


def _samples() -> list[_Versioned]:
    terms = (TermCount(term="login", count=3),)
    evidence = Evidence(
        samples=(SampleMention(id="x:1", source="x", created_at=T, text="down"),),
        top_symptoms=terms,
        trend=(1.0, 2.0),
    )
    stats = ReactionStats(
        span_start=T,
        span_end=T + timedelta(minutes=10),
        mentions=4,
        per_minute=0.4,
        outage_reports_per_minute=0.1,
    )
    return [
        mention(),
        ScoredMention(subject="acme", mention=mention(), scored_at=T, model="m"),
        WindowStats(
            subject="acme",
            window_start=T,
            window_end=T + timedelta(minutes=1),
            mentions=3,
            unique_authors=2,
            negative=1,
            negative_share=1 / 3,
            outage_reports=1,
            top_terms=terms,
        ),
        Signal(
            id="s1",
            subject="acme",
            kind="outage_burst",
            state="open",
            severity="critical",
            detector="d/1",
            opened_at=T,
            updated_at=T,
            window_start=T,
            window_end=T,
            observed=9.0,
            expected=1.0,
            score=0.9,
            evidence=evidence,
        ),
        Alert(
            dedup_key="k",
            status="firing",
            subject="acme",
            kind="outage_burst",
            severity="critical",
            summary="acme down",
            starts_at=T,
            created_at=T,
            evidence=evidence,
        ),
        OfficialUpdate(
            id="statuspage:1",
            subject="acme",
            source="statuspage",
            kind="status_update",
            author="acme",
            text="investigating",
            created_at=T,
        ),
        UpdateReaction(
            update_id="statuspage:1",
            subject="acme",
            update_at=T,
            span_minutes=10,
            audience="all",
            before=stats,
            after=stats,
            complete=True,
            computed_at=T,
        ),
    ]


_TIMESTAMP = {
    "Mention": "created_at",
    "ScoredMention": "scored_at",
    "WindowStats": "window_start",
    "Signal": "opened_at",
    "Alert": "starts_at",
    "OfficialUpdate": "created_at",
    "UpdateReaction": "computed_at",
}
_LENIENT: list[tuple[str, object, str]] = [
    ("schema_version", True, "schema_version"),
    ("schema_version", 1.0, "schema_version"),
    ("subject", "", "invalid"),
    ("subject", "a" * (MAX_SUBJECT_CHARS + 1), "invalid"),
    ("<timestamp>", 1763632800, "invalid"),
    ("<timestamp>", "1763632800", "invalid"),
]


@pytest.mark.parametrize("record", _samples(), ids=lambda r: type(r).__name__)
def test_every_event_type_is_read_strictly(record: _Versioned) -> None:
    model = type(record)
    raw = encode(record)
    assert decode(model, raw) == record
    checked = 0
    for field, value, reason in _LENIENT:
        field = _TIMESTAMP[model.__name__] if field == "<timestamp>" else field
        obj = json.loads(raw)
        if field not in obj:
            continue
        obj[field] = value
        assert _reject(model, json.dumps(obj).encode()).reason == reason, (field, value)
        checked += 1
    assert checked >= 4
    obj = json.loads(raw)
    del obj["schema_version"]
    assert _reject(model, json.dumps(obj).encode()).reason == "schema_version"
    first = next(iter(json.loads(raw)))
    assert _reject(model, raw[:-1] + b',"%b":null}' % first.encode()).reason == "duplicate_key"


@pytest.mark.parametrize(
    ("path", "value"),
    [(("outage", "is_report"), "yes"), (("sentiment", "vader", "neg"), "0.5")],
)
def test_nested_fields_are_strict_too(path: tuple[str, ...], value: object) -> None:
    vader = VaderScores(neg=0.5, neu=0.5, pos=0.0, compound=-0.4)
    scored = ScoredMention(
        subject="acme",
        mention=mention(),
        sentiment=SentimentScore(label="negative", compound=-0.6, vader=vader),
        outage=OutageAnalysis(is_report=True, confidence=0.9),
        scored_at=T,
        model="m",
    )
    obj = json.loads(encode(scored))
    inner = obj
    for key in path[:-1]:
        inner = inner[key]
    inner[path[-1]] = value
    error = _reject(ScoredMention, json.dumps(obj).encode())
    assert error.reason == "invalid" and path[-1] in str(error)
