"""Mastodon connector against local servers replaying timelines, rate limits and the stream."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from earful.errors import ConfigError
from earful.ingest.base import Page, RateLimited, SearchTerms, SourceError, TransientSourceError
from earful.ingest.sources.mastodon import (
    MastodonConfig,
    MastodonSource,
    MastodonStreamingSource,
    build,
)
from tests.ingest.sources.replay_server import (
    ReplayServer,
    Reply,
    WebSocketReplay,
    fixture,
    fixture_text,
)

NOW = datetime(2025, 11, 25, 10, 9, tzinfo=UTC)
TAG = "/api/v1/timelines/tag/acme"


def key(server: ReplayServer, feed: str = "#acme") -> str:
    return f"{server.url.removeprefix('http://')}{feed}"


def polling(http: httpx.Client, *instances: object, **config: object) -> MastodonSource:
    values = {"instances": list(instances), "hashtags": ["acme"], **config}
    return MastodonSource(MastodonConfig.model_validate(values), http, clock=lambda: NOW)


def test_first_poll_reads_the_newest_page_and_takes_the_cursor_from_the_link_header(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add(TAG, fixture("mastodon", "tag_latest"))
    page = polling(http, server.url).fetch(None)

    request = server.requests[0]
    assert request.param("limit") == "40" and request.param("min_id") is None
    assert "authorization" not in request.headers  # public timeline, no token
    assert page.malformed == 1  # the status without created_at
    first, reply = page.posts
    assert first.native_id == "https://mastodon.social/users/ana/statuses/113541200000000003"
    assert first.text == "Is #acme down for anyone else? Login page just spins & spins."
    assert first.author_handle == f"ana@{server.url.removeprefix('http://')}"
    assert first.created_at == datetime(2025, 11, 25, 10, 6, 41, tzinfo=UTC)
    assert first.hashtags == ("acme",) and first.lang == "en"
    assert first.engagement.likes == 9 and first.engagement.reposts == 5
    assert reply.kind == "reply" and reply.author_handle == "ops_bert@fosstodon.org"
    assert reply.reply_to_handle == f"acmestatus@{server.url.removeprefix('http://')}"
    assert reply.text == "@acmestatus your API returns 502 since 10:05 UTC\neu-west only?"
    assert json.loads(page.cursor or "") == {key(server): "113541200000000003"}
    assert page.wait_s == 60.0


def test_resumes_with_min_id_keeps_the_turn_on_a_full_page_and_waits_for_the_reset(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add(TAG, fixture("mastodon", "tag_after_cursor"))
    source = polling(http, server.url, limit=2, min_remaining=5)
    page = source.fetch(json.dumps({key(server): "113541200000000003"}))

    assert server.requests[0].param("min_id") == "113541200000000003"
    assert [p.text for p in page.posts] == [
        "acme outage\nAcme Pay works again here 🎉 (Berlin)",  # content warning first
        "still nothing from #acme support…",
    ]
    assert page.posts[0].lang == "de" and page.posts[0].metadata["edited"] is True
    assert json.loads(page.cursor or "") == {key(server): "113541200000000005"}
    # Only 2 requests left in the window (reset 10:10:00, now 10:09:00): wait a minute.
    assert page.wait_s == 60.0
    assert source.rotation.take() == key(server)  # a full page: the same feed goes next


def test_several_instances_are_polled_in_turn_with_their_own_cursors(http: httpx.Client) -> None:
    with ReplayServer() as one, ReplayServer() as two:
        one.add(TAG, fixture("mastodon", "tag_latest"))
        one.add("/api/v1/timelines/public", fixture("mastodon", "tag_empty"))
        two.add(TAG, fixture("mastodon", "tag_empty"))
        two.add("/api/v1/timelines/public", fixture("mastodon", "public_page"))
        source = polling(
            http, one.url, {"url": two.url, "access_token": "app-token"}, public_timeline=True
        )
        cursor = None
        for _ in range(4):
            cursor = source.fetch(cursor).cursor
        assert [r.path for r in one.requests] == [TAG, "/api/v1/timelines/public"]
        assert [r.path for r in two.requests] == [TAG, "/api/v1/timelines/public"]
        assert all(r.headers["authorization"] == "Bearer app-token" for r in two.requests)
        state = json.loads(cursor or "")
        assert state[key(one)] == "113541200000000003"
        assert state[key(two, " public")] == "113541200000000011"
        assert key(two) not in state  # an empty tag timeline leaves no cursor


def test_boosts_are_reposts_of_the_original_and_bots_are_marked(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add("/api/v1/timelines/public", fixture("mastodon", "public_page"))
    page = polling(http, server.url, hashtags=[], public_timeline=True).fetch(None)

    bot, boost = page.posts
    assert bot.metadata["bot"] is True and bot.author_handle == "downbot@botsin.space"
    assert boost.kind == "repost"
    assert boost.repost_of == "https://mastodon.social/users/acmestatus/statuses/113541199000000000"
    assert boost.text.startswith("We are investigating elevated error rates")
    assert boost.author_handle == "lena@chaos.social"  # who boosted, not who wrote it


def test_rate_limit_without_retry_after_waits_until_the_iso_reset(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add(TAG, fixture("mastodon", "rate_limited"))
    with pytest.raises(RateLimited) as caught:
        polling(http, server.url).fetch(None)
    assert caught.value.retry_after == 16 * 60.0  # reset 10:25, now 10:09


def test_revoked_token_is_a_lasting_error(server: ReplayServer, http: httpx.Client) -> None:
    server.add(TAG, fixture("mastodon", "unauthorized"))
    with pytest.raises(SourceError, match="401") as caught:
        polling(http, {"url": server.url, "access_token": "old"}).fetch(None)
    assert not isinstance(caught.value, TransientSourceError)


@pytest.mark.parametrize(
    "reply",
    [Reply(502, b"<html>Bad Gateway</html>"), fixture("mastodon", "tag_latest").cut(0.5)],
    ids=["502", "truncated"],
)
def test_bad_gateway_and_cut_bodies_are_transient(
    server: ReplayServer, http: httpx.Client, reply: Reply
) -> None:
    server.add(TAG, reply)
    with pytest.raises(TransientSourceError):
        polling(http, server.url).fetch(None)


def test_streaming_catches_up_over_rest_then_streams_and_resumes_after_a_drop(
    server: ReplayServer, http: httpx.Client
) -> None:
    frames = fixture_text("mastodon", "streaming_frames.jsonl").splitlines()
    with WebSocketReplay(lambda path: (frames, True), expect_messages=2) as ws:
        instance = json.loads(fixture("mastodon", "instance_v2").body)
        instance["configuration"]["urls"]["streaming"] = ws.url
        server.add("/api/v2/instance", Reply.json(instance))
        server.add(TAG, fixture("mastodon", "tag_after_cursor"), fixture("mastodon", "tag_empty"))
        server.add("/api/v1/timelines/public", fixture("mastodon", "tag_empty"))
        config = MastodonConfig.model_validate(
            {
                "instances": [server.url],
                "hashtags": ["acme"],
                "public_timeline": True,
                "user_token": "user-token",
                "limit": 2,
            }
        )
        source = MastodonStreamingSource(config, http, clock=lambda: NOW, idle_s=0.2)
        cursor = json.dumps({key(server): "113541200000000003"})

        pages: list[Page] = []
        with pytest.raises(TransientSourceError, match="closed"):
            for page in source.stream(cursor):
                pages.append(page)
                cursor = page.cursor or cursor

    # Catch-up: the tag feed from its cursor until a page is not full; public had no cursor.
    assert [(r.path, r.param("min_id")) for r in server.requests[:2]] == [
        (TAG, "113541200000000003"),
        (TAG, "113541200000000005"),
    ]
    assert ws.headers[0]["authorization"] == "Bearer user-token"
    assert [json.loads(m) for m in ws.received] == [
        {"type": "subscribe", "stream": "hashtag", "tag": "acme"},
        {"type": "subscribe", "stream": "public"},
    ]
    streamed = [p for page in pages[2:] for p in page.posts]
    # Updates only: the delete and the edit are skipped, the cut payload is counted.
    assert [p.text for p in streamed] == [
        "#acme dashboard loads again, API still 502",
        "acme down again?",
    ]
    assert sum(page.malformed for page in pages[2:]) == 1
    assert json.loads(cursor) == {
        key(server): "113541200000000020",
        key(server, " public"): "113541200000000021",
    }


def test_build_follows_the_rules_hashtags_and_streams_with_a_user_token(
    http: httpx.Client,
) -> None:
    terms = SearchTerms(hashtags=("Acme", "acmepay"))
    polling_source = build({"instances": ["mastodon.social", "fosstodon.org"]}, http, terms)
    assert isinstance(polling_source, MastodonSource)
    assert set(polling_source.feeds) == {
        "mastodon.social#acme",
        "mastodon.social#acmepay",
        "fosstodon.org#acme",
        "fosstodon.org#acmepay",
    }
    assert isinstance(build({"user_token": "t"}, http, terms), MastodonStreamingSource)
    with pytest.raises(ConfigError, match="no hashtags"):
        build({}, http, SearchTerms(terms=("acme",)))
    with pytest.raises(ConfigError, match="instancez"):
        build({"instancez": ["x"]}, http, terms)
