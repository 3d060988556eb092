"""Alert delivery to responders: one notifier per target kind, one retry policy for all."""

from __future__ import annotations

from sinks.notify.alertmanager import AlertmanagerNotifier
from sinks.notify.base import (
    Attempt,
    DeliveryResult,
    Notification,
    Notifier,
    RetryPolicy,
    Target,
    Verdict,
    delivery_id,
)
from sinks.notify.console import ConsoleNotifier
from sinks.notify.pagerduty import PagerDutyNotifier
from sinks.notify.slack import SlackNotifier
from sinks.notify.teams import TeamsNotifier
from sinks.notify.webhook import WebhookNotifier

__all__ = [
    "AlertmanagerNotifier",
    "Attempt",
    "ConsoleNotifier",
    "DeliveryResult",
    "Notification",
    "Notifier",
    "PagerDutyNotifier",
    "RetryPolicy",
    "SlackNotifier",
    "Target",
    "TeamsNotifier",
    "Verdict",
    "WebhookNotifier",
    "delivery_id",
]
