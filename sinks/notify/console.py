"""Print alerts to a stream: the demo's target, and a safe default with no secrets."""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass, field
from typing import TextIO

from earful.events import now_utc
from earful.sinks.notify.base import (
    Attempt,
    Clock,
    DeliveryResult,
    DeliveryVerdict,
    Notification,
    RetryPolicy,
)
from earful.sinks.notify.message import plain_text

__all__ = ["ConsoleNotifier"]


@dataclass(kw_only=True)
class ConsoleNotifier:
    name: str
    kind: str = "console"
    idempotent: bool = False
    out: TextIO = field(default=sys.stdout)
    clock: Clock = now_utc
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def attempt(self, notification: Notification, *, timeout_s: float | None = None) -> Attempt:
        first, *rest = plain_text(notification.alert, self.clock()).splitlines()
        block = "\n".join([f"[{self.name}] {first}", *(f"  {line}" for line in rest)])
        with self._lock:
            self.out.write(block + "\n\n")
            self.out.flush()
        return Attempt(DeliveryVerdict.DELIVERED)

    def deliver(self, notification: Notification) -> DeliveryResult:
        self.attempt(notification)
        return DeliveryResult("delivered", 1)
