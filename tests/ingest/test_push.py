"""The HTTP push endpoint: real requests to 127.0.0.1, mentions checked on the real broker."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from kafka.errors import KafkaTimeoutError
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from earful.errors import ConfigError
from earful.events import MAX_TEXT_CHARS, Engagement, Mention
from earful.ingest.admission import Admission
from earful.ingest.base import Post
from earful.ingest.dedup import SeenIds
from earful.ingest.metrics import IngestMetrics
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.push import PushApp, make_push_server, producer_overrides
from earful.ingest.settings import IngestSettings
from earful.kafkautil import read_to_end
from earful.worker import make_consumer, make_producer
from tests.ingest.acme_rules import RULES

TOKEN = "s3cret-token-for-tests"
NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
PRIVACY = Pseudonymiser(b"push-test-key-0123456789")


def mention(native_id: str, text: str = "is acme down?", **kw: Any) -> dict[str, Any]:
    return {
        "native_id": native_id,
        "text": text,
        "author": f"someone{native_id}",
        "created_at": "2026-11-25T11:59:00Z",
        **kw,
    }


class BrokenProducer:
    def send(self, *args: Any, **kwargs: Any) -> Any:
        raise ConnectionError("no broker")

    def flush(self, timeout: float | None = None) -> None:
        pass


class SilentProducer:
    """Kafka down: sends are buffered and never acknowledged; flush waits out its timeout."""

    def __init__(self) -> None:
        self.flush_timeouts: list[float | None] = []

    def send(self, *args: Any, **kwargs: Any) -> Any:
        return PendingFuture()

    def flush(self, timeout: float | None = None) -> None:
        self.flush_timeouts.append(timeout)
        time.sleep(timeout or 0)
        raise KafkaTimeoutError(f"Timeout after waiting for {timeout} secs.")


class PendingFuture:
    def get(self, timeout: float | None = None) -> None:
        raise KafkaTimeoutError("not acknowledged")


def serve(settings: IngestSettings, producer: Any) -> Iterator[tuple[str, CollectorRegistry]]:
    registry = CollectorRegistry()
    app = PushApp(
        settings=settings,
        producer=producer,
        rules=RULES,
        privacy=PRIVACY,
        seen=SeenIds(100),
        metrics=IngestMetrics(registry),
        clock=lambda: NOW,
    )
    server = make_push_server(app, "127.0.0.1", 0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", registry
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def kafka_settings(settings_factory: Callable[..., Any]) -> IngestSettings:
    settings: IngestSettings = settings_factory(
        IngestSettings, push_token=SecretStr(TOKEN), push_max_bytes=4096, push_max_items=10
    )
    return settings


@pytest.fixture
def endpoint(kafka_settings: IngestSettings) -> Iterator[tuple[str, CollectorRegistry]]:
    producer = make_producer(kafka_settings)
    try:
        yield from serve(kafka_settings, producer)
    finally:
        producer.close()


@pytest.fixture
def offline() -> Iterator[tuple[str, CollectorRegistry]]:
    """An endpoint whose Kafka never acknowledges, for the error paths that need no broker."""
    settings = IngestSettings(
        push_token=SecretStr(TOKEN), push_max_bytes=4096, push_max_items=10, topic_raw="raw"
    )
    yield from serve(settings, BrokenProducer())


def post(url: str, body: Any, *, token: str | None = TOKEN, ndjson: bool = False) -> httpx.Response:
    headers = {"Content-Type": "application/x-ndjson" if ndjson else "application/json"}
    if token is not None:
        headers["Authorization"] = f"Bearer {token}"
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}/v1/mentions", content=content, headers=headers, timeout=30)


def raw_mentions(settings: IngestSettings) -> list[Mention]:
    reader = make_consumer(settings, group=None, topics=[])
    try:
        return [
            Mention.model_validate_json(r.value) for r in read_to_end(reader, settings.topic_raw)
        ]
    finally:
        reader.close()


# -- accepted mentions reach Kafka -------------------------------------------------


@pytest.mark.kafka
def test_json_and_ndjson_mentions_are_in_kafka_when_the_answer_is_200(
    endpoint: tuple[str, CollectorRegistry], kafka_settings: IngestSettings
) -> None:
    url, registry = endpoint
    batch = [
        mention("1"),
        mention("2", "Acme Pay declined my card", lang="en"),
        mention("3", "nothing to do with us"),
        mention("4", "we are investigating", author_handle="AcmeStatus"),
    ]
    first = post(url, batch)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "accepted": 3,
        "duplicates": 0,
        "dropped_no_match": 1,
        "ids": ["push:1", "push:2", "push:4"],
    }
    lines = "\n".join(json.dumps(m) for m in (mention("2"), mention("5", source="bluesky")))
    second = post(url, lines.encode(), ndjson=True)
    assert second.status_code == 200, second.text
    assert second.json()["accepted"] == 1 and second.json()["duplicates"] == 1

    stored = {m.id: m for m in raw_mentions(kafka_settings)}
    assert sorted(stored) == ["bluesky:5", "push:1", "push:2", "push:4"]
    assert stored["push:2"].subjects == ("acme", "acme-pay")
    assert stored["push:1"].author == PRIVACY.pseudonym("push", "someone1")
    assert stored["push:1"].author_handle is None
    assert stored["push:4"].is_official
    assert stored["push:1"].ingested_at == NOW
    assert registry.get_sample_value("earful_ingest_produced_total", {"connector": "push"}) == 4


@pytest.mark.kafka
def test_given_subjects_are_kept(
    endpoint: tuple[str, CollectorRegistry], kafka_settings: IngestSettings
) -> None:
    url, _ = endpoint
    response = post(url, mention("9", "no brand named", subjects=["acme-pay"]))
    assert response.status_code == 200, response.text
    assert [m.subjects for m in raw_mentions(kafka_settings)] == [("acme-pay",)]


@pytest.mark.kafka
def test_an_invalid_mention_rejects_the_whole_request(
    endpoint: tuple[str, CollectorRegistry], kafka_settings: IngestSettings
) -> None:
    url, _ = endpoint
    bad = [mention("1"), mention("2", created_at="2026-11-25T11:59:00"), {"text": "acme"}, 7]
    response = post(url, bad)
    assert response.status_code == 422
    body = response.json()
    assert [p["at"] for p in body["problems"]] == ["item 1", "item 2", "item 3"]
    assert "created_at" in body["problems"][0]["error"]
    assert "native_id" in body["problems"][1]["error"]
    assert raw_mentions(kafka_settings) == []


# -- errors without a broker ---------------------------------------------------------


def test_token_is_required_and_checked(offline: tuple[str, CollectorRegistry]) -> None:
    url, _ = offline
    missing = post(url, mention("1"), token=None)
    assert missing.status_code == 401
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    assert post(url, mention("1"), token="wrong").status_code == 401
    assert post(url, mention("1"), token=TOKEN + "x").status_code == 401


def test_size_type_and_syntax_errors_are_clear_4xx(offline: tuple[str, CollectorRegistry]) -> None:
    url, _ = offline
    too_big = post(url, [mention(str(i), "x" * 500) for i in range(10)])
    assert too_big.status_code == 413 and "limit is 4096" in too_big.json()["error"]
    too_many = post(url, [mention(str(i)) for i in range(11)])
    assert too_many.status_code == 413 and "10" in too_many.json()["error"]
    wrong_type = httpx.post(
        f"{url}/v1/mentions",
        content=b"hi",
        timeout=30,
        headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "text/plain"},
    )
    assert wrong_type.status_code == 415
    not_json = post(url, b'{"native_id": "1",\n "text": }')
    assert not_json.status_code == 400 and "line 2" in not_json.json()["error"]
    bad_line = post(url, b'{"native_id": "1"}\n{oops\n', ndjson=True)
    assert bad_line.status_code == 400 and "line 2" in bad_line.json()["error"]
    not_utf8 = post(url, b'{"text": "\xff"}')
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.json()["error"]


def test_paths_methods_and_missing_length(offline: tuple[str, CollectorRegistry]) -> None:
    url, _ = offline
    assert httpx.get(f"{url}/healthz", timeout=30).json() == {"status": "ok"}
    wrong_method = httpx.get(f"{url}/v1/mentions", timeout=30)
    assert wrong_method.status_code == 405 and wrong_method.headers["Allow"] == "POST"
    assert httpx.delete(f"{url}/v1/mentions", timeout=30).status_code == 405
    assert httpx.post(f"{url}/v2/mentions", content=b"{}", timeout=30).status_code == 404
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        conn.putrequest("POST", "/v1/mentions")
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("Content-Type", "application/json")
        conn.putheader("Transfer-Encoding", "chunked")
        conn.endheaders()
        conn.send(b"2\r\n{}\r\n0\r\n\r\n")
        assert conn.getresponse().status == 411
    finally:
        conn.close()


def test_kafka_failure_answers_503_and_remembers_nothing(
    offline: tuple[str, CollectorRegistry],
) -> None:
    url, registry = offline
    response = post(url, [mention("1")])
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert (
        registry.get_sample_value(
            "earful_ingest_errors_total", {"connector": "push", "kind": "kafka"}
        )
        == 1
    )
    # Not marked as seen: the client's retry is not mistaken for a duplicate.
    assert post(url, [mention("1")]).status_code == 503


def test_kafka_down_answers_503_within_the_ack_timeout_not_the_delivery_timeout() -> None:
    settings = IngestSettings(push_token=SecretStr(TOKEN), topic_raw="raw", push_ack_timeout_s=1.0)
    producer = SilentProducer()
    started = time.monotonic()
    for url, _ in serve(settings, producer):
        response = post(url, [mention("1")])
        assert response.status_code == 503
    assert time.monotonic() - started < 5
    assert producer.flush_timeouts == [1.0]


def test_the_push_producer_gives_a_record_up_when_the_request_does() -> None:
    overrides = producer_overrides(IngestSettings(push_ack_timeout_s=10))
    assert overrides["delivery_timeout_ms"] == 10_000 == overrides["max_block_ms"]
    assert overrides["request_timeout_ms"] + 5 <= overrides["delivery_timeout_ms"]


def test_endpoint_refuses_to_start_without_a_token() -> None:
    with pytest.raises(ConfigError, match="EARFUL_PUSH_TOKEN"):
        PushApp(
            settings=IngestSettings(),
            producer=BrokenProducer(),
            rules=RULES,
            privacy=PRIVACY,
            seen=SeenIds(10),
            metrics=IngestMetrics(CollectorRegistry()),
        )


# -- the admission step, as for every connector (no broker: an acknowledging producer) --


class AckingProducer:
    """Kafka that acknowledges everything: keeps what was sent."""

    def __init__(self) -> None:
        self.sent: list[Mention] = []

    def send(self, topic: str, *, key: bytes, value: bytes) -> Any:
        self.sent.append(Mention.model_validate_json(value))
        return self

    def get(self, timeout: float | None = None) -> None:
        return None

    def flush(self, timeout: float | None = None) -> None:
        pass


def push_app(**overrides: Any) -> tuple[PushApp, AckingProducer, CollectorRegistry]:
    producer = AckingProducer()
    registry = CollectorRegistry()
    settings = IngestSettings(push_token=SecretStr(TOKEN), topic_raw="raw", **overrides)
    app = PushApp(
        settings=settings,
        producer=producer,
        rules=RULES,
        privacy=PRIVACY,
        seen=SeenIds(100),
        metrics=IngestMetrics(registry),
        clock=lambda: NOW,
    )
    return app, producer, registry


def push_json(app: PushApp, items: list[dict[str, Any]]) -> dict[str, Any]:
    response = app.handle_mentions("application/json", json.dumps(items).encode())
    assert response.status == 200, response.body
    return response.body


def test_pushed_hashtags_and_reply_to_handle_feed_the_tracking_rules() -> None:
    app, producer, _ = push_app()
    body = push_json(
        app,
        [
            mention("1", "down again", hashtags=["AcmeDown"]),
            mention("2", "any news?", reply_to_handle="@acmestatus"),
            mention("3", "any news?", reply_to_handle="someone"),
        ],
    )
    assert body["accepted"] == 2 and body["dropped_no_match"] == 1
    assert [(m.id, m.subjects) for m in producer.sent] == [
        ("push:1", ("acme",)),
        ("push:2", ("acme",)),
    ]
    assert all("hashtags" not in m.metadata for m in producer.sent)


def test_a_pushed_text_over_the_contract_is_cut_and_a_long_url_dropped() -> None:
    app, producer, _ = push_app()
    text = "acme is down " + "a" * MAX_TEXT_CHARS
    push_json(
        app, [mention("1", text, url="https://x.example/" + "p" * 3000, lang="en-" + "x" * 20)]
    )
    (stored,) = producer.sent
    assert stored.text == text[:MAX_TEXT_CHARS] and stored.metadata["truncated"] is True
    assert stored.url is None
    assert stored.lang == ("en-" + "x" * 20)[:16]


def test_a_post_by_an_official_account_is_marked_with_the_account() -> None:
    app, producer, _ = push_app()
    push_json(
        app,
        [
            mention("1", "we are investigating", author_handle="AcmeStatus"),
            mention("2", "resolved", author="acmestatus", subjects=["acme"]),
            mention("3", "resolved", author="acmestatus", subjects=["acme-pay"]),
        ],
    )
    by_id = {m.id: m for m in producer.sent}
    assert by_id["push:1"].is_official and by_id["push:1"].subjects == ("acme",)
    assert by_id["push:1"].metadata["official_account"] == "acmestatus"
    assert by_id["push:2"].is_official and by_id["push:2"].metadata["official_account"]
    assert not by_id["push:3"].is_official  # acmestatus speaks for acme, not for acme-pay


def test_pushed_replies_link_to_the_parents_mention_id_and_floods_are_flagged() -> None:
    app, producer, registry = push_app(near_duplicate_threshold=3)
    spam = "acme gives free credits to everyone who clicks this link"
    push_json(
        app,
        [
            mention("1", "is acme down?"),
            mention("2", "same here, acme", in_reply_to="push:1"),
            mention("3", "acme too", in_reply_to="1"),
            *(mention(f"s{i}", f"{spam} {i}") for i in range(4)),
        ],
    )
    by_id = {m.id: m for m in producer.sent}
    assert by_id["push:2"].in_reply_to == by_id["push:3"].in_reply_to == "push:1"
    assert [by_id[f"push:s{i}"].metadata.get("copies") for i in range(4)] == [None, None, 3, 4]
    assert (
        registry.get_sample_value("earful_ingest_near_duplicates_total", {"connector": "push"}) == 2
    )


def test_push_and_a_connector_admit_the_same_post_alike() -> None:
    app, producer, _ = push_app()
    push_json(
        app,
        [
            mention(
                "1",
                "ACME pay is down #AcmeDown",
                lang="en",
                in_reply_to="push:0",
                url="https://x.example/1",
                engagement={"likes": 3},
                metadata={"k": "v"},
            )
        ],
    )
    connector = Admission(connector="push", rules=RULES, privacy=PRIVACY)
    as_post = Post(
        source="push",
        native_id="1",
        text="ACME pay is down #AcmeDown",
        lang="en",
        created_at=datetime(2026, 11, 25, 11, 59, tzinfo=UTC),
        author_handle="someone1",
        in_reply_to="0",
        url="https://x.example/1",
        engagement=Engagement(likes=3),
        metadata={"k": "v"},
    )
    assert producer.sent == [connector.admit(as_post, NOW)]


def test_pushed_fields_of_the_wrong_type_are_422_with_the_field() -> None:
    app, producer, _ = push_app()
    cases = [
        ("kind", mention("1", kind="tweet")),
        ("kind", mention("1", kind=["post"])),
        ("source", mention("2", source="myspace")),
        ("subjects", mention("3", subjects="acme")),
        ("hashtags", mention("4", hashtags="acme")),
        ("url", mention("5", url=5)),
        ("engagement.likes", mention("6", engagement={"likes": -1})),
        ("schema_version", mention("7", schema_version=2)),
    ]
    for field_name, item in cases:
        response = app.handle_mentions("application/json", json.dumps([item]).encode())
        assert response.status == 422, field_name
        assert response.body["problems"][0]["error"].startswith(field_name), response.body
    assert producer.sent == []
