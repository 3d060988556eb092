"""Liveness and readiness of a worker, served on their own port.

``prometheus_client.start_http_server`` answers every path with metrics, so
health lives on a separate small server (default port 8081):

* ``GET /livez``: 200 while the main loop's heartbeat is recent (the loop is
  not stuck); 503 otherwise. Kubernetes restarts a pod that fails it.
* ``GET /readyz``: 200 when the worker reached Kafka, owns partitions and
  polled recently; 503 with the reason otherwise. Compose and Kubernetes
  route and order on it.

The worker loop calls :meth:`HealthState.beat` after each poll::

    health.beat(assigned=bool(consumer.assignment()))

``earful check`` (``sinks/observability_cli.py``) probes these endpoints and
returns an exit code for container healthchecks.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from pydantic import Field

from earful.settings import BaseWorkerSettings

__all__ = [
    "HealthServer",
    "HealthSettings",
    "HealthState",
    "HealthVerdict",
    "start_health_server",
]

Monotonic = Callable[[], float]


class HealthSettings(BaseWorkerSettings):
    """Where the health server listens and how fresh the heartbeat must be."""

    health_host: str = Field(
        default="127.0.0.1", description="Bind address; 0.0.0.0 inside a container."
    )
    health_port: int = Field(default=8081, ge=0, le=65535, description="0 picks a free port.")
    health_live_within_s: float = Field(
        default=60.0, gt=0, description="/livez fails when the loop has not beaten for this long."
    )
    health_ready_within_s: float = Field(
        default=30.0, gt=0, description="/readyz fails when the last poll is older than this."
    )


@dataclass(frozen=True, slots=True)
class HealthVerdict:
    ok: bool
    reason: str


class HealthState:
    """The worker loop's heartbeat, read by the health server's threads."""

    def __init__(
        self,
        *,
        live_within_s: float = 60.0,
        ready_within_s: float = 30.0,
        clock: Monotonic = time.monotonic,
    ) -> None:
        self.live_within_s = live_within_s
        self.ready_within_s = ready_within_s
        self.clock = clock
        self._started = clock()
        self._lock = threading.Lock()
        self._last_beat: float | None = None
        self._assigned = False
        self._stopping = False
        self._waiting: str | None = None

    @classmethod
    def from_settings(
        cls, settings: HealthSettings, clock: Monotonic = time.monotonic
    ) -> HealthState:
        return cls(
            live_within_s=settings.health_live_within_s,
            ready_within_s=settings.health_ready_within_s,
            clock=clock,
        )

    def beat(self, *, assigned: bool) -> None:
        """Record one pass of the main loop: a poll returned; ``assigned``: owns partitions."""
        with self._lock:
            self._last_beat = self.clock()
            self._assigned = assigned
            self._waiting = None

    def waiting_for_kafka(self, reason: str) -> None:
        """The loop is alive but waiting for a broker: live, not ready, with ``reason``."""
        with self._lock:
            self._last_beat = self.clock()
            self._waiting = reason

    def stopping(self) -> None:
        """The worker is draining: no longer ready, still alive."""
        with self._lock:
            self._stopping = True

    def live(self) -> HealthVerdict:
        with self._lock:
            now = self.clock()
            since = self._last_beat if self._last_beat is not None else self._started
        age = now - since
        if age > self.live_within_s:
            return HealthVerdict(
                False, f"main loop silent for {age:.0f}s (limit {self.live_within_s:.0f}s)"
            )
        return HealthVerdict(True, "main loop running")

    def ready(self) -> HealthVerdict:
        with self._lock:
            now = self.clock()
            last, assigned, stopping = self._last_beat, self._assigned, self._stopping
            waiting = self._waiting
        if stopping:
            return HealthVerdict(False, "stopping")
        if waiting is not None:
            return HealthVerdict(False, f"waiting for Kafka: {waiting}")
        if last is None:
            return HealthVerdict(False, "not connected to Kafka yet (no poll returned)")
        age = now - last
        if age > self.ready_within_s:
            return HealthVerdict(
                False, f"last poll {age:.0f}s ago (limit {self.ready_within_s:.0f}s)"
            )
        if not assigned:
            return HealthVerdict(False, "connected, no partitions assigned")
        return HealthVerdict(True, "polling with partitions assigned")


class _Handler(BaseHTTPRequestHandler):
    server: HealthServer

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0]
        if path == "/livez":
            verdict = self.server.state.live()
        elif path == "/readyz":
            verdict = self.server.state.ready()
        elif path == "/metrics":
            self._send_metrics()
            return
        else:
            self._send(404, {"error": "not found", "paths": ["/livez", "/readyz", "/metrics"]})
            return
        self._send(200 if verdict.ok else 503, {"ok": verdict.ok, "reason": verdict.reason})

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _send_metrics(self) -> None:
        # Every worker is scraped here: up{} says it runs, these gauges say it works.
        from prometheus_client import REGISTRY, generate_latest

        data = generate_latest(REGISTRY) + generate_latest(_WorkerCollector(self.server.state))
        self.send_response(200)
        self.send_header("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # probes every few seconds would flood the worker's log


class HealthServer(ThreadingHTTPServer):
    """Serves ``/livez`` and ``/readyz`` for one :class:`HealthState`."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], state: HealthState) -> None:
        super().__init__(address, _Handler)
        self.state = state

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port


def start_health_server(state: HealthState, host: str, port: int) -> HealthServer:
    """Serve ``state`` on ``host:port`` in a daemon thread; call ``shutdown()`` to stop."""
    server = HealthServer((host, port), state)
    threading.Thread(target=server.serve_forever, name="earful-health", daemon=True).start()
    return server


class _WorkerCollector:
    """``earful_worker_live`` and ``earful_worker_ready`` (1 or 0), read at scrape time.

    Also a registry for ``generate_latest``: it collects itself.
    """

    def __init__(self, state: HealthState) -> None:
        self.state = state

    def collect(self) -> Any:
        from prometheus_client.core import GaugeMetricFamily

        for name, verdict, doc in (
            ("earful_worker_live", self.state.live(), "1 while the main loop runs (/livez)."),
            (
                "earful_worker_ready",
                self.state.ready(),
                "1 while the worker polls Kafka and owns partitions (/readyz).",
            ),
        ):
            yield GaugeMetricFamily(name, doc, value=1.0 if verdict.ok else 0.0)
