"""Admission: the one step from what a source delivers to a Mention on the raw topic.

Every way into the raw topic goes through this module::

    Post -> subjects (tracking rules) -> author (pseudonymised) -> official marking
         -> ids (mention, reply, repost) -> contract caps -> Mention
    mentions of one page or request -> dedup (seen ids) -> flood flags
         -> produced -> their ids and copies remembered

Which way in applies which step:

=========================  ==========  ===============================  ==========
step                       connectors  push                             replay
=========================  ==========  ===============================  ==========
tracking rules             yes         yes, unless the client names     no
                                       the subjects
pseudonymised author       yes         yes                              no
official-account marking   yes         yes                              no
contract caps              yes         yes                              yes
dedup and flood flags      yes         yes                              no
=========================  ==========  ===============================  ==========

Connectors (through :mod:`earful.ingest.pages`) and the push endpoint hand
:class:`Admission` a :class:`~earful.ingest.base.Post`, then pass what it
admitted through a :class:`DedupScreen`. Replay reads mentions that were
admitted once already (:func:`admit_recorded`) and skips, on purpose:

* **tracking rules**: a recorded mention carries the subjects it was admitted
  with; matching it again against today's rules would relabel history, and a
  replay has no tracking file;
* **pseudonymising**: its author is already a pseudonym; hashing it again would
  give every author a new id that no earlier or live mention shares;
* **official-account marking**: ``is_official`` and
  ``metadata.official_account`` were set at the first admission and stand;
* **dedup and flood flags**: replaying a file again is deliberate (the demo,
  the benchmarks), its ids are as recorded, and flood flags were set when the
  mentions were first admitted.

The contract caps apply to every way in: a text longer than
:data:`~earful.events.MAX_TEXT_CHARS` is cut and flagged
``metadata.truncated``, a URL longer than the contract allows is dropped, a
language tag is cut to 16 characters, and a mention naming more than
:data:`~earful.events.MAX_SUBJECTS` subjects keeps the first (flagged
``metadata.subjects_truncated``). A record is kept and bounded rather than
refused for being long.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from earful.errors import SchemaError
from earful.events import (
    MAX_SUBJECTS,
    MAX_TEXT_CHARS,
    SCHEMA_VERSION,
    Mention,
    MetadataValue,
    make_mention_id,
)
from earful.ingest.base import Post
from earful.ingest.dedup import FloodDetector, SeenIds
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.rules import TrackingRules

__all__ = [
    "MAX_LANG_CHARS",
    "MAX_URL_CHARS",
    "Admission",
    "DedupScreen",
    "Screened",
    "admit_recorded",
    "fit_contract",
]

log = logging.getLogger(__name__)

#: The contract's bounds on ``Mention.url`` and ``Mention.lang`` (see earful.events).
MAX_URL_CHARS = 2048
MAX_LANG_CHARS = 16


class Admission:
    """Post -> Mention for one connector (or the push endpoint); see the module docstring."""

    def __init__(self, *, connector: str, rules: TrackingRules, privacy: Pseudonymiser) -> None:
        self.connector = connector
        self.rules = rules
        self.privacy = privacy
        self._known = set(rules.names)
        self._warned: set[str] = set()

    def admit(
        self, post: Post, ingested_at: datetime, *, subjects: Sequence[str] | None = None
    ) -> Mention | None:
        """The post as a mention, or None when it is about no tracked subject.

        ``subjects`` are named by the sender (a push client): they are kept as
        given, and the rules only mark the post official when its author is an
        official account of one of them. Without them the tracking rules
        decide, and the post's own ``subjects`` that the rules define are added.
        Raise ValueError or ValidationError for a post that cannot be a valid
        mention.
        """
        metadata: dict[str, MetadataValue] = {**post.metadata, "connector": self.connector}
        if subjects is None:
            match = self.rules.match(
                post.text,
                author_handle=post.author_handle,
                lang=post.lang,
                hashtags=post.hashtags,
                reply_to_handle=post.reply_to_handle,
            )
            chosen = self._with_hints(list(match.subjects), post)
            official, account = match.official, match.official_account
        else:
            chosen = list(subjects)
            owned, account = self.rules.official_subjects(post.author_handle)
            official = any(name in owned for name in chosen)
            account = account if official else None
        if not chosen:
            return None
        kind = post.kind
        if post.repost_of:
            kind = "repost"
            metadata["repost_of"] = make_mention_id(post.source, post.repost_of)
        if account:
            metadata["official_account"] = account
        author = self.privacy.author(post.source, post.author_handle)
        fields: dict[str, Any] = {
            "id": make_mention_id(post.source, post.native_id),
            "source": post.source,
            "native_id": post.native_id,
            "url": post.url or None,
            "author": author.author,
            "author_handle": author.handle,
            "text": post.text,
            "lang": post.lang or None,
            "created_at": post.created_at,
            "ingested_at": ingested_at,
            "subjects": tuple(chosen),
            "is_official": post.is_official or official,
            "kind": kind,
            "in_reply_to": make_mention_id(post.source, post.in_reply_to)
            if post.in_reply_to
            else None,
            "engagement": post.engagement,
            "metadata": metadata,
        }
        fit_contract(fields, origin=f"{self.connector}: post {post.native_id}")
        return Mention(**fields)

    def _with_hints(self, subjects: list[str], post: Post) -> list[str]:
        """Add the subjects the connector knows the post is about, if the rules define them."""
        for name in post.subjects:
            if name in self._known:
                if name not in subjects:
                    subjects.append(name)
            elif name not in self._warned:
                self._warned.add(name)
                log.warning(
                    "%s: post names subject %r, which the rules do not define", self.connector, name
                )
        return subjects


def fit_contract(fields: dict[str, Any], *, origin: object) -> None:
    """Bound, in place, what the contract bounds, instead of refusing the record.

    ``fields`` are a mention's fields before validation; values of the wrong
    type are left for validation to report. ``origin`` names the record in the
    log line a subject cut writes (formatted only then: replay calls this per line).
    """
    subjects = fields.get("subjects")
    if isinstance(subjects, list | tuple) and len(subjects) > MAX_SUBJECTS:
        # The contract's cap (one scored record per subject): keep the mention, in order.
        log.warning(
            "%s names %d subjects; the first %d are kept", origin, len(subjects), MAX_SUBJECTS
        )
        fields["subjects"] = tuple(subjects[:MAX_SUBJECTS])
        _flag(fields, "subjects_truncated")
    text = fields.get("text")
    if isinstance(text, str) and len(text) > MAX_TEXT_CHARS:
        fields["text"] = text[:MAX_TEXT_CHARS]
        _flag(fields, "truncated")
    url = fields.get("url")
    if isinstance(url, str) and len(url) > MAX_URL_CHARS:
        fields["url"] = None  # a cut URL would point somewhere else
    lang = fields.get("lang")
    if isinstance(lang, str) and len(lang) > MAX_LANG_CHARS:
        fields["lang"] = lang[:MAX_LANG_CHARS]


def _flag(fields: dict[str, Any], key: str) -> None:
    metadata = fields.setdefault("metadata", {})
    if isinstance(metadata, dict):
        metadata[key] = True


def admit_recorded(
    fields: dict[str, Any], *, ingested_at: datetime, default_source: str = "replay"
) -> Mention:
    """A recorded mention's fields (a replay line) to a Mention, or SchemaError with the reason.

    Fills ``schema_version``, ``source``, ``id`` (from ``source`` and
    ``native_id``) and ``ingested_at`` when absent and applies the contract
    caps; what it skips and why is in the module docstring. ``fields`` is
    changed in place.
    """
    version = fields.setdefault("schema_version", SCHEMA_VERSION)
    if version != SCHEMA_VERSION:
        raise SchemaError(f"schema_version {version!r} is not supported", reason="schema_version")
    fields.setdefault("source", default_source)
    if "id" not in fields and isinstance(fields.get("native_id"), str):
        fields["id"] = make_mention_id(str(fields["source"]), fields["native_id"])
    fields.setdefault("ingested_at", ingested_at.isoformat())
    fit_contract(fields, origin=fields.get("id"))
    try:
        return Mention.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "<line>"
        raise SchemaError(f"invalid mention: {where}: {first['msg']}", reason="invalid") from exc


@dataclass(frozen=True, slots=True)
class Screened:
    """What a :class:`DedupScreen` let through from one page or request."""

    fresh: list[Mention]
    duplicates: int
    flooded: int
    observed_at: datetime
    fingerprints: tuple[str, ...] = ()  # of the fresh texts long enough to count as copies

    @property
    def reposts(self) -> int:
        return sum(m.kind == "repost" for m in self.fresh)


class DedupScreen:
    """Dedup and flood flags for live sources (connectors and push).

    :meth:`screen` drops mentions already produced (``seen``) or repeated in the
    batch, and flags copies in a flood (``metadata.near_duplicate``,
    ``metadata.copies``) without dropping them; :meth:`remember` records the
    ids and the copies once Kafka acknowledged them, so a write that failed and
    is tried again is neither taken for a duplicate nor counted twice as a copy.
    """

    def __init__(self, seen: SeenIds, floods: FloodDetector) -> None:
        self.seen = seen
        self.floods = floods

    def screen(self, mentions: Iterable[Mention], now: datetime) -> Screened:
        fresh: list[Mention] = []
        ids: set[str] = set()
        pending: Counter[str] = Counter()
        duplicates = flooded = 0
        for mention in mentions:
            if mention.id in self.seen or mention.id in ids:
                duplicates += 1
                continue
            fingerprint = self.floods.fingerprint(mention.text)
            if fingerprint is not None:
                mark = self.floods.mark(fingerprint, now, pending=pending[fingerprint])
                pending[fingerprint] += 1
                if mark.flood:
                    flooded += 1
                    metadata = {**mention.metadata, "near_duplicate": True, "copies": mark.copies}
                    mention = mention.model_copy(update={"metadata": metadata})
            ids.add(mention.id)
            fresh.append(mention)
        return Screened(
            fresh=fresh,
            duplicates=duplicates,
            flooded=flooded,
            observed_at=now,
            fingerprints=tuple(pending.elements()),
        )

    def remember(self, screened: Screened) -> None:
        """The screened mentions are in Kafka: from now on their ids are repeats, texts copies."""
        self.seen.update(m.id for m in screened.fresh)
        for fingerprint in screened.fingerprints:
            self.floods.record(fingerprint, screened.observed_at)
