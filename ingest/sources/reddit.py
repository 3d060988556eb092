"""Reddit: search, subreddit new posts and new comments over OAuth client credentials.

Auth: an app's client id and secret are exchanged for a bearer token at
``/api/v1/access_token`` (``grant_type=client_credentials``, "application
only"); the token is kept until shortly before ``expires_in`` and fetched
again after a 401. Since November 2025 new apps need Reddit's approval.

Feeds, polled in turn: ``search:<query>`` (``/search?sort=new``),
``new:<subreddit>`` (``/r/<sub>/new``) and ``comments:<subreddit>``
(``/r/<sub>/comments``). A feed's cursor is the newest fullname read there
(``t3_…`` posts, ``t1_…`` comments). Fullnames are base-36 counters, so a poll
reads the newest page and keeps what is newer than the cursor; when a whole
page is new it follows ``after`` for up to ``max_pages`` pages (listings stop
at about 1,000 items). Unlike ``before=<fullname>`` paging this cannot get
stuck on a deleted item.

Rate limits: ``X-Ratelimit-Remaining`` / ``-Reset`` (seconds) / ``-Used``.
When the remaining budget falls to ``min_remaining`` the connector waits for
the reset; a 429 waits ``Retry-After`` or the reset.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from pydantic import Field, SecretStr

from earful.events import Engagement
from earful.ingest.base import Page, Post, SearchTerms, SourceError, TransientSourceError
from earful.ingest.sources._common import (
    Clock,
    ConnectorConfig,
    Rotation,
    base_url,
    count_or_none,
    decode_json,
    dump_cursor,
    from_unix,
    load_cursor,
    now_utc,
    parse_config,
    send,
)

__all__ = ["RedditConfig", "RedditSource", "build", "parse_thing"]

log = logging.getLogger(__name__)

_GONE = frozenset({"[removed]", "[deleted]"})


class RedditConfig(ConnectorConfig):
    client_id: str = Field(min_length=1)
    client_secret: SecretStr
    user_agent: str | None = Field(
        default=None,
        description="Reddit asks for '<platform>:<app id>:<version> (by /u/<user>)'.",
    )
    auth_url: str = "https://www.reddit.com"
    api_url: str = "https://oauth.reddit.com"
    queries: tuple[str, ...] = Field(default=(), description="Default: the rules' terms.")
    subreddits: tuple[str, ...] = Field(default=(), description="Without 'r/'.")
    comments: bool = Field(default=True, description="Also read each subreddit's new comments.")
    limit: int = Field(default=100, ge=1, le=100)
    max_pages: int = Field(default=3, ge=1, description="Pages per feed and poll when behind.")
    poll_interval_s: float = Field(default=60.0, gt=0, description="Each feed once per interval.")
    min_remaining: float = Field(default=2.0, ge=0)


class RedditSource:
    """Polling connector; see the module docstring."""

    def __init__(
        self,
        config: RedditConfig,
        http: httpx.Client,
        *,
        name: str = "reddit",
        clock: Clock = now_utc,
    ) -> None:
        self.config = config
        self.http = http
        self.name = name
        self.clock = clock
        self.api = base_url(config.api_url)
        self.auth = base_url(config.auth_url)
        feeds: dict[str, tuple[str, dict[str, str]]] = {}
        for query in config.queries:
            feeds[f"search:{query}"] = ("/search", {"q": query, "sort": "new", "type": "link"})
        for sub in (s.removeprefix("r/").strip("/") for s in config.subreddits):
            feeds[f"new:{sub}"] = (f"/r/{sub}/new", {})
            if config.comments:
                feeds[f"comments:{sub}"] = (f"/r/{sub}/comments", {})
        self.feeds = feeds
        self.rotation = Rotation(list(feeds))
        self._token: str | None = None
        self._token_expires = datetime.min.replace(tzinfo=UTC)

    # -- auth -----------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        headers = {"Authorization": f"Bearer {self._access_token()}"}
        if self.config.user_agent:
            headers["User-Agent"] = self.config.user_agent
        return headers

    def _access_token(self) -> str:
        now = self.clock()
        if self._token is not None and now < self._token_expires:
            return self._token
        headers = {"User-Agent": self.config.user_agent} if self.config.user_agent else {}
        response = send(
            self.http,
            "POST",
            f"{self.auth}/api/v1/access_token",
            source=self.name,
            reset_hint=_reset,
            auth=(self.config.client_id, self.config.client_secret.get_secret_value()),
            data={"grant_type": "client_credentials"},
            headers=headers,
        )
        body = decode_json(response, self.name)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            error = body.get("error") if isinstance(body, dict) else None
            raise SourceError(f"{self.name}: no access token from Reddit ({error or 'no reason'})")
        expires_in = body.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token = token
        self._token_expires = now + timedelta(seconds=max(0.0, lifetime - 60))
        return token

    # -- polling ----------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> Page:
        state = load_cursor(cursor, self.name)
        key = self.rotation.take()
        path, params = self.feeds[key]
        last = state.get(key) if isinstance(state.get(key), str) else None
        posts: list[Post] = []
        malformed = 0
        newest = last
        wait = self.rotation.wait_s(self.config.poll_interval_s)
        after: str | None = None
        for _ in range(self.config.max_pages):
            query = {**params, "limit": str(self.config.limit), "raw_json": "1"}
            if after:
                query["after"] = after
            data, response = self._get(f"{self.api}{path}", query)
            children, after = _listing(data, self.name)
            reached_cursor = False
            for child in children:
                try:
                    fullname, post = parse_thing(child)
                except (KeyError, TypeError, ValueError) as exc:
                    malformed += 1
                    log.debug("%s: malformed thing in %s: %s", self.name, key, exc)
                    continue
                if last is not None and _order(fullname) <= _order(last):
                    reached_cursor = True
                    continue
                if newest is None or _order(fullname) > _order(newest):
                    newest = fullname
                if post is not None:
                    posts.append(post)
            remaining, reset = _float_header(response, "X-Ratelimit-Remaining"), _reset(response)
            if remaining is not None and remaining <= self.config.min_remaining:
                wait = max(wait, reset or 0.0)
                break  # no budget left to page further
            if last is None or reached_cursor or not after or not children:
                break
        if newest is not None:
            state[key] = newest
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=wait,
            malformed=malformed,
            cursor_time=max((p.created_at for p in posts), default=None),
        )

    def _get(self, url: str, params: Mapping[str, str]) -> tuple[Any, httpx.Response]:
        headers = self._headers()
        response = send(
            self.http,
            "GET",
            url,
            source=self.name,
            params=params,
            headers=headers,
            reset_hint=_reset,
            ok_statuses=(401,),
        )
        if response.status_code == 401:
            self._token = None  # expired or revoked early: fetch a new one next time
            raise TransientSourceError(f"{self.name}: {url} -> 401; renewing the token")
        return decode_json(response, self.name), response


def parse_thing(child: Any) -> tuple[str, Post | None]:
    """A listing child (``t3`` post or ``t1`` comment): its fullname and Post (None if removed)."""
    kind = child["kind"]
    data = child["data"]
    fullname = str(data["name"])
    if kind not in ("t1", "t3") or not fullname.startswith(f"{kind}_"):
        raise ValueError(f"unexpected thing {kind!r} {fullname!r}")
    created = from_unix(data["created_utc"])
    metadata: dict[str, str | bool] = {"subreddit": str(data["subreddit"])}
    if data.get("over_18"):
        metadata["over_18"] = True
    if kind == "t3":
        body = str(data.get("selftext") or "")
        text = str(data["title"]) if body in _GONE else f"{data['title']}\n{body}".strip()
        if isinstance(data.get("url"), str) and not data.get("is_self", True):
            metadata["link"] = data["url"]
        in_reply_to = None
        replies = data.get("num_comments")
    else:
        text = str(data["body"])
        if text in _GONE:
            return fullname, None
        in_reply_to = str(data["parent_id"]) if data.get("parent_id") else None
        replies = None
    post = Post(
        source="reddit",
        native_id=fullname,
        text=text,
        created_at=created,
        author_handle=str(data["author"]),
        url=f"https://www.reddit.com{data['permalink']}" if data.get("permalink") else None,
        kind="post" if kind == "t3" else "comment",
        in_reply_to=in_reply_to,
        engagement=Engagement(
            likes=count_or_none(data.get("score")), replies=count_or_none(replies)
        ),
        metadata=metadata,
    )
    return fullname, post


def _listing(data: Any, source: str) -> tuple[list[Any], str | None]:
    try:
        listing = data["data"]
        children = listing["children"]
        if data["kind"] != "Listing" or not isinstance(children, list):
            raise TypeError
    except (KeyError, TypeError) as exc:
        raise SourceError(f"{source}: response is not a Reddit Listing") from exc
    after = listing.get("after")
    return children, after if isinstance(after, str) and after else None


def _order(fullname: str) -> int:
    """Fullnames count up in base 36 after the ``tN_`` prefix."""
    try:
        return int(fullname.partition("_")[2], 36)
    except ValueError:
        return -1


def _float_header(response: httpx.Response, name: str) -> float | None:
    try:
        return float(response.headers.get(name, ""))
    except ValueError:
        return None


def _reset(response: httpx.Response) -> float | None:
    reset = _float_header(response, "X-Ratelimit-Reset")
    return None if reset is None else max(0.0, reset)


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> RedditSource:
    parsed = parse_config(RedditConfig, config, "reddit")
    if not parsed.queries and search is not None:
        queries = tuple(dict.fromkeys(search.terms))
        parsed = parsed.model_copy(update={"queries": queries})
    return RedditSource(parsed, http)
