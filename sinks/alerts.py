"""``earful sink alerts``: the first slice's alert, a negative-share threshold per subject.

For every subject it keeps a sliding event-time window of scored mentions.
When at least ``alert_min_mentions`` are in the window and the negative share
reaches ``alert_negative_share``, it fires one alert; it resolves once the
share drops below ``alert_resolve_share`` (hysteresis, so it does not flap).

Alerts are written to the alerts topic in the same transaction as the input
offsets, and printed once the transaction commits. On start-up the open alerts
are read back from the alerts topic, so a restart never fires an alert twice.
The detection issue replaces this rule with learned baselines.
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TextIO

from earful.events import (
    Alert,
    Evidence,
    SampleMention,
    ScoredMention,
    decode,
    encode,
    now_utc,
)
from earful.kafkautil import read_to_end
from earful.settings import AlertSinkSettings
from earful.worker import Clock, ConsumedRecord, Output

__all__ = ["AlertProcessor", "format_alert", "load_open_alerts"]

_SAMPLES = 5


@dataclass
class _SubjectWindow:
    entries: deque[tuple[datetime, bool, ScoredMention]] = field(default_factory=deque)
    negative: int = 0
    newest: datetime | None = None


class AlertProcessor:
    """Consumes scored mentions, emits firing/resolved alerts on the alerts topic."""

    def __init__(
        self,
        settings: AlertSinkSettings,
        *,
        open_alerts: dict[str, Alert] | None = None,
        clock: Clock = now_utc,
        out: TextIO = sys.stdout,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.out = out
        self.window = timedelta(seconds=settings.alert_window_s)
        self.open: dict[str, Alert] = dict(open_alerts or {})
        self._windows: dict[str, _SubjectWindow] = {}
        self._pending: list[Alert] = []
        self.emitted: list[Alert] = []

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        scored = decode(ScoredMention, record.value)
        if scored.sentiment is None:
            return ()
        state = self._windows.setdefault(scored.subject, _SubjectWindow())
        t = scored.mention.created_at
        is_neg = scored.sentiment.label == "negative"
        state.entries.append((t, is_neg, scored))
        state.negative += is_neg
        state.newest = t if state.newest is None else max(state.newest, t)
        horizon = state.newest - self.window
        while state.entries and state.entries[0][0] <= horizon:
            _, old_neg, _ = state.entries.popleft()
            state.negative -= old_neg
        alert = self._evaluate(scored.subject, state)
        if alert is None:
            return ()
        self._pending.append(alert)
        return [
            Output(
                topic=self.settings.topic_alerts,
                key=alert.dedup_key.encode("utf-8"),
                value=encode(alert),
            )
        ]

    def _evaluate(self, subject: str, state: _SubjectWindow) -> Alert | None:
        total = len(state.entries)
        share = state.negative / total if total else 0.0
        current = self.open.get(subject)
        s = self.settings
        assert state.newest is not None
        if current is None and total >= s.alert_min_mentions and share >= s.alert_negative_share:
            alert = self._make_alert(subject, state, share, "firing", starts_at=state.newest)
            self.open[subject] = alert
            return alert
        if current is not None and share < s.alert_resolve_share:
            del self.open[subject]
            return self._make_alert(
                subject, state, share, "resolved", starts_at=current.starts_at,
                ends_at=state.newest, dedup_key=current.dedup_key,
            )  # fmt: skip
        return None

    def _make_alert(
        self,
        subject: str,
        state: _SubjectWindow,
        share: float,
        status: str,
        *,
        starts_at: datetime,
        ends_at: datetime | None = None,
        dedup_key: str | None = None,
    ) -> Alert:
        s = self.settings
        total = len(state.entries)
        minutes = s.alert_window_s / 60
        negatives: list[ScoredMention] = []
        seen_texts: set[str] = set()
        for _, neg, m in reversed(state.entries):
            key = " ".join(m.mention.text.lower().split())
            if neg and key not in seen_texts:
                seen_texts.add(key)
                negatives.append(m)
                if len(negatives) == _SAMPLES:
                    break
        samples = tuple(
            SampleMention(
                id=m.mention.id,
                source=m.mention.source,
                created_at=m.mention.created_at,
                text=m.mention.text[:280],
                url=m.mention.url,
            )
            for m in negatives
        )
        if status == "firing":
            summary = (
                f"{subject}: {share:.0%} of {total} mentions negative in the last "
                f"{minutes:g} min (alert at {s.alert_negative_share:.0%})"
            )
        else:
            summary = f"{subject}: negative share back to {share:.0%} of {total} mentions"
        key = dedup_key or f"earful/negative_share/{subject}/{starts_at:%Y%m%dT%H%M%SZ}"
        return Alert(
            dedup_key=key,
            status="firing" if status == "firing" else "resolved",
            subject=subject,
            kind="negative_share",
            severity="warning",
            summary=summary,
            description=f"Threshold rule over a sliding {minutes:g}-minute event-time window.",
            starts_at=starts_at,
            ends_at=ends_at,
            observed=round(share, 4),
            expected=s.alert_negative_share,
            evidence=Evidence(samples=samples),
            dashboard_url=s.dashboard_url,
            created_at=self.clock(),
        )

    def on_committed(self) -> None:
        """Print the alerts whose transaction has committed."""
        for alert in self._pending:
            self.out.write(format_alert(alert))
            self.out.flush()
        self.emitted.extend(self._pending)
        self._pending.clear()


def format_alert(alert: Alert) -> str:
    """The console form of an alert: what a responder reads first."""
    icon = "FIRING" if alert.status == "firing" else "RESOLVED"
    lines = [
        f"[{icon}] {alert.summary}",
        f"  since {alert.starts_at:%Y-%m-%d %H:%M:%S}Z"
        + (f", until {alert.ends_at:%H:%M:%S}Z" if alert.ends_at else ""),
        f"  key {alert.dedup_key}",
    ]
    for sample in alert.evidence.samples:
        text = " ".join(sample.text.split())
        lines.append(
            f'  - "{text[:140]}" ({sample.source}{", " + sample.url if sample.url else ""})'
        )
    if alert.dashboard_url:
        lines.append(f"  dashboard: {alert.dashboard_url}")
    return "\n".join(lines) + "\n\n"


def load_open_alerts(settings: AlertSinkSettings, consumer: Any) -> dict[str, Alert]:
    """Rebuild the open alerts per subject from the alerts topic (the sink's checkpoint).

    ``consumer`` is a group-less consumer that this call assigns and reads.
    """
    open_alerts: dict[str, Alert] = {}
    for record in read_to_end(consumer, settings.topic_alerts):
        try:
            alert = decode(Alert, record.value)
        except Exception:  # noqa: S112 - a bad record there is not ours to fix here
            continue
        if alert.kind != "negative_share":
            continue
        if alert.status == "firing":
            open_alerts[alert.subject] = alert
        else:
            open_alerts.pop(alert.subject, None)
    return open_alerts
