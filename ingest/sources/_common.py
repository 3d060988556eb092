"""Plumbing shared by the network connectors.

* :func:`send` / :func:`get_json`: one HTTP call with every failure mapped to
  the :mod:`earful.ingest.base` errors the runner understands (429 -> RateLimited,
  5xx / timeouts / dropped connections / undecodable bodies ->
  TransientSourceError, 401/403/404 -> SourceError with a clear message).
* :func:`load_cursor` / :func:`dump_cursor`: connectors that follow several
  feeds (instances, subreddits, queries) keep one JSON object as their cursor.
* :class:`Rotation`: polls those feeds in turn, staying on one while it has more.
* :class:`NewestRead`: where a feed read by time stands (newest time, ids at that time).
* :func:`parse_config`: a connector's pydantic config model, errors as ConfigError;
  :data:`BARE_URLS` lets a list of feed models be written as bare URL strings.
* :func:`html_to_text`, :func:`parse_time`, :func:`from_unix`, :func:`count_or_none`:
  record fields.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from html import unescape
from html.parser import HTMLParser
from typing import Any, Generic, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError

from earful.errors import ConfigError
from earful.events import now_utc
from earful.ingest.base import RateLimited, SourceError, TransientSourceError
from earful.retry import parse_retry_after

__all__ = [
    "BARE_URLS",
    "Clock",
    "ConnectorConfig",
    "NewestRead",
    "Rotation",
    "base_url",
    "count_or_none",
    "dump_cursor",
    "dump_time_mark",
    "from_unix",
    "get_json",
    "html_to_text",
    "load_cursor",
    "load_time_mark",
    "now_utc",
    "parse_config",
    "parse_time",
    "retry_after_header",
    "send",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
ResetHint = Callable[[httpx.Response], float | None]

#: Wait after a 429 that says nothing about when to come back.
DEFAULT_RETRY_AFTER_S = 60.0


class ConnectorConfig(BaseModel):
    """Base of every connector's settings: frozen, and a typo'd key is an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")


_C = TypeVar("_C", bound=ConnectorConfig)


def parse_config(model: type[_C], config: Mapping[str, Any], connector: str) -> _C:
    """Validate ``connectors.<connector>``; raise ConfigError naming the bad keys."""
    try:
        return model.model_validate(dict(config))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '(top)'}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"connectors.{connector}: {problems}") from exc


def _bare_urls(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return [{"url": v} if isinstance(v, str) else v for v in value]
    return value


#: On a tuple-of-feeds field: a bare string ``u`` in the list stands for ``{"url": u}``.
BARE_URLS = BeforeValidator(_bare_urls)


def base_url(host_or_url: str) -> str:
    """``mastodon.social`` -> ``https://mastodon.social``; URLs keep their scheme."""
    url = host_or_url.strip()
    if "://" not in url:
        url = f"https://{url}"
    return url.rstrip("/")


def retry_after_header(response: httpx.Response) -> float | None:
    """Seconds from ``Retry-After`` (delta-seconds or an HTTP date), None if absent or bad."""
    return parse_retry_after(response.headers.get("Retry-After"), now_utc())


def send(
    http: httpx.Client,
    method: str,
    url: str,
    *,
    source: str,
    reset_hint: ResetHint | None = None,
    ok_statuses: Sequence[int] = (),
    **kwargs: Any,
) -> httpx.Response:
    """One request; a non-2xx answer (other than ``ok_statuses``) raises a SourceError."""
    try:
        response = http.request(method, url, **kwargs)
    except httpx.TimeoutException as exc:
        raise TransientSourceError(f"{source}: {method} {url} timed out: {exc}") from exc
    except httpx.TransportError as exc:  # refused, reset, closed mid-body
        raise TransientSourceError(f"{source}: {method} {url} failed: {exc}") from exc
    status = response.status_code
    if status in ok_statuses or 200 <= status < 300:
        return response
    where = f"{source}: {method} {_without_query(response.request.url)}"
    if status == 429:
        wait = retry_after_header(response)
        if wait is None and reset_hint is not None:
            wait = reset_hint(response)
        raise RateLimited(
            f"{where} -> 429 Too Many Requests",
            retry_after=DEFAULT_RETRY_AFTER_S if wait is None else wait,
        )
    if status >= 500 or status == 408:
        raise TransientSourceError(f"{where} -> {status} {response.reason_phrase}")
    if status in (401, 403):
        raise SourceError(
            f"{where} -> {status} {response.reason_phrase}: credentials missing, revoked or "
            f"not approved for this endpoint ({_snippet(response)})"
        )
    raise SourceError(f"{where} -> {status} {response.reason_phrase} ({_snippet(response)})")


def get_json(
    http: httpx.Client,
    url: str,
    *,
    source: str,
    reset_hint: ResetHint | None = None,
    **kwargs: Any,
) -> tuple[Any, httpx.Response]:
    """GET and decode JSON; an undecodable body (truncated, an HTML error page) is transient."""
    response = send(http, "GET", url, source=source, reset_hint=reset_hint, **kwargs)
    return decode_json(response, source), response


def decode_json(response: httpx.Response, source: str) -> Any:
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError) as exc:
        raise TransientSourceError(
            f"{source}: {_without_query(response.request.url)} returned a body that is not "
            f"JSON ({len(response.content)} bytes, {exc}): {_snippet(response)}"
        ) from exc


