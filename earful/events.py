"""Earful's event contract, version 1: the one definition every worker imports.

Records travel through Kafka as UTF-8 JSON objects. Every record carries
``schema_version``; a reader accepts exactly the versions it knows and rejects
the rest with :class:`SchemaError`, which the worker turns into a dead letter.

Compatibility rule within a version: fields may be added (optional, with a
default); none is removed, renamed or retyped. Readers ignore unknown fields so
that an older worker keeps reading records from a newer producer. A breaking
change bumps ``SCHEMA_VERSION`` and the scored topic's name suffix.

Every timestamp is timezone-aware and normalised to UTC on the way in; naive
timestamps are rejected.

:func:`decode` reads strictly: what the contract does not allow is rejected
with a named reason (``SchemaError.reason``, listed in :data:`DECODE_REASONS`),
never coerced. Booleans must be JSON booleans, integers JSON integers,
timestamps RFC 3339 strings, ``schema_version`` the integer this reader knows;
a duplicated key, nesting deeper than :data:`MAX_DEPTH` and a number with more
digits than Python converts are refused before they can surprise a reader.

The human-readable description lives in ``docs/events.md``; the JSON Schema
files under ``schemas/`` are generated from these models
(``earful schemas write``) and checked in tests to be up to date.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any, Final, Literal, TypeVar, get_args, get_origin

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    ValidationError,
    WithJsonSchema,
)
from pydantic_core import CoreSchema, core_schema

from earful.errors import SchemaError

__all__ = [
    "DECODE_REASONS",
    "MAX_DEPTH",
    "MAX_RECORD_BYTES",
    "MAX_SUBJECTS",
    "MAX_SUBJECT_CHARS",
    "MAX_TEXT_CHARS",
    "SCHEMA_VERSION",
    "SEVERITY_RANK",
    "SOURCES",
    "Alert",
    "AlertStatus",
    "Engagement",
    "Evidence",
    "Mention",
    "MentionKind",
    "OfficialUpdate",
    "OutageAnalysis",
    "ReactionAudience",
    "ReactionStats",
    "SampleMention",
    "ScoredMention",
    "SentimentLabel",
    "SentimentScore",
    "Severity",
    "Signal",
    "SignalKind",
    "SignalState",
    "Source",
    "Subject",
    "TermCount",
    "UpdateReaction",
    "VaderScores",
    "WindowStats",
    "decode",
    "encode",
    "make_mention_id",
]

SCHEMA_VERSION: Final = 1

#: Largest record a worker accepts, in bytes of JSON. Bigger ones are dead letters.
MAX_RECORD_BYTES: Final = 256 * 1024
#: Longest mention text accepted (Reddit self-posts top out at 40,000 characters).
MAX_TEXT_CHARS: Final = 50_000
#: Deepest JSON nesting accepted (objects and arrays). The deepest record the
#: contract defines has 4 levels (Signal > evidence > samples > sample); 64
#: leaves room for fields added later and stays far below the parsers' own
#: limits (pydantic-core about 200, Python's json about 1,000 as recursion).
MAX_DEPTH: Final = 64
#: Longest subject name: the tracking file's rule (1-128 characters).
MAX_SUBJECT_CHARS: Final = 128
#: Most subjects one mention may name. The analyzer writes one scored record per
#: subject, so this bounds what one input record can make a worker write (a post
#: listing a thousand names is a list, not a report about each of them).
MAX_SUBJECTS: Final = 64

#: Every ``SchemaError.reason`` :func:`decode` gives, for dashboards and alerts.
DECODE_REASONS: Final = (
    "empty",
    "too_large",
    "too_deep",
    "not_utf8",
    "not_json",
    "too_many_digits",
    "duplicate_key",
    "not_object",
    "schema_version",
    "invalid",
)

Source = Literal[
    "mastodon",
    "bluesky",
    "reddit",
    "hackernews",
    "rss",
    "statuspage",
    "push",
    "replay",
    "x",
    "youtube",
]
SOURCES: Final[tuple[str, ...]] = Source.__args__  # type: ignore[attr-defined]

MentionKind = Literal["post", "reply", "repost", "quote", "comment", "article", "status_update"]
SentimentLabel = Literal["negative", "neutral", "positive"]
#: ``comms_silence`` is the communications signal: an outage is open, questions
#: rise, and the organisation has said nothing for too long.
SignalKind = Literal["volume_spike", "negative_surge", "outage_burst", "comms_silence"]
SignalState = Literal["open", "update", "resolved"]
Severity = Literal["info", "warning", "critical"]
#: The one order of severities: a signal or alert only ever escalates up it.
SEVERITY_RANK: Final[dict[str, int]] = {"info": 0, "warning": 1, "critical": 2}
#: Whose reaction: everyone, only replies to the official account, or everyone else.
ReactionAudience = Literal["all", "replies", "others"]
AlertStatus = Literal["firing", "resolved"]


def _to_utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: RFC 3339 date-time (section 5.6): seconds required, fraction and offset as
#: the RFC allows. pydantic alone would also take "1700000000" or "10:00Z".
_RFC3339: Final = (
    r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[Tt][0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]+)?"
    r"([Zz]|[+-][0-9]{2}:[0-9]{2})$"
)


def _parse_rfc3339(value: str) -> datetime:
    # The pattern above has already run; fromisoformat reads every form it allows.
    return datetime.fromisoformat(value.upper()).astimezone(UTC)


class _UtcTimestamp:
    """A timestamp read as an RFC 3339 string from JSON, as a datetime from Python.

    JSON input goes through a regex in pydantic-core (Rust), then one Python
    call that parses and converts to UTC: the same one call per timestamp the
    UTC conversion cost before. Python callers keep pydantic's datetime input.
    """

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        from_python = core_schema.no_info_after_validator_function(_to_utc, handler(source))
        return core_schema.json_or_python_schema(
            json_schema=core_schema.chain_schema(
                [
                    core_schema.str_schema(pattern=_RFC3339),
                    core_schema.no_info_plain_validator_function(_parse_rfc3339),
                ]
            ),
            python_schema=from_python,
        )


#: Timestamps are written in one canonical text form: RFC 3339 in UTC with a Z,
#: microseconds only when present ("2026-11-20T10:00:00Z", "...:00.120000Z").
#: That is pydantic-core's own JSON form of a UTC datetime, written in Rust
#: without a Python call per timestamp (tests/earful/test_events.py pins it
#: against ``isoformat``). The JSON Schema says only "string", as it always has.
UtcDatetime = Annotated[
    AwareDatetime,
    _UtcTimestamp,
    WithJsonSchema({"type": "string"}, mode="serialization"),
]


class _Record(BaseModel):
    """Base of every contract model: immutable, unknown fields ignored."""

    model_config = ConfigDict(frozen=True, extra="ignore", str_strip_whitespace=False)


#: A subject name as the tracking file allows it.
Subject = Annotated[str, Field(min_length=1, max_length=MAX_SUBJECT_CHARS)]


class _Versioned(_Record):
    # A strict int: JSON true and 1.0 are not the version (Literal[1] takes both).
    # Python callers leave the default; decode() also requires the key itself.
    schema_version: Annotated[
        int,
        Strict(),
        Field(ge=SCHEMA_VERSION, le=SCHEMA_VERSION),
        WithJsonSchema({"const": SCHEMA_VERSION, "type": "integer"}),
    ] = Field(
        default=SCHEMA_VERSION, description="Contract version; readers reject unknown versions."
    )


class Engagement(_Record):
    """Counts the source reported when the mention was fetched; null when unknown."""

    likes: int | None = Field(default=None, ge=0)
    reposts: int | None = Field(default=None, ge=0)
    replies: int | None = Field(default=None, ge=0)
    quotes: int | None = Field(default=None, ge=0)


MetadataValue = str | int | float | bool | None


class Mention(_Versioned):
    """One public post, comment or update that mentions a tracked subject.

    Topic ``earful.mentions.raw``, keyed by ``id``.
    """

    id: str = Field(
        min_length=3,
        max_length=512,
        description="Stable id: '<source>:<source-native id>' (see make_mention_id).",
    )
    source: Source
    native_id: str = Field(min_length=1, max_length=480, description="The source's own id.")
    url: str | None = Field(default=None, max_length=2048)
    author: str = Field(
        min_length=1,
        max_length=256,
        description="Pseudonymous author id (keyed hash) unless raw handles are configured.",
    )
    author_handle: str | None = Field(
        default=None, max_length=256, description="Raw handle; only set when configured."
    )
    text: str = Field(max_length=MAX_TEXT_CHARS)
    lang: str | None = Field(
        default=None, max_length=16, description="Language the source declared, if any."
    )
    created_at: UtcDatetime = Field(description="When the author posted it (event time).")
    ingested_at: UtcDatetime = Field(description="When Earful fetched it.")
    subjects: tuple[Subject, ...] = Field(
        min_length=1,
        max_length=MAX_SUBJECTS,
        description="Tracked subjects (brands, services) the mention matched.",
    )
    is_official: bool = Field(
        default=False, description="Posted by the organisation (official account, status page)."
    )
    kind: MentionKind = "post"
    in_reply_to: str | None = Field(
        default=None, max_length=512, description="Mention id this one replies to, if known."
    )
    engagement: Engagement = Field(default_factory=Engagement)
    metadata: dict[str, MetadataValue] = Field(
        default_factory=dict, description="Source-specific fields (instance, subreddit...)."
    )


class VaderScores(_Record):
    """Raw VADER output, kept for transparency."""

    neg: float = Field(ge=0.0, le=1.0)
    neu: float = Field(ge=0.0, le=1.0)
    pos: float = Field(ge=0.0, le=1.0)
    compound: float = Field(ge=-1.0, le=1.0)


class SentimentScore(_Record):
    """Earful's incident-aware sentiment, with the raw VADER scores it started from."""

    label: SentimentLabel
    compound: float = Field(ge=-1.0, le=1.0)
    vader: VaderScores


