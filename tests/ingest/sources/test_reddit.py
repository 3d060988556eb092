"""Reddit connector against a local server replaying OAuth, listings and rate-limit headers."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from urllib.parse import parse_qs

import httpx
import pytest

from earful.ingest.base import RateLimited, SearchTerms, SourceError, TransientSourceError
from earful.ingest.sources.reddit import RedditConfig, RedditSource, build
from tests.ingest.sources.replay_server import ReplayServer, Reply, fixture

NOW = datetime(2025, 11, 25, 10, 12, tzinfo=UTC)
TOKEN = "/api/v1/access_token"
UA = "linux:earful-test:0.1 (by /u/earful_ops)"


@pytest.fixture
def server(server: ReplayServer) -> ReplayServer:
    """The shared replay server, answering the OAuth token request too."""
    server.add(TOKEN, fixture("reddit", "token"))
    return server


def reddit(server: ReplayServer, http: httpx.Client, **config: object) -> RedditSource:
    values: dict[str, object] = {
        "client_id": "p-jcoLKBynTLew",
        "client_secret": "gko_LXELoV07ZBNUXrvWZfzE3aI",
        "user_agent": UA,
        "auth_url": server.url,
        "api_url": server.url,
        "queries": ["acme"],
        **config,
    }
    return RedditSource(RedditConfig.model_validate(values), http, clock=lambda: NOW)


def api_requests(server: ReplayServer) -> list[tuple[str, str | None]]:
    return [(r.path, r.param("after")) for r in server.requests if r.path != TOKEN]


def test_client_credentials_token_is_fetched_once_and_sent_as_bearer(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/search", fixture("reddit", "search_new"))
    source = reddit(server, http)
    page = source.fetch(None)
    source.fetch(page.cursor)

    token_requests = [r for r in server.requests if r.path == TOKEN]
    assert len(token_requests) == 1
    auth = token_requests[0].headers["authorization"]
    assert base64.b64decode(auth.removeprefix("Basic ")) == (
        b"p-jcoLKBynTLew:gko_LXELoV07ZBNUXrvWZfzE3aI"
    )
    assert parse_qs(token_requests[0].body.decode()) == {"grant_type": ["client_credentials"]}
    search = [r for r in server.requests if r.path == "/search"]
    assert all(
        r.headers["authorization"] == "Bearer eyJhbGciOiJSUzI1NiIsImtpZCI6IlNIQTI1Njpz"
        and r.headers["user-agent"] == UA
        for r in search
    )
    assert search[0].param("sort") == "new" and search[0].param("q") == "acme"
    assert search[0].param("limit") == "100" and search[0].param("raw_json") == "1"


def test_first_poll_reads_one_page_and_counts_malformed_things(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/search", fixture("reddit", "search_new"))
    page = reddit(server, http).fetch(None)

    assert api_requests(server) == [("/search", None)]  # no backfill beyond the newest page
    assert page.malformed == 1
    post, removed = page.posts
    assert post.native_id == "t3_1p6k2zq" and post.kind == "post"
    assert (
        post.text == "Acme Cloud down in eu-west?\nAPI gateway 502s since 10:05 UTC, anyone else?"
    )
    assert post.created_at == datetime(2025, 11, 25, 10, 10, tzinfo=UTC)
    assert (
        post.url
        == "https://www.reddit.com/r/sysadmin/comments/1p6k2zq/acme_cloud_down_in_eu-west?/"
    )
    assert post.engagement.likes == 57 and post.engagement.replies == 23
    assert post.metadata["subreddit"] == "sysadmin"
    assert removed.text == "Acme Pay checkout failing"  # a removed body leaves the title
    assert json.loads(page.cursor or "") == {"search:acme": "t3_1p6k2zq"}


def test_catches_up_through_after_until_it_reaches_the_cursor(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/search", fixture("reddit", "search_new"), fixture("reddit", "search_new_page2"))
    page = reddit(server, http).fetch(json.dumps({"search:acme": "t3_1p6jzzz"}))

    assert api_requests(server) == [("/search", None), ("/search", "t3_1p6k1aa")]
    # t3_1p6jz9c is older than the cursor: read before, not repeated.
    assert [p.native_id for p in page.posts] == ["t3_1p6k2zq", "t3_1p6k1xa", "t3_1p6k0b2"]
    assert page.posts[2].metadata["link"] == "https://status.acme.example/"
    assert json.loads(page.cursor or "") == {"search:acme": "t3_1p6k2zq"}


def test_comments_skip_removed_ones_and_a_low_budget_waits_for_the_reset(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/r/sysadmin/comments", fixture("reddit", "sub_comments_low_budget"))
    source = reddit(server, http, queries=[], subreddits=["r/sysadmin"], poll_interval_s=60)
    assert source.rotation.take() == "new:sysadmin"  # new posts first, then comments
    page = source.fetch(json.dumps({"comments:sysadmin": "t1_mz8k2a0"}))

    assert [p.native_id for p in page.posts] == ["t1_mz8k3a1", "t1_mz8k2b0"]
    first, downvoted = page.posts
    assert first.kind == "comment" and first.in_reply_to == "t3_1p6k2zq"
    assert downvoted.engagement.likes is None  # a negative score is not a like count
    assert page.wait_s == 95.0  # 1 request left: wait for X-Ratelimit-Reset
    assert json.loads(page.cursor or "")["comments:sysadmin"] == "t1_mz8k3a1"


def test_429_waits_for_the_ratelimit_reset(server: ReplayServer, http: httpx.Client) -> None:
    server.add("/search", fixture("reddit", "rate_limited"))
    with pytest.raises(RateLimited) as caught:
        reddit(server, http).fetch(None)
    assert caught.value.retry_after == 233.0


def test_api_401_renews_the_token_on_the_next_fetch(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/search", fixture("reddit", "api_unauthorized"), fixture("reddit", "search_new"))
    source = reddit(server, http)
    with pytest.raises(TransientSourceError, match="renewing"):
        source.fetch(None)
    assert len(source.fetch(None).posts) == 2
    assert [r.path for r in server.requests].count(TOKEN) == 2


def test_rejected_credentials_are_a_lasting_error(server: ReplayServer, http: httpx.Client) -> None:
    server.replace(TOKEN, fixture("reddit", "token_rejected"))
    with pytest.raises(SourceError, match="401") as caught:
        reddit(server, http).fetch(None)
    assert not isinstance(caught.value, TransientSourceError)


def test_a_forbidden_subreddit_does_not_block_the_other_feeds(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/r/acmeinternal/new", fixture("reddit", "private_subreddit"))
    server.add("/search", fixture("reddit", "search_new"))
    source = reddit(server, http, subreddits=["acmeinternal"], comments=False)
    source.fetch(None)  # search:acme
    with pytest.raises(SourceError, match="403"):
        source.fetch(None)  # new:acmeinternal
    assert len(source.fetch(None).posts) == 2  # back to search:acme


@pytest.mark.parametrize(
    "reply",
    [
        Reply(503, b"<html><body>all our servers are busy</body></html>"),
        fixture("reddit", "search_new").cut(0.3),
        Reply.json({"kind": "t3", "data": {}}),
    ],
    ids=["503", "truncated", "not-a-listing"],
)
def test_bad_answers_raise_source_errors(
    server: ReplayServer, http: httpx.Client, reply: Reply
) -> None:
    server.add("/search", reply)
    with pytest.raises(SourceError):
        reddit(server, http).fetch(None)


def test_build_searches_the_rules_terms(http: httpx.Client) -> None:
    source = build(
        {"client_id": "x", "client_secret": "y", "subreddits": ["sysadmin"]},
        http,
        SearchTerms(terms=("Acme", "Acme Pay")),
    )
    assert source.rotation.keys == (
        "search:Acme",
        "search:Acme Pay",
        "new:sysadmin",
        "comments:sysadmin",
    )
