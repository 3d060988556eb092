"""The small interface every ingest connector implements.

A connector only knows its network: it fetches, parses the network's records
into :class:`Post` objects, and says which cursor comes after them. The ingest
runner does the rest, the same for every source: the admission step
(:mod:`earful.ingest.admission`: tracking rules, pseudonymised authors, length
caps, dedup), producing :class:`~earful.events.Mention` records to the raw
topic, and storing the cursor only after Kafka acknowledged the mentions
before it. The push endpoint builds a :class:`Post` from each pushed object
and admits it the same way.

Two shapes:

* :class:`PollingSource` (REST APIs, feeds): ``fetch(cursor) -> Page``, called
  again after ``page.wait_s`` seconds.
* :class:`StreamingSource` (websocket firehoses): ``stream(cursor)`` yields
  pages until the connection drops; the runner reconnects from the last
  stored cursor.

Both raise :class:`SourceError` subclasses for failures the runner handles
(rate limits with ``retry_after``, transient errors to retry with backoff).
Any other :class:`SourceError` is taken as lasting (bad credentials, access
revoked): the runner logs it and retries at the longest backoff.

Connector modules: ``ingest/sources/<name>.py`` exposes a :class:`ConnectorFactory`
named ``build``::

    def build(
        config: Mapping[str, Any], http: httpx.Client, search: SearchTerms
    ) -> PollingSource | StreamingSource: ...

``config`` is the mapping under ``connectors.<name>`` in the settings file (or
``EARFUL_CONNECTORS``); ``http`` is a client the runner owns and closes
(timeouts and User-Agent set); ``search`` lists what the tracking rules look
for, so a connector can ask the network server-side (a search query, the
hashtag timelines to poll). The runner still applies the full rules to every
post, so a connector may over-fetch but never needs to filter. ``build``
raises :class:`~earful.errors.ConfigError` for a bad ``config``. The runner
calls ``build(config, http)`` when the function takes only two parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from earful.errors import EarfulError
from earful.events import Engagement, MentionKind, MetadataValue, Source

if TYPE_CHECKING:
    import httpx

__all__ = [
    "ConnectorFactory",
    "Page",
    "PollingSource",
    "Post",
    "RateLimited",
    "SearchTerms",
    "SourceError",
    "StreamingSource",
    "TransientSourceError",
]


@dataclass(frozen=True, slots=True)
class Post:
    """One record from a network, parsed, before tracking rules are applied."""

    source: Source
    native_id: str
    text: str
    created_at: datetime  # tz-aware UTC
    author_handle: str  # raw handle or account id; the runner pseudonymises it
    url: str | None = None
    lang: str | None = None
    kind: MentionKind = "post"
    in_reply_to: str | None = None  # native id of the parent post, if a reply
    reply_to_handle: str | None = None  # handle of the account replied to, if known
    repost_of: str | None = None  # native id of the original, for reposts and boosts
    is_official: bool = False  # status pages set this; accounts are matched by the rules
    hashtags: tuple[str, ...] = ()
    engagement: Engagement = field(default_factory=Engagement)
    metadata: Mapping[str, MetadataValue] = field(default_factory=dict)
    # Subjects the connector knows the post is about whatever its text says (a
    # status page configured for "acme"); added to what the tracking rules find.
    # Names the rules do not define are ignored (and logged once).
    subjects: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Page:
    """Posts from one fetch, and the cursor to store once they are in Kafka."""

    posts: tuple[Post, ...]
    cursor: str | None
    wait_s: float = 0.0  # how long to wait before the next fetch
    malformed: int = 0  # records in the response that could not be parsed
    # Event time the cursor stands for (e.g. Jetstream time_us, the newest
    # created_at asked for); the runner reports now minus this as the lag.
    cursor_time: datetime | None = None


class PollingSource(Protocol):
    """Fetches one page at a time; ``name`` keys its checkpoint and labels its metrics."""

    name: str

    def fetch(self, cursor: str | None) -> Page: ...


class StreamingSource(Protocol):
    """Yields pages from a live connection until it drops; ``name`` as for polling."""

    name: str

    def stream(self, cursor: str | None) -> Iterator[Page]: ...


class SourceError(EarfulError):
    """A fetch failed."""


class TransientSourceError(SourceError):
    """Worth retrying with backoff (5xx, timeouts, dropped connections)."""


class RateLimited(TransientSourceError):
    """The network asked us to slow down; wait ``retry_after`` seconds."""

    def __init__(self, message: str, *, retry_after: float) -> None:
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class SearchTerms:
    """What the tracking rules look for, for connectors that can search server-side.

    Terms and phrases are as configured (original case, unnormalised);
    hashtags without ``#``, handles and official accounts without ``@``.
    ``languages`` is empty when any language is tracked.
    """

    terms: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    handles: tuple[str, ...] = ()
    official_accounts: tuple[str, ...] = ()
    languages: tuple[str, ...] = ()


class ConnectorFactory(Protocol):
    """The ``build`` function of a connector module (see the module docstring)."""

    def __call__(
        self, config: Mapping[str, Any], http: httpx.Client, search: SearchTerms
    ) -> PollingSource | StreamingSource: ...
