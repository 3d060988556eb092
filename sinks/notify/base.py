"""The notifier base: one alert in, one HTTP request out, retried within a time budget.

A :class:`Notifier` subclass only says how to *build* the request for one
:class:`Notification` and how to *classify* the response. The base owns what
one attempt means and how long to keep trying, the same for every target:

* one :meth:`Notifier.attempt` is one request: delivered, rejected for good, or
  worth retrying (connection errors, timeouts, 408, 429 and 5xx);
* retries go on for a time budget (:class:`RetryPolicy`, 10 minutes by
  default), not a count: a responder's endpoint down for a few minutes must not
  lose alerts. Between attempts the wait grows exponentially with jitter
  (:func:`earful.retry.backoff_delay`) and is never shorter than the target's
  ``Retry-After`` (seconds or an HTTP date, :func:`earful.retry.parse_retry_after`);
  a ``Retry-After`` that reaches past the budget ends the delivery at once;
* a final ``4xx`` (bad payload, revoked webhook, 410 Gone) is never retried;
* redirects are never followed (a webhook URL that redirects is misconfigured).

:meth:`Notifier.deliver` runs the whole loop in the caller's thread (a CLI, a
test). The delivery worker does not: it makes one attempt and hands the rest to
its retrier (``earful.sinks.delivery``), so a long outage never blocks its Kafka loop.

The HTTP client, the clock, the sleep function and the random source are all
passed in, so tests run real requests against a local server without waiting
for real backoff. Webhook URLs and keys are secrets: neither a result nor a log
line ever contains the request URL.
"""

from __future__ import annotations

import hashlib
import logging
import random
import time
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import ClassVar, Literal, Protocol

import httpx

from earful.events import Alert, now_utc
from earful.retry import backoff_delay, parse_retry_after

__all__ = [
    "Attempt",
    "Clock",
    "DeliveryResult",
    "DeliveryVerdict",
    "Notification",
    "Notifier",
    "Outcome",
    "RetryPolicy",
    "Target",
    "delivery_id",
    "give_up_detail",
    "parse_retry_after",
    "silence_http_request_logs",
]

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]
#: ``retrying``: the first attempt failed and the delivery worker keeps trying;
#: ``failed``: given up after the retry budget.
Outcome = Literal["delivered", "rejected", "failed", "suppressed", "retrying"]


