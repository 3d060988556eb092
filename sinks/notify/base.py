"""The notifier base: one alert in, one HTTP request out, retried until it lands or must stop.

A :class:`Notifier` subclass only says how to *build* the request for one
:class:`Notification` and how to *classify* the response. The base owns the
retry loop, the same for every target:

* capped exponential backoff with jitter between attempts;
* ``429`` and ``Retry-After`` (seconds or an HTTP date) are honoured: the next
  attempt waits at least that long, and gives up when the wait would exceed
  ``max_retry_after_s``;
* a final ``4xx`` (bad payload, revoked webhook, 410 Gone) is never retried;
* connection errors and timeouts are retried like ``5xx``;
* redirects are never followed (a webhook URL that redirects is misconfigured).

The HTTP client, the clock, the sleep function and the random source are all
passed in, so tests run real requests against a local server without waiting
for real backoff. Webhook URLs and keys are secrets: neither a result nor a log
line ever contains the request URL.
"""

from __future__ import annotations

import email.utils
import hashlib
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import Enum
from typing import ClassVar, Literal, Protocol

import httpx

from earful.events import Alert, now_utc

__all__ = [
    "Clock",
    "DeliveryResult",
    "Notification",
    "Notifier",
    "Outcome",
    "RetryPolicy",
    "Target",
    "Verdict",
    "delivery_id",
    "parse_retry_after",
    "silence_http_request_logs",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
Outcome = Literal["delivered", "rejected", "failed", "suppressed"]


class Verdict(Enum):
    """What one HTTP response means for the delivery."""

    DELIVERED = "delivered"
    RETRY = "retry"
    REJECTED = "rejected"


@dataclass(frozen=True, slots=True)
class Notification:
    """One alert on its way to one target.

    ``delivery_id`` is stable across retries and restarts: the idempotency key
    for targets that have one (webhook-id). ``previous`` is the firing alert
    this one supersedes after a severity change, so label-keyed targets
    (Alertmanager) can close the old label set.
    """

    alert: Alert
    delivery_id: str
    previous: Alert | None = None


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    outcome: Outcome
    attempts: int
    status_code: int | None = None
    detail: str = ""


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How hard to try one delivery before giving up."""

    max_attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0
    #: A Retry-After longer than this ends the delivery as failed instead of blocking the worker.
    max_retry_after_s: float = 120.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): capped exponential, jittered.

        The jitter draws from the upper half of the step, so replicas that
        failed together spread out while the delay still grows.
        """
        step = min(self.max_delay_s, self.base_delay_s * 2 ** (attempt - 1))
        return rng.uniform(step / 2, step)


class Target(Protocol):
    """Anything the delivery worker can hand a notification to."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def idempotent(self) -> bool:
        """Whether a re-send after a crash is deduplicated by the target."""

    def deliver(self, notification: Notification) -> DeliveryResult: ...


def delivery_id(target: str, dedup_key: str, revision: str) -> str:
    """A stable, opaque idempotency key for one (target, alert, state change)."""
    raw = f"{target}\x1f{dedup_key}\x1f{revision}".encode()
    return "msg_" + hashlib.sha256(raw).hexdigest()[:32]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def silence_http_request_logs() -> None:
    """httpx logs every request URL at INFO; webhook URLs are secrets, so keep it to warnings."""
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


@dataclass(kw_only=True)
class Notifier(ABC):
    """An HTTP notification target. Subclasses implement :meth:`build_request`."""

    kind: ClassVar[str]
    #: Whether the target deduplicates on a key we send (so a re-send after a crash is harmless).
    idempotent: ClassVar[bool] = False

    name: str
    client: httpx.Client
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    clock: Clock = now_utc
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random)
    #: Per-request timeout; None keeps the client's own.
    timeout_s: float | None = None

    @abstractmethod
    def build_request(self, notification: Notification) -> httpx.Request:
        """The request that delivers this notification (built with ``self.client``)."""

    def classify(self, response: httpx.Response) -> Verdict:
        """Default: 2xx delivered; 408, 429 and 5xx retried; anything else final."""
        code = response.status_code
        if 200 <= code < 300:
            return Verdict.DELIVERED
        if code in (408, 429) or code >= 500:
            return Verdict.RETRY
        return Verdict.REJECTED

    def deliver(self, notification: Notification) -> DeliveryResult:
        attempt = 0
        status: int | None = None
        detail = ""
        while True:
            attempt += 1
            wait_at_least = 0.0
            try:
                request = self.build_request(notification)
                if self.timeout_s is not None:
                    request.extensions["timeout"] = httpx.Timeout(self.timeout_s).as_dict()
                response = self.client.send(request, follow_redirects=False)
            except httpx.TimeoutException as exc:
                status, detail = None, f"timeout ({type(exc).__name__})"
            except httpx.TransportError as exc:
                # The message of a transport error names the socket error, not the URL.
                status, detail = None, f"{type(exc).__name__}: {exc}"[:300]
            else:
                status = response.status_code
                verdict = self.classify(response)
                detail = _body_hint(response)
                if verdict is Verdict.DELIVERED:
                    return DeliveryResult("delivered", attempt, status, detail)
                if verdict is Verdict.REJECTED:
                    log.warning(
                        "%s: %s rejected %s (HTTP %d, not retried): %s",
                        self.name, self.kind, notification.alert.dedup_key, status, detail,
                    )  # fmt: skip
                    return DeliveryResult("rejected", attempt, status, detail)
                retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
                if retry_after is not None:
                    if retry_after > self.policy.max_retry_after_s:
                        limit = self.policy.max_retry_after_s
                        why = f"Retry-After {retry_after:.0f}s exceeds {limit:.0f}s"
                        return DeliveryResult("failed", attempt, status, why)
                    wait_at_least = retry_after
            if attempt >= self.policy.max_attempts:
                log.warning(
                    "%s: giving up on %s after %d attempts: %s",
                    self.name, notification.alert.dedup_key, attempt, detail or status,
                )  # fmt: skip
                return DeliveryResult("failed", attempt, status, detail)
            delay = max(wait_at_least, self.policy.backoff_s(attempt, self.rng))
            log.info(
                "%s: attempt %d for %s failed (%s); retrying in %.1fs",
                self.name, attempt, notification.alert.dedup_key, status or detail, delay,
            )  # fmt: skip
            self.sleep(delay)


def _body_hint(response: httpx.Response, limit: int = 200) -> str:
    """The start of a response body, for logs ('invalid_payload', 'channel_is_archived')."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return " ".join(text.split())[:limit]
