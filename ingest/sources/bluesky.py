"""Bluesky through Jetstream: the whole network's new posts over one websocket, no login.

Jetstream sends every commit on the network as JSON; we ask only for
``app.bsky.feed.post`` and keep ``create`` operations (edits and deletes are
skipped; identity and account events only move the cursor). Jetstream is the
whole network, so the runner's tracking rules do all the filtering.

Cursor: Jetstream's ``time_us`` (unix microseconds, the same on every
Jetstream instance). On (re)connect we ask for ``cursor = stored - rewind_s``
so nothing between the last stored cursor and the drop is lost; the events
replayed by that rewind carry the same ``did/rkey`` ids, which the runner's
dedup drops, so a replay is idempotent. Without a stored cursor the stream
starts live.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Generator, Mapping
from typing import Any
from urllib.parse import urlencode

import httpx
from pydantic import Field

from earful.events import MentionKind
from earful.ingest.base import Page, Post, SearchTerms
from earful.ingest.sources import _websocket
from earful.ingest.sources._common import ConnectorConfig, from_unix, parse_config, parse_time

__all__ = ["POST_COLLECTION", "BlueskyConfig", "BlueskySource", "build", "parse_event"]

log = logging.getLogger(__name__)

POST_COLLECTION = "app.bsky.feed.post"
_QUOTE_EMBEDS = frozenset({"app.bsky.embed.record", "app.bsky.embed.recordWithMedia"})
_TAG_FACET = "app.bsky.richtext.facet#tag"


class BlueskyConfig(ConnectorConfig):
    url: str = Field(
        default="wss://jetstream2.us-east.bsky.network",
        description="Jetstream base URL (any public instance; cursors are shared).",
    )
    wanted_dids: tuple[str, ...] = Field(
        default=(), description="Only these accounts (e.g. official ones); default: everyone."
    )
    rewind_s: float = Field(default=5.0, ge=0, description="Replayed on reconnect.")
    batch_size: int = Field(default=500, ge=1, description="Posts per page at most.")
    batch_wait_s: float = Field(default=0.5, gt=0, description="Longest a page is held open.")
    open_timeout_s: float = Field(default=10.0, gt=0)


class BlueskySource:
    """Streaming connector; see the module docstring."""

    def __init__(
        self,
        config: BlueskyConfig,
        *,
        name: str = "bluesky",
        idle_s: float = 1.0,
    ) -> None:
        self.config = config
        self.name = name
        self.idle_s = idle_s

    def subscribe_url(self, cursor: str | None) -> str:
        params: list[tuple[str, str]] = [("wantedCollections", POST_COLLECTION)]
        params += [("wantedDids", did) for did in self.config.wanted_dids]
        start = _time_us(cursor)
        if start is not None:
            params.append(("cursor", str(max(0, start - int(self.config.rewind_s * 1e6)))))
        return f"{self.config.url.rstrip('/')}/subscribe?{urlencode(params)}"

    def stream(self, cursor: str | None) -> Generator[Page, None, None]:
        position = _time_us(cursor)
        url = self.subscribe_url(cursor)
        with _websocket.connect(
            url, source=self.name, open_timeout=self.config.open_timeout_s, where=url
        ) as connection:
            for frames in _websocket.frame_batches(
                connection,
                source=self.name,
                max_batch=self.config.batch_size,
                max_wait_s=self.config.batch_wait_s,
                idle_s=self.idle_s,
            ):
                posts: list[Post] = []
                malformed = 0
                for frame in frames:
                    try:
                        event = json.loads(frame)
                        seen_us = event["time_us"]
                        if isinstance(seen_us, bool) or not isinstance(seen_us, int):
                            raise ValueError(f"time_us is not an int: {seen_us!r}")
                        post = parse_event(event)
                    except (KeyError, TypeError, ValueError) as exc:
                        malformed += 1
                        log.debug("%s: malformed event: %s", self.name, exc)
                        continue
                    if position is None or seen_us > position:
                        position = seen_us
                    if post is not None:
                        posts.append(post)
                yield Page(
                    posts=tuple(posts),
                    cursor=str(position) if position is not None else None,
                    malformed=malformed,
                    cursor_time=from_unix(position / 1e6) if position is not None else None,
                )


def parse_event(event: Mapping[str, Any]) -> Post | None:
    """A Jetstream event as a Post; None for anything but a new post."""
    if event.get("kind") != "commit":
        return None  # identity and account events
    commit = event["commit"]
    if commit.get("operation") != "create" or commit.get("collection") != POST_COLLECTION:
        return None
    did = str(event["did"])
    rkey = str(commit["rkey"])
    record = commit["record"]
    text = record["text"]
    if not isinstance(text, str):
        raise ValueError("record.text is not a string")
    try:
        created_at = parse_time(record.get("createdAt"))
    except ValueError:
        created_at = from_unix(event["time_us"] / 1e6)  # client clocks lie; Jetstream's does not
    kind: MentionKind = "post"
    in_reply_to = reply_to = None
    metadata: dict[str, str] = {}
    reply = record.get("reply")
    parent = reply.get("parent") if isinstance(reply, dict) else None
    if isinstance(parent, dict) and isinstance(parent.get("uri"), str):
        kind = "reply"
        in_reply_to, reply_to = _post_id(parent["uri"])
    embed = record.get("embed")
    if isinstance(embed, dict) and embed.get("$type") in _QUOTE_EMBEDS:
        quoted = embed.get("record")
        if isinstance(quoted, dict) and isinstance(quoted.get("record"), dict):
            quoted = quoted["record"]  # recordWithMedia nests the record once more
        if isinstance(quoted, dict) and isinstance(quoted.get("uri"), str):
            metadata["quote_of"] = "bluesky:" + _post_id(quoted["uri"])[0]
            if kind == "post":
                kind = "quote"
    langs = record.get("langs")
    lang = langs[0] if isinstance(langs, list) and langs and isinstance(langs[0], str) else None
    return Post(
        source="bluesky",
        native_id=f"{did}/{rkey}",
        text=text,
        created_at=created_at,
        author_handle=did,  # Jetstream carries DIDs, not handles
        url=f"https://bsky.app/profile/{did}/post/{rkey}",
        lang=lang,
        kind=kind,
        in_reply_to=in_reply_to,
        reply_to_handle=reply_to,
        hashtags=_tags(record),
        metadata=metadata,
    )


def _post_id(uri: str) -> tuple[str, str]:
    """``at://did/app.bsky.feed.post/rkey`` -> (``did/rkey``, did)."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3:
        raise ValueError(f"not a post URI: {uri!r}")
    return f"{parts[0]}/{parts[2]}", parts[0]


def _tags(record: Mapping[str, Any]) -> tuple[str, ...]:
    tags: list[str] = []
    for facet in record.get("facets") or []:
        for feature in facet.get("features") or [] if isinstance(facet, dict) else []:
            if isinstance(feature, dict) and feature.get("$type") == _TAG_FACET:
                tag = feature.get("tag")
                if isinstance(tag, str) and tag not in tags:
                    tags.append(tag)
    return tuple(tags)


def _time_us(cursor: str | None) -> int | None:
    if not cursor:
        return None
    try:
        return int(cursor)
    except ValueError:
        log.warning("bluesky: stored cursor %r is not a time_us; starting live", cursor)
        return None


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> BlueskySource:
    """``http`` is unused: Jetstream is a websocket."""
    return BlueskySource(parse_config(BlueskyConfig, config, "bluesky"))
