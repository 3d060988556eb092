"""Signals become alerts: fire on open and on escalation, resolve on resolve, nothing else."""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace
from typing import Any

from earful.events import Alert, Evidence, Signal, TermCount, decode, encode
from earful.sinks.notify.message import plain_text
from earful.sinks.signal_alerts import (
    SignalAlertProcessor,
    SignalAlertSettings,
    alert_from_signal,
    dedup_key_for,
)
from tests.sinks.notify.alerts import T0, make_alert

SETTINGS = SignalAlertSettings(
    topic_alerts="alerts", dashboard_url="http://grafana.local/d/earful?var-subject={subject}"
)


def make_signal(state: str = "open", severity: str = "warning", **overrides: Any) -> Signal:
    values: dict[str, Any] = {
        "id": "acme/outage_burst/20261125T1000Z",
        "subject": "acme",
        "kind": "outage_burst",
        "state": state,
        "severity": severity,
        "detector": "outage-burst/1",
        "opened_at": T0,
        "updated_at": T0 + timedelta(minutes=5),
        "window_start": T0,
        "window_end": T0 + timedelta(minutes=5),
        "observed": 120.0,
        "expected": 8.0,
        "score": 0.97,
        "evidence": Evidence(
            samples=make_alert().evidence.samples[:4],
            top_symptoms=(TermCount(term="login", count=50),),
            top_places=(TermCount(term="Paris", count=9),),
            top_platforms=(TermCount(term="android", count=20),),
            trend=(7.0, 9.0, 120.0),
        ),
    }
    values.update(overrides)
    return Signal(**values)


def _run(processor: SignalAlertProcessor, *signals: Signal) -> list[Alert]:
    alerts = []
    for s in signals:
        for out in processor.process(SimpleNamespace(value=encode(s))):
            assert out.topic == "alerts"
            alert = decode(Alert, out.value)
            assert out.key == alert.dedup_key.encode()
            alerts.append(alert)
    return alerts


def test_open_escalate_update_resolve() -> None:
    processor = SignalAlertProcessor(SETTINGS, clock=lambda: T0 + timedelta(minutes=6))
    alerts = _run(
        processor,
        make_signal("open", "warning"),
        make_signal("update", "warning", observed=130.0),  # same severity: silent
        make_signal("update", "critical", observed=300.0),  # escalation: fires again
        make_signal("update", "warning", observed=90.0),  # de-escalation: silent
        make_signal("resolved", "warning", resolved_at=T0 + timedelta(minutes=40)),
        make_signal("resolved", "warning", resolved_at=T0 + timedelta(minutes=41)),  # repeat
    )
    assert [(a.status, a.severity) for a in alerts] == [
        ("firing", "warning"),
        ("firing", "critical"),
        ("resolved", "critical"),  # at the highest severity sent, so it routes the same way
    ]
    assert len({a.dedup_key for a in alerts}) == 1
    assert alerts[2].ends_at == T0 + timedelta(minutes=40)
    assert processor.open == {}


def test_the_alert_says_what_how_far_since_when_and_shows_evidence() -> None:
    alert = alert_from_signal(
        make_signal(), resolved=False, dashboard_url=SETTINGS.dashboard_url, created_at=T0
    )
    assert alert.summary == (
        "acme: Outage reports, observed 120 vs expected 8 (15.0x normal), since 10:00 UTC"
    )
    assert alert.signal_id == "acme/outage_burst/20261125T1000Z"
    assert alert.dashboard_url == "http://grafana.local/d/earful?var-subject=acme"
    text = plain_text(alert, T0 + timedelta(minutes=12))
    assert "since 10:00 UTC (for 12 min)" in text
    assert "Symptoms: login (50)" in text and "Places: Paris (9)" in text
    assert "Platforms: android (20)" in text
    assert text.count("https://bsky.app/") == 4
    assert "Recent values: 7, 9, 120." in alert.description


def test_a_day_long_window_is_shown_with_its_dates() -> None:
    day = make_signal(
        kind="volume_spike",
        window_start=T0 - timedelta(hours=24),
        window_end=T0 + timedelta(minutes=3),
        observed=2857.0,
        expected=1000.0,
    )
    alert = alert_from_signal(day, resolved=False, dashboard_url=None, created_at=T0)
    start, end = T0 - timedelta(hours=24), T0 + timedelta(minutes=3)
    assert f"window {start:%d %b %H:%M}-{end:%d %b %H:%M} UTC." in alert.description
    assert "observed 2,857 vs expected 1,000 (2.9x normal)" in alert.summary
    short = alert_from_signal(make_signal(), resolved=False, dashboard_url=None, created_at=T0)
    assert f"window {T0:%H:%M}-{T0 + timedelta(minutes=5):%H:%M} UTC." in short.description


def test_shares_are_shown_as_percentages() -> None:
    alert = alert_from_signal(
        make_signal(kind="negative_surge", observed=0.72, expected=0.18),
        resolved=False,
        dashboard_url=None,
        created_at=T0,
    )
    assert "observed 72% vs expected 18% (4.0x normal)" in alert.summary


def test_a_silence_says_how_long_since_the_last_update_not_how_far_above_normal() -> None:
    silence = make_signal(kind="comms_silence", observed=22.4, expected=15.0)
    alert = alert_from_signal(silence, resolved=False, dashboard_url=None, created_at=T0)
    assert alert.summary == (
        "acme: Communications silence, no official update for 22 min (limit 15 min), "
        "since 10:00 UTC"
    )
    assert "normal" not in plain_text(alert, T0 + timedelta(minutes=7))


def test_an_unseen_update_fires_and_an_unseen_resolve_is_dropped() -> None:
    processor = SignalAlertProcessor(SETTINGS, clock=lambda: T0)
    assert _run(processor, make_signal("resolved", resolved_at=T0)) == []
    fired = _run(processor, make_signal("update", "critical"))
    assert [(a.status, a.severity) for a in fired] == [("firing", "critical")]


def test_a_restart_resumes_from_the_open_signals() -> None:
    first = SignalAlertProcessor(SETTINGS, clock=lambda: T0)
    _run(first, make_signal("open", "warning"))
    second = SignalAlertProcessor(SETTINGS, open_signals=first.open, clock=lambda: T0)
    assert _run(second, make_signal("open", "warning")) == []  # the replayed open is silent
    assert [a.status for a in _run(second, make_signal("resolved", resolved_at=T0))] == ["resolved"]


def test_dedup_keys_stay_within_255_characters() -> None:
    long_id = "acme/" + "x" * 400
    key = dedup_key_for(make_signal(id=long_id))
    assert len(key) <= 255 and key.startswith("earful/outage_burst/acme/h:")
    assert key == dedup_key_for(make_signal(id=long_id))
    assert key != dedup_key_for(make_signal(id=long_id + "y"))
