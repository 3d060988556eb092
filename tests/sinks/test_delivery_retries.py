"""Retries with a time budget, beside the worker's loop: nothing lost to an endpoint down a while.

The target is a real :class:`WebhookNotifier` whose HTTP client answers from a
script keyed on a fake clock (503s, then refused connections, then 200), so a
ten-minute budget runs in milliseconds. One test runs the retrier's own thread
on real time with a short budget.
"""

from __future__ import annotations

import json
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import httpx
import pytest
from prometheus_client import CollectorRegistry
from pydantic import SecretStr

from earful.events import Alert, encode
from earful.sinks.delivery import (
    DeliveryProcessor,
    DeliveryRecord,
    DeliveryRetrier,
    DeliverySettings,
    DeliveryState,
    NotifyMetrics,
    cooldown_seconds,
)
from earful.sinks.notify import RetryPolicy, WebhookNotifier
from earful.sinks.routing import Cooldown, TargetConfig
from earful.worker import Output
from tests.sinks.notify.alerts import T0, make_alert

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


class FakeClock:
    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


class Endpoint:
    """A webhook consumer whose health follows a script: ``health(now) -> 'down'|'refuse'|'up'``."""

    def __init__(self, health: Callable[[], str]) -> None:
        self.health = health
        self.accepted: list[dict[str, Any]] = []  # payloads answered 200, in order
        self.ids: Counter[str] = Counter()  # webhook-id of every accepted request
        self.requests = 0
        self._lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests += 1
            state = self.health()
            if state == "refuse":
                raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
            if state == "down":
                return httpx.Response(503, text="upstream unavailable")
            self.accepted.append(json.loads(request.content))
            self.ids[request.headers["webhook-id"]] += 1
            return httpx.Response(200, text="ok")

    def delivered(self) -> list[tuple[str, str]]:
        return [(p["data"]["dedup_key"], p["type"].rsplit(".", 1)[1]) for p in self.accepted]


class Writer:
    """Stands in for the retrier's Kafka producer; can refuse the first ``fail`` writes."""

    def __init__(self, fail: int = 0) -> None:
        self.fail = fail
        self.written: list[Output] = []

    def __call__(self, outputs: list[Output]) -> list[Output]:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("no broker")
        self.written.extend(outputs)
        return []

    def records(self) -> list[DeliveryRecord]:
        return [
            DeliveryRecord.model_validate_json(o.value)
            for o in self.written
            if o.topic == "deliveries"
        ]


class Rig:
    """Processor + retrier + endpoint, driven step by step as the worker and the thread would."""

    def __init__(
        self,
        health: Callable[[], str],
        *,
        clock: FakeClock,
        budget_s: float = 600.0,
        writer: Writer | None = None,
        registry: CollectorRegistry | None = None,
    ) -> None:
        self.clock = clock
        self.endpoint = Endpoint(health)
        self.client = httpx.Client(transport=httpx.MockTransport(self.endpoint))
        self.target = WebhookNotifier(
            name="hook",
            url=SecretStr("http://hooks.invalid/earful"),
            secret=SecretStr(SECRET),
            client=self.client,
            clock=clock,
            rng=random.Random(5),
            policy=RetryPolicy(budget_s=budget_s, base_delay_s=1.0, max_delay_s=30.0),
            sleep=self._no_sleep,
        )
        self.settings = DeliverySettings(
            topic_deliveries="deliveries",
            topic_deadletter="dlq",
            topic_alerts="alerts",
            notify_targets=(TargetConfig(name="hook", kind="console"),),
            notify_cooldown_s=0,
        )
        self.state = DeliveryState(Cooldown(cooldown_seconds(self.settings)))
        self.writer = writer or Writer()
        self.metrics = NotifyMetrics(registry, ["hook"]) if registry is not None else None
        self.retrier = DeliveryRetrier(
            self.settings,
            targets={"hook": self.target},
            state=self.state,
            write=self.writer,
            metrics=self.metrics,
            clock=clock,
            rng=random.Random(9),
        )
        self.processor = DeliveryProcessor(
            self.settings,
            targets={"hook": self.target},
            state=self.state,
            retrier=self.retrier,
            metrics=self.metrics,
            clock=clock,
            rng=random.Random(3),
        )
        self.committed: list[DeliveryRecord] = []
        self.offset = 0

    @staticmethod
    def _no_sleep(seconds: float) -> None:
        raise AssertionError(f"the delivery worker slept {seconds}s in its loop")

    def feed(self, alert: Alert, *, commit: bool = True) -> list[Output]:
        """One alert through the worker: process, then commit (or not)."""
        record = SimpleNamespace(
            value=encode(alert),
            key=alert.dedup_key.encode(),
            topic="alerts",
            partition=0,
            offset=self.offset,
            headers=[],
        )
        self.offset += 1
        outputs = list(self.processor.process(record))
        if commit:
            self.committed += [
                DeliveryRecord.model_validate_json(o.value)
                for o in outputs
                if o.topic == "deliveries"
            ]
            self.processor.on_committed()
        return outputs

    def final_records(self) -> dict[tuple[str, str, str], DeliveryRecord]:
        """The deliveries topic after compaction: the last record per key."""
        last: dict[tuple[str, str, str], DeliveryRecord] = {}
        for r in [*self.committed, *self.writer.records()]:
            last[r.key] = r
        return last


