"""A local webhook receiver on 127.0.0.1: records what arrives, answers as scripted.

It stands in for Slack, PagerDuty, Teams, Alertmanager or a signed-webhook
consumer in tests and in the demo (``earful sink receiver``). It counts
deliveries per idempotency key (``webhook-id``, PagerDuty ``dedup_key`` plus
action, or the Alertmanager ``groupKey``), verifies Standard Webhooks
signatures when given the secret, and can answer with scripted statuses,
``Retry-After`` headers and delays.
"""

from __future__ import annotations

import hmac
import json
import threading
import time
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from earful.sinks.notify.webhook import standard_webhooks_key, standard_webhooks_signature

__all__ = ["LocalReceiver", "ReceivedRequest", "Reply"]


@dataclass(frozen=True, slots=True)
class Reply:
    status: int = 200
    body: bytes = b"ok"
    headers: tuple[tuple[str, str], ...] = ()
    delay_s: float = 0.0


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    signature_ok: bool | None

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def idempotency_key(self) -> str:
        """What a careful receiver deduplicates on, per target format."""
        if "webhook-id" in self.headers:
            return self.headers["webhook-id"]
        try:
            payload = self.json()
        except ValueError:
            return ""
        if isinstance(payload, dict) and "dedup_key" in payload:
            return f"{payload['dedup_key']}:{payload.get('event_action')}"
        if isinstance(payload, dict) and "groupKey" in payload:
            fingerprints = ",".join(a.get("fingerprint", "") for a in payload.get("alerts", []))
            return f"{payload['groupKey']}:{payload.get('status')}:{fingerprints}"
        return ""


@dataclass
class LocalReceiver:
    """``with LocalReceiver() as rx: ... rx.url ...``; scripted replies are used in order."""

    host: str = "127.0.0.1"
    port: int = 0
    secret: str | None = None
    default_reply: Reply = field(default_factory=Reply)
    on_request: Callable[[ReceivedRequest], None] | None = None
    requests: list[ReceivedRequest] = field(default_factory=list)
    replies: deque[Reply] = field(default_factory=deque)

    def __post_init__(self) -> None:
        self._lock = threading.Condition()
        self._statuses: list[int] = []  # the answer to each of self.requests
        self._key = standard_webhooks_key(self.secret) if self.secret else None
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                receiver._handle(self)

            def do_GET(self) -> None:
                receiver._handle(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # quiet: tests and the demo print what matters

        self._server = ThreadingHTTPServer((self.host, self.port), Handler)
        self._server.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> LocalReceiver:
        self._thread = threading.Thread(
            target=self._server.serve_forever, args=(0.05,), daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LocalReceiver:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def script(self, *replies: Reply) -> None:
        with self._lock:
            self.replies.extend(replies)

    def counts(self) -> Counter[str]:
        """Deliveries per idempotency key (a key seen twice was sent twice)."""
        with self._lock:
            return Counter(r.idempotency_key for r in self.requests)

    def accepted(self) -> Counter[str]:
        """Requests answered 2xx, per idempotency key (a key above 1 was taken twice)."""
        with self._lock:
            return Counter(
                r.idempotency_key
                for r, status in zip(self.requests, self._statuses, strict=True)
                if 200 <= status < 300
            )

    def wait_for(
        self, predicate: Callable[[list[ReceivedRequest]], bool], timeout_s: float
    ) -> bool:
        deadline = time.monotonic() + timeout_s
        with self._lock:
            while not predicate(list(self.requests)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._lock.wait(left)
            return True

    def _handle(self, handler: BaseHTTPRequestHandler) -> None:
        length = int(handler.headers.get("content-length") or 0)
        body = handler.rfile.read(length) if length else b""
        headers = {k.lower(): v for k, v in handler.headers.items()}
        request = ReceivedRequest(
            method=handler.command,
            path=handler.path,
            headers=headers,
            body=body,
            signature_ok=self._verify(headers, body),
        )
        with self._lock:
            self.requests.append(request)
            reply = self.replies.popleft() if self.replies else self.default_reply
            self._statuses.append(reply.status)
            self._lock.notify_all()
        if self.on_request is not None:
            self.on_request(request)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        try:
            handler.send_response(reply.status)
            for name, value in reply.headers:
                handler.send_header(name, value)
            handler.send_header("content-length", str(len(reply.body)))
            handler.end_headers()
            handler.wfile.write(reply.body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up (timeout) or died: that is what some tests do

    def _verify(self, headers: dict[str, str], body: bytes) -> bool | None:
        if self._key is None or "webhook-signature" not in headers:
            return None
        try:
            timestamp = int(headers["webhook-timestamp"])
        except (KeyError, ValueError):
            return False
        expected = standard_webhooks_signature(self._key, headers["webhook-id"], timestamp, body)
        return any(hmac.compare_digest(expected, s) for s in headers["webhook-signature"].split())
