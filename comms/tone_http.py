"""The tone check over HTTP: review a drafted update from a chat bot, a CMS or a form.

Served by the alert sink (``earful sink notify`` when ``EARFUL_TONE_PORT`` is
set) and by ``earful tone --serve``. One endpoint::

    POST /v1/tone
    Content-Type: application/json
    {"text": "We know some of you can't log in ...", "networks": ["bluesky", "x"]}

or ``Content-Type: text/plain`` with the draft as the body and
``?networks=bluesky,x`` in the query. ``?format=text`` answers with the
terminal report instead of JSON. ``GET /v1/tone/rules`` lists the rules.

Answers: 200 with :meth:`earful.comms.tone.ToneReport.to_dict`; 400 for a bad
draft or request (``{"error": ...}`` says what); 401 without the bearer token
when ``tone_token`` is set; 404, 405, 411, 413 and 415 as HTTP means them.
The checker is built once and shared behind a lock (its scorer caches texts).
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import Field, SecretStr

from earful.comms.tone import (
    DEFAULT_NETWORKS,
    MAX_DRAFT_CHARS,
    NETWORK_LIMITS,
    RULES,
    DraftError,
    ToneChecker,
    ToneReport,
    parse_networks,
    validate_draft,
)
from earful.settings import BaseWorkerSettings

__all__ = ["ToneServer", "ToneService", "ToneSettings", "start_tone_server"]

log = logging.getLogger("earful.tone")

#: Bytes a request body may have: the longest draft in UTF-8 plus JSON around it.
MAX_BODY_BYTES = MAX_DRAFT_CHARS * 4 + 4_096
PATH = "/v1/tone"
RULES_PATH = "/v1/tone/rules"


class ToneSettings(BaseWorkerSettings):
    """Where the tone endpoint listens (off unless ``tone_port`` is set)."""

    tone_host: str = Field(default="127.0.0.1", description="Bind address.")
    tone_port: int = Field(default=8095, ge=0, le=65535, description="0 picks a free port.")
    tone_token: SecretStr | None = Field(
        default=None, description="Bearer token the endpoint requires; none: no auth."
    )


class ToneService:
    """The checker behind the endpoint: one instance, one review at a time."""

    def __init__(self, checker: ToneChecker) -> None:
        self.checker = checker
        self._lock = threading.Lock()

    def review(self, text: str, networks: Any, mastodon_limit: Any = None) -> ToneReport:
        """Validate the request's fields and review; :class:`DraftError` says what is wrong."""
        if not isinstance(text, str):
            raise DraftError('"text" must be a string')
        draft = validate_draft(text)
        if networks is None:
            chosen = DEFAULT_NETWORKS
        elif isinstance(networks, str) or (
            isinstance(networks, list) and all(isinstance(n, str) for n in networks)
        ):
            chosen = parse_networks(networks)
        else:
            raise DraftError('"networks" must be a list of names or "bluesky,x"')
        if mastodon_limit is not None and (
            isinstance(mastodon_limit, bool)
            or not isinstance(mastodon_limit, int)
            or not 1 <= mastodon_limit <= 100_000
        ):
            raise DraftError('"mastodon_limit" must be a whole number from 1 to 100000')
        with self._lock:
            return self.checker.review(draft, chosen, mastodon_limit=mastodon_limit)


