"""Every worker's health server also serves /metrics, so Prometheus scrapes each worker."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import httpx
import pytest

from earful.health import HealthServer, HealthState, start_health_server
from tests.deploy.tools import observability_tool

#: Needs Debian's Prometheus tools (make test installs them; make unit leaves these out).
pytestmark = pytest.mark.observability


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def served() -> Iterator[tuple[HealthState, Clock, HealthServer]]:
    clock = Clock()
    state = HealthState(live_within_s=60, ready_within_s=30, clock=clock)
    server = start_health_server(state, "127.0.0.1", 0)
    yield state, clock, server
    server.shutdown()
    server.server_close()


def scrape(server: HealthServer) -> dict[str, float]:
    response = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        line.split()[0]: float(line.split()[1])
        for line in response.text.splitlines()
        if line.startswith("earful_worker_")
    }


def test_worker_gauges_follow_live_and_ready(
    served: tuple[HealthState, Clock, HealthServer],
) -> None:
    state, clock, server = served
    assert scrape(server) == {"earful_worker_live": 1.0, "earful_worker_ready": 0.0}
    state.beat(assigned=True)
    assert scrape(server) == {"earful_worker_live": 1.0, "earful_worker_ready": 1.0}
    clock.now += 45  # polls stopped: not ready, still live
    assert scrape(server) == {"earful_worker_live": 1.0, "earful_worker_ready": 0.0}
    clock.now += 30  # the loop is stuck
    assert scrape(server) == {"earful_worker_live": 0.0, "earful_worker_ready": 0.0}


def test_the_scrape_passes_promtool_and_carries_the_process_metrics(
    served: tuple[HealthState, Clock, HealthServer],
) -> None:
    _, _, server = served
    text = httpx.get(f"http://127.0.0.1:{server.port}/metrics", timeout=5).text
    assert "python_info{" in text
    done = subprocess.run(
        [observability_tool("promtool"), "check", "metrics"],
        input=text,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
