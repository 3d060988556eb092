"""One page made durable: the cursor moves with (or after) its mentions, never ahead of them."""

from __future__ import annotations

from datetime import timedelta

from prometheus_client import CollectorRegistry

from earful.ingest.admission import Admission, DedupScreen
from earful.ingest.base import Page
from earful.ingest.checkpoint import Checkpoint
from earful.ingest.dedup import FloodDetector, SeenIds
from earful.ingest.metrics import ConnectorTally, IngestMetrics, RunnerStats
from earful.ingest.pages import PageHandler
from tests.ingest.acme_rules import RULES
from tests.ingest.test_runner import PRIVACY, FakeClock, FakeWriter, post


def handler(
    writer: FakeWriter, clock: FakeClock, *, interval_s: float = 5.0
) -> tuple[PageHandler, RunnerStats, CollectorRegistry]:
    stats = RunnerStats()
    registry = CollectorRegistry()
    pages = PageHandler(
        "fake",
        admission=Admission(connector="fake", rules=RULES, privacy=PRIVACY),
        screen=DedupScreen(SeenIds(100), FloodDetector(threshold=3, window_s=600, min_words=6)),
        writer=writer,
        tally=ConnectorTally("fake", IngestMetrics(registry), stats),
        checkpoint=Checkpoint(connector="fake", cursor="c0", updated_at=clock(), produced=7),
        checkpoint_interval_s=interval_s,
        clock=clock,
    )
    return pages, stats, registry


def test_mentions_and_their_cursor_are_written_together_with_the_running_total() -> None:
    writer, clock = FakeWriter(), FakeClock()
    pages, stats, _ = handler(writer, clock)
    assert pages.handle(Page(posts=(post("1"), post("2", "weather")), cursor="c1"), stopping=False)
    assert [c.cursor for c in writer.checkpoints] == ["c1"]
    assert writer.checkpoints[0].produced == 8  # 7 before this run, 1 now
    assert [m.id for m in writer.mentions()] == ["mastodon:1"]
    assert stats.dropped == {"no_match": 1} and stats.pages == 1 and pages.cursor == "c1"


def test_a_cursor_without_mentions_waits_for_the_interval_or_the_stop() -> None:
    writer, clock = FakeWriter(), FakeClock()
    pages, _, _ = handler(writer, clock)
    pages.handle(Page(posts=(post("1", "weather"),), cursor="c1"), stopping=False)
    assert writer.checkpoints == [] and pages.cursor == "c1"  # moved in memory only
    clock.now += timedelta(seconds=6)
    pages.handle(Page(posts=(), cursor="c2"), stopping=False)
    assert [c.cursor for c in writer.checkpoints] == ["c2"]  # due
    pages.handle(Page(posts=(), cursor="c3"), stopping=True)
    assert [c.cursor for c in writer.checkpoints] == ["c2", "c3"]  # stopping
    pages.handle(Page(posts=(), cursor="c4"), stopping=False)
    pages.flush()
    assert [c.cursor for c in writer.checkpoints] == ["c2", "c3", "c4"]
    pages.flush()  # nothing moved since: nothing written
    assert len(writer.checkpoints) == 3


def test_a_failed_write_keeps_the_cursor_and_remembers_no_id() -> None:
    writer, clock = FakeWriter(fail=1), FakeClock()
    pages, stats, registry = handler(writer, clock)
    page = Page(posts=(post("1"),), cursor="c1")
    assert not pages.handle(page, stopping=False)
    assert pages.cursor == "c0" and stats.errors == {"kafka": 1} and stats.pages == 0
    assert pages.handle(page, stopping=False)  # the same page again: not a duplicate
    assert [m.id for m in writer.mentions()] == ["mastodon:1"] and pages.cursor == "c1"
    assert registry.get_sample_value("earful_ingest_produced_total", {"connector": "fake"}) == 1
