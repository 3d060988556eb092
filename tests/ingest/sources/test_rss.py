"""RSS/Atom connector against a local server replaying feeds with ETag / Last-Modified."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from earful.ingest.base import RateLimited, TransientSourceError
from earful.ingest.sources.rss import RssConfig, RssSource, build
from tests.ingest.sources.replay_server import ReplayServer, Reply, fixture_text

NOW = datetime(2025, 11, 25, 10, 45, tzinfo=UTC)
ETAG = 'W/"5f2c-18c9a1b2e40"'
MODIFIED = "Tue, 25 Nov 2025 10:41:07 GMT"
RSS = fixture_text("rss", "status_history.rss").encode()
ATOM = fixture_text("rss", "blog.atom").encode()


def feed_reply(body: bytes, kind: str = "rss") -> Reply:
    headers = {
        "Content-Type": f"application/{kind}+xml; charset=utf-8",
        "ETag": ETAG,
        "Last-Modified": MODIFIED,
    }
    return Reply(200, body, headers)


def rss(http: httpx.Client, *feeds: object, **config: object) -> RssSource:
    values = {"feeds": list(feeds), **config}
    return RssSource(RssConfig.model_validate(values), http, clock=lambda: NOW)


def test_rss_entries_since_the_backfill_window_with_validators_kept(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/history.rss", feed_reply(RSS))
    url = f"{server.url}/history.rss"
    page = rss(http, {"url": url, "subject": "acme", "official": True}).fetch(None)

    assert [p.url for p in page.posts] == [
        "https://status.acme.example/incidents/n4v7c2h8q0ye",
        "https://status.acme.example/incidents/k7xq2m9d4fzt",
    ]  # oldest first; the Nov 10 item is older than a day
    assert page.malformed == 1  # the undated item
    login, elevated = page.posts
    assert login.text == "Dashboard login failures\nInvestigating - Some users cannot log in."
    assert elevated.created_at == datetime(2025, 11, 25, 10, 41, 7, tzinfo=UTC)
    assert elevated.native_id == (
        "https://status.acme.example/incidents/k7xq2m9d4fzt#2025-11-25T10:41:07+00:00"
    )
    assert elevated.kind == "article" and elevated.is_official and elevated.subjects == ("acme",)
    assert elevated.author_handle == "Acme Cloud Status - Incident History"
    mark = json.loads(page.cursor or "")[url]
    assert (mark["etag"], mark["modified"]) == (ETAG, MODIFIED)


def test_unchanged_feed_is_a_304_and_an_edited_entry_is_a_new_post(
    server: ReplayServer, http: httpx.Client
) -> None:
    edited = RSS.replace(
        b"<pubDate>Tue, 25 Nov 2025 10:41:07 +0000</pubDate>\n      <link>",
        b"<pubDate>Tue, 25 Nov 2025 10:50:00 +0000</pubDate>\n      <link>",
    )
    server.add("/history.rss", feed_reply(RSS), Reply(304), feed_reply(edited))
    source = rss(http, f"{server.url}/history.rss")
    first = source.fetch(None)
    unchanged = source.fetch(first.cursor)
    changed = source.fetch(unchanged.cursor)

    conditional = server.requests[1].headers
    assert conditional["if-none-match"] == ETAG and conditional["if-modified-since"] == MODIFIED
    assert unchanged.posts == () and unchanged.cursor == first.cursor
    assert [p.native_id for p in changed.posts] == [
        "https://status.acme.example/incidents/k7xq2m9d4fzt#2025-11-25T10:50:00+00:00"
    ]
    assert not changed.posts[0].is_official  # not marked official in the config


def test_atom_dates_authors_and_summaries(server: ReplayServer, http: httpx.Client) -> None:
    server.add("/feed.atom", feed_reply(ATOM, "atom"))
    page = rss(http, f"{server.url}/feed.atom", backfill_s=7 * 86400).fetch(None)

    german, review = page.posts
    assert german.created_at == datetime(2025, 11, 25, 8, 0, tzinfo=UTC)  # +01:00 to UTC
    assert german.text == "Über unsere neue Region in Frankfurt\nAb heute in eu-central verfügbar."
    assert german.author_handle == "Acme Engineering Blog"  # no author: the feed's title
    assert review.author_handle == "Dana Reyes"
    assert review.created_at == datetime(2025, 11, 25, 12, 0, tzinfo=UTC)  # updated, not published
    assert review.url == "https://blog.acme.example/2025/11/25/eu-west-review"


@pytest.mark.parametrize(
    "reply",
    [
        feed_reply(RSS[: len(RSS) * 2 // 3]),  # complete response, document cut short
        feed_reply(RSS).cut(0.5),  # connection dropped mid-body
        Reply(
            200,
            b"<html><body><h1>Welcome to nginx!</h1></body></html>",
            {"Content-Type": "text/html"},
        ),
        Reply(502, b"Bad Gateway"),
    ],
    ids=["cut-document", "dropped-connection", "html-page", "502"],
)
def test_broken_feeds_are_transient(server: ReplayServer, http: httpx.Client, reply: Reply) -> None:
    server.add("/history.rss", reply)
    with pytest.raises(TransientSourceError):
        rss(http, f"{server.url}/history.rss").fetch(None)


def test_rate_limited_feed(server: ReplayServer, http: httpx.Client) -> None:
    server.add("/history.rss", Reply(429, b"slow down", {"Retry-After": "30"}))
    with pytest.raises(RateLimited) as caught:
        rss(http, f"{server.url}/history.rss").fetch(None)
    assert caught.value.retry_after == 30.0


def test_build_accepts_plain_urls(http: httpx.Client) -> None:
    source = build({"feeds": ["https://status.acme.example/history.atom"]}, http)
    assert list(source.feeds) == ["https://status.acme.example/history.atom"]
