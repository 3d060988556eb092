"""``earful ingest push``: an HTTP endpoint other tools POST mentions to.

``POST /v1/mentions`` with ``Authorization: Bearer <token>`` and either

* ``Content-Type: application/json``: one mention object, or an array of them;
* ``Content-Type: application/x-ndjson`` (also ``application/jsonl``): one
  mention object per line.

A mention object has the :class:`~earful.events.Mention` fields; required are
``native_id`` (or ``id``), ``text``, ``created_at`` (with a time zone) and
``author`` or ``author_handle``. ``source`` defaults to ``"push"``. Two more
fields feed the tracking rules and are not stored: ``hashtags`` (the post's
tags as its network lists them) and ``reply_to_handle`` (the account it
replies to). ``in_reply_to`` is the parent's mention id or its native id.

Each object goes through the admission step every connector's posts go
through (:mod:`earful.ingest.admission`): ``subjects``, when absent, come from
the tracking rules (a mention matching none is dropped and counted); given
``subjects`` are kept as sent. The author is pseudonymised unless raw handles
are configured, a post by an official account is marked official, an
over-long text is cut (``metadata.truncated``), an over-long URL dropped,
repeats of an accepted mention are not produced again and copies in a flood
are flagged.

Answers: ``200`` with ``{"accepted", "duplicates", "dropped_no_match", "ids"}``
only once Kafka acknowledged every accepted mention; ``400`` unreadable body
(not UTF-8, not JSON, with the line); ``401`` missing or wrong token;
``404``/``405`` wrong path or method; ``411`` no Content-Length; ``413`` body
or item count over the limit; ``415`` other content types; ``422`` a
mention that is not valid (every problem listed with its index or line, and
nothing produced); ``503`` Kafka did not acknowledge within
``push_ack_timeout_s`` (default 10 s; retry later). The push producer keeps
a record no longer than that (:func:`producer_overrides`), so a mention
answered with 503 is not delivered behind the client's back.
``GET /healthz`` answers ``200 ok`` without a token.

Why the standard library: the endpoint needs one route, a size limit before
reading and a constant-time token check, all a few lines on
``http.server.ThreadingHTTPServer``; an ASGI stack would add a server, a
framework and an event loop around a blocking Kafka producer for nothing.
Run it behind a TLS-terminating proxy when it leaves the host.
"""

from __future__ import annotations

import hmac
import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

from pydantic import TypeAdapter, ValidationError

from earful.errors import ConfigError
from earful.events import (
    SCHEMA_VERSION,
    Engagement,
    Mention,
    MentionKind,
    Source,
    UtcDatetime,
    encode,
    now_utc,
)
from earful.ingest.admission import Admission, DedupScreen
from earful.ingest.base import Post
from earful.ingest.dedup import FloodDetector, SeenIds, flood_detector_from_settings
from earful.ingest.metrics import IngestMetrics
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.rules import TrackingRules
from earful.ingest.settings import IngestSettings
from earful.worker import Clock

__all__ = [
    "PushApp",
    "PushResponse",
    "make_push_server",
    "producer_overrides",
    "pushed_post",
]

log = logging.getLogger(__name__)

CONNECTOR = "push"
PATH = "/v1/mentions"
_JSON_TYPES = {"application/json"}
_NDJSON_TYPES = {"application/x-ndjson", "application/ndjson", "application/jsonl"}
_MAX_REPORTED_ERRORS = 20


def producer_overrides(settings: IngestSettings) -> dict[str, Any]:
    """Producer settings that bound a request's wait on Kafka to ``push_ack_timeout_s``."""
    ms = int(settings.push_ack_timeout_s * 1000)
    return {
        "max_block_ms": ms,  # send() waiting for metadata
        "delivery_timeout_ms": ms,  # a record is given up, not delivered after the 503
        "request_timeout_ms": ms - 100,  # the client needs request + linger <= delivery
    }


@dataclass
class PushResponse:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)


