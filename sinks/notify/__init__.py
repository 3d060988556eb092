"""Alert delivery to responders: one notifier per target kind, one retry policy for all."""

from __future__ import annotations

from earful.sinks.notify.alertmanager import AlertmanagerNotifier
from earful.sinks.notify.base import (
    Attempt,
    DeliveryResult,
    Notification,
    Notifier,
    RetryPolicy,
    Target,
    Verdict,
    delivery_id,
)
from earful.sinks.notify.console import ConsoleNotifier
from earful.sinks.notify.pagerduty import PagerDutyNotifier
from earful.sinks.notify.slack import SlackNotifier
from earful.sinks.notify.teams import TeamsNotifier
from earful.sinks.notify.webhook import WebhookNotifier

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