class OutageAnalysis(_Record):
    """Whether a mention reports a service disruption, and its specifics."""

    is_report: bool
    confidence: float = Field(ge=0.0, le=1.0)
    symptoms: tuple[str, ...] = ()
    platforms: tuple[str, ...] = ()
    places: tuple[str, ...] = ()
    error_codes: tuple[str, ...] = ()


class ScoredMention(_Versioned):
    """A mention scored for one subject.

    Topic ``earful.mentions.scored.v1``, keyed by ``subject``: a mention that
    matched two subjects yields two records. Consumers deduplicate on
    ``(mention.id, subject)``.
    """

    subject: Subject
    mention: Mention
    lang: str | None = Field(default=None, description="Detected language (ISO 639-1).")
    sentiment: SentimentScore | None = Field(
        default=None, description="Null when not scored (see unscored_reason)."
    )
    unscored_reason: str | None = None
    outage: OutageAnalysis | None = Field(default=None, description="Null when not analysed.")
    scored_at: UtcDatetime
    model: str = Field(description="Scorer name and version, e.g. 'earful-vader/1 vader-3.3.2'.")


class TermCount(_Record):
    term: str
    count: int = Field(ge=0)


class WindowStats(_Versioned):
    """Aggregates of one subject (optionally one source) over one event-time window.

    Topic ``earful.windows.v1``, keyed by ``subject``.
    """

    subject: Subject
    source: str | None = Field(default=None, description="Null for all sources together.")
    window_start: UtcDatetime
    window_end: UtcDatetime
    mentions: int = Field(ge=0)
    unique_authors: int = Field(ge=0)
    negative: int = Field(ge=0)
    negative_share: float = Field(ge=0.0, le=1.0)
    mean_compound: float | None = Field(default=None, ge=-1.0, le=1.0)
    outage_reports: int = Field(ge=0, description="At most one per author per window.")
    late: int = Field(default=0, ge=0, description="Records that arrived after the window closed.")
    top_symptoms: tuple[TermCount, ...] = ()
    top_platforms: tuple[TermCount, ...] = ()
    top_places: tuple[TermCount, ...] = ()
    top_terms: tuple[TermCount, ...] = ()
    expected_mentions: float | None = Field(
        default=None,
        ge=0.0,
        description=(
            "The volume detector's expected mentions for this window, from the subject's own "
            "history (during its warm-up, its prior). Subject-level windows only; null otherwise."
        ),
    )


