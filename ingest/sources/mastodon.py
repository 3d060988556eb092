"""Mastodon: hashtag (and public) timelines on several instances; streaming with a user token.

Polling (default). Feeds are every (instance, hashtag) pair, plus each
instance's public timeline when ``public_timeline`` is set, polled in turn.
A feed's cursor is the newest status id read there: the next poll asks for
``min_id=<cursor>``, which returns the statuses immediately after it, and
the ``Link`` header's ``rel="prev"`` URL gives the cursor after them. A full
page keeps the turn, so a busy tag is caught up before moving on. A first
poll reads only the newest page (no backfill). Instances with public preview
turned off need an app token with ``read:statuses`` (``access_token``).

Streaming (when ``user_token`` is set, Mastodon >= 4.2 requires it): one
websocket to ``streaming_instance`` (its host from ``/api/v2/instance``)
subscribed to every hashtag (and ``public``). Streaming has no cursor, so on
every (re)connect the REST timelines are first read from the stored cursors
up to now, then the live stream keeps those cursors moving.

An instance only sees what federates to it: polling several and keying
mentions on the status ``uri`` (the same everywhere) dedupes across them.
Boosts become ``kind="repost"`` with ``repost_of`` the original's ``uri``.
Handles are ``user@instance`` everywhere (local accounts get their domain).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Mapping
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlsplit

import httpx
from pydantic import Field, SecretStr, field_validator

from earful.errors import ConfigError
from earful.events import Engagement, MentionKind
from earful.ingest.base import Page, Post, SearchTerms, SourceError
from earful.ingest.sources import _websocket
from earful.ingest.sources._common import (
    BARE_URLS,
    Clock,
    ConnectorConfig,
    Rotation,
    base_url,
    count_or_none,
    dump_cursor,
    get_json,
    html_to_text,
    load_cursor,
    now_utc,
    parse_config,
    parse_time,
)

__all__ = [
    "MastodonConfig",
    "MastodonInstance",
    "MastodonSource",
    "MastodonStreamingSource",
    "build",
    "parse_status",
]

log = logging.getLogger(__name__)

PUBLIC = "public"


class MastodonInstance(ConnectorConfig):
    url: str = Field(description="Instance host or base URL, e.g. mastodon.social.")
    access_token: SecretStr | None = Field(
        default=None, description="App token (read:statuses) where public preview is off."
    )


class MastodonConfig(ConnectorConfig):
    instances: Annotated[tuple[MastodonInstance, ...], BARE_URLS] = Field(
        default=(MastodonInstance(url="mastodon.social"),), min_length=1
    )
    hashtags: tuple[str, ...] = Field(
        default=(), description="Tags without '#'; default: the tracking rules' hashtags."
    )
    public_timeline: bool = Field(default=False, description="Also read the public timeline.")
    local_only: bool = Field(default=False, description="Public timeline: this instance only.")
    limit: int = Field(default=40, ge=1, le=40)
    poll_interval_s: float = Field(default=60.0, gt=0, description="Each feed once per interval.")
    min_remaining: int = Field(
        default=5, ge=0, description="X-RateLimit-Remaining at which to wait for the reset."
    )
    user_token: SecretStr | None = Field(
        default=None, description="User token (read:statuses): switches to streaming."
    )
    streaming_instance: str | None = Field(
        default=None, description="Instance to stream from; default: the first one."
    )

    @field_validator("hashtags")
    @classmethod
    def _strip_hash(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(tag.lstrip("#").strip() for tag in value if tag.strip("# ")))


def _domain(url: str) -> str:
    return urlsplit(url).netloc


def _id_key(status_id: str) -> tuple[int, str]:
    # Mastodon ids are decimal strings of growing length: compare as numbers.
    return (len(status_id), status_id)


class MastodonSource:
    """Polling connector; see the module docstring."""

    def __init__(
        self,
        config: MastodonConfig,
        http: httpx.Client,
        *,
        name: str = "mastodon",
        clock: Clock = now_utc,
    ) -> None:
        self.config = config
        self.http = http
        self.name = name
        self.clock = clock
        self.instances = {base_url(i.url): i for i in config.instances}
        self.feeds: dict[str, tuple[str, str]] = {}  # key -> (instance URL, tag or PUBLIC)
        for url in self.instances:
            for tag in config.hashtags:
                self.feeds[f"{_domain(url)}#{tag.lower()}"] = (url, tag)
            if config.public_timeline:
                self.feeds[f"{_domain(url)} {PUBLIC}"] = (url, PUBLIC)
        self.rotation = Rotation(list(self.feeds))

    def fetch(self, cursor: str | None) -> Page:
        state = load_cursor(cursor, self.name)
        key = self.rotation.take()
        page, more = self.fetch_feed(key, state)
        if more:
            self.rotation.stay(key)
        return page

    def fetch_feed(self, key: str, state: dict[str, Any]) -> tuple[Page, bool]:
        """One page of one feed from its cursor in ``state`` (updated); True if more wait."""
        instance, tag = self.feeds[key]
        if tag == PUBLIC:
            url = f"{instance}/api/v1/timelines/public"
        else:
            url = f"{instance}/api/v1/timelines/tag/{quote(tag, safe='')}"
        params: dict[str, str | int] = {"limit": self.config.limit}
        if tag == PUBLIC and self.config.local_only:
            params["local"] = "true"
        since = state.get(key)
        if isinstance(since, str) and since:
            params["min_id"] = since
        token = self.instances[instance].access_token
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"} if token else {}
        data, response = get_json(
            self.http,
            url,
            source=self.name,
            params=params,
            headers=headers,
            reset_hint=self._seconds_to_reset,
        )
        if not isinstance(data, list):
            raise SourceError(f"{self.name}: {url} did not return a list of statuses")
        posts: list[Post] = []
        malformed = 0
        newest = since if isinstance(since, str) else None
        domain = _domain(instance)
        for item in data:
            try:
                post, status_id = parse_status(item, domain)
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.debug("%s: malformed status on %s: %s", self.name, key, exc)
                continue
            posts.append(post)
            if newest is None or _id_key(status_id) > _id_key(newest):
                newest = status_id
        prev = _link_param(response, "prev", "min_id")
        if prev is not None and (newest is None or _id_key(prev) > _id_key(newest)):
            newest = prev
        if newest is not None:
            state[key] = newest
        more = isinstance(since, str) and len(data) >= self.config.limit
        wait = 0.0 if more else self.rotation.wait_s(self.config.poll_interval_s)
        remaining = _int_header(response, "X-RateLimit-Remaining")
        if remaining is not None and remaining <= self.config.min_remaining:
            wait = max(wait, self._seconds_to_reset(response) or 0.0)
        cursor_time = max((p.created_at for p in posts), default=None)
        page = Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=wait,
            malformed=malformed,
            cursor_time=cursor_time,
        )
        return page, more

    def _seconds_to_reset(self, response: httpx.Response) -> float | None:
        value = response.headers.get("X-RateLimit-Reset")
        if not value:
            return None
        try:
            reset = parse_time(value)  # an ISO 8601 time, not seconds
        except ValueError:
            return None
        return max(0.0, (reset - self.clock()).total_seconds())


class MastodonStreamingSource:
    """Streaming connector (user token); see the module docstring."""

    def __init__(
        self,
        config: MastodonConfig,
        http: httpx.Client,
        *,
        name: str = "mastodon",
        clock: Clock = now_utc,
        idle_s: float = 1.0,
    ) -> None:
        if config.user_token is None:
            raise ValueError("streaming needs a user token")
        self.config = config
        self.http = http
        self.name = name
        self.idle_s = idle_s
        self.instance = base_url(config.streaming_instance or config.instances[0].url)
        instance = MastodonInstance(url=self.instance, access_token=config.user_token)
        self.poller = MastodonSource(
            config.model_copy(update={"instances": (instance,)}), http, name=name, clock=clock
        )

    def stream(self, cursor: str | None) -> Generator[Page, None, None]:
        state = load_cursor(cursor, self.name)
        for key in self.poller.feeds:  # catch up on what streamed while we were away
            more = key in state
            while more:
                page, more = self.poller.fetch_feed(key, state)
                yield page
        token = self.config.user_token
        assert token is not None
        headers = {"Authorization": f"Bearer {token.get_secret_value()}"}
        url = f"{self._streaming_url()}/api/v1/streaming"
        with _websocket.connect(url, source=self.name, headers=headers) as connection:
            for _, tag in self.poller.feeds.values():
                subscribe = {"type": "subscribe", "stream": tag}
                if tag != PUBLIC:
                    subscribe = {"type": "subscribe", "stream": "hashtag", "tag": tag}
                elif self.config.local_only:
                    subscribe["stream"] = "public:local"
                connection.send(json.dumps(subscribe))
            for batch in _websocket.frame_batches(connection, source=self.name, idle_s=self.idle_s):
                yield self._page(batch, state)

    def _streaming_url(self) -> str:
        data, _ = get_json(self.http, f"{self.instance}/api/v2/instance", source=self.name)
        try:
            url = str(data["configuration"]["urls"]["streaming"])
        except (KeyError, TypeError):
            url = self.instance  # older servers stream on the instance host
        if url.startswith("http"):
            url = "ws" + url[4:]
        return url.rstrip("/")

    def _page(self, frames: list[str], state: dict[str, Any]) -> Page:
        posts: list[Post] = []
        malformed = 0
        domain = _domain(self.instance)
        for frame in frames:
            try:
                event = json.loads(frame)
                if not isinstance(event, dict) or event.get("event") != "update":
                    continue  # delete, status.update (edits), notifications, errors
                post, status_id = parse_status(json.loads(event["payload"]), domain)
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.debug("%s: malformed streaming event: %s", self.name, exc)
                continue
            posts.append(post)
            key = self._feed_key(event.get("stream"), domain)
            old = state.get(key) if key else None
            if key and (not isinstance(old, str) or _id_key(status_id) > _id_key(old)):
                state[key] = status_id
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state) if state else None,
            malformed=malformed,
            cursor_time=max((p.created_at for p in posts), default=None),
        )

    def _feed_key(self, stream: Any, domain: str) -> str | None:
        if not isinstance(stream, list) or not stream:
            return None
        if stream[0] == "hashtag" and len(stream) > 1:
            key = f"{domain}#{str(stream[1]).lower()}"
        elif str(stream[0]).startswith(PUBLIC):
            key = f"{domain} {PUBLIC}"
        else:
            return None
        return key if key in self.poller.feeds else None


def parse_status(status: Any, domain: str) -> tuple[Post, str]:
    """A Mastodon Status as a Post, and its instance-local id (the cursor)."""
    if not isinstance(status, dict):
        raise TypeError("status is not an object")
    status_id = str(status["id"])
    account = status["account"]
    author = _acct(account, domain)
    original = status.get("reblog")
    shown = original if isinstance(original, dict) else status
    text = html_to_text(str(shown["content"]))
    warning = shown.get("spoiler_text")
    if isinstance(warning, str) and warning.strip():
        text = f"{warning.strip()}\n{text}"
    metadata: dict[str, str | bool] = {"instance": domain, "visibility": str(status["visibility"])}
    if account.get("bot"):
        metadata["bot"] = True
    if shown.get("edited_at"):
        metadata["edited"] = True
    reply_to_handle = None
    kind: MentionKind = "post"
    if shown.get("in_reply_to_id") is not None:
        kind = "reply"
        metadata["in_reply_to_local_id"] = str(shown["in_reply_to_id"])
        parent_account = shown.get("in_reply_to_account_id")
        for mentioned in shown.get("mentions") or []:
            if isinstance(mentioned, dict) and mentioned.get("id") == parent_account:
                reply_to_handle = _acct(mentioned, domain)
    if isinstance(original, dict):
        kind = "repost"  # a boost: the original's words, not a new report
    tags = tuple(str(t["name"]) for t in shown.get("tags") or [] if isinstance(t, dict))
    language = shown.get("language")
    post = Post(
        source="mastodon",
        native_id=str(status["uri"]),
        text=text,
        created_at=parse_time(status["created_at"]),
        author_handle=author,
        url=str(status.get("url") or shown.get("url") or status["uri"]),
        lang=language if isinstance(language, str) else None,
        kind=kind,
        reply_to_handle=reply_to_handle,
        repost_of=str(original["uri"]) if isinstance(original, dict) else None,
        hashtags=tags,
        engagement=Engagement(
            likes=count_or_none(shown.get("favourites_count")),
            reposts=count_or_none(shown.get("reblogs_count")),
            replies=count_or_none(shown.get("replies_count")),
        ),
        metadata=metadata,
    )
    return post, status_id


def _acct(account: Mapping[str, Any], domain: str) -> str:
    acct = str(account["acct"])
    return acct if "@" in acct else f"{acct}@{domain}"


def _int_header(response: httpx.Response, name: str) -> int | None:
    try:
        return int(float(response.headers.get(name, "")))
    except ValueError:
        return None


def _link_param(response: httpx.Response, rel: str, param: str) -> str | None:
    link = response.links.get(rel)
    if not link or "url" not in link:
        return None
    values = parse_qs(urlsplit(link["url"]).query).get(param)
    return values[0] if values else None


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> MastodonSource | MastodonStreamingSource:
    parsed = parse_config(MastodonConfig, config, "mastodon")
    if not parsed.hashtags and search is not None:
        parsed = parsed.model_copy(update={"hashtags": MastodonConfig._strip_hash(search.hashtags)})
    if not parsed.hashtags and not parsed.public_timeline:
        raise ConfigError(
            "connectors.mastodon: no hashtags to follow; add hashtags to the tracking rules, "
            "set connectors.mastodon.hashtags, or public_timeline: true"
        )
    if parsed.user_token is not None:
        return MastodonStreamingSource(parsed, http)
    return MastodonSource(parsed, http)
