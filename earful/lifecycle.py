"""Stopping a long-running loop: stop requests, SIGTERM/SIGINT draining within a bound.

Every Earful process that loops (a worker, an ingest runner) shares this
lifecycle (after arq): the first SIGTERM or SIGINT asks the loop to finish
what it has in hand and stop; if that takes longer than the drain bound the
process exits with status 1 (what was not committed is read again by the
next start); a second signal exits at once with status 130.
"""

from __future__ import annotations

import logging
import os
import signal
import threading
from collections.abc import Callable
from types import FrameType

__all__ = ["Lifecycle"]

log = logging.getLogger(__name__)


class Lifecycle:
    """The stop flag of one loop, and its signal handlers."""

    def __init__(
        self,
        name: str,
        *,
        drain_timeout_s: float,
        on_stop: Callable[[], None] | None = None,
        after_expiry: str = "the open batch will be read again",
    ) -> None:
        self.name = name
        self.drain_timeout_s = drain_timeout_s
        self.on_stop = on_stop
        self.after_expiry = after_expiry
        self.event = threading.Event()
        self.reason = ""
        self._drain_timer: threading.Timer | None = None

    @property
    def stopping(self) -> bool:
        return self.event.is_set()

    def request_stop(self, reason: str = "requested") -> None:
        """Ask the loop to stop after what it has in hand; the first reason given is kept."""
        self.reason = self.reason or reason
        self.event.set()
        if self.on_stop is not None:
            self.on_stop()

    def wait(self, seconds: float) -> bool:
        """Sleep up to ``seconds``; True (early) when a stop was requested."""
        return self.event.wait(max(0.0, seconds))

    def install_signal_handlers(self) -> None:
        """SIGTERM/SIGINT drain the loop: call it when the loop is its process's main loop."""

        def handler(signum: int, _frame: FrameType | None) -> None:
            name = signal.Signals(signum).name
            if self.event.is_set():
                log.warning("%s: second %s, exiting now", self.name, name)
                os._exit(130)
            log.info("%s: %s received, draining", self.name, name)
            self.request_stop(name)
            self._drain_timer = threading.Timer(self.drain_timeout_s, self._drain_expired)
            self._drain_timer.daemon = True
            self._drain_timer.start()

        signal.signal(signal.SIGTERM, handler)
        signal.signal(signal.SIGINT, handler)

    def drained(self) -> None:
        """The loop finished in time: no hard exit."""
        if self._drain_timer is not None:
            self._drain_timer.cancel()

    def _drain_expired(self) -> None:
        log.error(
            "%s: drain exceeded %.0fs; exiting, %s",
            self.name,
            self.drain_timeout_s,
            self.after_expiry,
        )
        os._exit(1)