class SampleMention(_Record):
    id: str
    source: str
    created_at: UtcDatetime
    text: str = Field(max_length=500, description="Snippet, truncated.")
    url: str | None = None


class Evidence(_Record):
    """What a responder needs to judge a signal without opening a dashboard."""

    samples: tuple[SampleMention, ...] = ()
    top_symptoms: tuple[TermCount, ...] = ()
    top_places: tuple[TermCount, ...] = ()
    top_platforms: tuple[TermCount, ...] = ()
    top_terms: tuple[TermCount, ...] = ()
    trend: tuple[float, ...] = Field(
        default=(), description="Recent observed values, oldest first."
    )


class Signal(_Versioned):
    """A detector's finding: opened once, updated, resolved once.

    Topic ``earful.signals.v1``, keyed by ``subject``.
    """

    id: str = Field(description="Stable per episode: subject, kind and opening window.")
    subject: Subject
    kind: SignalKind
    state: SignalState
    severity: Severity
    detector: str = Field(description="Detector name and version.")
    opened_at: UtcDatetime
    updated_at: UtcDatetime
    resolved_at: UtcDatetime | None = None
    window_start: UtcDatetime
    window_end: UtcDatetime
    observed: float
    expected: float
    score: float = Field(ge=0.0, le=1.0, description="Anomaly score in [0, 1].")
    evidence: Evidence = Field(default_factory=Evidence)


