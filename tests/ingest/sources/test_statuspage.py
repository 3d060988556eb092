"""Statuspage connector against a local server replaying incidents.json and summary.json."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from earful.ingest.base import RateLimited, SourceError, TransientSourceError
from earful.ingest.sources.statuspage import StatusPageConfig, StatusPageSource, build
from tests.ingest.sources.replay_server import ReplayServer, Reply, fixture

NOW = datetime(2025, 11, 25, 10, 45, tzinfo=UTC)
INCIDENTS = "/api/v2/incidents.json"
SUMMARY = "/api/v2/summary.json"


def statuspage(http: httpx.Client, *pages: object, **config: object) -> StatusPageSource:
    values = {"pages": list(pages), **config}
    return StatusPageSource(StatusPageConfig.model_validate(values), http, clock=lambda: NOW)


def test_incident_updates_become_official_status_updates(
    server: ReplayServer, http: httpx.Client
) -> None:
    server.add(INCIDENTS, fixture("statuspage", "incidents"))
    server.add(SUMMARY, fixture("statuspage", "summary"))
    page = statuspage(http, {"url": server.url, "subject": "acme"}).fetch(None)

    # Last 24 hours only: the resolved incident from Nov 10 is history.
    assert [p.native_id for p in page.posts] == [
        "y2j98763l56x/k7xq2m9d4fzt/c1d9e7qhl3vs",
        "y2j98763l56x/n4v7c2h8q0ye/h6k3m9",  # only in summary.json
        "y2j98763l56x/k7xq2m9d4fzt/w5bm1xg0r2nq",
    ]
    assert page.malformed == 1  # the update dated "last tuesday"
    first = page.posts[0]
    assert first.kind == "status_update" and first.is_official
    assert first.subjects == ("acme",)
    assert first.created_at == datetime(2025, 11, 25, 10, 12, 31, tzinfo=UTC)
    assert first.text.startswith("We are investigating elevated error rates (HTTP 502)")
    assert first.url == "https://stspg.io/acme-k7x" and first.author_handle == "Acme Cloud"
    assert first.metadata["update_status"] == "investigating"
    assert first.metadata["impact"] == "major" and first.metadata["page_indicator"] == "major"
    assert page.posts[1].text == "Some users cannot log in to the dashboard."
    assert page.cursor_time == datetime(2025, 11, 25, 10, 41, 7, tzinfo=UTC)


def test_next_poll_reads_only_new_updates(server: ReplayServer, http: httpx.Client) -> None:
    server.add(
        INCIDENTS, fixture("statuspage", "incidents"), fixture("statuspage", "incidents_later")
    )
    source = statuspage(http, server.url, include_summary=False)
    first = source.fetch(None)
    second = source.fetch(first.cursor)

    assert [r.path for r in server.requests] == [INCIDENTS, INCIDENTS]
    assert [p.native_id for p in second.posts] == ["y2j98763l56x/k7xq2m9d4fzt/q8f4y7"]
    assert second.posts[0].metadata["incident_status"] == "resolved"
    assert second.posts[0].subjects == ()  # no subject configured: the rules decide
    state = json.loads(second.cursor or "")
    assert list(state.values()) == [
        {"t": "2025-11-25T11:02:00+00:00", "ids": ["y2j98763l56x/k7xq2m9d4fzt/q8f4y7"]}
    ]
    assert source.fetch(second.cursor).posts == ()  # nothing new: nothing repeated


def test_pages_are_polled_in_turn(http: httpx.Client) -> None:
    with ReplayServer() as one, ReplayServer() as two:
        for srv in (one, two):
            srv.add(INCIDENTS, fixture("statuspage", "incidents"))
        source = statuspage(http, one.url, two.url, include_summary=False, poll_interval_s=120)
        page = source.fetch(None)
        source.fetch(page.cursor)
        assert page.wait_s == 60.0
        assert len(one.requests) == len(two.requests) == 1


def test_rate_limit_and_server_errors(server: ReplayServer, http: httpx.Client) -> None:
    server.add(
        INCIDENTS,
        Reply.json({"error": "rate limited"}, 429, {"Retry-After": "120"}),
        Reply(500, b"Internal Server Error"),
        fixture("statuspage", "incidents").cut(0.6),
        Reply.json([{"id": "not a document"}]),
    )
    source = statuspage(http, server.url, include_summary=False)
    with pytest.raises(RateLimited) as caught:
        source.fetch(None)
    assert caught.value.retry_after == 120.0
    with pytest.raises(TransientSourceError, match="500"):
        source.fetch(None)
    with pytest.raises(TransientSourceError):
        source.fetch(None)  # cut mid-body
    with pytest.raises(SourceError, match="not a Statuspage"):
        source.fetch(None)


def test_build_accepts_plain_urls(http: httpx.Client) -> None:
    source = build({"pages": ["status.acme.example", "https://www.acmepay-status.example/"]}, http)
    assert list(source.pages) == ["status.acme.example", "www.acmepay-status.example"]
