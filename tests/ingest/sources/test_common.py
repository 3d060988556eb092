"""Shared connector plumbing: the newest-time-read mark that rss, statuspage and HN keep."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from earful.ingest.sources._common import NewestRead, dump_time_mark, load_time_mark

T = datetime(2025, 11, 25, 10, 0, tzinfo=UTC)


def test_posts_at_the_mark_are_new_unless_seen_and_older_ones_were_read() -> None:
    read = NewestRead(T, ["a"])

    assert read.already_read(T - timedelta(seconds=1), "z")
    assert read.already_read(T, "a")
    assert not read.already_read(T, "b")
    assert not read.already_read(T + timedelta(seconds=1), "a")


def test_the_mark_moves_to_the_newest_time_keeping_every_id_at_it() -> None:
    read = NewestRead(10, ["a"])
    read.add(10, "b")
    assert (read.newest, read.newest_ids) == (10, {"a", "b"})
    read.add(12, "c")
    read.add(11, "d")  # older than the newest: does not move the mark
    read.add(12, "e")
    assert (read.newest, read.newest_ids) == (12, {"c", "e"})
    assert (read.since, read.seen) == (10, frozenset({"a"}))  # what this poll filters by stays put


def test_time_mark_round_trips_and_a_missing_or_odd_one_starts_at_the_default() -> None:
    read = NewestRead(T, ["x"])
    read.add(T + timedelta(minutes=1), "y")
    stored = dump_time_mark(read)
    assert stored == {"t": "2025-11-25T10:01:00+00:00", "ids": ["y"]}

    again = load_time_mark(stored, default_since=T - timedelta(days=1))
    assert (again.since, again.seen) == (T + timedelta(minutes=1), frozenset({"y"}))
    for odd in (None, "2025-11-25", {"t": 1764064800}, {"ids": ["y"]}):
        fresh = load_time_mark(odd, default_since=T)
        assert (fresh.since, fresh.seen) == (T, frozenset())
