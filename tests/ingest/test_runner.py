"""The ingest runner: rules, dedup, metrics, backoff, and restart from the checkpoint on Kafka."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client import CollectorRegistry

from earful.events import Mention
from earful.ingest.admission import Admission, DedupScreen
from earful.ingest.base import (
    Page,
    Post,
    RateLimited,
    SourceError,
    TransientSourceError,
)
from earful.ingest.checkpoint import (
    Checkpoint,
    KeyedRecord,
    encode_checkpoint,
    ensure_checkpoint_topic,
    load_checkpoints,
)
from earful.ingest.dedup import FloodDetector, SeenIds
from earful.ingest.metrics import IngestMetrics
from earful.ingest.privacy import Pseudonymiser
from earful.ingest.runner import (
    Backoff,
    IngestRunner,
    runner_from_settings,
    transactional_id,
)
from earful.ingest.settings import IngestSettings
from earful.kafkautil import read_to_end
from earful.worker import make_consumer, make_producer
from tests.ingest.acme_rules import RULES

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
PRIVACY = Pseudonymiser(b"test-key-0123456789abcdef")


def post(native_id: str, text: str = "is acme down?", **kw: Any) -> Post:
    values: dict[str, Any] = {
        "source": "mastodon",
        "native_id": native_id,
        "text": text,
        "created_at": T0,
        "author_handle": f"user{native_id}",
    }
    values.update(kw)
    return Post(**values)


class FakeClock:
    def __init__(self) -> None:
        self.now = T0 + timedelta(minutes=5)

    def __call__(self) -> datetime:
        return self.now


@dataclass
class FakeWriter:
    """In-memory stand-in for Kafka: records what was made durable; can fail on demand."""

    fail: int = 0
    records: list[KeyedRecord] = field(default_factory=list)
    checkpoints: list[Checkpoint] = field(default_factory=list)

    def setup(self) -> None:
        pass

    def write(self, records: list[KeyedRecord], checkpoint: Checkpoint) -> None:
        if self.fail:
            self.fail -= 1
            raise ConnectionError("broker unreachable")
        self.records.extend(records)
        self.checkpoints.append(checkpoint)

    def mentions(self) -> list[Mention]:
        return [Mention.model_validate_json(r.value) for r in self.records]


class ScriptedSource:
    """A polling source that plays a script: Pages or exceptions, keyed by call number."""

    def __init__(self, script: list[Page | Exception], name: str = "fake") -> None:
        self.name = name
        self.script = script
        self.cursors: list[str | None] = []

    def fetch(self, cursor: str | None) -> Page:
        self.cursors.append(cursor)
        step = self.script.pop(0) if self.script else Page(posts=(), cursor=cursor)
        if isinstance(step, Exception):
            raise step
        return step


class PagedSource:
    """A polling source over a fixed list of posts: the cursor is the next index."""

    def __init__(self, posts: list[Post], page_size: int, name: str = "paged") -> None:
        self.name = name
        self.posts = posts
        self.page_size = page_size
        self.fetches: list[str | None] = []

    def fetch(self, cursor: str | None) -> Page:
        self.fetches.append(cursor)
        start = int(cursor or 0)
        chunk = self.posts[start : start + self.page_size]
        # Overlap on purpose: like a "since >=" API, each page repeats the previous post.
        overlap = self.posts[start - 1 : start] if start and chunk else []
        return Page(posts=tuple(overlap + chunk), cursor=str(start + len(chunk)), wait_s=1.0)


def make_runner(
    source: Any,
    writer: Any,
    *,
    registry: CollectorRegistry | None = None,
    sleeps: list[float] | None = None,
    clock: FakeClock | None = None,
    checkpoint: Checkpoint | None = None,
    checkpoint_interval_s: float = 0.0,
) -> IngestRunner:
    sleeps = [] if sleeps is None else sleeps
    return IngestRunner(
        source,
        admission=Admission(connector=source.name, rules=RULES, privacy=PRIVACY),
        screen=DedupScreen(SeenIds(1000), FloodDetector(threshold=3, window_s=600, min_words=6)),
        writer=writer,
        metrics=IngestMetrics(registry or CollectorRegistry()),
        checkpoint=checkpoint,
        backoff=Backoff(1.0, 60.0, jitter=lambda: 0.5),
        checkpoint_interval_s=checkpoint_interval_s,
        clock=clock or FakeClock(),
        sleep=sleeps.append,
    )


def sample(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


# -- pipeline of one page ---------------------------------------------------------


def test_posts_become_mentions_with_subjects_privacy_and_metadata() -> None:
    writer = FakeWriter()
    registry = CollectorRegistry()
    page = Page(
        posts=(
            post("1", "ACME pay is down again", lang="en", url="https://m.example/1"),
            post("2", "lovely weather"),  # matches nothing
            post("3", "investigating elevated errors", author_handle="AcmeStatus"),
            post("4", "is acme down?", repost_of="1", kind="post"),
            post("5", "is acme down?", in_reply_to="3"),
        ),
        cursor="c1",
        malformed=2,
    )
    runner = make_runner(ScriptedSource([page]), writer, registry=registry)
    stats = runner.run(max_pages=1)
    by_id = {m.id: m for m in writer.mentions()}
    assert sorted(by_id) == ["mastodon:1", "mastodon:3", "mastodon:4", "mastodon:5"]
    first = by_id["mastodon:1"]
    assert first.subjects == ("acme", "acme-pay")
    assert first.author == PRIVACY.pseudonym("mastodon", "user1") and first.author_handle is None
    assert first.ingested_at == T0 + timedelta(minutes=5)
    assert first.metadata["connector"] == "fake"
    assert by_id["mastodon:3"].is_official and by_id["mastodon:3"].subjects == ("acme",)
    assert by_id["mastodon:4"].kind == "repost"
    assert by_id["mastodon:4"].metadata["repost_of"] == "mastodon:1"
    assert by_id["mastodon:5"].in_reply_to == "mastodon:3"
    assert writer.records[0].key == b"mastodon:1"
    assert writer.checkpoints[-1].cursor == "c1" and writer.checkpoints[-1].produced == 4
    assert stats.dropped == {"malformed": 2, "no_match": 1}
    assert sample(registry, "earful_ingest_fetched_total", connector="fake") == 5
    assert sample(registry, "earful_ingest_produced_total", connector="fake") == 4
    assert sample(registry, "earful_ingest_reposts_total", connector="fake") == 1
    for reason, n in (("no_match", 1), ("malformed", 2), ("duplicate", 0)):
        assert sample(registry, "earful_ingest_dropped_total", connector="fake", reason=reason) == n
    assert (
        sample(registry, "earful_ingest_last_success_timestamp_seconds", connector="fake")
        == (T0 + timedelta(minutes=5)).timestamp()
    )
    assert sample(registry, "earful_ingest_lag_seconds", connector="fake") == 300.0


def test_an_invalid_post_is_dropped_and_the_rest_go_on() -> None:
    writer = FakeWriter()
    naive = datetime(2026, 11, 25, 10, 0)  # noqa: DTZ001 - the bug under test
    page = Page(posts=(post("1", created_at=naive), post("2")), cursor="c1")
    stats = make_runner(ScriptedSource([page]), writer).run(max_pages=1)
    assert [m.id for m in writer.mentions()] == ["mastodon:2"]
    assert stats.dropped == {"invalid": 1}


def test_connector_subjects_are_added_and_unknown_ones_ignored() -> None:
    writer = FakeWriter()
    page = Page(posts=(post("1", "elevated errors", subjects=("acme-pay", "nope")),), cursor="c")
    make_runner(ScriptedSource([page]), writer).run(max_pages=1)
    assert writer.mentions()[0].subjects == ("acme-pay",)


def test_duplicates_within_and_across_pages_are_dropped() -> None:
    writer = FakeWriter()
    pages: list[Page | Exception] = [
        Page(posts=(post("1"), post("1"), post("2")), cursor="a"),
        Page(posts=(post("2"), post("3")), cursor="b"),
    ]
    stats = make_runner(ScriptedSource(pages), writer).run(max_pages=2)
    assert [m.id for m in writer.mentions()] == ["mastodon:1", "mastodon:2", "mastodon:3"]
    assert stats.dropped == {"duplicate": 2}


def test_flood_copies_are_flagged_not_dropped() -> None:
    spam = "Acme gives free credits to everyone who clicks this link today"
    page = Page(
        posts=tuple(post(str(i), f"{spam} https://x.example/{i}") for i in range(4)), cursor="c"
    )
    writer = FakeWriter()
    make_runner(ScriptedSource([page]), writer).run(max_pages=1)
    flags = [
        (m.metadata.get("near_duplicate"), m.metadata.get("copies")) for m in writer.mentions()
    ]
    assert flags == [(None, None), (None, None), (True, 3), (True, 4)]


# -- resilience -------------------------------------------------------------------


def test_rate_limit_waits_retry_after_and_transient_errors_back_off() -> None:
    writer = FakeWriter()
    sleeps: list[float] = []
    registry = CollectorRegistry()
    script: list[Page | Exception] = [
        RateLimited("429", retry_after=42.0),
        TransientSourceError("503"),
        TransientSourceError("timeout"),
        TransientSourceError("connection reset"),
        Page(posts=(post("1"),), cursor="c1", wait_s=10.0),
        TransientSourceError("503 again"),
        SourceError("401 credentials revoked"),
        ValueError("a bug in the connector"),
        Page(posts=(post("2"),), cursor="c2"),
    ]
    source = ScriptedSource(script)
    runner = make_runner(source, writer, registry=registry, sleeps=sleeps)
    runner.run(max_pages=2)
    # 42 as asked; 1, 2, 4 doubling with jitter 0.5 -> 0.75, 1.5, 3; the page's own wait;
    # after a success the backoff starts again; a lasting error waits the longest backoff.
    assert sleeps == [42.0, 0.75, 1.5, 3.0, 10.0, 0.75, 60.0, 1.5]
    assert source.cursors == [None] * 5 + ["c1"] * 4
    assert [m.id for m in writer.mentions()] == ["mastodon:1", "mastodon:2"]
    for kind, n in (("rate_limited", 1), ("transient", 4), ("source", 1), ("unexpected", 1)):
        assert sample(registry, "earful_ingest_errors_total", connector="fake", kind=kind) == n


def test_backoff_is_capped_and_jittered() -> None:
    draws = iter([0.0, 1.0, 0.0, 1.0, 0.5])
    backoff = Backoff(1.0, 4.0, jitter=lambda: next(draws))
    assert [backoff.next_delay() for _ in range(5)] == [0.5, 2.0, 2.0, 4.0, 3.0]


def test_failed_kafka_write_refetches_the_page_and_loses_nothing() -> None:
    writer = FakeWriter(fail=1)
    sleeps: list[float] = []
    source = PagedSource([post(str(i)) for i in range(6)], page_size=3)
    registry = CollectorRegistry()
    runner = make_runner(source, writer, sleeps=sleeps, registry=registry)
    runner.run(max_pages=2)
    assert source.fetches == [None, None, "3"]  # the failed page was fetched again
    assert [m.id for m in writer.mentions()] == [f"mastodon:{i}" for i in range(6)]
    assert sample(registry, "earful_ingest_errors_total", connector="paged", kind="kafka") == 1


def test_pages_that_match_nothing_store_the_cursor_when_due_and_at_stop() -> None:
    writer = FakeWriter()
    clock = FakeClock()
    pages: list[Page | Exception] = [
        Page(posts=(post("1", "nothing here"),), cursor=str(i)) for i in range(1, 4)
    ]
    runner = make_runner(ScriptedSource(pages), writer, clock=clock, checkpoint_interval_s=60)
    runner.run(max_pages=3)
    assert writer.records == []
    assert [c.cursor for c in writer.checkpoints] == ["3"]  # once, when stopping


def test_resumes_from_the_given_checkpoint() -> None:
    source = PagedSource([post(str(i)) for i in range(6)], page_size=3)
    checkpoint = Checkpoint(connector="paged", cursor="3", updated_at=T0, produced=3)
    writer = FakeWriter()
    make_runner(source, writer, checkpoint=checkpoint).run(idle_pages=1)
    assert source.fetches[0] == "3"
    # The overlapping post 2 is not in the in-memory dedup here; 3..5 are new.
    assert [m.id for m in writer.mentions()] == [
        "mastodon:2",
        "mastodon:3",
        "mastodon:4",
        "mastodon:5",
    ]
    assert writer.checkpoints[-1].produced == 7


class FlakyStream:
    """A streaming source whose connection drops: after a page, and once on connect."""

    name = "stream"

    def __init__(self) -> None:
        self.connects: list[str | None] = []

    def stream(self, cursor: str | None) -> Iterator[Page]:
        self.connects.append(cursor)
        n = int(cursor or 0)
        if n == 2 and self.connects.count("2") == 1:
            raise TransientSourceError("websocket handshake failed")
        yield Page(posts=(post(str(n)),), cursor=str(n + 1))
        if n == 1:
            raise TransientSourceError("connection reset")


def test_streaming_source_reconnects_from_the_last_cursor() -> None:
    writer = FakeWriter()
    sleeps: list[float] = []
    source = FlakyStream()
    stats = make_runner(source, writer, sleeps=sleeps).run(max_pages=3)
    # None: one page, then the stream ends; "1": a page, then a reset; "2": fails, then works.
    assert source.connects == [None, "1", "2", "2"]
    assert sleeps == [0.75, 1.5]
    assert stats.errors == {"transient": 2}
    assert [m.id for m in writer.mentions()] == ["mastodon:0", "mastodon:1", "mastodon:2"]


# -- against the real broker -------------------------------------------------------


def _settings(settings_factory: Callable[..., Any], unique_name: Callable[[str], str]) -> Any:
    settings: IngestSettings = settings_factory(
        IngestSettings,
        topic_checkpoints=unique_name("ckpt"),
        kafka_client_id=unique_name("client"),
        checkpoint_interval_s=0.0,
    )
    ensure_checkpoint_topic(settings)
    return settings


def _runner(settings: IngestSettings, source: Any, clock: FakeClock) -> tuple[IngestRunner, Any]:
    txn = transactional_id(settings, source.name) if settings.exactly_once else None
    producer = make_producer(settings, transactional_id=txn)
    reader = make_consumer(settings, group=None, topics=[])
    try:
        runner = runner_from_settings(
            source,
            settings,
            rules=RULES,
            privacy=PRIVACY,
            producer=producer,
            reader=reader,
            registry=CollectorRegistry(),
            clock=clock,
            sleep=lambda _s: None,
        )
    finally:
        reader.close()
    return runner, producer


def _raw_ids(settings: IngestSettings) -> list[str]:
    reader = make_consumer(settings, group=None, topics=[])
    try:
        return [r.key.decode() for r in read_to_end(reader, settings.topic_raw)]
    finally:
        reader.close()


@pytest.mark.kafka
def test_restart_after_a_kill_neither_loses_nor_duplicates(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = _settings(settings_factory, unique_name)
    posts = [post(str(i), "acme is down" if i % 3 else "unrelated chatter") for i in range(40)]
    expected = [f"mastodon:{i}" for i in range(40) if i % 3]
    clock = FakeClock()

    # First life: four pages made durable, then stopped.
    runner, producer = _runner(settings, PagedSource(posts, page_size=5), clock)
    assert runner.run(max_pages=4).stopped_by == "max_pages"
    producer.close()

    # A zombie with the same transactional id writes page 5 and its cursor, then is killed
    # before committing: nothing of it may become visible.
    zombie = make_producer(settings, transactional_id=transactional_id(settings, "paged"))
    zombie.init_transactions()
    zombie.begin_transaction()
    for p in posts[20:25]:
        mention_id = f"mastodon:{p.native_id}"
        zombie.send(settings.topic_raw, key=mention_id.encode(), value=b"{}")
    stale = Checkpoint(connector="paged", cursor="25", updated_at=T0)
    zombie.send(settings.topic_checkpoints, key=b"paged", value=encode_checkpoint(stale))
    zombie.flush()

    # Second life: fences the zombie, resumes at the stored cursor, runs until idle.
    source = PagedSource(posts, page_size=5)
    runner, producer = _runner(settings, source, clock)
    assert runner.cursor == "20"
    runner.run(idle_pages=1)
    producer.close()
    zombie.close(timeout=1)

    assert source.fetches[0] == "20"
    ids = _raw_ids(settings)
    assert sorted(ids) == sorted(expected)  # nothing lost, nothing twice
    assert len(ids) == len(set(ids))
    reader = make_consumer(settings, group=None, topics=[])
    try:
        stored = load_checkpoints(reader, settings.topic_checkpoints)["paged"]
    finally:
        reader.close()
    assert stored.cursor == "40"
    assert stored.produced == len(expected)


@pytest.mark.kafka
def test_at_least_once_mode_restores_dedup_from_the_raw_topic(
    settings_factory: Callable[..., Any], unique_name: Callable[[str], str]
) -> None:
    settings = _settings(settings_factory, unique_name).model_copy(update={"exactly_once": False})
    posts = [post(str(i)) for i in range(10)]
    clock = FakeClock()
    runner, producer = _runner(settings, PagedSource(posts, page_size=4), clock)
    runner.run(max_pages=2)
    producer.close()
    # The checkpoint is lost (e.g. written to a topic that was reset): the second life starts
    # over, and only the dedup restored from the raw topic stops it producing twice.
    tombstone = make_producer(settings)
    tombstone.send(settings.topic_checkpoints, key=b"paged", value=None)
    tombstone.flush()
    tombstone.close()
    runner, producer = _runner(settings, PagedSource(posts, page_size=4), clock)
    assert runner.cursor is None
    stats = runner.run(idle_pages=1)
    producer.close()
    ids = _raw_ids(settings)
    assert sorted(ids) == sorted(f"mastodon:{i}" for i in range(10))
    assert stats.dropped["duplicate"] >= 8
    values = [json.loads(v) for v in _raw_values(settings)]
    assert all(v["subjects"] == ["acme"] for v in values)


def _raw_values(settings: IngestSettings) -> list[bytes]:
    reader = make_consumer(settings, group=None, topics=[])
    try:
        return [r.value for r in read_to_end(reader, settings.topic_raw)]
    finally:
        reader.close()


def test_sigterm_finishes_the_page_stores_the_cursor_and_stops() -> None:
    import os
    import signal

    class SignalsMidway:
        name = "sig"

        def __init__(self) -> None:
            self.calls = 0

        def fetch(self, cursor: str | None) -> Page:
            self.calls += 1
            if self.calls == 2:
                os.kill(os.getpid(), signal.SIGTERM)  # arrives while this page is in flight
            return Page(posts=(post(str(self.calls), "nothing"),), cursor=str(self.calls))

    writer = FakeWriter()
    source = SignalsMidway()
    runner = make_runner(source, writer, checkpoint_interval_s=3600)
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        runner.install_signal_handlers()
        stats = runner.run()
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    assert stats.stopped_by == "SIGTERM"
    assert source.calls == 2 and stats.pages == 2
    assert [c.cursor for c in writer.checkpoints] == ["2"]  # the drained page's cursor is stored
