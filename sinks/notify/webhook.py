"""A generic webhook, signed two ways so any receiver can verify it.

* GitHub style: ``X-Hub-Signature-256: sha256=<hex HMAC-SHA256(secret, body)>``,
  keyed with the secret string's UTF-8 bytes as configured.
* Standard Webhooks: ``webhook-id`` (stable across retries and restarts: the
  receiver's idempotency key), ``webhook-timestamp`` (unix seconds of this
  attempt) and ``webhook-signature: v1,<base64 HMAC-SHA256>`` over
  ``"{id}.{timestamp}.{body}"``, keyed with the base64-decoded part of a
  ``whsec_<base64>`` secret.

The body is ``{"type": "earful.alert.firing|resolved", "timestamp", "data"}``
with the :class:`~earful.events.Alert` as ``data`` plus the rendered ``text``.
2xx delivers; 410 Gone is final (disable the endpoint); 408, 429 and 5xx are
retried, honouring Retry-After; redirects are never followed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from earful.errors import ConfigError
from earful.sinks.notify.base import Notification, Notifier
from earful.sinks.notify.message import plain_text

__all__ = [
    "WebhookNotifier",
    "github_signature",
    "standard_webhooks_key",
    "standard_webhooks_signature",
    "webhook_body",
]


def github_signature(secret: bytes, body: bytes) -> str:
    """The ``X-Hub-Signature-256`` header value."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def standard_webhooks_key(secret: str) -> bytes:
    """The signing key of a ``whsec_<base64>`` secret (the prefix is optional)."""
    try:
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ConfigError(
            "webhook secret must be 'whsec_' followed by base64 (Standard Webhooks); "
            'generate one with: python -c "import base64,os;'
            "print('whsec_'+base64.b64encode(os.urandom(32)).decode())\""
        ) from exc


def standard_webhooks_signature(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header value (one ``v1`` signature)."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_body(notification: Notification, now: Any) -> bytes:
    alert = notification.alert
    envelope = {
        "type": f"earful.alert.{alert.status}",
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": {**alert.model_dump(mode="json"), "text": plain_text(alert, now)},
    }
    return json.dumps(envelope, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


@dataclass(kw_only=True)
class WebhookNotifier(Notifier):
    kind: ClassVar[str] = "webhook"
    idempotent: ClassVar[bool] = True  # webhook-id is stable: receivers deduplicate on it

    url: SecretStr
    secret: SecretStr

    def __post_init__(self) -> None:
        # Fail at start-up, not at the first alert, on a secret that is not base64.
        self._key = standard_webhooks_key(self.secret.get_secret_value())

    def build_request(self, notification: Notification) -> httpx.Request:
        now = self.clock()
        body = webhook_body(notification, now)
        timestamp = int(now.timestamp())
        msg_id = notification.delivery_id
        headers = {
            "content-type": "application/json",
            "user-agent": "earful-webhook/1",
            "webhook-id": msg_id,
            "webhook-timestamp": str(timestamp),
            "webhook-signature": standard_webhooks_signature(self._key, msg_id, timestamp, body),
            "x-hub-signature-256": github_signature(
                self.secret.get_secret_value().encode("utf-8"), body
            ),
            "x-earful-delivery": msg_id,
        }
        return self.client.build_request(
            "POST", self.url.get_secret_value(), content=body, headers=headers
        )
