"""``earful report``'s times: ISO 8601, ``now`` and ``-2h`` against an injected clock."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta

import pytest

from earful.comms.report_cli import parse_time

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def clock() -> datetime:
    return NOW


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("now", NOW),
        ("-90m", NOW - timedelta(minutes=90)),
        ("-2h", NOW - timedelta(hours=2)),
        ("-1.5h", NOW - timedelta(minutes=90)),
        ("-1d", NOW - timedelta(days=1)),
        ("2026-11-20T10:00Z", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T10:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
        ("2026-11-20T11:00+01:00", datetime(2026, 11, 20, 10, 0, tzinfo=UTC)),
    ],
)
def test_times_parse_to_utc(text: str, expected: datetime) -> None:
    value = parse_time(text, now=clock)
    assert value == expected
    assert value.utcoffset() == timedelta(0)


@pytest.mark.parametrize("text", ["yesterday", "+2h", "-2w", "2h", ""])
def test_other_forms_are_refused_with_the_accepted_ones_named(text: str) -> None:
    with pytest.raises(argparse.ArgumentTypeError, match=r"ISO 8601.*'now'.*'-2h'"):
        parse_time(text, now=clock)
