"""The ingest runner: drives one connector from its stored cursor into the raw topic.

The runner fetches (or streams) pages and hands each to its
:class:`~earful.ingest.pages.PageHandler`, which admits the posts
(:mod:`earful.ingest.admission`), drops repeats, and writes the mentions with
the cursor that comes after them. The runner itself handles the source's
failures and the process's lifecycle:

* :class:`~earful.ingest.base.RateLimited` waits ``retry_after``;
  :class:`~earful.ingest.base.TransientSourceError` (and any bug in a connector)
  backs off exponentially with jitter; any other
  :class:`~earful.ingest.base.SourceError` (bad credentials, access revoked) waits
  the longest backoff and tries again. A failed Kafka write is retried from
  the last stored cursor. Nothing but SIGTERM/SIGINT stops the runner.
* A streaming connector is reconnected from the last cursor when its stream
  ends; it should yield a (possibly empty) page every few seconds so that a
  stop request is noticed.

Burst mode for tests and demos: ``run(max_pages=..., idle_pages=...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any, Protocol, runtime_checkable

from prometheus_client import CollectorRegistry

from earful.events import now_utc
from earful.ingest.admission import Admission, DedupScreen
from earful.ingest.base import (
    Page,
    PollingSource,
    RateLimited,
    SourceError,
    StreamingSource,
    TransientSourceError,
)
from earful.ingest.checkpoint import Checkpoint, CheckpointWriter, load_checkpoints
from earful.ingest.dedup import SeenIds, flood_detector_from_settings, recent_ids
from earful.ingest.metrics import ConnectorTally, IngestMetrics, RunnerStats
from earful.ingest.pages import PageHandler
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.rules import TrackingRules
from earful.ingest.settings import IngestSettings
from earful.lifecycle import Lifecycle
from earful.retry import Backoff
from earful.worker import Clock

__all__ = [
    "Backoff",
    "IngestRunner",
    "RunnerStats",
    "runner_from_settings",
    "transactional_id",
]

log = logging.getLogger(__name__)


@runtime_checkable
class _Polling(PollingSource, Protocol):
    """Tells polling from streaming connectors at run time (both are Protocols)."""


class IngestRunner:
    """Runs one connector until stopped; see the module docstring."""

    def __init__(
        self,
        source: PollingSource | StreamingSource,
        *,
        admission: Admission,
        screen: DedupScreen,
        writer: CheckpointWriter,
        metrics: IngestMetrics,
        checkpoint: Checkpoint | None = None,
        backoff: Backoff | None = None,
        checkpoint_interval_s: float = 5.0,
        drain_timeout_s: float = 20.0,
        clock: Clock = now_utc,
        sleep: Callable[[float], None] | None = None,
    ) -> None:
        self.source = source
        self.name = source.name
        self.writer = writer
        self.backoff = backoff or Backoff(1.0, 300.0)
        self.lifecycle = Lifecycle(
            self.name,
            drain_timeout_s=drain_timeout_s,
            after_expiry="the next start resumes from the stored cursor",
        )
        self.sleep = sleep or self.lifecycle.wait
        self.stats = RunnerStats()
        self.tally = ConnectorTally(self.name, metrics, self.stats)
        self.pages = PageHandler(
            self.name,
            admission=admission,
            screen=screen,
            writer=writer,
            tally=self.tally,
            checkpoint=checkpoint,
            checkpoint_interval_s=checkpoint_interval_s,
            clock=clock,
        )

    @property
    def cursor(self) -> str | None:
        """The cursor the next fetch starts from."""
        return self.pages.cursor

    # -- lifecycle ----------------------------------------------------------------

    def request_stop(self, reason: str = "requested") -> None:
        self.lifecycle.request_stop(reason)

    @property
    def stopping(self) -> bool:
        return self.lifecycle.stopping

    def install_signal_handlers(self) -> None:
        self.lifecycle.install_signal_handlers()

    def run(self, *, max_pages: int | None = None, idle_pages: int | None = None) -> RunnerStats:
        """Fetch, match and produce until stopped, ``max_pages`` pages, or ``idle_pages``
        pages in a row without posts."""
        self.writer.setup()
        self._max_pages = max_pages
        self._idle_pages = idle_pages
        self._idle_run = 0
        try:
            if isinstance(self.source, _Polling):
                self._run_polling(self.source)
            else:
                self._run_streaming(self.source)
            self.pages.flush()
        finally:
            self.stats.stopped_by = self.lifecycle.reason or "error"
            self.lifecycle.drained()
        return self.stats

    # -- loops --------------------------------------------------------------------

    def _run_polling(self, source: PollingSource) -> None:
        while not self.stopping:
            try:
                page = source.fetch(self.cursor)
            except Exception as exc:  # every failure of the source is handled, none stops us
                self._source_failed(exc)
                continue
            self.backoff.reset()
            if not self._handle(page):
                self.sleep(self.backoff.next_delay())
                continue
            if not self.stopping and page.wait_s > 0:
                self.sleep(page.wait_s)

    def _run_streaming(self, source: StreamingSource) -> None:
        while not self.stopping:
            stream: Iterator[Page] = iter(())
            try:
                stream = source.stream(self.cursor)
                for page in stream:
                    self.backoff.reset()
                    if not self._handle(page):
                        self.sleep(self.backoff.next_delay())
                        break  # reconnect from the stored cursor
                    if self.stopping:
                        break
                else:
                    log.info("%s: stream ended, reconnecting from %r", self.name, self.cursor)
            except Exception as exc:
                self._source_failed(exc)
            finally:
                close = getattr(stream, "close", None)
                if close is not None:
                    close()

    def _source_failed(self, exc: Exception) -> None:
        if isinstance(exc, RateLimited):
            kind, delay = "rate_limited", max(0.0, exc.retry_after)
            log.warning("%s: rate limited, waiting %.1fs: %s", self.name, delay, exc)
        elif isinstance(exc, TransientSourceError):
            kind, delay = "transient", self.backoff.next_delay()
            log.warning("%s: %s; retrying in %.1fs", self.name, exc, delay)
        elif isinstance(exc, SourceError):
            kind, delay = "source", self.backoff.max_s
            log.error("%s: %s; retrying in %.0fs", self.name, exc, delay)
        else:
            kind, delay = "unexpected", self.backoff.next_delay()
            log.exception(
                "%s: unexpected error in the connector; retrying in %.1fs", self.name, delay
            )
        self.tally.error(kind)
        self.sleep(delay)

    # -- one page -----------------------------------------------------------------

    def _handle(self, page: Page) -> bool:
        """Make one page durable; False when Kafka failed (the page will be fetched again)."""
        if not self.pages.handle(page, stopping=self.stopping):
            return False
        self._burst_checks(page)
        return True

    def _burst_checks(self, page: Page) -> None:
        self._idle_run = 0 if page.posts else self._idle_run + 1
        if self._max_pages is not None and self.stats.pages >= self._max_pages:
            self.request_stop("max_pages")
        elif self._idle_pages is not None and self._idle_run >= self._idle_pages:
            self.request_stop("idle")


def transactional_id(settings: IngestSettings, connector: str) -> str:
    """Stable per connector: a restarted runner fences its predecessor's open transaction."""
    return f"{settings.kafka_client_id}-ingest.{connector}"


