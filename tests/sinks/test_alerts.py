from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

from earful.events import (
    Alert,
    Mention,
    ScoredMention,
    SentimentLabel,
    SentimentScore,
    VaderScores,
    decode,
    encode,
)
from earful.settings import AlertSinkSettings
from sinks.alerts import AlertProcessor, format_alert

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def scored(i: int, label: SentimentLabel, *, at: datetime, text: str = "") -> SimpleNamespace:
    compound = {"negative": -0.6, "neutral": 0.0, "positive": 0.6}[label]
    m = ScoredMention(
        subject="acme",
        mention=Mention(
            id=f"bluesky:{i}",
            source="bluesky",
            native_id=str(i),
            author=f"u-{i}",
            text=text or f"post {i}",
            url=f"https://bsky.example/{i}",
            created_at=at,
            ingested_at=at,
            subjects=("acme",),
        ),
        sentiment=SentimentScore(
            label=label,
            compound=compound,
            vader=VaderScores(neg=0.0, neu=1.0, pos=0.0, compound=compound),
        ),
        scored_at=at,
        model="test",
    )
    return SimpleNamespace(topic="scored", partition=0, offset=i, key=b"acme", value=encode(m))


def settings() -> AlertSinkSettings:
    return AlertSinkSettings(
        alert_window_s=300, alert_negative_share=0.5, alert_min_mentions=20, alert_resolve_share=0.3
    )


def feed(p: AlertProcessor, records: list[SimpleNamespace]) -> list[Alert]:
    out = []
    for r in records:
        out += [decode(Alert, o.value) for o in p.process(r)]
    p.on_committed()
    return out


def test_fires_once_then_resolves_once_with_hysteresis() -> None:
    p = AlertProcessor(settings(), clock=lambda: NOW, out=io.StringIO())
    calm = [scored(i, "positive" if i % 3 else "negative", at=T0 + timedelta(seconds=10 * i))
            for i in range(30)]  # fmt: skip
    assert feed(p, calm) == []
    angry_start = T0 + timedelta(seconds=300)
    angry = [
        scored(100 + i, "negative", at=angry_start + timedelta(seconds=5 * i)) for i in range(60)
    ]
    fired = feed(p, angry)
    assert [a.status for a in fired] == ["firing"]
    # Between the resolve share (0.3) and the fire share (0.5): stays open, no new alert.
    mixed_start = angry_start + timedelta(seconds=300)
    mixed = [scored(200 + i, "negative" if i % 5 < 2 else "positive",
                    at=mixed_start + timedelta(seconds=10 * i)) for i in range(30)]  # fmt: skip
    assert feed(p, mixed) == []
    calm_start = mixed_start + timedelta(seconds=300)
    calm_again = [scored(300 + i, "positive", at=calm_start + timedelta(seconds=10 * i))
                  for i in range(30)]  # fmt: skip
    resolved = feed(p, calm_again)
    assert [a.status for a in resolved] == ["resolved"]
    assert resolved[0].dedup_key == fired[0].dedup_key
    assert resolved[0].starts_at == fired[0].starts_at
    assert resolved[0].ends_at is not None and resolved[0].ends_at > fired[0].starts_at


def test_below_minimum_volume_never_fires() -> None:
    p = AlertProcessor(settings(), clock=lambda: NOW, out=io.StringIO())
    few = [scored(i, "negative", at=T0 + timedelta(seconds=i)) for i in range(19)]
    assert feed(p, few) == []


def test_an_open_alert_restored_at_start_is_not_fired_again() -> None:
    p1 = AlertProcessor(settings(), clock=lambda: NOW, out=io.StringIO())
    burst = [scored(i, "negative", at=T0 + timedelta(seconds=i)) for i in range(40)]
    (fired,) = feed(p1, burst)
    p2 = AlertProcessor(
        settings(), open_alerts={"acme": fired}, clock=lambda: NOW, out=io.StringIO()
    )
    more = [scored(100 + i, "negative", at=T0 + timedelta(seconds=40 + i)) for i in range(40)]
    assert feed(p2, more) == []


def test_alert_carries_distinct_negative_samples_and_prints_after_commit() -> None:
    out = io.StringIO()
    p = AlertProcessor(settings(), clock=lambda: NOW, out=out)
    texts = [
        "can't log in",
        "can't log in",
        "payments failing",
        "app crashes",
        "is it down?",
        "502",
    ]
    burst = [scored(i, "negative", at=T0 + timedelta(seconds=i), text=texts[i % len(texts)])
             for i in range(30)]  # fmt: skip
    outputs = [o for r in burst for o in p.process(r)]
    assert out.getvalue() == ""  # nothing printed before the transaction commits
    p.on_committed()
    (alert,) = [decode(Alert, o.value) for o in outputs]
    sample_texts = [s.text for s in alert.evidence.samples]
    assert len(sample_texts) == len(set(sample_texts)) == 5
    assert "[FIRING]" in out.getvalue() and "can't log in" in out.getvalue()
    assert format_alert(alert) in out.getvalue()