class DeliveryVerdict(Enum):
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
class Attempt:
    """What one request gave: the verdict, and the server's wait hint when it asked for one."""

    verdict: DeliveryVerdict
    status_code: int | None = None
    detail: str = ""
    retry_after_s: float | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How long to keep trying one delivery: a time budget, not a number of attempts."""

    #: Give up once the next attempt would start later than this after the first.
    budget_s: float = 600.0
    base_delay_s: float = 1.0
    max_delay_s: float = 30.0

    def backoff_s(self, attempt: int, rng: random.Random) -> float:
        """Delay after failed attempt ``attempt`` (1-based): capped exponential, jittered."""
        return backoff_delay(
            attempt, base_s=self.base_delay_s, max_s=self.max_delay_s, jitter=rng.random
        )

    def next_wait(
        self, attempts: int, retry_after_s: float | None, elapsed_s: float, rng: random.Random
    ) -> float | None:
        """Seconds until the next attempt, or None when that would overrun the budget."""
        wait = max(retry_after_s or 0.0, self.backoff_s(attempts, rng))
        if elapsed_s + wait > self.budget_s:
            return None
        return wait


class Target(Protocol):
    """Anything the delivery worker can hand a notification to."""

    @property
    def name(self) -> str: ...

    @property
    def kind(self) -> str: ...

    @property
    def idempotent(self) -> bool:
        """Whether a re-send after a crash is deduplicated by the target."""

    @property
    def policy(self) -> RetryPolicy: ...

    def attempt(self, notification: Notification, *, timeout_s: float | None = None) -> Attempt:
        """One try, no waiting (``timeout_s`` may shorten the request's own timeout)."""

    def deliver(self, notification: Notification) -> DeliveryResult:
        """Try until delivered, rejected or out of budget, waiting in the caller's thread."""


def delivery_id(target: str, dedup_key: str, revision: str) -> str:
    """A stable, opaque idempotency key for one (target, alert, state change)."""
    raw = f"{target}\x1f{dedup_key}\x1f{revision}".encode()
    return "msg_" + hashlib.sha256(raw).hexdigest()[:32]


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

    def classify(self, response: httpx.Response) -> DeliveryVerdict:
        """Default: 2xx delivered; 408, 429 and 5xx retried; anything else final."""
        code = response.status_code
        if 200 <= code < 300:
            return DeliveryVerdict.DELIVERED
        if code in (408, 429) or code >= 500:
            return DeliveryVerdict.RETRY
        return DeliveryVerdict.REJECTED

    def attempt(self, notification: Notification, *, timeout_s: float | None = None) -> Attempt:
        """One request: delivered, rejected for good, or worth retrying (with Retry-After).

        ``timeout_s`` shortens the request's timeout (never lengthens it): the
        delivery worker's loop bounds the time it spends on first attempts.
        """
        limits = [t for t in (self.timeout_s, timeout_s) if t is not None]
        try:
            request = self.build_request(notification)
            if limits:
                request.extensions["timeout"] = httpx.Timeout(min(limits)).as_dict()
            response = self.client.send(request, follow_redirects=False)
        except httpx.TimeoutException as exc:
            return Attempt(DeliveryVerdict.RETRY, None, f"timeout ({type(exc).__name__})")
        except httpx.TransportError as exc:
            # The message of a transport error names the socket error, not the URL.
            return Attempt(DeliveryVerdict.RETRY, None, f"{type(exc).__name__}: {exc}"[:300])
        verdict = self.classify(response)
        detail = _body_hint(response)
        if verdict is DeliveryVerdict.REJECTED:
            log.warning(
                "%s: %s rejected %s (HTTP %d, not retried): %s",
                self.name,
                self.kind,
                notification.alert.dedup_key,
                response.status_code,
                detail,
            )
        retry_after = None
        if verdict is DeliveryVerdict.RETRY:
            retry_after = parse_retry_after(response.headers.get("retry-after"), self.clock())
        return Attempt(verdict, response.status_code, detail, retry_after)

    def deliver(self, notification: Notification) -> DeliveryResult:
        """Attempt until delivered, rejected or the budget is spent, sleeping in between.

        Time spent counts by the clock or by the waits slept, whichever is more
        (an injected clock may stand still).
        """
        started = self.clock()
        slept = 0.0
        attempts = 0
        while True:
            attempts += 1
            result = self.attempt(notification)
            if result.verdict is DeliveryVerdict.DELIVERED:
                return DeliveryResult("delivered", attempts, result.status_code, result.detail)
            if result.verdict is DeliveryVerdict.REJECTED:
                return DeliveryResult("rejected", attempts, result.status_code, result.detail)
            elapsed = max(slept, (self.clock() - started).total_seconds())
            wait = self.policy.next_wait(attempts, result.retry_after_s, elapsed, self.rng)
            if wait is None:
                detail = give_up_detail(result, attempts, elapsed, self.policy)
                log.warning(
                    "%s: giving up on %s: %s", self.name, notification.alert.dedup_key, detail
                )
                return DeliveryResult("failed", attempts, result.status_code, detail)
            log.info(
                "%s: attempt %d for %s failed (%s); retrying in %.1fs",
                self.name,
                attempts,
                notification.alert.dedup_key,
                result.status_code or result.detail,
                wait,
            )
            self.sleep(wait)
            slept += wait


def give_up_detail(result: Attempt, attempts: int, elapsed_s: float, policy: RetryPolicy) -> str:
    """Why a delivery ends as failed: the last error and what was spent."""
    last = f"HTTP {result.status_code}" if result.status_code is not None else result.detail
    if result.status_code is not None and result.detail:
        last += f": {result.detail}"
    why = f"{attempts} attempt(s) in {elapsed_s:.0f}s, retry budget {policy.budget_s:.0f}s"
    if result.retry_after_s is not None and elapsed_s + result.retry_after_s > policy.budget_s:
        why = f"Retry-After {result.retry_after_s:.0f}s reaches past the budget; " + why
    return f"{why}; last: {last}"[:500]


def _body_hint(response: httpx.Response, limit: int = 200) -> str:
    """The start of a response body, for logs ('invalid_payload', 'channel_is_archived')."""
    try:
        text = response.text
    except (UnicodeDecodeError, httpx.ResponseNotRead):
        return ""
    return " ".join(text.split())[:limit]
