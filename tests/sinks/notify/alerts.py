"""Alerts to notify with, shared by the notifier tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from earful.events import Alert, Evidence, SampleMention, TermCount

__all__ = ["T0", "fixed_clock", "make_alert"]

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


def fixed_clock(at: datetime = T0 + timedelta(minutes=14)) -> Any:
    return lambda: at


def make_alert(**overrides: Any) -> Alert:
    samples = tuple(
        SampleMention(
            id=f"bluesky:{i}",
            source="bluesky",
            created_at=T0 + timedelta(minutes=i),
            text=f"acme login broken again <b>&</b> #{i}",
            url=f"https://bsky.app/profile/u{i}/post/{i}",
        )
        for i in range(6)
    )
    values: dict[str, Any] = {
        "dedup_key": "earful/outage_burst/acme/20261125T1000Z",
        "status": "firing",
        "subject": "acme",
        "kind": "outage_burst",
        "severity": "critical",
        "summary": "acme: 412 outage reports in 5 min, 10.3x the usual 40",
        "starts_at": T0,
        "observed": 412.0,
        "expected": 40.0,
        "evidence": Evidence(
            samples=samples,
            top_symptoms=(TermCount(term="login", count=42), TermCount(term="payments", count=7)),
            top_places=(TermCount(term="Berlin", count=12),),
            top_platforms=(TermCount(term="ios", count=30),),
        ),
        "dashboard_url": "https://grafana.example/d/earful?var-subject=acme",
        "created_at": T0 + timedelta(minutes=1),
    }
    values.update(overrides)
    return Alert(**values)