class _BadRequest(Exception):
    def __init__(self, status: int, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.status = status
        self.extra = extra


class PushApp:
    """The endpoint's logic, apart from the HTTP server (so it is easy to reason about)."""

    def __init__(
        self,
        *,
        settings: IngestSettings,
        producer: Any,
        rules: TrackingRules,
        privacy: Pseudonymiser,
        seen: SeenIds,
        metrics: IngestMetrics,
        floods: FloodDetector | None = None,
        clock: Clock = now_utc,
    ) -> None:
        if settings.push_token is None or not settings.push_token.get_secret_value():
            raise ConfigError("the push endpoint needs a token: set EARFUL_PUSH_TOKEN")
        self.settings = settings
        self.producer = producer
        self.admission = Admission(connector=CONNECTOR, rules=rules, privacy=privacy)
        self.screen = DedupScreen(seen, floods or flood_detector_from_settings(settings))
        self.metrics = metrics
        self.clock = clock
        self._token = settings.push_token.get_secret_value().encode("utf-8")
        # One request at a time checks, produces and remembers its ids: two clients pushing
        # the same mention at once must not both get it produced.
        self._lock = threading.Lock()
        metrics.for_connector(CONNECTOR)

    def authorised(self, header: str | None) -> bool:
        scheme, _, token = (header or "").partition(" ")
        if scheme.lower() != "bearer":
            return False
        return hmac.compare_digest(token.strip().encode("utf-8"), self._token)

    def handle_mentions(self, content_type: str | None, body: bytes) -> PushResponse:
        try:
            items = list(self._parse(content_type, body))
            if len(items) > self.settings.push_max_items:
                raise _BadRequest(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    f"{len(items)} mentions in one request; the limit is "
                    f"{self.settings.push_max_items}",
                )
            mentions, no_match = self._validate(items)
        except _BadRequest as exc:
            return PushResponse(exc.status, {"error": str(exc), **exc.extra})
        self.metrics.fetched.labels(CONNECTOR).inc(len(items))
        self.metrics.dropped.labels(CONNECTOR, "no_match").inc(no_match)
        return self._produce(mentions, no_match)

    # -- parsing ------------------------------------------------------------------

    def _parse(self, content_type: str | None, body: bytes) -> Iterator[tuple[str, Any]]:
        """(where, object) per item: where is "item 3" or "line 4"."""
        media = (content_type or "").split(";")[0].strip().lower()
        if media not in _JSON_TYPES | _NDJSON_TYPES:
            raise _BadRequest(
                HTTPStatus.UNSUPPORTED_MEDIA_TYPE,
                f"Content-Type {media or '(none)'!r} is not supported; send application/json "
                "or application/x-ndjson",
            )
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise _BadRequest(
                HTTPStatus.BAD_REQUEST, f"body is not UTF-8 (byte {exc.start})"
            ) from exc
        if media in _JSON_TYPES:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as exc:
                raise _BadRequest(
                    HTTPStatus.BAD_REQUEST,
                    f"body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
                ) from exc
            objects = data if isinstance(data, list) else [data]
            for index, obj in enumerate(objects):
                yield f"item {index}", obj
            return
        for lineno, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                yield f"line {lineno}", json.loads(line)
            except json.JSONDecodeError as exc:
                raise _BadRequest(
                    HTTPStatus.BAD_REQUEST, f"line {lineno} is not JSON: {exc.msg}"
                ) from exc

    def _validate(self, items: list[tuple[str, Any]]) -> tuple[list[Mention], int]:
        now = self.clock()
        mentions: list[Mention] = []
        errors: list[dict[str, str]] = []
        no_match = 0
        for where, obj in items:
            try:
                mention = self._mention(obj, now)
            except ValueError as exc:
                errors.append({"at": where, "error": str(exc)})
                continue
            if mention is None:
                no_match += 1
            else:
                mentions.append(mention)
        if errors:
            self.metrics.dropped.labels(CONNECTOR, "invalid").inc(len(errors))
            raise _BadRequest(
                HTTPStatus.UNPROCESSABLE_ENTITY,
                f"{len(errors)} of {len(items)} mentions are invalid; nothing was accepted",
                problems=errors[:_MAX_REPORTED_ERRORS],
            )
        return mentions, no_match

    def _mention(self, obj: Any, now: datetime) -> Mention | None:
        post, subjects = pushed_post(obj)
        try:
            return self.admission.admit(post, now, subjects=subjects)
        except ValidationError as exc:
            raise ValueError(_first_error(exc)) from exc

    # -- producing ----------------------------------------------------------------

    def _produce(self, mentions: list[Mention], no_match: int) -> PushResponse:
        with self._lock:
            screened = self.screen.screen(mentions, self.clock())
            fresh = screened.fresh
            wait_s = self.settings.push_ack_timeout_s
            deadline = time.monotonic() + wait_s
            try:
                futures = [
                    self.producer.send(
                        self.settings.topic_raw, key=m.id.encode("utf-8"), value=encode(m)
                    )
                    for m in fresh
                ]
                self.producer.flush(timeout=wait_s)
                for future in futures:
                    future.get(timeout=max(0.0, deadline - time.monotonic()))
            except Exception as exc:
                log.error("push: Kafka did not acknowledge %d mention(s): %s", len(fresh), exc)
                self.metrics.errors.labels(CONNECTOR, "kafka").inc()
                return PushResponse(
                    HTTPStatus.SERVICE_UNAVAILABLE,
                    {
                        "error": "Kafka did not acknowledge the mentions; nothing was accepted, "
                        "retry later"
                    },
                    {"Retry-After": "5"},
                )
            self.screen.remember(screened)
        self.metrics.produced.labels(CONNECTOR).inc(len(fresh))
        self.metrics.dropped.labels(CONNECTOR, "duplicate").inc(screened.duplicates)
        self.metrics.reposts.labels(CONNECTOR).inc(screened.reposts)
        self.metrics.near_duplicates.labels(CONNECTOR).inc(screened.flooded)
        self.metrics.last_success.labels(CONNECTOR).set(self.clock().timestamp())
        return PushResponse(
            HTTPStatus.OK,
            {
                "accepted": len(fresh),
                "duplicates": screened.duplicates,
                "dropped_no_match": no_match,
                "ids": [m.id for m in fresh],
            },
        )


_T = TypeVar("_T")
_CREATED_AT: TypeAdapter[datetime] = TypeAdapter(UtcDatetime)
_SOURCE: TypeAdapter[Source] = TypeAdapter(Source)
_KIND: TypeAdapter[MentionKind] = TypeAdapter(MentionKind)
_ENGAGEMENT: TypeAdapter[Engagement] = TypeAdapter(Engagement)


def pushed_post(obj: Any) -> tuple[Post, tuple[str, ...] | None]:
    """A pushed mention object as the Post the admission step takes, and the subjects the
    client named (None: the tracking rules decide). ValueError names the first problem."""
    if not isinstance(obj, dict):
        raise ValueError(f"expected a JSON object, got {type(obj).__name__}")
    version = obj.get("schema_version", SCHEMA_VERSION)
    if type(version) is not int or version != SCHEMA_VERSION:
        raise ValueError(f"schema_version: {version!r} is not supported (send {SCHEMA_VERSION})")
    source = _checked(_SOURCE, obj.get("source", CONNECTOR), "source")
    native_id = obj.get("native_id")
    if native_id is None and isinstance(obj.get("id"), str):
        native_id = obj["id"].split(":", 1)[-1]
    if not isinstance(native_id, str | int) or isinstance(native_id, bool) or not str(native_id):
        raise ValueError("native_id is required (a string)")
    handle = obj.get("author_handle") or obj.get("author")
    if not isinstance(handle, str) or not handle.strip():
        raise ValueError("author or author_handle is required (a string)")
    text = obj.get("text")
    if not isinstance(text, str):
        raise ValueError("text is required (a string)")
    created_at = _checked(_CREATED_AT, obj.get("created_at"), "created_at")
    engagement = _checked(_ENGAGEMENT, obj.get("engagement") or {}, "engagement")
    kind = _checked(_KIND, obj.get("kind", "post"), "kind")
    subjects = obj.get("subjects")
    if subjects and (
        not isinstance(subjects, list) or not all(isinstance(s, str) for s in subjects)
    ):
        raise ValueError("subjects: a list of subject names")
    hashtags = obj.get("hashtags") or []
    if not isinstance(hashtags, list) or not all(isinstance(t, str) for t in hashtags):
        raise ValueError("hashtags: a list of tags")
    metadata = obj.get("metadata")
    post = Post(
        source=source,
        native_id=str(native_id),
        text=text,
        created_at=created_at,
        author_handle=handle,
        url=_optional_str(obj, "url"),
        lang=_optional_str(obj, "lang"),
        kind=kind,
        in_reply_to=_parent(_optional_str(obj, "in_reply_to"), source),
        reply_to_handle=_optional_str(obj, "reply_to_handle"),
        is_official=bool(obj.get("is_official")),
        hashtags=tuple(hashtags),
        engagement=engagement,
        metadata=metadata if isinstance(metadata, dict) else {},
    )
    return post, tuple(subjects) if subjects else None


def _checked(adapter: TypeAdapter[_T], value: Any, field: str) -> _T:
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        raise ValueError(_first_error(exc, prefix=field)) from exc


def _optional_str(obj: dict[str, Any], key: str) -> str | None:
    value = obj.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{key}: a string or null")
    return value


def _parent(in_reply_to: str | None, source: str) -> str | None:
    """The parent's native id: clients send its mention id (``<source>:<id>``) or the id alone."""
    if in_reply_to is None:
        return None
    return in_reply_to.removeprefix(f"{source}:")


def _first_error(exc: ValidationError, *, prefix: str = "") -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in (prefix, *first["loc"]) if p != "") or "<mention>"
    return f"{where}: {first['msg']}"


