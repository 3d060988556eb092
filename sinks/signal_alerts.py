"""``earful sink signals``: turn detector signals into alerts a responder can act on.

A signal is opened once, updated, and resolved once. This worker emits

* a ``firing`` alert when a signal opens (or when an update arrives for a
  signal it has not seen open, e.g. after the signals topic was trimmed);
* another ``firing`` alert, same ``dedup_key``, when the severity rises;
* a ``resolved`` alert when the signal resolves.

Updates at the same or a lower severity emit nothing: the notification already
sent stays true, and responders are not paged for every window. The alert
carries what the message needs: what and for which subject, observed against
expected, since when, the signal's evidence (sample posts with links, top
symptoms, places and platforms) and the dashboard link.

Alerts go to the alerts topic in the same transaction as the input offsets.
On start-up the open signals are rebuilt from the (compacted) alerts topic, so
a restart neither repeats nor forgets an alert.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any, get_args
from urllib.parse import quote

from pydantic import Field

from earful.events import SEVERITY_RANK, Alert, Signal, SignalKind, decode, encode, now_utc
from earful.settings import BaseWorkerSettings
from earful.sinks.notify.message import kind_title, magnitude
from earful.state import read_latest
from earful.worker import Clock, ConsumedRecord, Output

__all__ = [
    "SignalAlertProcessor",
    "SignalAlertSettings",
    "alert_from_signal",
    "dedup_key_for",
    "load_open_signals",
]

# Every detector kind, and comms_silence: its resolve must survive a restart too.
_SIGNAL_KINDS = frozenset(get_args(SignalKind))


class SignalAlertSettings(BaseWorkerSettings):
    """``earful sink signals``."""

    signal_alerts_group: str = "earful-sink-signals"
    dashboard_url: str | None = Field(
        default=None,
        description="Dashboard link; '{subject}' is replaced by the URL-quoted subject.",
    )


def dedup_key_for(signal: Signal) -> str:
    """One key per signal episode, shared by its firing and resolved alerts (<= 255 chars)."""
    key = f"earful/{signal.id}"
    if len(key) <= 255:
        return key
    digest = hashlib.sha256(signal.id.encode()).hexdigest()[:32]
    return f"earful/{signal.kind}/{signal.subject[:120]}/h:{digest}"


def _dashboard(template: str | None, subject: str) -> str | None:
    if not template:
        return None
    return template.replace("{subject}", quote(subject, safe=""))


def alert_from_signal(
    signal: Signal, *, resolved: bool, dashboard_url: str | None, created_at: datetime
) -> Alert:
    what = kind_title(signal.kind)
    how_far = magnitude(signal.kind, signal.observed, signal.expected)
    since = f"{signal.opened_at:%H:%M} UTC"
    if resolved:
        summary = f"{signal.subject}: {what} resolved (now {how_far}; began {since})"
    else:
        summary = f"{signal.subject}: {what}, {how_far}, since {since}"
    # A day-scale signal refers to the last 24 hours: its window needs the dates.
    long_window = signal.window_end - signal.window_start >= timedelta(hours=12)
    clock = "%d %b %H:%M" if long_window else "%H:%M"
    description = (
        f"Detector {signal.detector}, anomaly score {signal.score:.2f}, window "
        f"{signal.window_start.strftime(clock)}-{signal.window_end.strftime(clock)} UTC."
    )
    if signal.evidence.trend:
        recent = ", ".join(f"{v:g}" for v in signal.evidence.trend[-8:])
        description += f" Recent values: {recent}."
    return Alert(
        dedup_key=dedup_key_for(signal),
        status="resolved" if resolved else "firing",
        subject=signal.subject,
        kind=signal.kind,
        severity=signal.severity,
        summary=summary[:1024],
        description=description,
        starts_at=signal.opened_at,
        ends_at=(signal.resolved_at or signal.updated_at) if resolved else None,
        signal_id=signal.id,
        observed=signal.observed,
        expected=signal.expected,
        evidence=signal.evidence,
        dashboard_url=_dashboard(dashboard_url, signal.subject),
        created_at=created_at,
    )


class SignalAlertProcessor:
    """Signals in, alerts out; remembers the last firing alert of each open signal."""

    def __init__(
        self,
        settings: SignalAlertSettings,
        *,
        open_signals: dict[str, Alert] | None = None,
        clock: Clock = now_utc,
    ) -> None:
        self.settings = settings
        self.clock = clock
        self.open: dict[str, Alert] = dict(open_signals or {})

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        signal = decode(Signal, record.value)
        alert = self._alert_for(signal)
        if alert is None:
            return ()
        return [
            Output(
                topic=self.settings.topic_alerts,
                key=alert.dedup_key.encode("utf-8"),
                value=encode(alert),
            )
        ]

    def _alert_for(self, signal: Signal) -> Alert | None:
        current = self.open.get(signal.id)
        url, now = self.settings.dashboard_url, self.clock()
        if signal.state == "resolved":
            if current is None:
                return None  # never announced (or already resolved): nothing to close
            del self.open[signal.id]
            # Resolve at the highest severity announced, so it routes where the firing went.
            if SEVERITY_RANK[current.severity] > SEVERITY_RANK[signal.severity]:
                signal = signal.model_copy(update={"severity": current.severity})
            return alert_from_signal(signal, resolved=True, dashboard_url=url, created_at=now)
        if current is not None and (
            SEVERITY_RANK[signal.severity] <= SEVERITY_RANK[current.severity]
        ):
            return None
        alert = alert_from_signal(signal, resolved=False, dashboard_url=url, created_at=now)
        self.open[signal.id] = alert
        return alert


def load_open_signals(settings: SignalAlertSettings, consumer: Any) -> dict[str, Alert]:
    """Signals with a firing alert and no resolve yet, from the alerts topic.

    The topic is compacted by dedup key, one per signal episode, so the latest
    alert of each key says whether its signal is still open.
    """
    open_signals: dict[str, Alert] = {}
    for record in read_latest(consumer, settings.topic_alerts).values():
        try:
            alert = decode(Alert, record.value)
        except Exception:  # noqa: S112 - not ours to judge here; the delivery worker dead-letters it
            continue
        if alert.signal_id is None or alert.kind not in _SIGNAL_KINDS:
            continue
        if alert.status == "firing":
            open_signals[alert.signal_id] = alert
        else:
            open_signals.pop(alert.signal_id, None)
    return open_signals
