"""Atlassian Statuspage: every incident update as an official ``status_update`` post.

Each configured page is polled in turn at ``/api/v2/incidents.json`` (the
latest incidents, resolved ones included, each with its
``incident_updates``) and, with ``include_summary``, ``/api/v2/summary.json``
(the page's overall indicator and the unresolved incidents). Every update
becomes a Post with ``kind="status_update"`` and ``is_official=True``: the
organisation's side of the conversation, whose ``created_at`` later analysis
compares public reaction against. A page's ``subject`` names the tracking
rule it belongs to, so its updates count for that subject whatever they say.

Cursor per page: the newest update time read, with the update ids at that
exact time, so a poll neither repeats nor skips updates that share a
timestamp. A first poll goes back ``backfill_s``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import urlsplit

import httpx
from pydantic import Field

from earful.ingest.base import Page, Post, SearchTerms, SourceError
from earful.ingest.sources._common import (
    BARE_URLS,
    Clock,
    ConnectorConfig,
    Rotation,
    base_url,
    dump_cursor,
    dump_time_mark,
    get_json,
    html_to_text,
    load_cursor,
    load_time_mark,
    now_utc,
    parse_config,
    parse_time,
)

__all__ = ["StatusPageConfig", "StatusPageFeed", "StatusPageSource", "build"]

log = logging.getLogger(__name__)


class StatusPageFeed(ConnectorConfig):
    url: str = Field(description="The status page, e.g. https://status.acme.example.")
    subject: str | None = Field(default=None, description="Tracking subject its updates are about.")


class StatusPageConfig(ConnectorConfig):
    pages: Annotated[tuple[StatusPageFeed, ...], BARE_URLS] = Field(min_length=1)
    poll_interval_s: float = Field(default=120.0, gt=0, description="Each page once per interval.")
    backfill_s: float = Field(default=86400.0, ge=0, description="How far back a first poll goes.")
    include_summary: bool = Field(default=True, description="Also read summary.json.")


class StatusPageSource:
    """Polling connector; see the module docstring."""

    def __init__(
        self,
        config: StatusPageConfig,
        http: httpx.Client,
        *,
        name: str = "statuspage",
        clock: Clock = now_utc,
    ) -> None:
        self.config = config
        self.http = http
        self.name = name
        self.clock = clock
        self.pages = {_page_key(p.url): p for p in config.pages}
        self.rotation = Rotation(list(self.pages))

    def fetch(self, cursor: str | None) -> Page:
        state = load_cursor(cursor, self.name)
        key = self.rotation.take()
        feed = self.pages[key]
        root = base_url(feed.url)
        data, _ = get_json(self.http, f"{root}/api/v2/incidents.json", source=self.name)
        incidents = _incidents(data, self.name)
        page_info = data.get("page") if isinstance(data.get("page"), dict) else {}
        indicator: str | None = None
        if self.config.include_summary:
            summary, _ = get_json(self.http, f"{root}/api/v2/summary.json", source=self.name)
            known = {i.get("id") for i in incidents if isinstance(i, dict)}
            incidents += [
                i
                for i in _incidents(summary, self.name)
                if isinstance(i, dict) and i.get("id") not in known
            ]
            status = summary.get("status")
            if isinstance(status, dict) and isinstance(status.get("indicator"), str):
                indicator = status["indicator"]
        read = load_time_mark(
            state.get(key), self.clock() - timedelta(seconds=self.config.backfill_s)
        )
        page_id = str(page_info.get("id") or key)
        page_name = str(page_info.get("name") or key)
        posts: list[Post] = []
        malformed = 0
        for incident in incidents:
            try:
                updates = _updates(incident, page_id, page_name, feed, indicator)
            except (KeyError, TypeError, ValueError) as exc:
                malformed += 1
                log.debug("%s: malformed incident on %s: %s", self.name, key, exc)
                continue
            malformed += updates.malformed
            for post in updates.posts:
                if not read.already_read(post.created_at, post.native_id):
                    posts.append(post)
                    read.add(post.created_at, post.native_id)
        posts.sort(key=lambda p: p.created_at)
        state[key] = dump_time_mark(read)
        return Page(
            posts=tuple(posts),
            cursor=dump_cursor(state),
            wait_s=self.rotation.wait_s(self.config.poll_interval_s),
            malformed=malformed,
            cursor_time=read.newest,
        )


def _page_key(url: str) -> str:
    split = urlsplit(base_url(url))
    return split.netloc + split.path


class _Updates:
    def __init__(self) -> None:
        self.posts: list[Post] = []
        self.malformed = 0


def _incidents(data: Any, source: str) -> list[Any]:
    if not isinstance(data, dict) or not isinstance(data.get("incidents", []), list):
        raise SourceError(f"{source}: response is not a Statuspage incidents document")
    return list(data.get("incidents", []))


def _updates(
    incident: Any, page_id: str, page_name: str, feed: StatusPageFeed, indicator: str | None
) -> _Updates:
    """Posts for one incident's updates; a bad update is counted, not raised."""
    incident_id = str(incident["id"])
    name = str(incident["name"])
    shortlink = incident.get("shortlink")
    result = _Updates()
    for update in incident["incident_updates"]:
        try:
            created = parse_time(update["created_at"])
            body = html_to_text(str(update["body"]))
            update_id = str(update.get("id") or update["created_at"])
        except (KeyError, TypeError, ValueError):
            result.malformed += 1
            continue
        metadata: dict[str, str] = {
            "page": page_name,
            "incident": name,
            "incident_id": incident_id,
            "update_status": str(update.get("status")),
            "incident_status": str(incident.get("status")),
            "impact": str(incident.get("impact")),
        }
        if indicator is not None:
            metadata["page_indicator"] = indicator
        result.posts.append(
            Post(
                source="statuspage",
                native_id=f"{page_id}/{incident_id}/{update_id}",
                text=body or name,
                created_at=created,
                author_handle=page_name,
                url=shortlink if isinstance(shortlink, str) else None,
                kind="status_update",
                is_official=True,
                metadata=metadata,
                subjects=(feed.subject,) if feed.subject else (),
            )
        )
    return result


def build(
    config: Mapping[str, Any], http: httpx.Client, search: SearchTerms | None = None
) -> StatusPageSource:
    return StatusPageSource(parse_config(StatusPageConfig, config, "statuspage"), http)
