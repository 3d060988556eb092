"""What each target receives: the payload shapes of the notes, and the signatures."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from pydantic import SecretStr
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from earful.errors import ConfigError
from earful.sinks.notify import (
    AlertmanagerNotifier,
    ConsoleNotifier,
    Notification,
    PagerDutyNotifier,
    SlackNotifier,
    TeamsNotifier,
    WebhookNotifier,
)
from earful.sinks.notify.receiver import LocalReceiver
from earful.sinks.notify.webhook import github_signature, standard_webhooks_key
from tests.sinks.notify.alerts import T0, fixed_clock, make_alert

NOW = T0 + timedelta(minutes=14)


def _sent(notifier_cls: type, rx: LocalReceiver, notification: Notification, **kw: object) -> dict:  # type: ignore[type-arg]
    with httpx.Client(timeout=2) as client:
        notifier = notifier_cls(name="t", client=client, clock=fixed_clock(NOW), **kw)
        result = notifier.deliver(notification)
    assert result.outcome == "delivered"
    payload: dict = rx.requests[-1].json()  # type: ignore[type-arg]
    return payload


def test_github_signature_matches_the_documented_test_vector() -> None:
    signature = github_signature(b"It's a Secret to Everybody", b"Hello, World!")
    assert signature == ("sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17")


def test_webhook_is_signed_both_ways_and_verifies_with_standardwebhooks() -> None:
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    now = datetime.now(UTC)  # the library checks the timestamp against the real clock
    with LocalReceiver(secret=secret) as rx, httpx.Client(timeout=2) as client:
        notifier = WebhookNotifier(
            name="hook",
            client=client,
            url=SecretStr(rx.url + "/in"),
            secret=SecretStr(secret),
            clock=lambda: now,
        )
        assert notifier.deliver(Notification(make_alert(), "msg_abc")).outcome == "delivered"
        request = rx.requests[0]
    assert request.signature_ok is True
    headers = request.headers
    assert headers["webhook-id"] == "msg_abc"
    assert headers["webhook-timestamp"] == str(int(now.timestamp()))
    payload = Webhook(secret).verify(request.body, headers)
    assert payload["type"] == "earful.alert.firing"
    assert payload["data"]["dedup_key"] == make_alert().dedup_key
    assert "login (42)" in payload["data"]["text"]
    expected = hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert headers["x-hub-signature-256"] == f"sha256={expected}"
    # A tampered body fails verification.
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body.replace(b"acme", b"acne"), headers)


def test_webhook_secret_that_is_not_base64_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="whsec_"):
        standard_webhooks_key("It's a Secret to Everybody")


def test_pagerduty_trigger_then_resolve_share_the_dedup_key() -> None:
    alert = make_alert()
    with LocalReceiver() as rx:
        kw = {"url": SecretStr(rx.url + "/v2/enqueue"), "routing_key": SecretStr("R" * 32)}
        trigger = _sent(PagerDutyNotifier, rx, Notification(alert, "x"), **kw)
        resolved = alert.model_copy(update={"status": "resolved", "ends_at": NOW})
        resolve = _sent(PagerDutyNotifier, rx, Notification(resolved, "y"), **kw)
    assert trigger["event_action"] == "trigger"
    assert trigger["dedup_key"] == resolve["dedup_key"] == alert.dedup_key
    assert trigger["routing_key"] == "R" * 32
    payload = trigger["payload"]
    assert payload["severity"] == "critical" and payload["component"] == "acme"
    assert payload["summary"] == alert.summary
    details = payload["custom_details"]
    assert details["magnitude"] == "observed 412 vs expected 40 (10.3x normal)"
    assert details["symptoms"] == "login (42), payments (7)"
    assert len(details["samples"]) == 5
    assert trigger["links"][0] == {"href": alert.dashboard_url, "text": "Dashboard"}
    assert resolve == {
        "routing_key": "R" * 32,
        "event_action": "resolve",
        "dedup_key": alert.dedup_key,
    }


def test_slack_message_has_blocks_fallback_and_escaped_samples() -> None:
    with LocalReceiver() as rx:
        body = _sent(SlackNotifier, rx, Notification(make_alert(), "x"), url=SecretStr(rx.url))
    assert body["text"].startswith("FIRING critical: Outage reports for acme")
    blocks = body["blocks"]
    assert blocks[0]["type"] == "header"
    text = json.dumps(blocks)
    assert "10.3x normal" in text and "since 10:00 UTC (for 14 min)" in text
    samples = next(b for b in blocks if "•" in b.get("text", {}).get("text", ""))
    lines = samples["text"]["text"].splitlines()
    assert len(lines) == 5
    assert "&lt;b&gt;&amp;&lt;/b&gt;" in lines[0]  # user text cannot inject mrkdwn links
    assert "<https://bsky.app/profile/u0/post/0|bluesky>" in lines[0]
    assert "Open dashboard" in blocks[-1]["elements"][0]["text"]


def test_teams_message_is_an_adaptive_card() -> None:
    with LocalReceiver() as rx:
        body = _sent(TeamsNotifier, rx, Notification(make_alert(), "x"), url=SecretStr(rx.url))
    assert body["type"] == "message"
    attachment = body["attachments"][0]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard" and card["version"] == "1.4"
    facts = {f["title"]: f["value"] for f in card["body"][2]["facts"]}
    assert facts["How far"].endswith("(10.3x normal)")
    assert facts["Places"] == "Berlin (12)"
    assert card["actions"][0]["url"] == make_alert().dashboard_url
    assert sum("bsky.app" in b.get("text", "") for b in card["body"]) == 5


def test_alertmanager_posts_labels_and_resolves_with_ends_at() -> None:
    alert = make_alert()
    with LocalReceiver() as rx:
        firing = _sent(AlertmanagerNotifier, rx, Notification(alert, "x"), url=SecretStr(rx.url))
        assert rx.requests[0].path == "/api/v2/alerts"
        resolved = alert.model_copy(update={"status": "resolved", "ends_at": NOW})
        closing = _sent(
            AlertmanagerNotifier, rx, Notification(resolved, "y"), url=SecretStr(rx.url)
        )
    assert isinstance(firing, list) and len(firing) == 1
    assert firing[0]["labels"] == {
        "alertname": "EarfulOutageBurst",
        "subject": "acme",
        "kind": "outage_burst",
        "severity": "critical",
        "dedup_key": alert.dedup_key,
        "source": "earful",
    }
    assert "endsAt" not in firing[0]
    assert firing[0]["startsAt"] == "2026-11-25T10:00:00Z"
    assert closing[0]["labels"] == firing[0]["labels"]
    assert closing[0]["endsAt"] == "2026-11-25T10:14:00Z"


def test_alertmanager_severity_change_closes_the_old_label_set() -> None:
    warning = make_alert(severity="warning")
    critical = make_alert(severity="critical")
    with LocalReceiver() as rx:
        body = _sent(
            AlertmanagerNotifier,
            rx,
            Notification(critical, "x", previous=warning),
            url=SecretStr(rx.url),
        )
    assert [(a["labels"]["severity"], "endsAt" in a) for a in body] == [
        ("critical", False),
        ("warning", True),
    ]


def test_console_prints_what_a_responder_needs() -> None:
    out = io.StringIO()
    result = ConsoleNotifier(name="console", out=out, clock=fixed_clock(NOW)).deliver(
        Notification(make_alert(), "x")
    )
    assert result.outcome == "delivered"
    text = out.getvalue()
    assert text.startswith("[console] FIRING critical: Outage reports for acme")
    assert "observed 412 vs expected 40 (10.3x normal)" in text
    assert "Symptoms: login (42), payments (7)" in text
    assert text.count("https://bsky.app/") == 5
    assert "Dashboard: https://grafana.example/" in text
