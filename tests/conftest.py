"""Shared fixtures: one real Kafka broker per test session, and unique topics per test.

The broker is Earful's own local broker (``earful.localkafka``) on free ports
with its state in a temporary directory; its jars come from the user cache
that ``make`` fills. Set ``EARFUL_TEST_KAFKA_BOOTSTRAP`` to use a running
cluster instead. Tests that need the broker are marked ``kafka``; when it
cannot start they fail rather than skip, so CI never passes without it.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest

from earful.localkafka import LocalKafka
from earful.settings import BaseWorkerSettings
from earful.topics import create_topics
from tests.ports import free_port

S = TypeVar("S", bound=BaseWorkerSettings)


@pytest.fixture(scope="session")
def kafka_bootstrap(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """Bootstrap address of a real broker, started once for the whole session."""
    existing = os.environ.get("EARFUL_TEST_KAFKA_BOOTSTRAP")
    if existing:
        yield existing
        return
    broker = LocalKafka(
        port=free_port(),
        controller_port=free_port(),
        state_dir=Path(tmp_path_factory.mktemp("kafka")),
    )
    bootstrap = broker.up(timeout_s=180)
    try:
        yield bootstrap
    finally:
        broker.down()


@pytest.fixture
def private_broker(tmp_path: Path) -> Iterator[LocalKafka]:
    """A broker of this test's own, which the test may kill, freeze and restart."""
    broker = LocalKafka(
        port=free_port(), controller_port=free_port(), state_dir=tmp_path / "private-kafka"
    )
    broker.up(timeout_s=180)
    try:
        yield broker
    finally:
        broker.freeze(False)
        broker.down()


@pytest.fixture
def unique_name(request: pytest.FixtureRequest) -> Callable[[str], str]:
    """Names unique to this test (topics, groups), readable in broker logs."""
    token = uuid.uuid4().hex[:8]
    base = "".join(c if c.isalnum() else "-" for c in request.node.name)[:40]
    return lambda what: f"t-{base}-{token}-{what}"


@pytest.fixture
def settings_factory(kafka_bootstrap: str, unique_name: Callable[[str], str]) -> Callable[..., Any]:
    """Build worker settings pointing at this test's own, freshly created topics."""
    created: dict[str, bool] = {}

    def make(cls: type[S] = BaseWorkerSettings, **overrides: Any) -> S:  # type: ignore[assignment]
        topics = {
            f"topic_{k}": unique_name(k)
            for k in (
                "raw",
                "scored",
                "windows",
                "signals",
                "alerts",
                "updates",
                "reactions",
                "deadletter",
            )
        }
        values: dict[str, Any] = {
            "kafka_bootstrap": kafka_bootstrap,
            **topics,
            "topic_partitions": 3,
            **overrides,
        }
        for field in cls.model_fields:
            if field.endswith("_group") and field not in overrides:
                values[field] = unique_name(field)
        settings = cls(**values)
        key = settings.topic_raw
        if key not in created:
            create_topics(settings)
            created[key] = True
        return settings

    return make


@pytest.fixture
def processes() -> Iterator[list[subprocess.Popen[bytes]]]:
    """Worker processes a test starts; killed and reaped whatever the outcome."""
    started: list[subprocess.Popen[bytes]] = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.communicate(timeout=10)
