"""PagerDuty Events API v2: trigger and resolve one incident per alert.

The alert's ``dedup_key`` is PagerDuty's ``dedup_key``: a repeated trigger
while the incident is open is merged into it, so a re-send after a crash opens
nothing new; the resolve closes it. The integration (routing) key is the
secret. 202 is accepted; 400 is final; 429 and 5xx are retried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from earful.events import Alert
from earful.sinks.notify.base import Notification, Notifier
from earful.sinks.notify.message import (
    MAX_SAMPLES,
    magnitude_text,
    sample_snippet,
    since_text,
    top_lines,
)

__all__ = ["PAGERDUTY_EVENTS_URL", "PagerDutyNotifier", "pagerduty_event"]

PAGERDUTY_EVENTS_URL = "https://events.pagerduty.com/v2/enqueue"
_SUMMARY_LIMIT = 1024
_DEDUP_LIMIT = 255


def pagerduty_event(alert: Alert, routing_key: str, now: Any) -> dict[str, Any]:
    """A trigger (firing) or resolve (resolved) event for this alert."""
    dedup_key = alert.dedup_key[:_DEDUP_LIMIT]
    if alert.status == "resolved":
        return {"routing_key": routing_key, "event_action": "resolve", "dedup_key": dedup_key}
    details: dict[str, Any] = {
        "what": alert.summary,
        "since": since_text(alert, now),
        "observed": alert.observed,
        "expected": alert.expected,
    }
    magnitude = magnitude_text(alert)
    if magnitude:
        details["magnitude"] = magnitude
    for label, values in top_lines(alert):
        details[label.lower()] = values
    samples = alert.evidence.samples[:MAX_SAMPLES]
    if samples:
        details["samples"] = [
            f'"{sample_snippet(s, 200)}" ({s.source}{", " + s.url if s.url else ""})'
            for s in samples
        ]
    links = [{"href": alert.dashboard_url, "text": "Dashboard"}] if alert.dashboard_url else []
    links += [{"href": s.url, "text": f"Post on {s.source}"} for s in samples if s.url]
    return {
        "routing_key": routing_key,
        "event_action": "trigger",
        "dedup_key": dedup_key,
        "payload": {
            "summary": alert.summary[:_SUMMARY_LIMIT],
            "source": "earful",
            "severity": alert.severity,  # info|warning|critical are all PagerDuty severities
            "timestamp": alert.starts_at.isoformat().replace("+00:00", "Z"),
            "component": alert.subject,
            "group": alert.subject,
            "class": alert.kind,
            "custom_details": details,
        },
        "links": links,
        "client": "earful",
    }


@dataclass(kw_only=True)
class PagerDutyNotifier(Notifier):
    kind: ClassVar[str] = "pagerduty"
    idempotent: ClassVar[bool] = True

    routing_key: SecretStr
    url: SecretStr = field(default_factory=lambda: SecretStr(PAGERDUTY_EVENTS_URL))

    def build_request(self, notification: Notification) -> httpx.Request:
        body = pagerduty_event(
            notification.alert, self.routing_key.get_secret_value(), self.clock()
        )
        return self.client.build_request("POST", self.url.get_secret_value(), json=body)
