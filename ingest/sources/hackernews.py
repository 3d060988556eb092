"""Hacker News: Algolia ``search_by_date`` polling, the Firebase items API as a fallback.

Algolia (default): one query per tracked term, polled in turn with
``numericFilters=created_at_i>=T`` where ``T`` is the newest ``created_at_i``
seen for that query. Hits in the same second as ``T`` that were already
returned are remembered in the cursor, so a poll neither repeats nor misses
posts that share a second. Results come newest first, up to ``max_pages``
pages per poll (Algolia stops at about 1,000 hits a query anyway).

Firebase (``api: firebase``, or after ``fallback_after`` Algolia failures in a
row, since Algolia's HN search is no longer maintained): reads
``maxitem.json`` and then every item id after the last one read, at most
``firebase_batch`` per poll. That is the whole site, so the runner's tracking
rules do the filtering. While on the fallback, Algolia is tried again every
``retry_algolia_every`` polls; both cursors live in one JSON object and the
mention id is the HN item id either way, so a switch neither repeats nor skips.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, Literal

import httpx
from pydantic import Field

from earful.events import Engagement
from earful.ingest.base import Page, Post, RateLimited, SearchTerms, SourceError
from earful.ingest.sources._common import (
    Clock,
    ConnectorConfig,
    NewestRead,
    Rotation,
    base_url,
    count_or_none,
    dump_cursor,
    from_unix,
    get_json,
    html_to_text,
    load_cursor,
    now_utc,
    parse_config,
)

__all__ = ["HackerNewsConfig", "HackerNewsSource", "build"]

log = logging.getLogger(__name__)

ITEM_URL = "https://news.ycombinator.com/item?id={}"


class HackerNewsConfig(ConnectorConfig):
    queries: tuple[str, ...] = Field(
        default=(), description="Algolia queries; default: the tracking rules' terms."
    )
    tags: str = Field(default="(story,comment)", description="Algolia tags filter.")
    api: Literal["algolia", "firebase"] = "algolia"
    algolia_url: str = "https://hn.algolia.com/api/v1"
    firebase_url: str = "https://hacker-news.firebaseio.com/v0"
    poll_interval_s: float = Field(default=60.0, gt=0, description="Each query once per interval.")
    hits_per_page: int = Field(default=100, ge=1, le=1000)
    max_pages: int = Field(default=10, ge=1, description="Pages per query and poll.")
    lookback_s: float = Field(default=3600.0, ge=0, description="How far back a first poll goes.")
    fallback_after: int = Field(default=3, ge=1, description="Algolia failures before Firebase.")
    retry_algolia_every: int = Field(default=10, ge=1)
    firebase_batch: int = Field(default=100, ge=1, le=1000, description="Items read per poll.")


class HackerNewsSource:
    """Polling connector; see the module docstring."""

    def __init__(
        self,
        config: HackerNewsConfig,
        http: httpx.Client,
        *,
        name: str = "hackernews",
        clock: Clock = now_utc,
    ) -> None:
        self.config = config
        self.http = http
        self.name = name
        self.clock = clock
        self.algolia = base_url(config.algolia_url)
        self.firebase = base_url(config.firebase_url)
        self.rotation = Rotation(config.queries) if config.queries else None
        self.on_fallback = config.api == "firebase"
        self._failures = 0
        self._since_fallback = 0

    # -- polling ------------------------------------------------------------------

    def fetch(self, cursor: str | None) -> Page:
        state = load_cursor(cursor, self.name)
        if self.on_fallback and self.config.api == "algolia":
            self._since_fallback += 1
            if self._since_fallback >= self.config.retry_algolia_every:
                self.on_fallback = False  # give Algolia another try this poll
        if self.on_fallback or self.rotation is None:
            return self._fetch_firebase(state)
        try:
            page = self._fetch_algolia(state, self.rotation)
        except RateLimited:
            raise  # Algolia works, it only wants us slower
        except SourceError:
            self._failures += 1
            if self._failures >= self.config.fallback_after:
                log.warning(
                    "%s: Algolia failed %d times in a row; using the Firebase API",
                    self.name,
                    self._failures,
                )
                self.on_fallback = True
                self._since_fallback = 0
            raise
        self._failures = 0
        return page

    def _fetch_algolia(self, state: dict[str, Any], rotation: Rotation) -> Page:
        query = rotation.take()
        queries = state.setdefault("algolia", {})
        if not isinstance(queries, dict):
            queries = state["algolia"] = {}
        mark = queries.get(query)
        if isinstance(mark, dict) and isinstance(mark.get("t"), int):
            read = NewestRead(mark["t"], (str(i) for i in mark.get("ids", [])))
        else:
            since = int((self.clock() - timedelta(seconds=self.config.lookback_s)).timestamp())
            read = NewestRead(since, ())
        posts: list[Post] = []
        malformed = 0
        for number in range(self.config.max_pages):
            data, _ = get_json(
                self.http,
                f"{self.algolia}/search_by_date",
                source=self.name,
                params={
                    "query": query,
                    "tags": self.config.tags,
                    "numericFilters": f"created_at_i>={read.since}",
                    "hitsPerPage": self.config.hits_per_page,
                    "page": number,
                },
            )
            hits, pages = _algolia_page(data, self.name)
            for hit in hits:
                try:
                    post, created = _post_from_hit(hit)
                except (KeyError, TypeError, ValueError) as exc:
                    malformed += 1
                    log.debug("%s: malformed Algolia hit %r: %s", self.name, hit, exc)
                    continue
                # Algolia returns nothing older than the mark: only its own second can repeat.
                if created == read.since and post.native_id in read.seen:
                    continue
                posts.append(post)
                read.add(created, post.native_id)
            if number + 1 >= pages or not hits:
                break
        queries[query] = {"t": read.newest, "ids": sorted(read.newest_ids)}
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=rotation.wait_s(self.config.poll_interval_s),
            malformed=malformed,
            cursor_time=from_unix(read.newest),
        )

    def _fetch_firebase(self, state: dict[str, Any]) -> Page:
        top, _ = get_json(self.http, f"{self.firebase}/maxitem.json", source=self.name)
        if isinstance(top, bool) or not isinstance(top, int):
            raise SourceError(f"{self.name}: maxitem.json is not an item id: {top!r}")
        last = state.get("item")
        if isinstance(last, bool) or not isinstance(last, int):
            last = max(0, top - self.config.firebase_batch)
        posts: list[Post] = []
        malformed = 0
        item_id = last
        cursor_time: datetime | None = None
        for item_id in range(last + 1, min(top, last + self.config.firebase_batch) + 1):
            item, _ = get_json(self.http, f"{self.firebase}/item/{item_id}.json", source=self.name)
            if item is None:
                if top - item_id < 10:
                    item_id -= 1  # not published yet: read it next poll
                    break
                continue  # an id that never became an item
            try:
                post = _post_from_item(item)
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.debug("%s: malformed item %s: %s", self.name, item_id, exc)
                continue
            if post is not None:
                posts.append(post)
                cursor_time = post.created_at
        state["item"] = item_id
        behind = top - item_id
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=0.0 if behind > 0 else self.config.poll_interval_s,
            malformed=malformed,
            cursor_time=cursor_time,
        )


def _algolia_page(data: Any, source: str) -> tuple[list[Any], int]:
    if not isinstance(data, dict) or not isinstance(data.get("hits"), list):
        raise SourceError(f"{source}: Algolia response has no 'hits' list")
    pages = data.get("nbPages")
    return data["hits"], pages if isinstance(pages, int) else 1


def _post_from_hit(hit: Mapping[str, Any]) -> tuple[Post, int]:
    created = hit["created_at_i"]
    if isinstance(created, bool) or not isinstance(created, int):
        raise ValueError(f"created_at_i is not an int: {created!r}")
    native_id = str(hit["objectID"])
    tags = hit.get("_tags") or []
    is_comment = "comment" in tags or hit.get("comment_text") is not None
    if is_comment:
        text = html_to_text(str(hit["comment_text"]))
        parent = hit.get("parent_id")
        in_reply_to = str(parent) if parent is not None else None
    else:
        title = str(hit.get("title") or "")
        body = html_to_text(str(hit.get("story_text") or ""))
        text = f"{title}\n{body}".strip()
        in_reply_to = None
    metadata: dict[str, str | int] = {}
    story_title = hit.get("story_title")
    if isinstance(story_title, str):
        metadata["story_title"] = story_title
    if isinstance(hit.get("url"), str):
        metadata["link"] = hit["url"]
    post = Post(
        source="hackernews",
        native_id=native_id,
        text=text,
        created_at=from_unix(created),
        author_handle=str(hit["author"]),
        url=ITEM_URL.format(native_id),
        lang=None,
        kind="comment" if is_comment else "post",
        in_reply_to=in_reply_to,
        engagement=Engagement(
            likes=count_or_none(hit.get("points")), replies=count_or_none(hit.get("num_comments"))
        ),
        metadata=metadata,
    )
    return post, created


def _post_from_item(item: Mapping[str, Any]) -> Post | None:
    """A Firebase item as a Post; None for deleted, dead and non-text items (jobs, polls)."""
    if item.get("deleted") or item.get("dead"):
        return None
    kind = item["type"]
    if kind not in ("story", "comment"):
        return None
    native_id = str(item["id"])
    if kind == "comment":
        text = html_to_text(str(item["text"]))
        in_reply_to = str(item["parent"]) if item.get("parent") is not None else None
    else:
        text = f"{item.get('title') or ''}\n{html_to_text(str(item.get('text') or ''))}".strip()
        in_reply_to = None
    kids = item.get("kids")
    replies = item.get("descendants") if kind == "story" else None
    if replies is None and isinstance(kids, list):
        replies = len(kids)
    metadata = {"link": item["url"]} if isinstance(item.get("url"), str) else {}
    return Post(
        source="hackernews",
        native_id=native_id,
        text=text,
        created_at=from_unix(item["time"]),
        author_handle=str(item["by"]),
        url=ITEM_URL.format(native_id),
        kind="comment" if kind == "comment" else "post",
        in_reply_to=in_reply_to,
        engagement=Engagement(
            likes=count_or_none(item.get("score")), replies=count_or_none(replies)
        ),
        metadata=metadata,
    )


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> HackerNewsSource:
    parsed = parse_config(HackerNewsConfig, config, "hackernews")
    if not parsed.queries and search is not None:
        queries = tuple(dict.fromkeys(search.terms + search.hashtags))
        parsed = parsed.model_copy(update={"queries": queries})
    if not parsed.queries and parsed.api == "algolia":
        log.warning(
            "hackernews: no queries (no terms in the tracking rules); "
            "reading every item through the Firebase API"
        )
    return HackerNewsSource(parsed, http)
