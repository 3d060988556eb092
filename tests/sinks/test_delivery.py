"""The delivery worker's decisions (unit), and its state and restarts on the real broker."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from types import SimpleNamespace
from typing import Any

import httpx
from pydantic import SecretStr

from earful.events import Alert, encode
from earful.sinks.delivery import (
    AlertmanagerRefresher,
    DeliveryProcessor,
    DeliveryRecord,
    DeliverySettings,
    DeliveryState,
    cooldown_seconds,
)
from earful.sinks.notify import (
    AlertmanagerNotifier,
    Attempt,
    DeliveryVerdict,
    Notification,
    RetryPolicy,
)
from earful.sinks.notify.receiver import LocalReceiver
from earful.sinks.routing import Cooldown, TargetConfig
from tests.sinks.notify.alerts import T0, make_alert

NOW = T0 + timedelta(minutes=2)


@dataclass
class RecordingTarget:
    """Answers every attempt with ``verdict``; remembers what it was sent."""

    name: str
    kind: str = "webhook"
    idempotent: bool = True
    verdict: DeliveryVerdict = DeliveryVerdict.DELIVERED
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    received: list[Notification] = field(default_factory=list)

    def attempt(self, notification: Notification, *, timeout_s: float | None = None) -> Attempt:
        self.received.append(notification)
        codes = {
            DeliveryVerdict.DELIVERED: 200,
            DeliveryVerdict.REJECTED: 400,
            DeliveryVerdict.RETRY: 503,
        }
        return Attempt(self.verdict, codes[self.verdict], "")

    def deliver(self, notification: Notification) -> Any:
        raise AssertionError("the delivery worker never waits in deliver()")


def _settings(**overrides: Any) -> DeliverySettings:
    targets = (
        TargetConfig(name="a", kind="console"),
        TargetConfig(name="b", kind="console"),
    )
    values: dict[str, Any] = {
        "topic_deliveries": "deliveries",
        "topic_deadletter": "dlq",
        "notify_targets": targets,
        **overrides,
    }
    return DeliverySettings(**values)


def _processor(
    settings: DeliverySettings, *targets: RecordingTarget
) -> tuple[DeliveryProcessor, DeliveryState]:
    state = DeliveryState(Cooldown(cooldown_seconds(settings)))
    processor = DeliveryProcessor(
        settings, targets={t.name: t for t in targets}, state=state, clock=lambda: NOW
    )
    return processor, state


def _feed(processor: DeliveryProcessor, alert: Alert, offset: int = 0) -> list[Any]:
    record = SimpleNamespace(
        value=encode(alert),
        key=alert.dedup_key.encode(),
        topic="alerts",
        partition=0,
        offset=offset,
        headers=[],
    )
    return list(processor.process(record))


def _decisions(outputs: list[Any]) -> list[DeliveryRecord]:
    return [DeliveryRecord.model_validate_json(o.value) for o in outputs if o.topic == "deliveries"]


def test_each_state_change_is_delivered_once_per_target() -> None:
    a, b = RecordingTarget("a"), RecordingTarget("b")
    processor, _ = _processor(_settings(), a, b)
    firing = make_alert(created_at=NOW)
    first = _decisions(_feed(processor, firing))
    assert [(d.target, d.outcome, d.revision) for d in first] == [
        ("a", "delivered", "firing:critical"),
        ("b", "delivered", "firing:critical"),
    ]
    assert _feed(processor, firing, offset=1) == []  # the same alert again: already handled
    resolved = firing.model_copy(update={"status": "resolved", "ends_at": NOW})
    assert [d.outcome for d in _decisions(_feed(processor, resolved))] == ["delivered"] * 2
    assert [n.alert.status for n in a.received] == ["firing", "resolved"]
    # the delivery id is the same for a re-send and differs between firing and resolved
    assert a.received[0].delivery_id != a.received[1].delivery_id
    assert a.received[0].delivery_id == first[0].delivery_id


def test_records_are_keyed_by_target_dedup_key_and_revision() -> None:
    processor, _ = _processor(_settings(), RecordingTarget("a"), RecordingTarget("b"))
    outputs = _feed(processor, make_alert(created_at=NOW))
    assert [json.loads(o.key) for o in outputs] == [
        ["a", make_alert().dedup_key, "firing:critical"],
        ["b", make_alert().dedup_key, "firing:critical"],
    ]


def test_escalation_is_sent_with_the_previous_alert_and_de_escalation_is_not() -> None:
    a = RecordingTarget("a")
    processor, _ = _processor(
        _settings(notify_targets=(TargetConfig(name="a", kind="console"),)), a
    )
    _feed(processor, make_alert(severity="warning", created_at=NOW))
    _feed(processor, make_alert(severity="critical", created_at=NOW))
    assert _feed(processor, make_alert(severity="warning", created_at=NOW)) == []  # decided
    again = _decisions(_feed(processor, make_alert(severity="info", created_at=NOW)))
    assert [n.alert.severity for n in a.received] == ["warning", "critical"]
    previous = a.received[1].previous
    assert previous is not None and previous.severity == "warning"
    assert [(d.outcome, d.detail) for d in again] == [
        ("suppressed", "already firing here at critical")
    ]


def test_cooldown_groups_alerts_on_one_subject_and_their_resolves() -> None:
    a = RecordingTarget("a")
    settings = _settings(
        notify_targets=(TargetConfig(name="a", kind="console"),), notify_cooldown_s=600
    )
    processor, _ = _processor(settings, a)
    _feed(processor, make_alert(dedup_key="k1", created_at=NOW))
    grouped = _decisions(_feed(processor, make_alert(dedup_key="k2", created_at=NOW)))
    assert [(d.outcome, d.grouped_into) for d in grouped] == [("suppressed", "k1")]
    closing = make_alert(dedup_key="k2", status="resolved", ends_at=NOW, created_at=NOW)
    assert [d.outcome for d in _decisions(_feed(processor, closing))] == ["suppressed"]
    assert [n.alert.dedup_key for n in a.received] == ["k1"]


def test_stale_alerts_are_recorded_not_sent() -> None:
    a = RecordingTarget("a")
    processor, _ = _processor(
        _settings(notify_targets=(TargetConfig(name="a", kind="console"),)), a
    )
    old = make_alert(created_at=NOW - timedelta(hours=3))
    assert [d.detail.split(":")[0] for d in _decisions(_feed(processor, old))] == ["stale"]
    assert a.received == []


def test_a_rejected_delivery_is_recorded_and_dead_lettered_with_the_target() -> None:
    a = RecordingTarget("a", verdict=DeliveryVerdict.REJECTED)
    processor, state = _processor(
        _settings(notify_targets=(TargetConfig(name="a", kind="console"),)), a
    )
    outputs = _feed(processor, make_alert(created_at=NOW))
    assert [o.topic for o in outputs] == ["deliveries", "dlq"]
    headers = dict(outputs[1].headers)
    assert headers["earful.notify.target"] == b"a"
    assert headers["earful.error.reason"] == b"delivery_rejected"
    assert outputs[1].value == encode(make_alert(created_at=NOW))
    assert state.active == {}  # not firing there, so its resolve will not be sent either
    assert len(a.received) == 1  # a final 4xx is not retried


def test_state_rebuilt_from_records_skips_what_was_delivered() -> None:
    a = RecordingTarget("a")
    settings = _settings(notify_targets=(TargetConfig(name="a", kind="console"),))
    first, _ = _processor(settings, a)
    records = _decisions(_feed(first, make_alert(created_at=NOW)))
    second, state = _processor(settings, a)
    for r in records:
        state.apply(DeliveryRecord.model_validate_json(r.model_dump_json()))
    assert _feed(second, make_alert(created_at=NOW)) == []
    resolved = make_alert(status="resolved", ends_at=NOW, created_at=NOW)
    assert [d.outcome for d in _decisions(_feed(second, resolved))] == ["delivered"]
    assert len(a.received) == 2


def test_refresher_reposts_active_alerts_to_alertmanager() -> None:
    state = DeliveryState(Cooldown(lambda _: 0.0))
    with LocalReceiver() as rx, httpx.Client(timeout=2) as client:
        am = AlertmanagerNotifier(name="am", url=SecretStr(rx.url), client=client)
        for key in ("k1", "k2"):
            state.apply(
                DeliveryRecord(
                    target="am",
                    dedup_key=key,
                    revision="firing:critical",
                    delivery_id=key,
                    outcome="delivered",
                    subject="acme",
                    at=NOW,
                    alert=make_alert(dedup_key=key),
                )
            )
        refresher = AlertmanagerRefresher(state, {"am": am}, interval_s=60)
        assert refresher.refresh_once()["am"].outcome == "delivered"
        posted = rx.requests[0].json()
    assert sorted(a["labels"]["dedup_key"] for a in posted) == ["k1", "k2"]
    assert all("endsAt" not in a for a in posted)


def test_a_resolve_reaches_every_target_the_alert_fired_at_even_below_its_route() -> None:
    from earful.sinks.routing import RouteConfig

    pager, comms = RecordingTarget("pager"), RecordingTarget("comms")
    settings = _settings(
        notify_targets=(
            TargetConfig(name="pager", kind="console"),
            TargetConfig(name="comms", kind="console"),
        ),
        notify_routes=(
            RouteConfig.model_validate(
                {"min_severity": "critical", "targets": ["pager"], "continue": True}
            ),
            RouteConfig(targets=("comms",)),
        ),
    )
    processor, _ = _processor(settings, pager, comms)
    _feed(processor, make_alert(severity="critical", created_at=NOW))
    resolved = make_alert(severity="warning", status="resolved", ends_at=NOW, created_at=NOW)
    decisions = _decisions(_feed(processor, resolved))
    assert sorted((d.target, d.outcome) for d in decisions) == [
        ("comms", "delivered"),
        ("pager", "delivered"),
    ]
    assert [n.alert.status for n in pager.received] == ["firing", "resolved"]
