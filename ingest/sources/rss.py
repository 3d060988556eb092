"""RSS and Atom feeds (vendor status feeds, blogs) with conditional GET.

Each feed is polled in turn with ``If-None-Match`` / ``If-Modified-Since``
from its last ``ETag`` / ``Last-Modified``; a 304 costs the vendor nothing
and yields nothing. Feeds are parsed with feedparser (every RSS and Atom
dialect, broken dates and encodings). Vendors edit entries in place, so an
entry's id is its ``id`` (or ``link``) plus its ``updated`` time: an edit is
a new post. Feeds marked ``official`` (the organisation's own) produce
``is_official`` posts; ``subject`` ties a feed to a tracking subject.

Cursor per feed: the validators above plus the newest entry time read and
the entry ids at that time. A body that fails to parse, or looks cut short,
is a TransientSourceError and its validators are not kept, so the next poll
fetches it whole.
"""

from __future__ import annotations

import calendar
import logging
import time
import xml.sax
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import feedparser  # type: ignore[import-untyped]
import httpx
from pydantic import Field

from earful.ingest.base import Page, Post, SearchTerms, TransientSourceError
from earful.ingest.sources._common import (
    BARE_URLS,
    Clock,
    ConnectorConfig,
    Rotation,
    dump_cursor,
    dump_time_mark,
    html_to_text,
    load_cursor,
    load_time_mark,
    now_utc,
    parse_config,
    send,
)

__all__ = ["Feed", "RssConfig", "RssSource", "build"]

log = logging.getLogger(__name__)


class Feed(ConnectorConfig):
    url: str
    subject: str | None = Field(default=None, description="Tracking subject the feed is about.")
    official: bool = Field(default=False, description="The organisation's own feed.")


class RssConfig(ConnectorConfig):
    feeds: Annotated[tuple[Feed, ...], BARE_URLS] = Field(min_length=1)
    poll_interval_s: float = Field(default=300.0, gt=0, description="Each feed once per interval.")
    backfill_s: float = Field(default=86400.0, ge=0, description="How far back a first poll goes.")


class RssSource:
    """Polling connector; see the module docstring."""

    def __init__(
        self, config: RssConfig, http: httpx.Client, *, name: str = "rss", clock: Clock = now_utc
    ) -> None:
        self.config = config
        self.http = http
        self.name = name
        self.clock = clock
        self.feeds = {f.url: f for f in config.feeds}
        self.rotation = Rotation(list(self.feeds))

    def fetch(self, cursor: str | None) -> Page:
        state = load_cursor(cursor, self.name)
        url = self.rotation.take()
        feed = self.feeds[url]
        stored = state.get(url)
        mark: dict[str, Any] = stored if isinstance(stored, dict) else {}
        headers: dict[str, str] = {}
        if isinstance(mark.get("etag"), str):
            headers["If-None-Match"] = mark["etag"]
        if isinstance(mark.get("modified"), str):
            headers["If-Modified-Since"] = mark["modified"]
        wait = self.rotation.wait_s(self.config.poll_interval_s)
        response = send(
            self.http, "GET", url, source=self.name, headers=headers, ok_statuses=(304,)
        )
        if response.status_code == 304:
            return Page(posts=(), cursor=cursor, wait_s=wait)
        parsed = _parse(response, self.name)
        read = load_time_mark(mark, self.clock() - timedelta(seconds=self.config.backfill_s))
        feed_title = str(parsed.feed.get("title") or url)
        posts: list[Post] = []
        malformed = 0
        for entry in parsed.entries:
            try:
                post = _post(entry, feed, feed_title)
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.debug("%s: malformed entry in %s: %s", self.name, url, exc)
                continue
            if not read.already_read(post.created_at, post.native_id):
                posts.append(post)
                read.add(post.created_at, post.native_id)
        posts.sort(key=lambda p: p.created_at)
        new_mark = dump_time_mark(read)
        for header, key in (("ETag", "etag"), ("Last-Modified", "modified")):
            if header in response.headers:
                new_mark[key] = response.headers[header]
        state[url] = new_mark
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=wait,
            malformed=malformed,
            cursor_time=read.newest,
        )


def _parse(response: httpx.Response, source: str) -> Any:
    body = response.content
    parsed = feedparser.parse(
        body, response_headers={k.lower(): v for k, v in response.headers.items()}
    )
    problem = parsed.get("bozo_exception") if parsed.get("bozo") else None
    if isinstance(problem, xml.sax.SAXException):
        # feedparser's loose parser recovers what it can; a cut body must be fetched again.
        tail = body.rstrip()[-16:].lower()
        if not parsed.entries or not (
            tail.endswith(b"</rss>") or tail.endswith(b"</feed>") or tail.endswith(b"</rdf:rdf>")
        ):
            raise TransientSourceError(
                f"{source}: {response.request.url} is not a well-formed feed "
                f"({len(body)} bytes): {problem}"
            )
        log.info(
            "%s: %s is not well-formed XML, parsed leniently: %s",
            source,
            response.request.url,
            problem,
        )
    if not parsed.get("version") and not parsed.entries:
        raise TransientSourceError(f"{source}: {response.request.url} is not an RSS or Atom feed")
    return parsed


def _post(entry: Any, feed: Feed, feed_title: str) -> Post:
    # dict.get: FeedParserDict maps a missing updated_parsed to published_parsed with a warning.
    stamp = dict.get(entry, "updated_parsed") or dict.get(entry, "published_parsed")
    if not isinstance(stamp, time.struct_time):
        raise ValueError("entry has no usable updated/published date")
    created = datetime.fromtimestamp(calendar.timegm(stamp), UTC)
    entry_id = entry.get("id") or entry.get("link")
    if not entry_id:
        raise ValueError("entry has neither id nor link")
    title = html_to_text(str(entry.get("title") or ""))
    summary = html_to_text(str(entry.get("summary") or ""))
    text = f"{title}\n{summary}".strip()
    if not text:
        raise ValueError("entry has no title or summary")
    link = entry.get("link")
    return Post(
        source="rss",
        native_id=f"{entry_id}#{created.isoformat()}",
        text=text,
        created_at=created,
        author_handle=str(entry.get("author") or feed_title),
        url=link if isinstance(link, str) else None,
        kind="article",
        is_official=feed.official,
        metadata={"feed": feed_title, "entry_id": str(entry_id)},
        subjects=(feed.subject,) if feed.subject else (),
    )


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> RssSource:
    return RssSource(parse_config(RssConfig, config, "rss"), http)
