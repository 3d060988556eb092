"""Local servers on 127.0.0.1 that replay recorded responses to the connectors under test.

* :class:`ReplayServer`: HTTP. Each path gets a queue of :class:`Reply`
  objects, served in order (the last one repeats); a path may instead get a
  handler that builds the reply from the request. Every request is recorded.
  A reply can be cut short (``truncate_to``): the full ``Content-Length`` is
  announced, fewer bytes are sent, and the connection is closed, as when a
  proxy or the network drops a response mid-body.
* :class:`WebSocketReplay`: websocket. A handler gets the connection's request
  path and returns the frames to send and whether to close afterwards (as
  Jetstream does when it restarts) or hold the connection until the client
  leaves. Paths and client messages are recorded.

Fixture files (``fixtures/<network>/<case>.json``) hold one recorded response:
``{"status": 200, "headers": {...}, "body": <JSON value>}`` or ``"body_text"``
for a raw body (XML, a cut JSON document).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from websockets.exceptions import ConnectionClosed
from websockets.sync.server import Server, ServerConnection, serve

__all__ = [
    "FIXTURES",
    "Recorded",
    "ReplayServer",
    "Reply",
    "WebSocketReplay",
    "fixture",
    "fixture_json",
    "fixture_text",
]

FIXTURES = Path(__file__).parent / "fixtures"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    truncate_to: int | None = None  # send only this many body bytes, then close

    @classmethod
    def json(cls, data: Any, status: int = 200, headers: dict[str, str] | None = None) -> Reply:
        return cls(
            status,
            json.dumps(data).encode(),
            {"Content-Type": "application/json; charset=utf-8", **(headers or {})},
        )

    def cut(self, fraction: float = 0.5) -> Reply:
        """The same reply, dropped after ``fraction`` of its body."""
        return Reply(self.status, self.body, self.headers, int(len(self.body) * fraction))


def fixture_json(network: str, name: str) -> Any:
    return json.loads((FIXTURES / network / name).read_text("utf-8"))


def fixture_text(network: str, name: str) -> str:
    return (FIXTURES / network / name).read_text("utf-8")


def fixture(network: str, case: str) -> Reply:
    """A recorded response: ``fixtures/<network>/<case>.json``."""
    recorded = fixture_json(network, f"{case}.json")
    headers = dict(recorded.get("headers", {}))
    if "body_text" in recorded:
        body = recorded["body_text"].encode("utf-8")
    else:
        body = json.dumps(recorded["body"]).encode("utf-8")
        headers.setdefault("Content-Type", "application/json; charset=utf-8")
    return Reply(int(recorded.get("status", 200)), body, headers)


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes

    def param(self, name: str) -> str | None:
        values = self.query.get(name)
        return values[0] if values else None


Handler = Callable[[Recorded], Reply]


class ReplayServer:
    """HTTP replay server; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._queues: dict[str, list[Reply]] = {}
        self._handlers: dict[str, Handler] = {}
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._httpd.server_address[1]}"

    def add(self, path: str, *replies: Reply) -> None:
        """Serve ``replies`` in order at ``path`` (the last repeats)."""
        with self._lock:
            self._queues.setdefault(path, []).extend(replies)

    def replace(self, path: str, *replies: Reply) -> None:
        """Forget what ``path`` had queued; serve ``replies`` instead."""
        with self._lock:
            self._queues[path] = list(replies)

    def handle(self, path: str, handler: Handler) -> None:
        self._handlers[path] = handler

    def paths(self) -> list[str]:
        return [r.path for r in self.requests]

    def __enter__(self) -> ReplayServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def _reply(self, recorded: Recorded) -> Reply:
        with self._lock:
            self.requests.append(recorded)
            handler = self._handlers.get(recorded.path)
            if handler is None:
                queue = self._queues.get(recorded.path)
                if not queue:
                    return Reply.json({"error": f"no reply recorded for {recorded.path}"}, 404)
                return queue.pop(0) if len(queue) > 1 else queue[0]
        return handler(recorded)

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                split = urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                recorded = Recorded(
                    method=self.command,
                    path=split.path,
                    query=parse_qs(split.query, keep_blank_values=True),
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=self.rfile.read(length) if length else b"",
                )
                reply = server._reply(recorded)
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                if reply.truncate_to is not None:
                    self.send_header("Connection", "close")
                self.end_headers()
                if reply.truncate_to is None:
                    self.wfile.write(reply.body)
                    return
                self.wfile.write(reply.body[: reply.truncate_to])
                self.wfile.flush()
                self.close_connection = True

            do_GET = do_POST = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass  # keep test output clean

        return _Handler


Script = Callable[[str], tuple[list[str], bool]]


class WebSocketReplay:
    """Websocket replay server; ``script(path) -> (frames, close_after)``.

    With ``expect_messages`` the server first reads that many client messages
    (subscriptions) before it sends the frames.
    """

    def __init__(self, script: Script, *, expect_messages: int = 0) -> None:
        self.script = script
        self.expect_messages = expect_messages
        self.paths: list[str] = []
        self.received: list[str] = []
        self.headers: list[dict[str, str]] = []
        self._server: Server = serve(self._session, "127.0.0.1", 0, compression=None)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"ws://127.0.0.1:{self._server.socket.getsockname()[1]}"

    def __enter__(self) -> WebSocketReplay:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._thread.join(timeout=5)

    def _session(self, connection: ServerConnection) -> None:
        request = connection.request
        assert request is not None
        self.paths.append(request.path)
        self.headers.append({k.lower(): v for k, v in request.headers.raw_items()})
        try:
            for _ in range(self.expect_messages):
                message = connection.recv(timeout=5)
                self.received.append(message if isinstance(message, str) else message.decode())
            frames, close_after = self.script(request.path)
            for frame in frames:
                connection.send(frame)
            if close_after:
                connection.close()
                return
            for message in _messages(connection):
                self.received.append(message)
        except (ConnectionClosed, TimeoutError):
            return


def _messages(connection: ServerConnection) -> Iterator[str]:
    for message in connection:
        yield message if isinstance(message, str) else message.decode()