class _Handler(BaseHTTPRequestHandler):
    server: _PushServer
    server_version = "earful-push"
    timeout = 30  # a client that stops sending mid-body does not hold a thread forever

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/healthz":
            self._send(PushResponse(HTTPStatus.OK, {"status": "ok"}))
        elif self.path.split("?")[0] == PATH:
            self._send(_method_not_allowed())
        else:
            self._send(PushResponse(HTTPStatus.NOT_FOUND, {"error": f"no such path; POST {PATH}"}))

    def do_POST(self) -> None:
        app = self.server.app
        if self.path.split("?")[0] != PATH:
            self._send(PushResponse(HTTPStatus.NOT_FOUND, {"error": f"no such path; POST {PATH}"}))
            return
        if not app.authorised(self.headers.get("Authorization")):
            self._send(
                PushResponse(
                    HTTPStatus.UNAUTHORIZED,
                    {"error": "missing or wrong bearer token"},
                    {"WWW-Authenticate": 'Bearer realm="earful"'},
                ),
                close=True,
            )
            return
        length = self.headers.get("Content-Length")
        if length is None or self.headers.get("Transfer-Encoding"):
            self._send(
                PushResponse(HTTPStatus.LENGTH_REQUIRED, {"error": "send a Content-Length"}),
                close=True,
            )
            return
        if not length.isdigit():
            self._send(
                PushResponse(HTTPStatus.BAD_REQUEST, {"error": "Content-Length is not a number"}),
                close=True,
            )
            return
        limit = app.settings.push_max_bytes
        if int(length) > limit:
            self._send(
                PushResponse(
                    HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
                    {"error": f"body is {length} bytes; the limit is {limit}"},
                ),
                close=True,  # the unread body must not be parsed as the next request
            )
            return
        body = self.rfile.read(int(length))
        if len(body) < int(length):
            self._send(
                PushResponse(HTTPStatus.BAD_REQUEST, {"error": "body shorter than Content-Length"}),
                close=True,
            )
            return
        self._send(app.handle_mentions(self.headers.get("Content-Type"), body))

    def do_PUT(self) -> None:
        self._send(_method_not_allowed())

    do_DELETE = do_PATCH = do_PUT

    def _send(self, response: PushResponse, *, close: bool = False) -> None:
        payload = json.dumps(response.body).encode("utf-8") + b"\n"
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("push %s: " + format, self.address_string(), *args)


def _method_not_allowed() -> PushResponse:
    return PushResponse(
        HTTPStatus.METHOD_NOT_ALLOWED, {"error": f"use POST {PATH}"}, {"Allow": "POST"}
    )


class _PushServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], app: PushApp) -> None:
        super().__init__(address, _Handler)
        self.app = app


def make_push_server(app: PushApp, host: str, port: int) -> ThreadingHTTPServer:
    """A server bound to ``host:port`` (0 picks a free port); call ``serve_forever``."""
    return _PushServer((host, port), app)
