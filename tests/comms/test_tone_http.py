"""The tone endpoint on a real server on 127.0.0.1, and its place in the alert sink."""

from __future__ import annotations

import argparse
from collections.abc import Iterator

import httpx
import pytest

from earful.comms.tone import ToneChecker
from earful.comms.tone_http import MAX_BODY_BYTES, ToneServer, ToneService, start_tone_server
from earful.sinks.notify_cli import _start_tone

GOOD = (
    "We know many of you in the UK can't log in to the app on iOS since 09:40 UTC. "
    "We're sorry, we know how frustrating this is. Next update by 10:30 UTC."
)
VAGUE = "We know some of you can't log in. We're sorry. We'll share more as soon as possible."


@pytest.fixture(scope="module")
def service() -> ToneService:
    return ToneService(ToneChecker())


@pytest.fixture
def server(service: ToneService) -> Iterator[ToneServer]:
    srv = start_tone_server(service, "127.0.0.1", 0, token="s3cret")
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.fixture
def client(server: ToneServer) -> Iterator[httpx.Client]:
    base = f"http://127.0.0.1:{server.port}"
    with httpx.Client(base_url=base, headers={"Authorization": "Bearer s3cret"}) as c:
        yield c


def test_json_draft_gets_the_report(client: httpx.Client) -> None:
    ready = client.post("/v1/tone", json={"text": GOOD, "networks": ["bluesky", "x"]})
    assert ready.status_code == 200
    body = ready.json()
    assert body["verdict"] == "ready"
    assert set(body["fits"]) == {"bluesky", "x"}
    assert "next_update.promised" in {f["rule"] for f in body["findings"]}

    vague = client.post("/v1/tone", json={"text": VAGUE}).json()
    assert vague["verdict"] == "not_ready"
    rules = {f["rule"] for f in vague["findings"]}
    assert "next_update.vague" in rules and "next_update.promised" not in rules
    assert set(vague["fits"]) == {"bluesky", "mastodon", "x"}


def test_plain_text_with_query_and_text_format(client: httpx.Client) -> None:
    r = client.post(
        "/v1/tone?networks=mastodon&format=text",
        content=VAGUE.encode(),
        headers={"Content-Type": "text/plain; charset=utf-8"},
    )
    assert r.status_code == 200
    assert r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("Tone check: NOT READY")
    assert "Mastodon 84/500 fits" in r.text and "Bluesky" not in r.text


def test_mastodon_limit_applies_to_one_request(client: httpx.Client) -> None:
    short = client.post("/v1/tone", json={"text": GOOD, "mastodon_limit": 100}).json()
    assert short["fits"]["mastodon"]["limit"] == 100 and not short["fits"]["mastodon"]["fits"]
    again = client.post("/v1/tone", json={"text": GOOD}).json()
    assert again["fits"]["mastodon"]["limit"] == 500  # the override did not stick


@pytest.mark.parametrize(
    ("kwargs", "status", "error"),
    [
        (
            {"content": b"{not json", "headers": {"Content-Type": "application/json"}},
            400,
            "not JSON",
        ),
        ({"json": {"draft": "hello"}}, 400, '"text"'),
        ({"json": {"text": "   "}}, 400, "empty"),
        ({"json": {"text": 42}}, 400, "must be a string"),
        ({"json": {"text": GOOD, "networks": ["myspace"]}}, 400, "unknown network 'myspace'"),
        ({"json": {"text": GOOD, "networks": [1]}}, 400, "networks"),
        ({"json": {"text": GOOD, "mastodon_limit": "lots"}}, 400, "mastodon_limit"),
        ({"json": {"text": "x" * 10_001}}, 400, "10001 characters"),
        ({"content": b"\xff\xfe", "headers": {"Content-Type": "text/plain"}}, 400, "not UTF-8"),
        ({"content": b"<p>hi</p>", "headers": {"Content-Type": "text/html"}}, 415, "text/html"),
    ],
)
def test_bad_requests_say_what_is_wrong(
    client: httpx.Client, kwargs: dict[str, object], status: int, error: str
) -> None:
    r = client.post("/v1/tone", **kwargs)  # type: ignore[arg-type]
    assert r.status_code == status
    assert error in r.json()["error"]


def test_oversized_body_is_refused_unread(client: httpx.Client) -> None:
    r = client.post(
        "/v1/tone",
        content=b"a" * (MAX_BODY_BYTES + 1),
        headers={"Content-Type": "text/plain"},
    )
    assert r.status_code == 413
    assert client.post("/v1/tone", json={"text": GOOD}).status_code == 200  # still serving


def test_token_paths_and_methods(server: ToneServer, client: httpx.Client) -> None:
    base = f"http://127.0.0.1:{server.port}"
    assert httpx.post(f"{base}/v1/tone", json={"text": GOOD}).status_code == 401
    wrong = httpx.post(
        f"{base}/v1/tone", json={"text": GOOD}, headers={"Authorization": "Bearer nope"}
    )
    assert wrong.status_code == 401 and "Bearer" in wrong.headers["www-authenticate"]
    assert client.get("/v1/tone").status_code == 405
    assert client.post("/v2/tone", json={"text": GOOD}).status_code == 404
    rules = client.get("/v1/tone/rules").json()
    assert rules["networks"] == {"bluesky": 300, "mastodon": 500, "x": 280}
    assert "next_update.missing" in {r["id"] for r in rules["rules"]}


def test_alert_sink_serves_it_only_when_a_port_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EARFUL_TONE_PORT", raising=False)
    assert _start_tone(argparse.Namespace(config=None, tone_port=None)) is None
    server = _start_tone(argparse.Namespace(config=None, tone_port=0))
    assert server is not None
    try:
        r = httpx.post(f"http://127.0.0.1:{server.port}/v1/tone", json={"text": VAGUE})
        assert r.status_code == 200 and r.json()["verdict"] == "not_ready"
    finally:
        server.shutdown()
        server.server_close()