def _firing(i: int) -> Alert:
    return make_alert(dedup_key=f"earful/outage_burst/s{i}", subject=f"s{i}", created_at=T0)


def _resolved(i: int) -> Alert:
    return make_alert(
        dedup_key=f"earful/outage_burst/s{i}",
        subject=f"s{i}",
        status="resolved",
        ends_at=T0 + timedelta(minutes=1),
        created_at=T0,
    )


def test_a_target_down_longer_than_the_old_attempt_budget_then_up_gets_every_alert_once() -> None:
    # The failure in the issue: 30 s of 503s, then 20 s of refused connections. The old
    # policy (5 attempts, about 15 s of waits) lost alerts here; a 10-minute budget does not.
    clock = FakeClock(T0)

    def health() -> str:
        elapsed = (clock() - T0).total_seconds()
        return "down" if elapsed < 30 else "refuse" if elapsed < 50 else "up"

    rig = Rig(health, clock=clock)
    # 40 alerts fire one per second, the first 10 resolve while the target is still down.
    schedule: dict[int, Alert] = {i: _firing(i) for i in range(40)}
    schedule.update({40 + i: _resolved(i) for i in range(10)})
    for second in range(200):
        if second in schedule:
            rig.feed(schedule[second])
        rig.retrier.run_due()
        clock.advance(1)
    assert rig.retrier.pending() == 0

    delivered = rig.endpoint.delivered()
    wanted = [(a.dedup_key, a.status) for a in schedule.values()]
    assert sorted(delivered) == sorted(wanted)  # every alert, firing and resolved
    assert max(rig.endpoint.ids.values()) == 1  # none accepted twice
    for i in range(10):  # each resolve after its firing
        key = _firing(i).dedup_key
        assert delivered.index((key, "firing")) < delivered.index((key, "resolved"))
    finals = rig.final_records()
    assert len(finals) == 50 and {r.outcome for r in finals.values()} == {"delivered"}
    assert not [o for o in rig.writer.written if o.topic == "dlq"]
    # The retries spread out: far fewer requests than one per alert per second of outage.
    assert rig.endpoint.requests < 50 * 12


def test_what_the_budget_cannot_save_is_counted_dead_lettered_and_its_resolve_dropped() -> None:
    clock = FakeClock(T0)
    registry = CollectorRegistry()
    rig = Rig(lambda: "down", clock=clock, budget_s=60.0, registry=registry)
    outputs = rig.feed(_firing(1))
    assert [json.loads(o.value)["outcome"] for o in outputs] == ["retrying"]  # no DLQ yet
    clock.advance(5)
    rig.feed(_resolved(1))  # queued behind its firing
    for _ in range(120):
        rig.retrier.run_due()
        clock.advance(1)
    assert rig.retrier.pending() == 0

    finals = {r.revision: r for r in rig.final_records().values()}
    failed = finals["firing:critical"]
    assert failed.outcome == "failed" and failed.status_code == 503
    assert "retry budget 60s" in failed.detail and failed.attempts >= 4
    assert (finals["resolved"].outcome, finals["resolved"].detail) == (
        "suppressed",
        "its firing was never delivered here",
    )
    # The given-up alert is in the dead-letter topic, unchanged, with its target.
    dead = [o for o in rig.writer.written if o.topic == "dlq"]
    assert len(dead) == 1 and dead[0].value == encode(_firing(1))
    headers = dict(dead[0].headers)
    assert headers["earful.notify.target"] == b"hook"
    assert headers["earful.error.reason"] == b"delivery_failed"
    assert headers["earful.source.topic"] == b"alerts" and headers["earful.source.offset"] == b"0"
    # ... and counted, for the EarfulAlertDeliveryFailed rule.
    sample = registry.get_sample_value
    assert sample("earful_notify_deliveries_total", {"target": "hook", "outcome": "failed"}) == 1
    assert sample("earful_notify_deliveries_total", {"target": "hook", "outcome": "retrying"}) == 2
    assert sample("earful_notify_deliveries_total", {"target": "hook", "outcome": "delivered"}) == 0
    assert sample("earful_notify_retrying", {"target": "hook"}) == 0