class OfficialUpdate(_Versioned):
    """Something the organisation said in public: a status-page update or an official post.

    Topic ``earful.updates.v1``, keyed by ``subject``; one record per (mention, subject).
    ``id`` is the mention id, so consumers deduplicate on ``(id, subject)``.
    """

    id: str = Field(description="The official mention's id.")
    subject: Subject
    source: Source
    kind: MentionKind
    url: str | None = None
    author: str
    text: str = Field(max_length=MAX_TEXT_CHARS)
    created_at: UtcDatetime = Field(description="When it was posted (event time).")
    status: str | None = Field(
        default=None,
        max_length=64,
        description="Status-page state if known: investigating, identified, monitoring, resolved.",
    )


class ReactionStats(_Record):
    """The public's conversation in one span of event time, for one audience."""

    span_start: UtcDatetime
    span_end: UtcDatetime
    mentions: int = Field(ge=0)
    unique_authors: int | None = Field(
        default=None, ge=0, description="Null where not modelled (the baseline's expectation)."
    )
    per_minute: float = Field(ge=0.0, description="Mentions per minute.")
    negative_share: float | None = Field(
        default=None, ge=0.0, le=1.0, description="Null when no mention in the span was scored."
    )
    outage_reports_per_minute: float = Field(ge=0.0)
    question_share: float | None = Field(
        default=None,
        ge=0.0,
        le=1.0,
        description="Share asking for information ('any update?'); null when the span is empty.",
    )


class UpdateReaction(_Versioned):
    """The measured change in the conversation after one official update.

    Topic ``earful.reactions.v1``, keyed by ``subject``. An observed before/after
    change, not a proven effect: other things happen at the same time.
    ``expected`` is what the learned baseline predicted for the after span,
    null while the baseline is cold.
    """

    update_id: str
    subject: Subject
    update_at: UtcDatetime
    span_minutes: int = Field(ge=1)
    audience: ReactionAudience
    before: ReactionStats
    after: ReactionStats
    expected: ReactionStats | None = None
    complete: bool = Field(
        description="False when the after span was cut short by the next update."
    )
    computed_at: UtcDatetime


class Alert(_Versioned):
    """A notification-ready alert derived from a signal.

    Topic ``earful.alerts.v1``, keyed by ``dedup_key``. ``firing`` then
    ``resolved`` share a dedup key; notifiers use it as their idempotency key.
    """

    dedup_key: str = Field(max_length=255)
    status: AlertStatus
    subject: Subject
    kind: str
    severity: Severity
    summary: str = Field(max_length=1024)
    description: str = ""
    starts_at: UtcDatetime
    ends_at: UtcDatetime | None = None
    signal_id: str | None = None
    observed: float | None = None
    expected: float | None = None
    evidence: Evidence = Field(default_factory=Evidence)
    dashboard_url: str | None = None
    created_at: UtcDatetime


