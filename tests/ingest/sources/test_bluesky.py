"""Bluesky Jetstream connector against a local websocket server replaying recorded frames."""

from __future__ import annotations

import json
import socket
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest

from earful.ingest.base import Page, Post, TransientSourceError
from earful.ingest.sources.bluesky import BlueskyConfig, BlueskySource, build, parse_event
from tests.ingest.sources.replay_server import WebSocketReplay, fixture_text

T = 1764065160000000  # time_us of the first post in the recording
FRAMES = fixture_text("bluesky", "jetstream_frames.jsonl").splitlines()
POST_IDS = [
    "did:plc:ewvi7nxzyoun6zhxrhs64oiz/3lbxacme0001a",
    "did:plc:4nq2k7vj3rdzbwmbh5hw6tfx/3lbxacme0002b",
    "did:plc:z72i7hdynmk6r22z27h6tvur/3lbxacme0003c",
    "did:web:status.acme.example/3lbxacme0005e",
    "did:plc:z72i7hdynmk6r22z27h6tvur/3lbxacme0008h",
    "did:plc:ewvi7nxzyoun6zhxrhs64oiz/3lbxacme0009i",
]


def frame_times() -> list[int]:
    """time_us of each recorded frame; a cut frame sits at its predecessor's time."""
    times: list[int] = []
    for frame in FRAMES:
        try:
            times.append(json.loads(frame)["time_us"])
        except ValueError:
            times.append(times[-1])
    return times


class Jetstream:
    """Replays the recording like Jetstream: from ``cursor`` when given; the first
    connection drops after ``drop_after`` frames."""

    def __init__(self, drop_after: int) -> None:
        self.drop_after = drop_after
        self.connections = 0

    def __call__(self, path: str) -> tuple[list[str], bool]:
        self.connections += 1
        cursor = parse_qs(urlsplit(path).query).get("cursor")
        if cursor is None:
            return FRAMES[: self.drop_after], True
        start = int(cursor[0])
        return [f for f, t in zip(FRAMES, frame_times(), strict=True) if t >= start], True


def source(url: str, **config: object) -> BlueskySource:
    values = {"url": url, "rewind_s": 0.5, "batch_wait_s": 0.05, **config}
    return BlueskySource(BlueskyConfig.model_validate(values), idle_s=0.2)


def read_until_drop(bluesky: BlueskySource, cursor: str | None) -> list[Page]:
    pages: list[Page] = []
    with pytest.raises(TransientSourceError, match="closed"):
        for page in bluesky.stream(cursor):
            pages.append(page)
    return pages


def test_reconnect_rewinds_from_the_cursor_and_replays_idempotently() -> None:
    script = Jetstream(drop_after=7)  # drops after the Japanese post
    with WebSocketReplay(script) as ws:
        bluesky = source(ws.url)
        first = read_until_drop(bluesky, None)
        cursor = first[-1].cursor
        second = read_until_drop(bluesky, cursor)

    assert cursor == str(T + 1_000_000)  # the last event read before the drop
    assert parse_qs(urlsplit(ws.paths[0]).query) == {"wantedCollections": ["app.bsky.feed.post"]}
    assert parse_qs(urlsplit(ws.paths[1]).query)["cursor"] == [str(T + 500_000)]  # 0.5 s back
    before = [p for page in first for p in page.posts]
    after = [p for page in second for p in page.posts]
    assert [p.native_id for p in before] == POST_IDS[:4]
    # The rewind replays two posts, parsed identically: the runner's dedup drops them.
    replayed = [p for p in after if p.native_id in {q.native_id for q in before}]
    assert [p.native_id for p in replayed] == POST_IDS[2:4]
    assert replayed == [p for p in before if p.native_id in POST_IDS[2:4]]
    assert sorted({p.native_id for p in before + after}) == sorted(POST_IDS)
    # The cut frame and the post without text are counted, never raised.
    assert sum(page.malformed for page in second) == 2
    assert second[-1].cursor == str(T + 2_000_000)
    assert second[-1].cursor_time == datetime(2025, 11, 25, 10, 6, 2, tzinfo=UTC)


def test_posts_carry_replies_quotes_tags_and_languages() -> None:
    posts: dict[str, Post] = {}
    for frame in FRAMES:
        try:
            post = parse_event(json.loads(frame))
        except (ValueError, KeyError):
            continue
        if post is not None:
            posts[post.native_id] = post
    assert list(posts) == POST_IDS  # no identity, account, delete or update events

    first, reply, quote, japanese, _, media_quote = posts.values()
    assert first.text == "is acme down? the app won't load" and first.lang == "en"
    assert first.author_handle == "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    assert first.url == (
        "https://bsky.app/profile/did:plc:ewvi7nxzyoun6zhxrhs64oiz/post/3lbxacme0001a"
    )
    assert first.created_at == datetime(2025, 11, 25, 10, 6, 0, 10_000, tzinfo=UTC)
    assert reply.kind == "reply" and reply.in_reply_to == first.native_id
    assert reply.reply_to_handle == "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
    assert quote.kind == "quote" and quote.hashtags == ("AcmeOutage",)
    assert quote.metadata["quote_of"] == "bluesky:did:web:status.acme.example/3lbxstatus001"
    assert media_quote.kind == "quote"
    assert media_quote.metadata["quote_of"] == f"bluesky:{POST_IDS[4]}"
    # A createdAt without a time zone falls back to Jetstream's own time.
    assert japanese.lang == "ja" and japanese.created_at == datetime(
        2025, 11, 25, 10, 6, 1, tzinfo=UTC
    )


def test_quiet_stream_yields_empty_pages_that_keep_the_cursor() -> None:
    with WebSocketReplay(lambda path: ([], False)) as ws:
        stream = source(ws.url).stream(str(T))
        page = next(stream)
        stream.close()
    assert page.posts == () and page.cursor == str(T)


def test_unreachable_jetstream_is_transient() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(TransientSourceError, match="websocket"):
        next(source(f"ws://127.0.0.1:{port}", open_timeout_s=2).stream(None))


def test_build_asks_for_wanted_dids() -> None:
    bluesky = build({"wanted_dids": ["did:web:status.acme.example"], "rewind_s": 2}, None)  # type: ignore[arg-type]
    query = parse_qs(urlsplit(bluesky.subscribe_url(str(T))).query)
    assert query["wantedDids"] == ["did:web:status.acme.example"]
    assert query["cursor"] == [str(T - 2_000_000)]