def test_the_first_attempt_is_the_only_one_in_the_loop() -> None:
    # The worker's loop must keep polling: one request per target, no wait, then hand over.
    clock = FakeClock(T0)
    rig = Rig(lambda: "refuse", clock=clock)
    rig.feed(_firing(1), commit=False)
    assert rig.endpoint.requests == 1
    assert rig.retrier.pending() == 0  # not before the commit: its record must be durable first
    rig.processor.on_committed()
    assert rig.retrier.pending() == 1
    assert rig.retrier.run_due() == 0  # not due yet: the backoff
    clock.advance(2)
    assert rig.retrier.run_due() == 1


def test_a_retry_after_is_the_least_wait_and_one_past_the_budget_gives_up_at_once() -> None:
    clock = FakeClock(T0)
    retry_after = {"seconds": "45"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(429, headers={"Retry-After": retry_after["seconds"]})

    rig = Rig(lambda: "up", clock=clock)
    rig.client._transport = httpx.MockTransport(handler)
    outputs = rig.feed(_firing(1))
    record = DeliveryRecord.model_validate_json(outputs[0].value)
    assert record.outcome == "retrying" and record.next_at is not None
    assert (record.next_at - T0).total_seconds() >= 45
    retry_after["seconds"] = "Wed, 25 Nov 2026 12:00:00 GMT"  # two hours: past the budget
    outputs = rig.feed(_firing(2))
    record = DeliveryRecord.model_validate_json(outputs[0].value)
    assert record.outcome == "failed" and "Retry-After 7200s" in record.detail
    assert [o.topic for o in outputs] == ["deliveries", "dlq"]


def test_an_abandoned_batch_leaves_no_decision_behind() -> None:
    clock = FakeClock(T0)
    rig = Rig(lambda: "down", clock=clock)
    rig.feed(_firing(1), commit=False)
    assert rig.state.pending
    rig.processor.discard_uncommitted()  # Kafka went away before the commit
    assert not rig.state.pending and not rig.state.decided
    rig.feed(_firing(1))  # read again from the last commit: decided again, retried once
    assert rig.retrier.pending() == 1 and rig.endpoint.requests == 2


def test_a_rollback_keeps_what_the_retrier_delivered_meanwhile() -> None:
    clock = FakeClock(T0)
    up = {"now": False}
    rig = Rig(lambda: "up" if up["now"] else "down", clock=clock)
    rig.feed(_firing(1))
    rig.feed(_firing(2), commit=False)  # a batch in progress...
    up["now"] = True
    clock.advance(5)
    rig.retrier.run_due()  # ...while the retrier delivers the first alert
    rig.processor.discard_uncommitted()  # ...and the batch is abandoned
    key = ("hook", _firing(1).dedup_key)
    assert key in rig.state.active  # the retrier's outcome survived the rollback
    assert ("hook", _firing(2).dedup_key, "firing:critical") not in rig.state.decided
    resolved = rig.feed(_resolved(1))
    assert [json.loads(o.value)["outcome"] for o in resolved] == ["delivered"]


def test_a_restart_resumes_the_retries_from_the_deliveries_topic() -> None:
    clock = FakeClock(T0)
    first = Rig(lambda: "down", clock=clock, budget_s=300.0)
    first.feed(_firing(1))
    first.feed(_firing(2))
    clock.advance(60)
    # The process dies; a new one rebuilds its state from the committed records.
    up = Rig(lambda: "up", clock=clock, budget_s=300.0)
    for record in first.committed:
        up.state.apply(DeliveryRecord.model_validate_json(record.model_dump_json()))
    up.retrier.add(up.state.pending.values())
    assert up.retrier.pending() == 2
    up.retrier.run_due()
    assert sorted(up.endpoint.delivered()) == [
        (_firing(1).dedup_key, "firing"),
        (_firing(2).dedup_key, "firing"),
    ]
    assert {r.outcome for r in up.writer.records()} == {"delivered"}
    # The budget still counts from the first attempt, before the restart.
    assert {r.since for r in up.writer.records()} == {T0}


def test_records_the_broker_refused_are_written_again_and_not_delivered_again() -> None:
    clock = FakeClock(T0)
    up = {"now": False}
    rig = Rig(lambda: "up" if up["now"] else "down", clock=clock, writer=Writer(fail=3))
    for i in range(3):
        rig.feed(_firing(i))
    up["now"] = True
    for _ in range(10):
        clock.advance(5)
        rig.retrier.run_due()
    assert max(rig.endpoint.ids.values()) == 1 and len(rig.endpoint.ids) == 3
    assert sorted(r.dedup_key for r in rig.writer.records()) == sorted(
        _firing(i).dedup_key for i in range(3)
    )


def test_the_retrier_thread_delivers_in_real_time_with_a_short_budget() -> None:
    started = time.monotonic()

    def health() -> str:
        return "up" if time.monotonic() - started > 0.8 else "down"

    clock = FakeClock(T0)
    rig = Rig(health, clock=clock, budget_s=5.0)
    rig.retrier.clock = rig.processor.clock = rig.target.clock = _utc_now
    rig.target.policy = RetryPolicy(budget_s=5.0, base_delay_s=0.05, max_delay_s=0.2)
    rig.processor.max_age = None  # the fixture alerts are dated T0, weeks before now
    rig.retrier.start()
    try:
        for i in range(10):
            rig.feed(_firing(i))
        deadline = time.monotonic() + 10
        while len(rig.endpoint.ids) < 10 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        rig.retrier.close()
    assert len(rig.endpoint.ids) == 10 and max(rig.endpoint.ids.values()) == 1
    assert rig.retrier.pending() == 0
    assert len(rig.writer.records()) == 10


def _utc_now() -> datetime:
    from earful.events import now_utc

    return now_utc()


@pytest.mark.parametrize("budget", [0.0, -1.0])
def test_a_budget_must_be_positive(budget: float) -> None:
    with pytest.raises(ValueError, match="greater than 0"):
        DeliverySettings(notify_retry_budget_s=budget)


def test_the_old_attempt_count_is_refused_with_a_pointer_to_the_budget() -> None:
    with pytest.raises(ValueError, match="retry_budget_s"):
        TargetConfig.model_validate({"name": "hook", "kind": "console", "max_attempts": 5})


class SlowTarget:
    """Takes as long as it is allowed (a blackholed endpoint), on a fake timer."""

    kind = "webhook"
    idempotent = True

    def __init__(self, name: str, timer: list[float]) -> None:
        self.name = name
        self.policy = RetryPolicy()
        self.timer = timer
        self.timeouts: list[float | None] = []

    def attempt(self, notification: Any, *, timeout_s: float | None = None) -> Any:
        from earful.sinks.notify import Attempt, DeliveryVerdict

        self.timeouts.append(timeout_s)
        self.timer[0] += 15.0 if timeout_s is None else min(15.0, timeout_s)
        return Attempt(DeliveryVerdict.RETRY, None, "timeout (ReadTimeout)")

    def deliver(self, notification: Any) -> Any:
        raise AssertionError("not in the loop")


def test_the_loop_spends_at_most_notify_inline_s_on_one_alerts_first_attempts() -> None:
    # Three blackholed targets with 15 s timeouts would hold the loop 45 s (past /livez's
    # 60 s with a fourth); the loop gives them 5 s together and hands the rest over.
    timer = [0.0]
    targets = {n: SlowTarget(n, timer) for n in ("a", "b", "c")}
    settings = DeliverySettings(
        topic_deliveries="deliveries",
        topic_deadletter="dlq",
        notify_targets=tuple(TargetConfig(name=n, kind="console") for n in targets),
    )
    state = DeliveryState(Cooldown(cooldown_seconds(settings)))
    processor = DeliveryProcessor(
        settings, targets=targets, state=state, clock=FakeClock(T0), timer=lambda: timer[0]
    )
    record = SimpleNamespace(
        value=encode(_firing(1)), key=b"k", topic="alerts", partition=0, offset=0, headers=[]
    )
    outputs = list(processor.process(record))
    assert timer[0] <= settings.notify_inline_s
    assert targets["a"].timeouts == [settings.notify_inline_s]
    assert targets["b"].timeouts == targets["c"].timeouts == []
    details = [json.loads(o.value)["detail"] for o in outputs]
    assert details[1:] == ["first attempt left to the retrier"] * 2
    assert [json.loads(o.value)["outcome"] for o in outputs] == ["retrying"] * 3


def test_changes_queued_behind_a_retry_keep_their_order_and_meaning() -> None:
    clock = FakeClock(T0)
    up = {"now": False}
    rig = Rig(lambda: "up" if up["now"] else "down", clock=clock)
    key = _firing(1).dedup_key
    for severity in ("warning", "critical", "info"):
        rig.feed(make_alert(dedup_key=key, subject="s1", severity=severity, created_at=T0))
    rig.feed(_resolved(1))
    assert [r.detail for r in rig.committed[1:]] == ["queued behind an earlier change"] * 3
    up["now"] = True
    for _ in range(5):
        clock.advance(5)
        rig.retrier.run_due()
    sent = [(p["type"].rsplit(".", 1)[1], p["data"]["severity"]) for p in rig.endpoint.accepted]
    # In order; the 'info' behind a 'critical' that got through is not sent (as in the loop).
    assert sent == [("firing", "warning"), ("firing", "critical"), ("resolved", "critical")]
    finals = {r.revision: (r.outcome, r.detail) for r in rig.writer.records()}
    assert finals["firing:info"] == ("suppressed", "already firing here at critical")
    assert finals["resolved"][0] == "delivered"
