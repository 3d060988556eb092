"""The shared retry policy: a time budget, Retry-After, transport errors, redirects, secrets."""

from __future__ import annotations

import logging
import random
import socket
from datetime import timedelta

import httpx
import pytest
from pydantic import SecretStr

from earful.sinks.notify import RetryPolicy, SlackNotifier, delivery_id
from earful.sinks.notify.base import Notification, parse_retry_after, silence_http_request_logs
from earful.sinks.notify.receiver import LocalReceiver, Reply
from tests.sinks.notify.alerts import T0, fixed_clock, make_alert

SLACK_PATH = "/services/T0123/B0456/very-secret-token"


def _slack(url: str, client: httpx.Client, sleeps: list[float], **policy: float) -> SlackNotifier:
    return SlackNotifier(
        name="comms",
        url=SecretStr(url + SLACK_PATH),
        client=client,
        policy=RetryPolicy(**policy),
        clock=fixed_clock(T0),
        sleep=sleeps.append,
        rng=random.Random(1),
    )


def test_the_notifiers_read_retry_after_with_the_shared_parser() -> None:
    from earful import retry

    assert parse_retry_after is retry.parse_retry_after


def test_backoff_is_capped_and_jittered() -> None:
    policy = RetryPolicy(base_delay_s=1.0, max_delay_s=8.0)
    rng = random.Random(3)
    delays = [policy.backoff_s(n, rng) for n in range(1, 9)]
    for n, delay in enumerate(delays, start=1):
        step = min(8.0, 2.0 ** (n - 1))
        assert step / 2 <= delay <= step
    assert max(delays) <= 8.0
    assert len(set(delays)) == len(delays)  # jittered, not a fixed schedule


def test_http_date_retry_after_is_honoured() -> None:
    sleeps: list[float] = []
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        rx.script(Reply(429, headers=(("Retry-After", "Wed, 25 Nov 2026 10:00:45 GMT"),)))
        result = _slack(rx.url, client, sleeps).deliver(Notification(make_alert(), "k"))
    assert result.outcome == "delivered"
    assert sleeps[0] >= 45.0


def test_retry_after_beyond_the_budget_fails_without_waiting() -> None:
    sleeps: list[float] = []
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        rx.script(Reply(429, headers=(("Retry-After", "3600"),)))
        result = _slack(rx.url, client, sleeps, budget_s=600).deliver(
            Notification(make_alert(), "k")
        )
        assert len(rx.requests) == 1
    assert result.outcome == "failed" and "Retry-After 3600s" in result.detail
    assert sleeps == []


def test_connection_refused_is_retried_for_the_budget_then_fails() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # nothing listens here once the socket closes
    sleeps: list[float] = []
    with httpx.Client(timeout=1) as client:
        result = _slack(
            f"http://127.0.0.1:{port}", client, sleeps, budget_s=20, max_delay_s=4
        ).deliver(Notification(make_alert(), "k"))
    assert (result.outcome, result.status_code) == ("failed", None)
    assert "ConnectError" in result.detail and "budget 20s" in result.detail
    assert result.attempts == len(sleeps) + 1
    # It kept trying until the next wait would overrun the budget, and not past it.
    assert sum(sleeps) <= 20 < sum(sleeps) + 4


def test_a_target_down_longer_than_five_attempts_still_gets_the_alert() -> None:
    # The old policy gave up after 5 attempts (about 15 s of waits); a budget does not.
    sleeps: list[float] = []
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        rx.script(*([Reply(503)] * 8), Reply(200))
        result = _slack(rx.url, client, sleeps, budget_s=600).deliver(
            Notification(make_alert(), "k")
        )
        assert len(rx.requests) == 9
    assert (result.outcome, result.attempts) == ("delivered", 9)
    assert sleeps == sorted(sleeps) or max(sleeps) <= 30.0  # growing, capped at max_delay_s
    assert sum(sleeps) > 15.0


def test_the_budget_counts_the_clock_when_it_runs_faster_than_the_waits() -> None:
    from datetime import datetime

    moments = iter(T0 + timedelta(seconds=100 * i) for i in range(100))
    sleeps: list[float] = []
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        rx.script(*([Reply(500)] * 10))
        notifier = _slack(rx.url, client, sleeps, budget_s=250)
        clock: list[datetime] = []

        def tick() -> datetime:
            clock.append(next(moments))
            return clock[-1]

        notifier.clock = tick
        result = notifier.deliver(Notification(make_alert(), "k"))
    assert result.outcome == "failed"
    assert result.attempts <= 3  # each attempt 'took' 100 s of the 250 s budget


def test_redirects_are_not_followed() -> None:
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        rx.script(Reply(302, headers=(("Location", rx.url + "/elsewhere"),)))
        result = _slack(rx.url, client, []).deliver(Notification(make_alert(), "k"))
        assert [r.path for r in rx.requests] == [SLACK_PATH]
    assert (result.outcome, result.status_code) == ("rejected", 302)


def test_the_webhook_url_never_reaches_the_logs(caplog: pytest.LogCaptureFixture) -> None:
    silence_http_request_logs()
    caplog.set_level(logging.DEBUG, logger="sinks")
    with LocalReceiver() as rx, httpx.Client(timeout=1) as client:
        rx.script(Reply(500), Reply(404, b"channel_not_found"))
        notifier = _slack(rx.url, client, [])
        result = notifier.deliver(Notification(make_alert(), "k"))
    assert result.outcome == "rejected"
    assert caplog.records, "the retry and the rejection are logged"
    assert "very-secret-token" not in caplog.text
    assert "very-secret-token" not in repr(notifier)
    assert "very-secret-token" not in repr(result)


def test_delivery_ids_are_stable_and_distinct_per_state_change() -> None:
    a = delivery_id("hook", "earful/x", "firing:warning")
    assert a == delivery_id("hook", "earful/x", "firing:warning")
    others = {
        delivery_id("hook", "earful/x", "firing:critical"),
        delivery_id("hook", "earful/x", "resolved"),
        delivery_id("other", "earful/x", "firing:warning"),
    }
    assert a not in others and len(others) == 3


def test_since_text_counts_from_the_alert_start() -> None:
    from earful.sinks.notify.message import since_text

    alert = make_alert()
    assert since_text(alert, T0 + timedelta(minutes=14)) == "since 10:00 UTC (for 14 min)"
    resolved = make_alert(status="resolved", ends_at=T0 + timedelta(minutes=95))
    assert since_text(resolved, T0 + timedelta(hours=3)) == "from 10:00 to 11:35 UTC (1 h 35 min)"
