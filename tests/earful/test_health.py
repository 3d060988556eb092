"""The health state machine with a fake clock, and the real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from earful.health import HealthServer, HealthSettings, HealthState, start_health_server


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_ready_needs_a_recent_poll_with_partitions() -> None:
    clock = FakeClock()
    state = HealthState(live_within_s=60, ready_within_s=30, clock=clock)
    assert not state.ready().ok and "not connected" in state.ready().reason
    state.beat(assigned=False)
    assert not state.ready().ok and "no partitions" in state.ready().reason
    state.beat(assigned=True)
    assert state.ready().ok
    clock.now += 31
    assert not state.ready().ok and "last poll 31s ago" in state.ready().reason
    state.beat(assigned=True)
    state.stopping()
    assert not state.ready().ok and state.ready().reason == "stopping"
    assert state.live().ok


def test_live_fails_when_the_loop_stalls() -> None:
    clock = FakeClock()
    state = HealthState(live_within_s=60, ready_within_s=30, clock=clock)
    assert state.live().ok  # starting up counts from construction
    clock.now += 61
    assert not state.live().ok and "silent for 61s" in state.live().reason
    state.beat(assigned=False)
    assert state.live().ok
    clock.now += 59
    assert state.live().ok


def test_settings_feed_the_limits() -> None:
    settings = HealthSettings(health_live_within_s=5, health_ready_within_s=2)
    state = HealthState.from_settings(settings)
    assert (state.live_within_s, state.ready_within_s) == (5, 2)


Served = tuple[HealthServer, FakeClock, HealthState]


@pytest.fixture
def served() -> Iterator[Served]:
    clock = FakeClock()
    state = HealthState(live_within_s=60, ready_within_s=30, clock=clock)
    server = start_health_server(state, "127.0.0.1", 0)
    try:
        yield server, clock, state
    finally:
        server.shutdown()
        server.server_close()


def test_server_answers_livez_and_readyz(
    served: tuple[HealthServer, FakeClock, HealthState],
) -> None:
    server, clock, state = served
    base = f"http://127.0.0.1:{server.port}"
    assert httpx.get(f"{base}/livez").status_code == 200
    ready = httpx.get(f"{base}/readyz")
    assert ready.status_code == 503 and ready.json()["ok"] is False
    state.beat(assigned=True)
    assert httpx.get(f"{base}/readyz").json() == {
        "ok": True,
        "reason": "polling with partitions assigned",
    }
    clock.now += 120
    assert httpx.get(f"{base}/livez").status_code == 503
    assert httpx.get(f"{base}/nowhere").status_code == 404
