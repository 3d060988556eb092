"""Hacker News connector against a local server replaying Algolia and Firebase responses."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from earful.ingest.base import RateLimited, SearchTerms, SourceError, TransientSourceError
from earful.ingest.sources.hackernews import HackerNewsConfig, HackerNewsSource, build
from tests.ingest.sources.replay_server import Recorded, ReplayServer, Reply, fixture, fixture_json

NOW = datetime(2025, 11, 25, 10, 20, tzinfo=UTC)


def source(server: ReplayServer, http: httpx.Client, **config: object) -> HackerNewsSource:
    values: dict[str, object] = {
        "queries": ["acme"],
        "algolia_url": f"{server.url}/api/v1",
        "firebase_url": f"{server.url}/v0",
        "hits_per_page": 3,
        **config,
    }
    return HackerNewsSource(HackerNewsConfig.model_validate(values), http, clock=lambda: NOW)


def serve_items(server: ReplayServer) -> None:
    items = fixture_json("hackernews", "items.json")

    def item(request: Recorded) -> Reply:
        item_id = request.path.rsplit("/", 1)[1].removesuffix(".json")
        return Reply.json(items.get(item_id))  # unknown ids are JSON null, as on Firebase

    server.add("/v0/maxitem.json", fixture("hackernews", "maxitem"))
    for item_id in items:
        server.handle(f"/v0/item/{item_id}.json", item)
    server.handle("/v0/item/46102310.json", item)


def test_algolia_pages_through_results_and_counts_malformed_hits(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add(
        "/api/v1/search_by_date",
        fixture("hackernews", "search_page0"),
        fixture("hackernews", "search_page1"),
    )
    page = source(server, http).fetch(None)

    assert [p.native_id for p in page.posts] == ["46102311", "46102290", "46102210"]
    assert page.malformed == 1  # the hit without created_at_i
    comment, _, story = page.posts
    assert comment.kind == "comment" and comment.in_reply_to == "46102210"
    assert comment.text == (
        "Acme's API gateway has been returning 502s for us since 10:05 UTC.\n"
        "Their status page still says All Systems Operational."
    )
    assert comment.created_at == datetime(2025, 11, 25, 10, 9, 12, tzinfo=UTC)
    assert comment.url == "https://news.ycombinator.com/item?id=46102311"
    assert comment.metadata["story_title"] == "Acme Cloud outage in eu-west"
    assert story.kind == "post" and story.text == "Acme Cloud outage in eu-west"
    assert story.engagement.likes == 41 and story.engagement.replies == 2
    # First poll looks back one hour; the second page is asked for with the same filter.
    params = [(r.param("numericFilters"), r.param("page")) for r in server.requests]
    assert params == [("created_at_i>=1764062400", "0"), ("created_at_i>=1764062400", "1")]
    assert server.requests[0].param("tags") == "(story,comment)"
    assert json.loads(page.cursor or "")["algolia"]["acme"] == {
        "t": 1764065352,
        "ids": ["46102311"],
    }
    assert page.cursor_time == datetime(2025, 11, 25, 10, 9, 12, tzinfo=UTC)


def test_algolia_resumes_from_cursor_without_repeating_same_second_hits(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/api/v1/search_by_date", fixture("hackernews", "search_next"))
    cursor = json.dumps({"algolia": {"acme": {"t": 1764065352, "ids": ["46102311"]}}})
    page = source(server, http).fetch(cursor)

    assert server.requests[0].param("numericFilters") == "created_at_i>=1764065352"
    assert [p.native_id for p in page.posts] == ["46102312"]  # 46102311 was already read
    state = json.loads(page.cursor or "")
    assert state["algolia"]["acme"] == {"t": 1764065352, "ids": ["46102311", "46102312"]}


def test_queries_are_polled_in_turn_each_with_its_own_cursor(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/api/v1/search_by_date", fixture("hackernews", "search_next"))
    hn = source(server, http, queries=["acme", "acme pay"], poll_interval_s=60)
    first = hn.fetch(None)
    second = hn.fetch(first.cursor)

    assert [r.param("query") for r in server.requests] == ["acme", "acme pay"]
    assert first.wait_s == 30.0  # two queries, each once a minute
    assert set(json.loads(second.cursor or "")["algolia"]) == {"acme", "acme pay"}


def test_rate_limit_raises_with_retry_after(server: ReplayServer, http: httpx.Client) -> None:
    server.add("/api/v1/search_by_date", fixture("hackernews", "rate_limited"))
    with pytest.raises(RateLimited) as caught:
        source(server, http).fetch(None)
    assert caught.value.retry_after == 7.0


@pytest.mark.parametrize(
    "reply",
    [
        fixture("hackernews", "unavailable"),
        fixture("hackernews", "html_error_200"),
        fixture("hackernews", "search_page0").cut(0.4),
    ],
    ids=["503", "html-instead-of-json", "truncated"],
)
def test_server_errors_and_bad_bodies_are_transient(
    server: ReplayServer, http: httpx.Client, reply: Reply
) -> None:
    server.add("/api/v1/search_by_date", reply)
    with pytest.raises(TransientSourceError):
        source(server, http).fetch(None)


def test_falls_back_to_firebase_after_repeated_algolia_failures(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/api/v1/search_by_date", fixture("hackernews", "unavailable"))
    serve_items(server)
    hn = source(server, http, fallback_after=2, firebase_batch=10)
    cursor = json.dumps({"item": 46102310})
    for _ in range(2):
        with pytest.raises(TransientSourceError):
            hn.fetch(cursor)
    page = hn.fetch(cursor)

    assert hn.on_fallback
    assert [p.native_id for p in page.posts] == ["46102311", "46102312"]
    assert page.malformed == 1  # the story whose time is not a number
    assert page.posts[0].in_reply_to == "46102210"
    assert page.posts[0].text.startswith("Acme's API gateway")
    assert json.loads(page.cursor or "")["item"] == 46102315
    assert "/v0/item/46102314.json" in server.paths()  # the job was read and skipped


def test_firebase_stops_before_an_item_not_published_yet(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/v0/maxitem.json", Reply.json(46102320))
    serve_items(server)
    server.handle("/v0/item/46102316.json", lambda _: Reply.json(None))
    hn = source(server, http, api="firebase", firebase_batch=10)
    page = hn.fetch(json.dumps({"item": 46102314}))

    assert [p.native_id for p in page.posts] == []
    assert page.malformed == 1
    assert json.loads(page.cursor or "")["item"] == 46102315  # 46102316 is read next time
    assert page.wait_s == 0.0  # still behind maxitem


def test_firebase_item_page_that_is_not_an_id_is_an_error(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/v0/maxitem.json", Reply.json({"error": "Permission denied"}))
    with pytest.raises(SourceError, match="maxitem"):
        source(server, http, api="firebase").fetch(None)


def test_build_takes_queries_from_the_tracking_rules(http: httpx.Client) -> None:
    hn = build({"poll_interval_s": 30}, http, SearchTerms(terms=("Acme", "Acme Pay")))
    assert hn.rotation is not None and hn.rotation.keys == ("Acme", "Acme Pay")
    assert hn.config.poll_interval_s == 30
