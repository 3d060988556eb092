"""Slack incoming webhooks: Block Kit message with a plain-text fallback.

The webhook URL is the secret. Slack has no idempotency key and no edits, so
Earful sends one message per (alert, state change) and deduplicates on its
side. Errors: 400 ``invalid_payload``, 403 ``action_prohibited``, 404
``channel_not_found`` and 410 ``channel_is_archived`` are final; 429 carries
``Retry-After``; 5xx is retried.
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

__all__ = ["SlackNotifier", "slack_message"]

_HEADER_LIMIT = 150  # Block Kit plain_text header limit
_SECTION_LIMIT = 3000


def _escape(text: str) -> str:
    """mrkdwn control characters (Slack's documented escaping)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _link(url: str, label: str) -> str:
    return f"<{_escape(url)}|{_escape(label)}>"


def slack_message(alert: Alert, now: Any) -> dict[str, Any]:
    """The webhook body: ``text`` is the notification fallback, ``blocks`` the message."""
    head = title(alert)
    facts = [f"*{_escape(alert.summary)}*"]
    magnitude = magnitude_text(alert)
    if magnitude:
        facts.append(_escape(magnitude))
    facts.append(_escape(since_text(alert, now)))
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": head[:_HEADER_LIMIT]}},
        {"type": "section", "text": {"type": "mrkdwn", "text": "\n".join(facts)[:_SECTION_LIMIT]}},
    ]
    tops = top_lines(alert)
    if tops:
        blocks.append(
            {
                "type": "section",
                "fields": [
                    {"type": "mrkdwn", "text": f"*{label}*\n{_escape(values)}"[:2000]}
                    for label, values in tops
                ],
            }
        )
    samples = alert.evidence.samples[:MAX_SAMPLES]
    if samples and alert.status == "firing":
        lines = []
        for s in samples:
            quote = f"“{_escape(sample_snippet(s, 160))}”"
            where = _link(s.url, s.source) if s.url else _escape(s.source)
            lines.append(f"• {quote} ({where})")
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": "\n".join(lines)[:_SECTION_LIMIT]},
            }
        )
    context = [f"`{_escape(alert.dedup_key)}`"]
    if alert.dashboard_url:
        context.insert(0, _link(alert.dashboard_url, "Open dashboard"))
    blocks.append(
        {"type": "context", "elements": [{"type": "mrkdwn", "text": " · ".join(context)}]}
    )
    fallback = f"{head}: {alert.summary}"
    return {"text": fallback[:_SECTION_LIMIT], "blocks": blocks}


@dataclass(kw_only=True)
class SlackNotifier(Notifier):
    kind: ClassVar[str] = "slack"

    url: SecretStr

    def build_request(self, notification: Notification) -> httpx.Request:
        body = slack_message(notification.alert, self.clock())
        return self.client.build_request("POST", self.url.get_secret_value(), json=body)
