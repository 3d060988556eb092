"""Every HTTP notifier against a real local HTTP server: success, 429, 5xx, final 4xx, slow."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator

import httpx
import pytest
from pydantic import SecretStr

from earful.sinks.notify import (
    AlertmanagerNotifier,
    Notification,
    Notifier,
    PagerDutyNotifier,
    RetryPolicy,
    SlackNotifier,
    TeamsNotifier,
    WebhookNotifier,
)
from earful.sinks.notify.receiver import LocalReceiver, Reply
from tests.sinks.notify.alerts import fixed_clock, make_alert

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

Factory = Callable[[str, httpx.Client, list[float]], Notifier]


def _common(client: httpx.Client, sleeps: list[float]) -> dict[str, object]:
    return {
        "client": client,
        "policy": RetryPolicy(budget_s=10.0, base_delay_s=1.0, max_delay_s=8.0),
        "clock": fixed_clock(),
        "sleep": sleeps.append,
        "rng": random.Random(7),
    }


FACTORIES: dict[str, Factory] = {
    "alertmanager": lambda url, c, s: AlertmanagerNotifier(
        name="am",
        url=SecretStr(url),
        **_common(c, s),  # type: ignore[arg-type]
    ),
    "slack": lambda url, c, s: SlackNotifier(
        name="slack",
        url=SecretStr(url + "/services/T0/B0/x"),
        **_common(c, s),  # type: ignore[arg-type]
    ),
    "pagerduty": lambda url, c, s: PagerDutyNotifier(
        name="pd",
        url=SecretStr(url + "/v2/enqueue"),
        routing_key=SecretStr("r" * 32),
        **_common(c, s),  # type: ignore[arg-type]
    ),
    "teams": lambda url, c, s: TeamsNotifier(
        name="teams",
        url=SecretStr(url + "/workflows/x?sig=abc"),
        **_common(c, s),  # type: ignore[arg-type]
    ),
    "webhook": lambda url, c, s: WebhookNotifier(
        name="hook",
        url=SecretStr(url + "/hook"),
        secret=SecretStr(SECRET),
        **_common(c, s),  # type: ignore[arg-type]
    ),
}


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    with LocalReceiver(secret=SECRET) as rx:
        yield rx


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=httpx.Timeout(0.3)) as c:
        yield c


def _notification() -> Notification:
    return Notification(alert=make_alert(), delivery_id="msg_test_1")


@pytest.fixture(params=sorted(FACTORIES))
def kind(request: pytest.FixtureRequest) -> str:
    value: str = request.param
    return value


def test_success_is_one_request_and_no_wait(
    kind: str, receiver: LocalReceiver, client: httpx.Client
) -> None:
    sleeps: list[float] = []
    notifier = FACTORIES[kind](receiver.url, client, sleeps)
    result = notifier.deliver(_notification())
    assert (result.outcome, result.attempts, result.status_code) == ("delivered", 1, 200)
    assert len(receiver.requests) == 1 and sleeps == []
    request = receiver.requests[0]
    assert request.method == "POST"
    assert request.headers["content-type"].startswith("application/json")
    assert request.json()  # a non-empty JSON payload


def test_429_waits_at_least_retry_after_then_delivers(
    kind: str, receiver: LocalReceiver, client: httpx.Client
) -> None:
    receiver.script(Reply(429, b"rate_limited", (("Retry-After", "7"),)))
    sleeps: list[float] = []
    result = FACTORIES[kind](receiver.url, client, sleeps).deliver(_notification())
    assert (result.outcome, result.attempts) == ("delivered", 2)
    assert len(sleeps) == 1 and sleeps[0] >= 7.0
    first, second = receiver.requests
    assert first.body == second.body or kind == "webhook"  # webhook re-signs with a new timestamp
    assert first.idempotency_key == second.idempotency_key


def test_5xx_is_retried_with_growing_backoff(
    kind: str, receiver: LocalReceiver, client: httpx.Client
) -> None:
    receiver.script(Reply(503, b"busy"), Reply(500, b"rollup_error"))
    sleeps: list[float] = []
    result = FACTORIES[kind](receiver.url, client, sleeps).deliver(_notification())
    assert (result.outcome, result.attempts) == ("delivered", 3)
    assert len(receiver.requests) == 3
    # base 1 s: first wait in [0.5, 1], second in [1, 2] (jitter from the upper half)
    assert 0.5 <= sleeps[0] <= 1.0 < sleeps[1] <= 2.0


def test_final_4xx_is_not_retried(kind: str, receiver: LocalReceiver, client: httpx.Client) -> None:
    receiver.script(Reply(400, b"invalid_payload"))
    sleeps: list[float] = []
    result = FACTORIES[kind](receiver.url, client, sleeps).deliver(_notification())
    assert (result.outcome, result.attempts, result.status_code) == ("rejected", 1, 400)
    assert result.detail == "invalid_payload"
    assert len(receiver.requests) == 1 and sleeps == []


def test_5xx_until_the_budget_runs_out_fails(
    kind: str, receiver: LocalReceiver, client: httpx.Client
) -> None:
    receiver.default_reply = Reply(502, b"bad gateway")
    sleeps: list[float] = []
    result = FACTORIES[kind](receiver.url, client, sleeps).deliver(_notification())
    assert (result.outcome, result.status_code) == ("failed", 502)
    assert len(receiver.requests) == result.attempts == len(sleeps) + 1 >= 3
    assert sum(sleeps) <= 10.0  # the budget: no wait past it


def test_slow_endpoint_times_out_and_is_retried(
    kind: str, receiver: LocalReceiver, client: httpx.Client
) -> None:
    receiver.script(Reply(200, delay_s=1.0))  # the client gives up after 0.3 s
    sleeps: list[float] = []
    result = FACTORIES[kind](receiver.url, client, sleeps).deliver(_notification())
    assert (result.outcome, result.attempts) == ("delivered", 2)
    assert len(sleeps) == 1
    assert len(receiver.requests) == 2
