"""The alert sink against the real broker: a restart neither loses nor repeats an alert."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from earful.events import Alert, decode
from earful.kafkautil import read_to_end
from earful.settings import AlertSinkSettings
from earful.worker import make_consumer, make_producer
from tests.sinks.test_alerts import scored

pytestmark = pytest.mark.kafka
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def run_sink(settings: AlertSinkSettings) -> str:
    env = {
        **os.environ,
        "EARFUL_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
        "EARFUL_TOPIC_SCORED": settings.topic_scored,
        "EARFUL_TOPIC_ALERTS": settings.topic_alerts,
        "EARFUL_TOPIC_DEADLETTER": settings.topic_deadletter,
        "EARFUL_ALERTS_GROUP": settings.alerts_group,
        "EARFUL_ALERT_MIN_MENTIONS": "20",
    }
    proc = subprocess.run(
        [sys.executable, "-m", "earful.cli", "sink", "alerts", "--idle-timeout", "3",
         "--instance-id", "alerts-test"],
        env=env, capture_output=True, timeout=120, check=False,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr.decode()
    return proc.stdout.decode()


def produce(settings: AlertSinkSettings, records: list[Any]) -> None:
    producer = make_producer(settings)
    try:
        for r in records:
            producer.send(settings.topic_scored, key=r.key, value=r.value)
        producer.flush()
    finally:
        producer.close(timeout=10)


def alerts(settings: AlertSinkSettings) -> list[Alert]:
    consumer = make_consumer(settings, group=None, topics=[])
    try:
        return [decode(Alert, r.value) for r in read_to_end(consumer, settings.topic_alerts)]
    finally:
        consumer.close(autocommit=False)


def test_restart_keeps_the_open_alert_and_resolves_it_once(
    settings_factory: Callable[..., Any],
) -> None:
    settings = settings_factory(AlertSinkSettings)
    burst = [scored(i, "negative", at=T0 + timedelta(seconds=i)) for i in range(40)]
    produce(settings, burst)
    first = run_sink(settings)
    assert first.count("[FIRING]") == 1

    still_bad = [scored(100 + i, "negative", at=T0 + timedelta(seconds=40 + i)) for i in range(40)]
    recovery_start = T0 + timedelta(seconds=500)
    calm = [scored(200 + i, "positive", at=recovery_start + timedelta(seconds=5 * i))
            for i in range(60)]  # fmt: skip
    produce(settings, still_bad + calm)
    second = run_sink(settings)

    assert "[FIRING]" not in second, "a restart must not fire the open alert again"
    assert second.count("[RESOLVED]") == 1
    statuses = [a.status for a in alerts(settings)]
    assert statuses == ["firing", "resolved"]
