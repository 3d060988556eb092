"""Waiting before trying again: one ``Retry-After`` reader and one backoff for every caller.

Connectors (rate-limited APIs) and notifiers (webhooks) both honour a
server's ``Retry-After`` and otherwise back off exponentially. They share
these two helpers so that both read every form the header takes and spread
their retries the same way.
"""

from __future__ import annotations

import email.utils
import random
from collections.abc import Callable
from datetime import UTC, datetime

__all__ = ["Backoff", "backoff_delay", "parse_retry_after"]


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value, None when absent or unreadable.

    Both forms of RFC 9110 (10.2.3) are read: delta-seconds (``"120"``) and an
    HTTP date (``"Wed, 25 Nov 2026 10:01:30 GMT"``, and the obsolete RFC 850
    and asctime forms). A date in the past means 0. Anything else (``"soon"``,
    ``"-5"``, ``"1.5"``, ``"inf"``) is unreadable: the caller falls back to its
    own backoff. Delta-seconds too long for a float give ``inf``, which every
    budget refuses.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:  # "-0000" and asctime dates carry no zone: HTTP dates are GMT
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def backoff_delay(
    attempt: int, *, base_s: float, max_s: float, jitter: Callable[[], float] = random.random
) -> float:
    """Delay after failed attempt ``attempt`` (1-based): exponential, capped, "equal jitter".

    Half of the step is fixed and half drawn from ``jitter()`` in [0, 1), so
    clients that failed together spread out while the delay still grows:
    ``base_s`` * 2^(attempt-1), capped at ``max_s``, then in [step/2, step].
    """
    step = min(max_s, base_s * 2.0 ** min(max(attempt, 1) - 1, 64))
    return step / 2 + jitter() * step / 2


class Backoff:
    """:func:`backoff_delay` for a loop: each ``next_delay`` is the next attempt's."""

    def __init__(
        self, initial_s: float, max_s: float, *, jitter: Callable[[], float] = random.random
    ) -> None:
        self.initial_s = initial_s
        self.max_s = max_s
        self.jitter = jitter
        self.attempt = 0

    def next_delay(self) -> float:
        self.attempt += 1
        return backoff_delay(
            self.attempt, base_s=self.initial_s, max_s=self.max_s, jitter=self.jitter
        )

    def reset(self) -> None:
        self.attempt = 0