def make_mention_id(source: str, native_id: str) -> str:
    """The stable mention id: readable when short, hashed when the native id is long."""
    if len(native_id) <= 200:
        return f"{source}:{native_id}"
    digest = hashlib.sha256(native_id.encode("utf-8", "surrogatepass")).hexdigest()[:32]
    return f"{source}:h:{digest}"


_R = TypeVar("_R", bound=_Versioned)


def encode(record: _Versioned) -> bytes:
    """Serialise a contract record to the UTF-8 JSON bytes that go on a topic."""
    # The bytes model_dump_json() decodes to a str, without the round trip.
    return record.__pydantic_serializer__.to_json(record, exclude_none=False)


def decode(model: type[_R], raw: bytes | None) -> _R:
    """Parse and validate one record; raise :class:`SchemaError` with a clear reason.

    The common case costs one pass of pydantic-core in strict JSON mode plus two
    scans of the bytes in C. Only a record that fails, or that the cheap
    duplicate-key proof below cannot clear, is parsed again in Python to name
    the reason.
    """
    if raw is None:
        raise SchemaError("empty record (tombstone or null value)", reason="empty")
    if len(raw) > MAX_RECORD_BYTES:
        raise SchemaError(
            f"record is {len(raw)} bytes, over the {MAX_RECORD_BYTES}-byte limit",
            reason="too_large",
        )
    try:
        # Parse and validate in one pass in pydantic-core (model_validate_json
        # without its Python wrapper), strict: no "yes" for true, no 1.0 for 1.
        record: _R = model.__pydantic_validator__.validate_json(raw, strict=True)
    except ValidationError as exc:
        raise _diagnose(model, raw, exc) from None
    if raw.translate(None, _WHITESPACE).count(b'":') != _keys_read(record):
        _loads_strict(raw)  # unknown keys, or maybe a repeated one: the exact check
    return record


# -- the strict reader's helpers ------------------------------------------------------
#
# Repeated keys without a second parse. pydantic-core keeps the last of two
# equal keys silently, so decode() proves there were none. Delete JSON's
# whitespace bytes from the record and count the two bytes '":': every key
# ends so (its closing quote, then the colon), and anything else counted is
# a quote inside a string that happens to precede a colon. So the count is at
# least the number of keys. _keys_read() counts the distinct keys the model
# read (the fields set in each object, the entries of each dict): at most the
# number of keys, less the repeats and the unknown keys. Equal counts
# therefore prove no key is repeated. Records Earful writes always pass;
# anything else (unknown fields, a text quoting '":') is parsed again with an
# exact duplicate check.
#
# Depth needs no check on that path: the contract's own fields nest 4 levels
# at most, so deeper JSON is either in an unknown field (which sends the
# record to the exact check) or invalid; both parse in Python only after
# _check_depth.

_WHITESPACE: Final = b" \t\r\n"
_STRING: Final = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKETS: Final = re.compile(rb"[^\[\]{}]+")
_MISSING: Final = object()
# How a field holds JSON objects: a model without nested objects (counted
# inline, no call), a model, a dict, a tuple of models.
_LEAF, _MODEL, _DICT, _MODELS = 0, 1, 2, 3
#: Per model class: is it versioned, and (field, kind) for fields holding objects.
_KEY_PLANS: dict[type[BaseModel], tuple[bool, tuple[tuple[str, int], ...]]] = {}


class _DuplicateKeyError(ValueError):
    pass


def _check_depth(raw: bytes) -> None:
    """Raise ``too_deep`` when objects and arrays nest deeper than MAX_DEPTH."""
    brackets = _BRACKETS.sub(b"", _STRING.sub(b"", raw))
    depth = 0
    for byte in brackets:
        if byte in b"[{":
            depth += 1
            if depth > MAX_DEPTH:
                raise SchemaError(
                    f"record nests objects and arrays deeper than {MAX_DEPTH} levels",
                    reason="too_deep",
                )
        else:
            depth -= 1


