"""Alertmanager's times: valid for its clock whatever the pace of the input."""

from __future__ import annotations

from datetime import datetime, timedelta

from earful.sinks.notify.alertmanager import alertmanager_alert
from tests.sinks.notify.alerts import T0, make_alert

NOW = T0 + timedelta(minutes=14)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def test_an_alert_from_a_replay_ahead_of_the_clock_starts_now_and_keeps_its_event_time() -> None:
    # A 60x replay: the signal opened two hours of event time ahead of the clock.
    ahead = make_alert(starts_at=NOW + timedelta(hours=2))
    body = alertmanager_alert(ahead, resolved=False, now=NOW)
    assert _at(body["startsAt"]) == NOW
    assert "endsAt" not in body
    assert _at(body["annotations"]["event_starts_at"]) == NOW + timedelta(hours=2)


def test_a_resolve_ahead_of_the_clock_ends_now_and_never_before_it_starts() -> None:
    ahead = make_alert(
        status="resolved",
        starts_at=NOW + timedelta(hours=1),
        ends_at=NOW + timedelta(hours=2),
    )
    body = alertmanager_alert(ahead, resolved=True, now=NOW)
    starts, ends = _at(body["startsAt"]), _at(body["endsAt"])
    assert starts <= ends <= NOW
    assert ends == NOW
    assert _at(body["annotations"]["event_ends_at"]) == NOW + timedelta(hours=2)


def test_times_in_the_past_are_sent_as_they_are() -> None:
    past = make_alert(status="resolved", starts_at=T0, ends_at=T0 + timedelta(minutes=5))
    body = alertmanager_alert(past, resolved=True, now=NOW)
    assert _at(body["startsAt"]) == T0
    assert _at(body["endsAt"]) == T0 + timedelta(minutes=5)
    assert body["annotations"]["event_starts_at"] == body["startsAt"]


def test_every_pace_gives_start_before_end_and_neither_after_the_clock() -> None:
    # Event offsets from the clock, from far behind to far ahead (replays at any speed).
    offsets = [timedelta(minutes=m) for m in (-600, -30, -1, 0, 1, 30, 120, 600)]
    for start in offsets:
        for length in (timedelta(0), timedelta(minutes=3), timedelta(hours=3)):
            alert = make_alert(
                status="resolved", starts_at=NOW + start, ends_at=NOW + start + length
            )
            for resolved in (False, True):
                body = alertmanager_alert(alert, resolved=resolved, now=NOW)
                starts = _at(body["startsAt"])
                assert starts <= NOW
                if resolved:
                    assert starts <= _at(body["endsAt"]) <= NOW
