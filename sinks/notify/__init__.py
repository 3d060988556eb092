"""Alert delivery to responders: one notifier per target kind, one retry policy for all."""

from __future__ import annotations

from earful.sinks.notify.alertmanager import AlertmanagerNotifier
from earful.sinks.notify.base import (
    Attempt,
    DeliveryResult,
    DeliveryVerdict,
    Notification,
    Notifier,
    RetryPolicy,
    Target,
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
    "DeliveryVerdict",
    "Notification",
    "Notifier",
    "PagerDutyNotifier",
    "RetryPolicy",
    "SlackNotifier",
    "Target",
    "TeamsNotifier",
    "WebhookNotifier",
    "delivery_id",
]
