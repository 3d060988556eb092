"""Alert delivery on the real broker: end to end from signals, and a kill mid-delivery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from earful.events import Alert, encode, now_utc
from earful.sinks.delivery import (
    DeliveryProcessor,
    DeliveryRecord,
    DeliverySettings,
    DeliveryState,
    cooldown_seconds,
    ensure_deliveries_topic,
    load_delivery_state,
)
from earful.sinks.notify.receiver import LocalReceiver, Reply
from earful.sinks.routing import Cooldown, TargetConfig, build_targets
from earful.sinks.signal_alerts import SignalAlertProcessor, SignalAlertSettings
from earful.state import state_reader
from earful.worker import Worker, make_consumer, make_producer
from tests.kafka_io import produce, read_all
from tests.sinks.notify.alerts import make_alert
from tests.sinks.test_signal_alerts import make_signal

pytestmark = pytest.mark.kafka

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _produce(settings: Any, topic: str, records: list[tuple[str, bytes]]) -> None:
    produce(settings, topic, [(key.encode(), value) for key, value in records])


def _deliveries(settings: DeliverySettings) -> list[DeliveryRecord]:
    return [
        DeliveryRecord.model_validate_json(r.value)
        for r in read_all(settings, settings.topic_deliveries)
    ]


def _run_inline(settings: Any, *, group: str, topic: str, processor: Any) -> Worker:
    worker = Worker(
        name=group,
        settings=settings,
        consumer=make_consumer(settings, group=group, topics=[topic]),
        producer=make_producer(settings, transactional_id=f"{group}.t"),
        processor=processor,
        transactional=True,
        hook=processor if hasattr(processor, "on_committed") else None,
    )
    try:
        worker.run(idle_timeout_s=3.0)
    finally:
        worker.close()
    return worker


def _webhook_target(url: str) -> TargetConfig:
    return TargetConfig.model_validate(
        {"name": "hook", "kind": "webhook", "url": url + "/hook", "secret": SECRET}
    )


def _notify_settings(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str], url: str, **extra: Any
) -> DeliverySettings:
    """A notify worker's settings: a deliveries topic of its own, one webhook target at ``url``."""
    settings: DeliverySettings = settings_factory(
        DeliverySettings,
        topic_deliveries=unique_name("deliveries"),
        notify_targets=(_webhook_target(url),),
        **extra,
    )
    return settings


def _six_alerts(tag: str) -> list[Alert]:
    return [
        make_alert(dedup_key=f"earful/{tag}/{i}", subject=f"s{i}", created_at=now_utc())
        for i in range(6)
    ]


