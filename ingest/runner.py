"""The ingest runner: drives one connector from its stored cursor into the raw topic.

For each page a connector returns::

    Post -> tracking rules -> Mention -> dedup -> flood check
         -> produce to the raw topic (keyed by mention id) + checkpoint, atomically

* The cursor is stored only together with (exactly-once) or after
  (at-least-once) the page's mentions, so a restart neither skips nor repeats.
  Pages that match nothing move the cursor in memory; it is written at most
  every ``checkpoint_interval_s`` and when the runner stops.
* :class:`~earful.ingest.base.RateLimited` waits ``retry_after``;
  :class:`~earful.ingest.base.TransientSourceError` (and any bug in a connector)
  backs off exponentially with jitter; any other
  :class:`~earful.ingest.base.SourceError` (bad credentials, access revoked) waits
  the longest backoff and tries again. A failed Kafka write is retried from
  the last stored cursor. Nothing but SIGTERM/SIGINT stops the runner.
* A malformed record (the connector's ``Page.malformed``, or a post that is
  not a valid mention) is counted and logged with its connector and id.
* A streaming connector is reconnected from the last cursor when its stream
  ends; it should yield a (possibly empty) page every few seconds so that a
  stop request is noticed.

Burst mode for tests and demos: ``run(max_pages=..., idle_pages=...)``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol, runtime_checkable

from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from earful.events import (
    MAX_SUBJECTS,
    MAX_TEXT_CHARS,
    Mention,
    MetadataValue,
    encode,
    make_mention_id,
    now_utc,
)
from earful.ingest.base import (
    Page,
    PollingSource,
    Post,
    RateLimited,
    SourceError,
    StreamingSource,
    TransientSourceError,
)
from earful.ingest.checkpoint import Checkpoint, CheckpointWriter, KeyedRecord, load_checkpoints
from earful.ingest.dedup import FloodDetector, SeenIds, recent_ids
from earful.ingest.metrics import IngestMetrics
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.rules import TrackingRules
from earful.ingest.settings import IngestSettings
from earful.lifecycle import Lifecycle
from earful.retry import Backoff
from earful.worker import Clock

__all__ = [
    "Backoff",
    "IngestRunner",
    "MentionFactory",
    "RunnerStats",
    "runner_from_settings",
    "transactional_id",
]

log = logging.getLogger(__name__)

_MAX_URL = 2048


@runtime_checkable
class _Polling(PollingSource, Protocol):
    """Tells polling from streaming connectors at run time (both are Protocols)."""


class MentionFactory:
    """Post + tracking rules + privacy -> Mention (or None when no subject matches)."""

    def __init__(self, *, connector: str, rules: TrackingRules, privacy: Pseudonymiser) -> None:
        self.connector = connector
        self.rules = rules
        self.privacy = privacy
        self._known = set(rules.names)
        self._warned: set[str] = set()

    def build(self, post: Post, ingested_at: datetime) -> Mention | None:
        """Raise ValueError / ValidationError for a post that cannot be a valid mention."""
        match = self.rules.match(
            post.text,
            author_handle=post.author_handle,
            lang=post.lang,
            hashtags=post.hashtags,
            reply_to_handle=post.reply_to_handle,
        )
        subjects = list(match.subjects)
        for name in post.subjects:
            if name in self._known:
                if name not in subjects:
                    subjects.append(name)
            elif name not in self._warned:
                self._warned.add(name)
                log.warning("%s: post names subject %r, which the rules do not define",
                            self.connector, name)  # fmt: skip
        if not subjects:
            return None
        metadata: dict[str, MetadataValue] = {**post.metadata, "connector": self.connector}
        if len(subjects) > MAX_SUBJECTS:
            # The contract's cap (one scored record per subject): keep the post, in rule order.
            log.warning("%s: post %s names %d subjects; the first %d are kept",
                        self.connector, post.native_id, len(subjects), MAX_SUBJECTS)  # fmt: skip
            subjects = subjects[:MAX_SUBJECTS]
            metadata["subjects_truncated"] = True
        kind = post.kind
        if post.repost_of:
            kind = "repost"
            metadata["repost_of"] = make_mention_id(post.source, post.repost_of)
        if match.official_account:
            metadata["official_account"] = match.official_account
        text = post.text
        if len(text) > MAX_TEXT_CHARS:
            text = text[:MAX_TEXT_CHARS]
            metadata["truncated"] = True
        author = self.privacy.author(post.source, post.author_handle)
        return Mention(
            id=make_mention_id(post.source, post.native_id),
            source=post.source,
            native_id=post.native_id,
            url=post.url if post.url and len(post.url) <= _MAX_URL else None,
            author=author.author,
            author_handle=author.handle,
            text=text,
            lang=post.lang[:16] if post.lang else None,
            created_at=post.created_at,
            ingested_at=ingested_at,
            subjects=tuple(subjects),
            is_official=post.is_official or match.official,
            kind=kind,
            in_reply_to=make_mention_id(post.source, post.in_reply_to)
            if post.in_reply_to
            else None,
            engagement=post.engagement,
            metadata=metadata,
        )


@dataclass
class RunnerStats:
    pages: int = 0
    fetched: int = 0
    produced: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    stopped_by: str = ""


class IngestRunner:
    """Runs one connector until stopped; see the module docstring."""

    def __init__(
        self,
        source: PollingSource | StreamingSource,
        *,
        factory: MentionFactory,
        seen: SeenIds,
        floods: FloodDetector,
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
        self.factory = factory
        self.seen = seen
        self.floods = floods
        self.writer = writer
        self.metrics = metrics
        self.backoff = backoff or Backoff(1.0, 300.0)
        self.checkpoint_interval_s = checkpoint_interval_s
        self.drain_timeout_s = drain_timeout_s
        self.clock = clock
        self.lifecycle = Lifecycle(
            self.name,
            drain_timeout_s=drain_timeout_s,
            after_expiry="the next start resumes from the stored cursor",
        )
        self.sleep = sleep or self.lifecycle.wait
        self.cursor: str | None = checkpoint.cursor if checkpoint else None
        self._stored_cursor = self.cursor
        self._produced_total = checkpoint.produced if checkpoint else 0
        self._last_checkpoint = clock()
        self.stats = RunnerStats()
        metrics.for_connector(self.name)

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
            self._flush_cursor()
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
            log.exception("%s: unexpected error in the connector; retrying in %.1fs",
                          self.name, delay)  # fmt: skip
        self._count_error(kind)
        self.sleep(delay)

    # -- one page -----------------------------------------------------------------

    def _handle(self, page: Page) -> bool:
        """Make one page durable; False when Kafka failed (the page will be fetched again)."""
        now = self.clock()
        self.stats.fetched += len(page.posts)
        self.metrics.fetched.labels(self.name).inc(len(page.posts))
        if page.malformed:
            log.warning("%s: %d malformed record(s) in the page at cursor %r",
                        self.name, page.malformed, self.cursor)  # fmt: skip
            self._drop("malformed", page.malformed)
        records: list[KeyedRecord] = []
        new_ids: list[str] = []
        reposts = floods = 0
        for post in page.posts:
            mention = self._mention(post, now)
            if mention is None:
                continue
            if mention.id in self.seen or mention.id in new_ids:
                self._drop("duplicate")
                continue
            mark = self.floods.observe(mention.text, now)
            if mark.flood:
                floods += 1
                metadata = {**mention.metadata, "near_duplicate": True, "copies": mark.copies}
                mention = mention.model_copy(update={"metadata": metadata})
            reposts += mention.kind == "repost"
            new_ids.append(mention.id)
            records.append(KeyedRecord(key=mention.id.encode("utf-8"), value=encode(mention)))
        cursor = page.cursor if page.cursor is not None else self.cursor
        due = (now - self._last_checkpoint).total_seconds() >= self.checkpoint_interval_s
        store = records or (cursor != self._stored_cursor and (due or self.stopping))
        if store and not self._write(records, cursor, now):
            return False
        self.cursor = cursor
        self.seen.update(new_ids)
        self.stats.produced += len(records)
        self.stats.pages += 1
        labels = self.metrics
        labels.produced.labels(self.name).inc(len(records))
        labels.reposts.labels(self.name).inc(reposts)
        labels.near_duplicates.labels(self.name).inc(floods)
        labels.last_success.labels(self.name).set(now.timestamp())
        labels.lag.labels(self.name).set(self._lag(page, now))
        self._burst_checks(page)
        return True

    def _mention(self, post: Post, now: datetime) -> Mention | None:
        try:
            mention = self.factory.build(post, now)
        except (ValidationError, ValueError, TypeError) as exc:
            log.warning("%s: invalid post %s:%s dropped: %s",
                        self.name, post.source, post.native_id, _first_line(exc))  # fmt: skip
            self._drop("invalid")
            return None
        except Exception:  # a bug on one post must not stop the connector
            log.exception("%s: post %s:%s dropped", self.name, post.source, post.native_id)
            self._drop("invalid")
            return None
        if mention is None:
            self._drop("no_match")
        return mention

    def _write(self, records: list[KeyedRecord], cursor: str | None, now: datetime) -> bool:
        checkpoint = Checkpoint(
            connector=self.name,
            cursor=cursor,
            updated_at=now,
            produced=self._produced_total + len(records),
        )
        try:
            self.writer.write(records, checkpoint)
        except Exception as exc:
            if type(exc).__name__ == "ProducerFencedError":
                raise  # another runner with our transactional id took over: stop
            log.error("%s: Kafka write of %d mention(s) failed, the page will be fetched again: "
                      "%s", self.name, len(records), exc)  # fmt: skip
            self._count_error("kafka")
            return False
        self._produced_total = checkpoint.produced
        self._stored_cursor = cursor
        self._last_checkpoint = now
        return True

    def _flush_cursor(self) -> None:
        """On stop: store a cursor that only moved in memory (pages that matched nothing)."""
        if self.cursor != self._stored_cursor:
            self._write([], self.cursor, self.clock())

    def _lag(self, page: Page, now: datetime) -> float:
        if page.cursor_time is not None:
            return max(0.0, (now - page.cursor_time).total_seconds())
        times = [p.created_at for p in page.posts if p.created_at.tzinfo is not None]
        if times:
            return max(0.0, (now - max(times)).total_seconds())
        return 0.0  # an empty page: caught up with the source

    def _burst_checks(self, page: Page) -> None:
        self._idle_run = 0 if page.posts else self._idle_run + 1
        if self._max_pages is not None and self.stats.pages >= self._max_pages:
            self.request_stop("max_pages")
        elif self._idle_pages is not None and self._idle_run >= self._idle_pages:
            self.request_stop("idle")

    def _drop(self, reason: str, n: int = 1) -> None:
        self.stats.dropped[reason] = self.stats.dropped.get(reason, 0) + n
        self.metrics.dropped.labels(self.name, reason).inc(n)

    def _count_error(self, kind: str) -> None:
        self.stats.errors[kind] = self.stats.errors.get(kind, 0) + 1
        self.metrics.errors.labels(self.name, kind).inc()


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


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
    log.info("%s: resuming from cursor %r with %d recent ids",
             source.name, checkpoint.cursor if checkpoint else None, len(seen))  # fmt: skip
    return IngestRunner(
        source,
        factory=MentionFactory(connector=source.name, rules=rules, privacy=privacy),
        seen=seen,
        floods=FloodDetector(
            threshold=settings.near_duplicate_threshold,
            window_s=settings.near_duplicate_window_s,
            min_words=settings.near_duplicate_min_words,
        ),
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