def _unique_pairs(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    obj = dict(pairs)
    if len(obj) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKeyError(key)
            seen.add(key)
    return obj


def _loads_strict(raw: bytes) -> Any:
    """json.loads that names the reason: too_deep, not_utf8, not_json, duplicate_key..."""
    _check_depth(raw)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SchemaError(
            f"record is not valid UTF-8 (byte {exc.start}: {exc.reason})", reason="not_utf8"
        ) from None
    try:
        return json.loads(text, object_pairs_hook=_unique_pairs)
    except _DuplicateKeyError as exc:
        raise SchemaError(
            f"record repeats the key {str(exc)[:100]!r} in one object", reason="duplicate_key"
        ) from None
    except json.JSONDecodeError as exc:
        raise SchemaError(f"record is not JSON: {exc}", reason="not_json") from None
    except ValueError as exc:
        # int() refuses numbers of more than sys.get_int_max_str_digits() digits.
        raise SchemaError(
            f"record has a number too long to read: {str(exc)[:120]}", reason="too_many_digits"
        ) from None


def _diagnose(model: type[_Versioned], raw: bytes, exc: ValidationError) -> SchemaError:
    """Why pydantic-core refused ``raw``, cheapest reason first."""
    obj = _loads_strict(raw)
    if not isinstance(obj, dict):
        return SchemaError(
            f"record is JSON {type(obj).__name__}, expected an object", reason="not_object"
        )
    version = obj.get("schema_version", _MISSING)
    if type(version) is not int or version != SCHEMA_VERSION:
        shown = "missing" if version is _MISSING else repr(version)
        return SchemaError(
            f"schema_version {shown} is not supported (this reader knows {SCHEMA_VERSION})",
            reason="schema_version",
        )
    return SchemaError(f"invalid {model.__name__}: {_summarise(exc)}", reason="invalid")


def _field_kind(annotation: Any) -> int | None:
    """How a field can hold JSON objects (see _LEAF...), None when it cannot."""
    args = get_args(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        versioned, nested = _key_plan(annotation)
        return _MODEL if versioned or nested else _LEAF
    if get_origin(annotation) is dict:
        return _DICT
    if get_origin(annotation) is tuple:
        return _MODELS if any(_field_kind(arg) is not None for arg in args) else None
    kinds = {_field_kind(arg) for arg in args} - {None}  # Optional[...] and other unions
    if len(kinds) > 1:
        raise TypeError(f"no key plan for {annotation!r}")
    return kinds.pop() if kinds else None


def _key_plan(cls: type[BaseModel]) -> tuple[bool, tuple[tuple[str, int], ...]]:
    plan = _KEY_PLANS.get(cls)
    if plan is None:
        nested = []
        for name, info in cls.model_fields.items():
            kind = _field_kind(info.annotation)
            if kind is not None:
                nested.append((name, kind))
        plan = _KEY_PLANS[cls] = (issubclass(cls, _Versioned), tuple(nested))
    return plan


def _keys_read(record: BaseModel) -> int:
    """Distinct JSON keys the model read; ``schema_version`` required on every record."""
    versioned, nested = _KEY_PLANS.get(record.__class__) or _key_plan(record.__class__)
    fields_set = record.__pydantic_fields_set__
    if versioned and "schema_version" not in fields_set:
        raise SchemaError(
            f"schema_version missing (this reader knows {SCHEMA_VERSION})",
            reason="schema_version",
        )
    keys = len(fields_set)
    values = record.__dict__
    for name, kind in nested:
        value = values[name]
        if value is None:
            continue
        if kind == _LEAF:
            keys += len(value.__pydantic_fields_set__)
        elif kind == _MODEL:
            keys += _keys_read(value)
        elif kind == _DICT:
            keys += len(value)  # the contract's dicts hold scalars
        else:
            for item in value:
                keys += _keys_read(item)
    return keys


def _summarise(exc: ValidationError, limit: int = 3) -> str:
    parts = []
    for err in exc.errors()[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "<record>"
        parts.append(f"{where}: {err['msg']}")
    more = exc.error_count() - limit
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts)


def now_utc() -> datetime:
    """The current time, tz-aware UTC (the default clock)."""
    return datetime.now(UTC)