def test_signals_become_alerts_that_reach_the_webhook_once(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    signals = settings_factory(SignalAlertSettings)
    opened = make_signal("open", "warning", opened_at=now_utc() - timedelta(minutes=5))
    sequence = [
        opened,
        opened.model_copy(update={"state": "update"}),
        opened.model_copy(update={"state": "update", "severity": "critical"}),
        opened.model_copy(update={"state": "resolved", "resolved_at": now_utc()}),
    ]
    _produce(signals, signals.topic_signals, [(s.subject, encode(s)) for s in sequence])
    # An alert another producer wrote (a kind sink signals never makes) travels the same topic.
    legacy = make_alert(
        dedup_key="earful/negative_share/globex/x",
        subject="globex",
        kind="negative_share",
        severity="warning",
        created_at=now_utc(),
    )
    _produce(signals, signals.topic_alerts, [(legacy.dedup_key, encode(legacy))])
    _run_inline(
        signals,
        group=signals.signal_alerts_group,
        topic=signals.topic_signals,
        processor=SignalAlertProcessor(signals),
    )

    with LocalReceiver(secret=SECRET) as rx, httpx.Client(timeout=5) as client:
        settings = _notify_settings(
            settings_factory,
            unique_name,
            rx.url,
            **{f: getattr(signals, f) for f in ("topic_alerts", "topic_deadletter")},
        )
        ensure_deliveries_topic(settings)
        for run in range(2):  # the second run finds everything delivered and sends nothing
            state = DeliveryState(Cooldown(cooldown_seconds(settings)))
            with state_reader(settings) as reader:
                load_delivery_state(settings, reader, state)
            processor = DeliveryProcessor(
                settings,
                state=state,
                targets=build_targets(settings.notify_targets, client=client),
            )
            group = settings.notify_group if run == 0 else unique_name("fresh-group")
            _run_inline(settings, group=group, topic=settings.topic_alerts, processor=processor)
        received = [(r.json()["type"], r.json()["data"]) for r in rx.requests]

    assert all(r.signature_ok for r in rx.requests)
    by_subject = sorted((d["subject"], t, d["severity"]) for t, d in received)
    assert by_subject == [
        ("acme", "earful.alert.firing", "critical"),
        ("acme", "earful.alert.firing", "warning"),
        ("acme", "earful.alert.resolved", "critical"),
        ("globex", "earful.alert.firing", "warning"),
    ]
    assert len(rx.counts()) == 4 and max(rx.counts().values()) == 1
    assert sorted(d.outcome for d in _deliveries(settings)) == ["delivered"] * 4


def _notify_process(
    procs: list[subprocess.Popen[bytes]],
    settings: DeliverySettings,
    url: str,
    *extra: str,
    env_extra: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "EARFUL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "EARFUL_TOPIC_ALERTS": settings.topic_alerts,
        "EARFUL_TOPIC_DEADLETTER": settings.topic_deadletter,
        "EARFUL_TOPIC_DELIVERIES": settings.topic_deliveries,
        "EARFUL_NOTIFY_GROUP": settings.notify_group,
        "EARFUL_NOTIFY_TARGETS": json.dumps(
            [{"name": "hook", "kind": "webhook", "url": url + "/hook", "secret": SECRET}]
        ),
        "EARFUL_NOTIFY_COOLDOWN_S": "0",
        **(env_extra or {}),
    }
    env.pop("EARFUL_CONFIG", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "sink", "notify", "--instance-id", "kill", *extra],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    procs.append(proc)
    return proc


def test_kill_between_send_and_commit_loses_nothing_and_repeats_only_the_idempotent_one(
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    killed: list[str] = []
    holder: list[subprocess.Popen[bytes]] = []

    def kill_on_third(request: Any) -> None:
        # The worker has sent this request and waits for the answer: kill it now,
        # before it can record the delivery and commit.
        if len(rx.requests) == 3 and not killed:
            killed.append(request.idempotency_key)
            holder[0].send_signal(signal.SIGKILL)
            holder[0].wait(timeout=10)

    with LocalReceiver(secret=SECRET, on_request=kill_on_third) as rx:
        settings = _notify_settings(settings_factory, unique_name, rx.url)
        alerts = _six_alerts("kill")
        _produce(settings, settings.topic_alerts, [(a.dedup_key, encode(a)) for a in alerts])

        first = _notify_process(processes, settings, rx.url)
        holder.append(first)
        assert rx.wait_for(lambda reqs: len(reqs) >= 3, timeout_s=90), "no deliveries"
        first.wait(timeout=30)
        assert first.returncode == -signal.SIGKILL and killed

        second = _notify_process(processes, settings, rx.url, "--idle-timeout", "3")
        _, err = second.communicate(timeout=120)
        assert second.returncode == 0, err.decode()[-3000:]
        counts = rx.counts()

    sent_data = {r.json()["data"]["dedup_key"] for r in rx.requests}
    assert sent_data == {a.dedup_key for a in alerts}, "an alert was lost"
    assert len(counts) == 6
    # Only the delivery in flight at the kill was sent again, with the same webhook-id.
    assert {k: n for k, n in counts.items() if n > 1} == {killed[0]: 2}
    assert all(r.signature_ok for r in rx.requests)
    records = _deliveries(settings)
    assert sorted(r.dedup_key for r in records) == sorted(a.dedup_key for a in alerts)
    assert {r.delivery_id for r in records} == set(counts)
    assert all(r.outcome == "delivered" for r in records)


#: Short retry timings, so minutes of outage take seconds.
_FAST_RETRIES = {
    "EARFUL_NOTIFY_RETRY_BUDGET_S": "120",
    "EARFUL_NOTIFY_BASE_DELAY_S": "0.2",
    "EARFUL_NOTIFY_MAX_DELAY_S": "1",
}


def test_a_webhook_down_past_the_old_attempts_then_killed_and_back_gets_every_alert_once(
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    processes: list[subprocess.Popen[bytes]],
) -> None:
    # The webhook fails for longer than the five attempts used to last; the worker is
    # killed while retrying; the next one resumes the retries from earful.deliveries.
    with LocalReceiver(secret=SECRET, default_reply=Reply(503, b"down")) as rx:
        settings = _notify_settings(settings_factory, unique_name, rx.url)
        alerts = _six_alerts("down")
        resolves = [
            a.model_copy(update={"status": "resolved", "ends_at": now_utc()}) for a in alerts[:2]
        ]
        _produce(
            settings,
            settings.topic_alerts,
            [(a.dedup_key, encode(a)) for a in [*alerts, *resolves]],
        )
        first = _notify_process(processes, settings, rx.url, env_extra=_FAST_RETRIES)
        # Each alert tried, then retried at least 5 times (the old budget) without success.
        assert rx.wait_for(lambda reqs: len(reqs) >= 6 * 6, timeout_s=120), "no retries"
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        assert not rx.accepted()
        rx.default_reply = Reply(200)
        second = _notify_process(processes, settings, rx.url, env_extra=_FAST_RETRIES)
        try:
            assert rx.wait_for(lambda reqs: len(rx.accepted()) >= 8, timeout_s=120), (
                f"delivered {len(rx.accepted())} of 8"
            )
            time.sleep(2)  # nothing more may arrive
        finally:
            second.send_signal(signal.SIGTERM)
            _, err = second.communicate(timeout=60)
        assert second.returncode == 0, err.decode()[-3000:]
        accepted = rx.accepted()
        taken = [r.json() for r in rx.requests if r.idempotency_key in accepted]

    assert len(accepted) == 8 and max(accepted.values()) == 1  # every alert, none twice
    kinds = {(d["data"]["dedup_key"], d["type"]) for d in taken}
    assert kinds == {(a.dedup_key, "earful.alert.firing") for a in alerts} | {
        (a.dedup_key, "earful.alert.resolved") for a in resolves
    }
    last: dict[tuple[str, str, str], DeliveryRecord] = {}
    for record in _deliveries(settings):
        last[record.key] = record
    assert {r.outcome for r in last.values()} == {"delivered"} and len(last) == 8


@pytest.fixture
def own_signal_handlers() -> Iterator[None]:
    """The CLI installs SIGTERM/SIGINT handlers; give pytest its own back afterwards."""
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    yield
    for signum, handler in saved.items():
        signal.signal(signum, handler)


@pytest.mark.usefixtures("own_signal_handlers")
def test_the_signals_command_resumes_from_the_alerts_topic(
    settings_factory: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from earful.cli import main

    settings = settings_factory(SignalAlertSettings)
    for field in ("topic_signals", "topic_alerts", "topic_deadletter", "signal_alerts_group"):
        monkeypatch.setenv(f"EARFUL_{field.upper()}", getattr(settings, field))
    monkeypatch.delenv("EARFUL_CONFIG", raising=False)
    opened = make_signal("open", "warning")
    _produce(settings, settings.topic_signals, [("acme", encode(opened))])
    argv = ["sink", "signals", "--bootstrap", settings.kafka_bootstrap, "--idle-timeout", "3"]
    assert main([*argv, "--instance-id", "a"]) == 0
    # A second worker (new group: it reads the signals again) knows the signal is open
    # from the alerts topic, so it only emits the resolve.
    monkeypatch.setenv("EARFUL_SIGNAL_ALERTS_GROUP", settings.signal_alerts_group + "-2")
    resolved = opened.model_copy(update={"state": "resolved", "resolved_at": opened.updated_at})
    _produce(settings, settings.topic_signals, [("acme", encode(resolved))])
    assert main([*argv, "--instance-id", "b"]) == 0
    statuses = [json.loads(r.value)["status"] for r in read_all(settings, settings.topic_alerts)]
    assert statuses == ["firing", "resolved"]