def runner_from_settings(
    source: PollingSource | StreamingSource,
    settings: IngestSettings,
    *,
    rules: TrackingRules,
    privacy: Pseudonymiser,
    producer: Any,
    reader: Any,
    registry: CollectorRegistry,
    clock: Clock = now_utc,
    sleep: Callable[[float], None] | None = None,
    make_producer: Callable[[], Any] | None = None,
) -> IngestRunner:
    """Wire a runner: its stored cursor and recent ids come back from Kafka.

    ``producer`` is transactional (with :func:`transactional_id`) when
    ``settings.exactly_once``; ``make_producer`` builds another like it, to
    replace one a broker outage left in an unknown state; ``reader`` is a
    group-less ``read_committed`` consumer, used here only and left open for
    the caller to close.
    """
    checkpoints = load_checkpoints(reader, settings.topic_checkpoints)
    checkpoint = checkpoints.get(source.name)
    seen = SeenIds(settings.dedup_capacity)
    seen.update(recent_ids(reader, settings.topic_raw, max_records=settings.dedup_restore_records))
    log.info(
        "%s: resuming from cursor %r with %d recent ids",
        source.name,
        checkpoint.cursor if checkpoint else None,
        len(seen),
    )
    return IngestRunner(
        source,
        admission=Admission(connector=source.name, rules=rules, privacy=privacy),
        screen=DedupScreen(seen, flood_detector_from_settings(settings)),
        writer=CheckpointWriter(
            producer,
            raw_topic=settings.topic_raw,
            checkpoint_topic=settings.topic_checkpoints,
            transactional=settings.exactly_once,
            make_producer=make_producer,
            timeout_s=settings.kafka_timeout_s,
        ),
        metrics=IngestMetrics(registry),
        checkpoint=checkpoint,
        backoff=Backoff(settings.backoff_initial_s, settings.backoff_max_s),
        checkpoint_interval_s=settings.checkpoint_interval_s,
        drain_timeout_s=settings.drain_timeout_s,
        clock=clock,
        sleep=sleep,
    )
