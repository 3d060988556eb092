"""Alertmanager API v2: push alerts to ``POST /api/v2/alerts``.

Alertmanager identifies an alert by its label set, so a re-post is idempotent
and it does the grouping, silencing and routing itself. An alert without
``endsAt`` stays active until ``resolve_timeout`` (default 5 min) after the last
post: the delivery worker re-sends active alerts every ``notify_refresh_s``
(:meth:`AlertmanagerNotifier.refresh`), and a resolve re-posts the same labels
with ``endsAt`` at or before now.

Alertmanager refuses an alert that starts after it ends (400, "start time must
be before end time"), and an alert without ``endsAt`` ends ``resolve_timeout``
after receipt, so a ``startsAt`` ahead of its clock is refused. An Earful
alert's times are event times, which a replay (``earful demo``, the compose
demo profile) runs ahead of the wall clock. So ``startsAt`` and ``endsAt`` are
clamped to the notifier's clock and the event times travel as the annotations
``event_starts_at`` and ``event_ends_at``, which the receiver can show.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from earful.events import Alert
from earful.sinks.notify.base import DeliveryResult, DeliveryVerdict, Notification, Notifier
from earful.sinks.notify.message import kind_title, magnitude_text, plain_text, since_text

__all__ = ["AlertmanagerNotifier", "alert_labels", "alertmanager_alert"]


def _alertname(kind: str) -> str:
    return "Earful" + "".join(
        part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", kind) if part
    )


def alert_labels(alert: Alert) -> dict[str, str]:
    """The label set: what Alertmanager routes and deduplicates on."""
    return {
        "alertname": _alertname(alert.kind),
        "subject": alert.subject,
        "kind": alert.kind,
        "severity": alert.severity,
        "dedup_key": alert.dedup_key,
        "source": "earful",
    }


def alertmanager_alert(alert: Alert, *, resolved: bool, now: Any) -> dict[str, Any]:
    """One element of the v2 ``postableAlerts`` array."""
    annotations = {
        "summary": alert.summary,
        "title": f"{kind_title(alert.kind)} for {alert.subject}",
        "description": plain_text(alert, now),
        "since": since_text(alert, now),
    }
    magnitude = magnitude_text(alert)
    if magnitude:
        annotations["magnitude"] = magnitude
    if alert.dashboard_url:
        annotations["dashboard_url"] = alert.dashboard_url
    # Valid for Alertmanager whatever the pace of the input: never after its clock.
    starts = min(alert.starts_at, now)
    annotations["event_starts_at"] = _rfc3339(alert.starts_at)
    body: dict[str, Any] = {
        "labels": alert_labels(alert),
        "annotations": annotations,
        "startsAt": _rfc3339(starts),
    }
    if alert.dashboard_url:
        body["generatorURL"] = alert.dashboard_url
    if resolved:
        if alert.ends_at is not None:
            annotations["event_ends_at"] = _rfc3339(alert.ends_at)
        # endsAt in the future would keep it firing until then; the event time may be ahead.
        end = min(alert.ends_at or now, now)
        body["endsAt"] = _rfc3339(max(end, starts))
    return body


def _short(text: str) -> str:
    return " ".join(text.split())[:200]


def _rfc3339(value: Any) -> str:
    text: str = value.isoformat().replace("+00:00", "Z")
    return text


@dataclass(kw_only=True)
class AlertmanagerNotifier(Notifier):
    """Pushes to one Alertmanager (``url`` is its base, e.g. http://alertmanager:9093)."""

    kind: ClassVar[str] = "alertmanager"
    idempotent: ClassVar[bool] = True

    url: SecretStr

    def build_request(self, notification: Notification) -> httpx.Request:
        alert = notification.alert
        now = self.clock()
        alerts = [alertmanager_alert(alert, resolved=alert.status == "resolved", now=now)]
        previous = notification.previous
        if previous is not None and previous.severity != alert.severity:
            # A severity change is a new label set: close the old one in the same post.
            alerts.append(alertmanager_alert(previous, resolved=True, now=now))
        return self._post(alerts)

    def refresh(self, active: list[Alert]) -> DeliveryResult:
        """Re-post active alerts so Alertmanager keeps them firing (idempotent, one request)."""
        if not active:
            return DeliveryResult("delivered", 0)
        now = self.clock()
        body = [alertmanager_alert(a, resolved=False, now=now) for a in active]
        try:
            response = self.client.send(self._post(body), follow_redirects=False)
        except httpx.HTTPError as exc:
            return DeliveryResult("failed", 1, None, type(exc).__name__)
        if self.classify(response) is DeliveryVerdict.DELIVERED:
            return DeliveryResult("delivered", 1, response.status_code)
        return DeliveryResult("failed", 1, response.status_code, _short(response.text))

    def _post(self, alerts: list[dict[str, Any]]) -> httpx.Request:
        base = self.url.get_secret_value().rstrip("/")
        return self.client.build_request("POST", f"{base}/api/v2/alerts", json=alerts)
