"""Microsoft Teams Workflows webhook ("post to a channel when a webhook request is received").

The body is a ``message`` with one Adaptive Card attachment, the shape
Alertmanager's ``msteamsv2`` sends. The URL carries a ``sig=`` and is the
secret. Teams has no idempotency key: one message per (alert, state change).
Retry 429 (honouring Retry-After) and 5xx; other 4xx are final.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    title,
    top_lines,
)

__all__ = ["TeamsNotifier", "teams_message"]


def _text(text: str, **style: Any) -> dict[str, Any]:
    return {"type": "TextBlock", "text": text, "wrap": True, **style}


def teams_message(alert: Alert, now: Any) -> dict[str, Any]:
    firing = alert.status == "firing"
    color = {"critical": "Attention", "warning": "Warning"}.get(alert.severity, "Accent")
    body: list[dict[str, Any]] = [
        _text(
            title(alert),
            weight="Bolder",
            size="Medium",
            style="heading",
            color=color if firing else "Good",
        ),
        _text(alert.summary),
    ]
    facts = []
    magnitude = magnitude_text(alert)
    if magnitude:
        facts.append({"title": "How far", "value": magnitude})
    facts.append({"title": "When", "value": since_text(alert, now)})
    facts += [{"title": label, "value": values} for label, values in top_lines(alert)]
    body.append({"type": "FactSet", "facts": facts})
    if firing:
        for s in alert.evidence.samples[:MAX_SAMPLES]:
            link = f" [{s.source}]({s.url})" if s.url else f" ({s.source})"
            body.append(_text(f"“{sample_snippet(s, 200)}”{link}", isSubtle=True, spacing="Small"))
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
        "msteams": {"width": "full"},
    }
    if alert.dashboard_url:
        card["actions"] = [
            {"type": "Action.OpenUrl", "title": "Open dashboard", "url": alert.dashboard_url}
        ]
    return {
        "type": "message",
        "attachments": [
            {
                "contentType": "application/vnd.microsoft.card.adaptive",
                "contentUrl": None,
                "content": card,
            }
        ],
    }


@dataclass(kw_only=True)
class TeamsNotifier(Notifier):
    kind: ClassVar[str] = "teams"

    url: SecretStr

    def build_request(self, notification: Notification) -> httpx.Request:
        body = teams_message(notification.alert, self.clock())
        return self.client.build_request("POST", self.url.get_secret_value(), json=body)
