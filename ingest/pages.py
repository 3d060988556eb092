"""One page of a connector made durable, with the cursor that comes after it::

    Page -> admission (per post) -> dedup and flood flags
         -> produce to the raw topic (keyed by mention id) + checkpoint, atomically

* The cursor is stored only together with (exactly-once) or after
  (at-least-once) the page's mentions, so a restart neither skips nor repeats.
  Pages that match nothing move the cursor in memory; it is written at most
  every ``checkpoint_interval_s`` and when the runner stops (:meth:`PageHandler.flush`).
* A malformed record (the connector's ``Page.malformed``, or a post that is
  not a valid mention) is counted and logged with its connector and id.
* A failed Kafka write leaves the cursor where it was: the runner fetches the
  page again, and the dedup remembers nothing of it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import datetime
from typing import Protocol

from pydantic import ValidationError

from earful.events import Mention, encode
from earful.ingest.admission import Admission, DedupScreen
from earful.ingest.base import Page, Post
from earful.ingest.checkpoint import Checkpoint, KeyedRecord
from earful.ingest.metrics import ConnectorTally
from earful.worker import Clock

__all__ = ["PageHandler", "PageWriter"]

log = logging.getLogger(__name__)


class PageWriter(Protocol):
    """Makes records and a checkpoint durable together (``checkpoint.CheckpointWriter``)."""

    def write(self, records: list[KeyedRecord], checkpoint: Checkpoint) -> None: ...


class PageHandler:
    """Admits, screens and writes a connector's pages; keeps its cursor."""

    def __init__(
        self,
        name: str,
        *,
        admission: Admission,
        screen: DedupScreen,
        writer: PageWriter,
        tally: ConnectorTally,
        checkpoint: Checkpoint | None,
        checkpoint_interval_s: float,
        clock: Clock,
    ) -> None:
        self.name = name
        self.admission = admission
        self.screen = screen
        self.writer = writer
        self.tally = tally
        self.checkpoint_interval_s = checkpoint_interval_s
        self.clock = clock
        self.cursor: str | None = checkpoint.cursor if checkpoint else None
        self._stored_cursor = self.cursor
        self._produced_total = checkpoint.produced if checkpoint else 0
        self._last_checkpoint = clock()

    def handle(self, page: Page, *, stopping: bool) -> bool:
        """Make one page durable; False when Kafka failed (the page will be fetched again).

        ``stopping``: the runner is stopping, so a cursor that only moved is stored now.
        """
        now = self.clock()
        stats, metrics = self.tally.stats, self.tally.metrics
        stats.fetched += len(page.posts)
        metrics.fetched.labels(self.name).inc(len(page.posts))
        if page.malformed:
            log.warning(
                "%s: %d malformed record(s) in the page at cursor %r",
                self.name,
                page.malformed,
                self.cursor,
            )
            self.tally.drop("malformed", page.malformed)
        screened = self.screen.screen(self._admitted(page.posts, now), now)
        if screened.duplicates:
            self.tally.drop("duplicate", screened.duplicates)
        records = [KeyedRecord(key=m.id.encode("utf-8"), value=encode(m)) for m in screened.fresh]
        cursor = page.cursor if page.cursor is not None else self.cursor
        due = (now - self._last_checkpoint).total_seconds() >= self.checkpoint_interval_s
        store = records or (cursor != self._stored_cursor and (due or stopping))
        if store and not self._write(records, cursor, now):
            return False
        self.cursor = cursor
        self.screen.remember(screened)
        stats.produced += len(records)
        stats.pages += 1
        metrics.produced.labels(self.name).inc(len(records))
        metrics.reposts.labels(self.name).inc(screened.reposts)
        metrics.near_duplicates.labels(self.name).inc(screened.flooded)
        metrics.last_success.labels(self.name).set(now.timestamp())
        metrics.lag.labels(self.name).set(_lag(page, now))
        return True

    def flush(self) -> None:
        """On stop: store a cursor that only moved in memory (pages that matched nothing)."""
        if self.cursor != self._stored_cursor:
            self._write([], self.cursor, self.clock())

    def _admitted(self, posts: tuple[Post, ...], now: datetime) -> Iterator[Mention]:
        for post in posts:
            try:
                mention = self.admission.admit(post, now)
            except (ValidationError, ValueError, TypeError) as exc:
                log.warning(
                    "%s: invalid post %s:%s dropped: %s",
                    self.name,
                    post.source,
                    post.native_id,
                    _first_line(exc),
                )
                self.tally.drop("invalid")
                continue
            except Exception:  # a bug on one post must not stop the connector
                log.exception("%s: post %s:%s dropped", self.name, post.source, post.native_id)
                self.tally.drop("invalid")
                continue
            if mention is None:
                self.tally.drop("no_match")
                continue
            yield mention

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
            log.error(
                "%s: Kafka write of %d mention(s) failed, the page will be fetched again: %s",
                self.name,
                len(records),
                exc,
            )
            self.tally.error("kafka")
            return False
        self._produced_total = checkpoint.produced
        self._stored_cursor = cursor
        self._last_checkpoint = now
        return True


def _lag(page: Page, now: datetime) -> float:
    if page.cursor_time is not None:
        return max(0.0, (now - page.cursor_time).total_seconds())
    times = [p.created_at for p in page.posts if p.created_at.tzinfo is not None]
    if times:
        return max(0.0, (now - max(times)).total_seconds())
    return 0.0  # an empty page: caught up with the source


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