class _Handler(BaseHTTPRequestHandler):
    server: ToneServer
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path == RULES_PATH:
            rules = [
                {"id": r.id, "severity": r.severity, "looks_for": r.looks_for, "why": r.why}
                for r in RULES.values()
            ]
            self._json(200, {"rules": rules, "networks": NETWORK_LIMITS})
        elif path == PATH:
            self._json(405, {"error": f"POST a draft to {PATH}"}, allow="POST")
        else:
            self._json(404, {"error": "not found", "paths": [PATH, RULES_PATH]})

    def do_POST(self) -> None:
        # Until the body is read, an answer must close the connection: the
        # unread body would otherwise be taken for the next request.
        keep_open = not self.close_connection
        self.close_connection = True
        url = urlsplit(self.path)
        if url.path != PATH:
            self._json(404, {"error": "not found", "paths": [PATH, RULES_PATH]})
            return
        if not self._authorised():
            self._json(401, {"error": "missing or wrong bearer token"}, auth=True)
            return
        length_header = self.headers.get("Content-Length")
        if length_header is None:
            self._json(411, {"error": "Content-Length is required"})
            return
        try:
            length = int(length_header)
        except ValueError:
            self._json(400, {"error": "Content-Length is not a number"})
            return
        if length < 0 or length > MAX_BODY_BYTES:
            self._json(
                413, {"error": f"the body has {length} bytes; the limit is {MAX_BODY_BYTES}"}
            )
            self._discard(length)
            return
        body = self.rfile.read(length)
        self.close_connection = not keep_open
        query = parse_qs(url.query)
        as_text = query.get("format", ["json"])[-1] == "text"
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            report = self._review(kind, body, query)
        except _Unsupported as exc:
            self._json(415, {"error": str(exc)})
            return
        except DraftError as exc:
            self._json(400, {"error": str(exc)})
            return
        if as_text:
            self._send(200, (report.to_text() + "\n").encode(), "text/plain; charset=utf-8")
        else:
            self._json(200, report.to_dict())

    def _review(self, kind: str, body: bytes, query: dict[str, list[str]]) -> ToneReport:
        try:
            decoded = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DraftError(f"the body is not UTF-8 (byte {exc.start})") from None
        networks: Any = query["networks"][-1] if "networks" in query else None
        if kind == "application/json":
            try:
                payload = json.loads(decoded)
            except ValueError as exc:
                raise DraftError(f"the body is not JSON: {exc}") from None
            if not isinstance(payload, dict) or "text" not in payload:
                raise DraftError('send a JSON object with "text" (and optional "networks")')
            return self.server.service.review(
                payload["text"], payload.get("networks", networks), payload.get("mastodon_limit")
            )
        if kind in ("text/plain", ""):
            return self.server.service.review(decoded, networks)
        raise _Unsupported(f"send application/json or text/plain, not {kind!r}")

    def _authorised(self) -> bool:
        token = self.server.token
        if token is None:
            return True
        given = self.headers.get("Authorization") or ""
        scheme, _, value = given.partition(" ")
        return scheme.lower() == "bearer" and hmac.compare_digest(
            value.strip().encode(), token.encode()
        )

    def _discard(self, length: int) -> None:
        """Drop, unread, what the client is still sending after a refusal (a bounded amount).

        Closing a socket with unread input resets the connection, and a client
        still sending its body may then lose the 413 before it reads it.
        """
        remaining = min(length, 4 * MAX_BODY_BYTES)
        self.connection.settimeout(2.0)
        try:
            while remaining > 0:
                chunk = self.rfile.read(min(64 * 1024, remaining))
                if not chunk:
                    break
                remaining -= len(chunk)
        except OSError:
            pass  # the client gave up first: nothing to protect

    def _json(self, status: int, body: dict[str, Any], **extra: Any) -> None:
        data = json.dumps(body, ensure_ascii=False).encode()
        self._send(status, data, "application/json", **extra)

    def _send(
        self, status: int, data: bytes, kind: str, *, allow: str = "", auth: bool = False
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        if allow:
            self.send_header("Allow", allow)
        if auth:
            self.send_header("WWW-Authenticate", 'Bearer realm="earful-tone"')
        if self.close_connection:
            # Say so: a client would otherwise reuse the connection for its next request.
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("tone: " + format, *args)  # drafts are not logged: they may be confidential


class _Unsupported(Exception):
    pass


class ToneServer(ThreadingHTTPServer):
    """Serves ``POST /v1/tone`` for one :class:`ToneService`."""

    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], service: ToneService, token: str | None = None
    ) -> None:
        super().__init__(address, _Handler)
        self.service = service
        self.token = token

    @property
    def port(self) -> int:
        port: int = self.server_address[1]
        return port

    @property
    def url(self) -> str:
        host = self.server_address[0]
        return f"http://{host if isinstance(host, str) else host.decode()}:{self.port}{PATH}"


def start_tone_server(
    service: ToneService, host: str, port: int, token: str | None = None
) -> ToneServer:
    """Serve ``service`` on ``host:port`` in a daemon thread; call ``shutdown()`` to stop."""
    server = ToneServer((host, port), service, token)
    threading.Thread(target=server.serve_forever, name="earful-tone", daemon=True).start()
    return server
