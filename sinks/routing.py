"""Where alerts go: targets and routes from configuration, secrets, and the per-subject cooldown.

Configuration (YAML, the same file as the other settings, or JSON in
``EARFUL_NOTIFY_TARGETS`` / ``EARFUL_NOTIFY_ROUTES``)::

    notify_targets:
      - {name: oncall, kind: pagerduty, routing_key: {env: PAGERDUTY_ROUTING_KEY}}
      - {name: comms, kind: slack, url: {file: /run/secrets/slack_webhook_url}}
      - {name: am, kind: alertmanager, url: "http://alertmanager:9093"}
    notify_routes:
      - {subjects: [acme], min_severity: critical, targets: [oncall], continue: true}
      - {targets: [comms, am]}

Routes are tried in order; the first that matches decides, unless it says
``continue: true``. With no routes, every alert goes to every target.

A secret (webhook URL, routing key, signing secret) is a literal string, or
``{env: NAME}``, or ``{file: PATH}``; it is read once at start-up into a
``SecretStr`` and never logged or printed (``repr`` shows ``**********``).
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from earful.errors import ConfigError
from earful.events import SEVERITY_RANK, Alert, Severity, now_utc
from earful.sinks.notify import (
    AlertmanagerNotifier,
    ConsoleNotifier,
    PagerDutyNotifier,
    RetryPolicy,
    SlackNotifier,
    Target,
    TeamsNotifier,
    WebhookNotifier,
)
from earful.sinks.notify.pagerduty import PAGERDUTY_EVENTS_URL

__all__ = [
    "COMMS_KINDS",
    "Cooldown",
    "RouteConfig",
    "Router",
    "SecretRef",
    "TargetConfig",
    "TargetKind",
    "build_targets",
]

TargetKind = Literal["alertmanager", "slack", "pagerduty", "teams", "webhook", "console"]


class _Config(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class SecretRef(_Config):
    """A secret given inline, by environment variable name, or by file path."""

    value: SecretStr | None = None
    env: str | None = None
    file: Path | None = None

    @model_validator(mode="before")
    @classmethod
    def _from_string(cls, data: Any) -> Any:
        return {"value": data} if isinstance(data, str) else data

    @model_validator(mode="after")
    def _exactly_one(self) -> SecretRef:
        given = [k for k in ("value", "env", "file") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of a value, {env: NAME} or {file: PATH}")
        return self

    def resolve(self, environ: Mapping[str, str]) -> SecretStr:
        if self.value is not None:
            return self.value
        if self.env is not None:
            found = environ.get(self.env)
            if not found:
                raise ConfigError(f"environment variable {self.env} is not set")
            return SecretStr(found.strip())
        assert self.file is not None
        try:
            return SecretStr(self.file.read_text(encoding="utf-8").strip())
        except OSError as exc:
            raise ConfigError(f"cannot read secret file {self.file}: {exc.strerror}") from exc


_NEEDS: dict[str, tuple[str, ...]] = {
    "alertmanager": ("url",),
    "slack": ("url",),
    "teams": ("url",),
    "pagerduty": ("routing_key",),
    "webhook": ("url", "secret"),
    "console": (),
}


class TargetConfig(_Config):
    """One place alerts are delivered to."""

    name: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")
    kind: TargetKind
    url: SecretRef | None = Field(
        default=None, description="Webhook URL (Slack, Teams, webhook) or Alertmanager base URL."
    )
    routing_key: SecretRef | None = Field(default=None, description="PagerDuty integration key.")
    secret: SecretRef | None = Field(default=None, description="Webhook signing secret, whsec_…")
    timeout_s: float = Field(default=15.0, gt=0, le=120)
    retry_budget_s: float | None = Field(
        default=None,
        gt=0,
        description="How long to keep retrying a delivery here; default notify_retry_budget_s.",
    )
    cooldown_s: float | None = Field(
        default=None,
        ge=0,
        description="Per-subject cooldown; default notify_cooldown_s (Alertmanager: 0, it groups).",
    )

    @model_validator(mode="before")
    @classmethod
    def _no_attempt_count(cls, data: Any) -> Any:
        if isinstance(data, dict) and "max_attempts" in data:
            raise ValueError(
                "max_attempts was replaced by retry_budget_s: how long (seconds) to keep "
                "retrying a delivery, default notify_retry_budget_s (600)"
            )
        return data

    @model_validator(mode="after")
    def _has_what_its_kind_needs(self) -> TargetConfig:
        missing = [f for f in _NEEDS[self.kind] if getattr(self, f) is None]
        if missing:
            raise ValueError(f"target {self.name!r} ({self.kind}) needs {', '.join(missing)}")
        return self


class RouteConfig(_Config):
    """Alerts matching every given condition go to ``targets``."""

    subjects: tuple[str, ...] = Field(default=(), description="Empty: any subject.")
    kinds: tuple[str, ...] = Field(default=(), description="Empty: any kind.")
    min_severity: Severity = "info"
    targets: tuple[str, ...] = Field(min_length=1)
    continue_: bool = Field(default=False, alias="continue")

    def matches(self, alert: Alert) -> bool:
        return (
            (not self.subjects or alert.subject in self.subjects)
            and (not self.kinds or alert.kind in self.kinds)
            and SEVERITY_RANK[alert.severity] >= SEVERITY_RANK[self.min_severity]
        )


class Router:
    """Picks the target names for an alert, in configuration order, without repeats."""

    def __init__(self, routes: Sequence[RouteConfig], targets: Sequence[str]) -> None:
        names = list(dict.fromkeys(targets))
        if len(names) != len(targets):
            raise ConfigError("target names must be unique")
        for i, route in enumerate(routes):
            unknown = [t for t in route.targets if t not in names]
            if unknown:
                raise ConfigError(f"route {i} names unknown target(s) {unknown}; known: {names}")
        self.routes = tuple(routes)
        self.all_targets = tuple(names)

    def targets_for(self, alert: Alert) -> list[str]:
        if not self.routes:
            return list(self.all_targets)
        chosen: dict[str, None] = {}
        for route in self.routes:
            if route.matches(alert):
                chosen.update(dict.fromkeys(route.targets))
                if not route.continue_:
                    break
        return list(chosen)


@dataclass(frozen=True, slots=True)
class _Sent:
    at: datetime
    dedup_key: str
    severity_rank: int


#: Alert kinds for the communications team rather than the incident responders.
COMMS_KINDS = frozenset({"comms_silence"})


class Cooldown:
    """At most one new firing notification per (target, subject) per cooldown.

    A second alert about the same subject inside the cooldown (another detector,
    a new episode right after the last) is grouped under the one already sent:
    recorded, not sent. Communications alerts (:data:`COMMS_KINDS`) keep their
    own clock: a silence alert is never grouped under an outage alert. A
    severity above what was sent always goes through, and so does an update of
    the alert that was sent.
    """

    def __init__(self, seconds_for: Callable[[str], float]) -> None:
        self._seconds_for = seconds_for
        self._sent: dict[tuple[str, str, bool], _Sent] = {}

    @staticmethod
    def _key(target: str, alert: Alert) -> tuple[str, str, bool]:
        # A communications alert asks something else of its readers than an
        # incident alert: neither is grouped under the other.
        return (target, alert.subject, alert.kind in COMMS_KINDS)

    def snapshot(self) -> dict[tuple[str, str, bool], _Sent]:
        return dict(self._sent)

    def restore(self, snapshot: dict[tuple[str, str, bool], _Sent]) -> None:
        self._sent = dict(snapshot)

    def record(self, target: str, alert: Alert, at: datetime) -> None:
        self._sent[self._key(target, alert)] = _Sent(
            at, alert.dedup_key, SEVERITY_RANK[alert.severity]
        )

    def grouped_into(self, target: str, alert: Alert, now: datetime) -> str | None:
        """The dedup key this firing alert is grouped under, or None to send it."""
        last = self._sent.get(self._key(target, alert))
        window = self._seconds_for(target)
        if last is None or window <= 0 or last.dedup_key == alert.dedup_key:
            return None
        if SEVERITY_RANK[alert.severity] > last.severity_rank:
            return None
        if now - last.at >= timedelta(seconds=window):
            return None
        return last.dedup_key


def build_targets(
    configs: Sequence[TargetConfig],
    *,
    client: httpx.Client,
    environ: Mapping[str, str] | None = None,
    clock: Callable[[], datetime] = now_utc,
    sleep: Callable[[float], None] = time.sleep,
    retry_budget_s: float = 600.0,
    base_delay_s: float = 1.0,
    max_delay_s: float = 30.0,
) -> dict[str, Target]:
    """Instantiate every configured target, reading its secrets now (fail fast at start-up)."""
    env = os.environ if environ is None else environ
    targets: dict[str, Target] = {}
    for cfg in configs:
        if cfg.name in targets:
            raise ConfigError(f"two targets are named {cfg.name!r}")
        policy = RetryPolicy(
            budget_s=cfg.retry_budget_s or retry_budget_s,
            base_delay_s=base_delay_s,
            max_delay_s=max_delay_s,
        )
        if cfg.kind == "console":
            targets[cfg.name] = ConsoleNotifier(name=cfg.name, clock=clock, policy=policy)
            continue
        common: dict[str, Any] = {
            "name": cfg.name,
            "client": client,
            "clock": clock,
            "sleep": sleep,
            "rng": random.Random(),
            "timeout_s": cfg.timeout_s,
            "policy": policy,
        }

        def secret(ref: SecretRef | None, what: str, name: str = cfg.name) -> SecretStr:
            if ref is None:
                raise ConfigError(f"target {name!r} needs {what}")
            try:
                return ref.resolve(env)
            except ConfigError as exc:
                raise ConfigError(f"target {name!r} {what}: {exc}") from exc

        if cfg.kind == "alertmanager":
            targets[cfg.name] = AlertmanagerNotifier(url=secret(cfg.url, "url"), **common)
        elif cfg.kind == "slack":
            targets[cfg.name] = SlackNotifier(url=secret(cfg.url, "url"), **common)
        elif cfg.kind == "teams":
            targets[cfg.name] = TeamsNotifier(url=secret(cfg.url, "url"), **common)
        elif cfg.kind == "pagerduty":
            url = secret(cfg.url, "url") if cfg.url else SecretStr(PAGERDUTY_EVENTS_URL)
            targets[cfg.name] = PagerDutyNotifier(
                url=url, routing_key=secret(cfg.routing_key, "routing_key"), **common
            )
        else:
            targets[cfg.name] = WebhookNotifier(
                url=secret(cfg.url, "url"), secret=secret(cfg.secret, "secret"), **common
            )
    return targets