def _without_query(url: httpx.URL) -> str:
    # Query strings may carry tokens (Mastodon access_token): keep them out of logs.
    return str(url.copy_with(query=None))


def _snippet(response: httpx.Response, limit: int = 120) -> str:
    text = response.content[:limit].decode("utf-8", "replace").strip()
    return " ".join(text.split()) or "empty body"


def load_cursor(cursor: str | None, connector: str) -> dict[str, Any]:
    """The JSON object cursor of a multi-feed connector; anything else starts afresh."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        log.warning("%s: stored cursor %r is not a JSON object; starting afresh", connector, cursor)
        return {}
    return value


def dump_cursor(state: Mapping[str, Any]) -> str:
    return json.dumps(state, sort_keys=True, separators=(",", ":"))


class Rotation:
    """Round-robin over a connector's feeds: one feed per fetch.

    A feed that failed does not block the others (the turn moves on before the
    call); a feed with more pages to read keeps the turn (:meth:`stay`).
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise ConfigError("nothing to poll: no feeds configured")
        self.keys = tuple(keys)
        self._next = 0

    def take(self) -> str:
        key = self.keys[self._next]
        self._next = (self._next + 1) % len(self.keys)
        return key

    def stay(self, key: str) -> None:
        self._next = self.keys.index(key)

    def wait_s(self, poll_interval_s: float) -> float:
        """Pause between fetches so that each feed is polled once per interval."""
        return poll_interval_s / len(self.keys)


_T = TypeVar("_T", int, datetime)


class NewestRead(Generic[_T]):
    """How far a feed read by time has got: the newest time read and the ids read at it.

    Keeping the ids at that exact time lets the next poll ask from that time
    (inclusive) and neither repeat nor skip posts that share a timestamp.
    """

    def __init__(self, since: _T, seen: Iterable[str]) -> None:
        self.since: _T = since
        self.seen = frozenset(seen)
        self.newest: _T = since
        self.newest_ids = set(self.seen)

    def already_read(self, when: _T, native_id: str) -> bool:
        """True for a post an earlier poll returned: older than the mark, or at it and seen."""
        return when < self.since or (when == self.since and native_id in self.seen)

    def add(self, when: _T, native_id: str) -> None:
        if when > self.newest:
            self.newest, self.newest_ids = when, {native_id}
        elif when == self.newest:
            self.newest_ids.add(native_id)


def load_time_mark(stored: Any, default_since: datetime) -> NewestRead[datetime]:
    """A feed's ``{"t": ISO time, "ids": [...]}`` cursor; ``default_since`` when there is none."""
    if isinstance(stored, dict) and isinstance(stored.get("t"), str):
        return NewestRead(parse_time(stored["t"]), stored.get("ids") or [])
    return NewestRead(default_since, ())


def dump_time_mark(read: NewestRead[datetime]) -> dict[str, Any]:
    return {"t": read.newest.isoformat(), "ids": sorted(read.newest_ids)}


class _TextExtractor(HTMLParser):
    _BREAKS = frozenset({"br", "p", "div", "li", "blockquote", "pre", "tr", "h1", "h2", "h3"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._BREAKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(html: str) -> str:
    """Mastodon ``content`` and HN ``text`` are HTML: keep the words, paragraphs as lines."""
    if "<" not in html:
        return unescape(html).strip()
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = (" ".join(line.split()) for line in "".join(parser.parts).splitlines())
    return "\n".join(line for line in lines if line)


def parse_time(value: Any) -> datetime:
    """An ISO 8601 / RFC 3339 timestamp with an offset (or Z), as tz-aware UTC."""
    if not isinstance(value, str):
        raise ValueError(f"timestamp is not a string: {value!r}")
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError(f"timestamp without a time zone: {value!r}")
    return parsed.astimezone(UTC)


def from_unix(value: Any) -> datetime:
    """Unix seconds (int or float, not bool) as tz-aware UTC."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError(f"unix time is not a number: {value!r}")
    return datetime.fromtimestamp(value, UTC)


def count_or_none(value: Any) -> int | None:
    """An engagement count (likes, replies) as sent; None if absent, not an int, or negative."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return None
    return value
