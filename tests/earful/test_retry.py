"""The shared Retry-After reader and backoff."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from earful.retry import Backoff, backoff_delay, parse_retry_after

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "seconds"),
    [
        ("30", 30.0),
        (" 120 ", 120.0),
        ("0", 0.0),
        ("Wed, 25 Nov 2026 10:01:30 GMT", 90.0),  # IMF-fixdate
        ("Wednesday, 25-Nov-26 10:01:30 GMT", 90.0),  # obsolete RFC 850
        ("Wed Nov 25 10:01:30 2026", 90.0),  # obsolete asctime, no zone: GMT
        ("Wed, 25 Nov 2026 09:00:00 GMT", 0.0),  # in the past
    ],
)
def test_both_forms_of_retry_after_are_read(value: str, seconds: float) -> None:
    assert parse_retry_after(value, NOW) == seconds


@pytest.mark.parametrize("value", [None, "", "soon", "-5", "1.5", "inf", "nan", "1e3", "٣"])
def test_anything_else_is_unreadable(value: str | None) -> None:
    assert parse_retry_after(value, NOW) is None


def test_absurdly_long_delta_seconds_is_infinite_not_an_error() -> None:
    assert parse_retry_after("9" * 5000, NOW) == float("inf")


@given(attempt=st.integers(1, 200), base=st.floats(0.01, 10), cap=st.floats(0.01, 600))
def test_backoff_grows_is_capped_and_keeps_half_of_its_step(
    attempt: int, base: float, cap: float
) -> None:
    step = min(cap, base * 2.0 ** (attempt - 1))
    low = backoff_delay(attempt, base_s=base, max_s=cap, jitter=lambda: 0.0)
    high = backoff_delay(attempt, base_s=base, max_s=cap, jitter=lambda: 0.999999)
    assert low == pytest.approx(step / 2)
    assert low <= high <= step <= cap


def test_the_loop_form_counts_attempts_and_resets() -> None:
    backoff = Backoff(1.0, 8.0, jitter=random.Random(1).random)
    delays = [backoff.next_delay() for _ in range(6)]
    for n, delay in enumerate(delays, start=1):
        step = min(8.0, 2.0 ** (n - 1))
        assert step / 2 <= delay <= step
    backoff.reset()
    assert 0.5 <= backoff.next_delay() <= 1.0
