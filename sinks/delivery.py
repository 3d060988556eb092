"""``earful sink notify``: deliver alerts from the alerts topic to the routed targets.

Delivery state lives in Kafka. Every decision about one (target, alert, state
change) becomes a :class:`DeliveryRecord` on the compacted deliveries topic
(``earful.deliveries``), keyed by ``[target, dedup_key, revision]`` where the
revision is ``resolved`` or ``firing:<severity>``. The worker writes those
records in the same Kafka transaction as its input offsets, one alert per
transaction (``batch_max_records`` defaults to 1), and rebuilds its state from
the topic on start-up. So after a crash or restart:

* nothing is lost: an alert whose delivery was not committed is read again
  and delivered;
* nothing committed is sent again: its record is in the rebuilt state;
* the one alert in flight at the crash (sent, not yet committed) is re-sent
  with the *same* idempotency key: PagerDuty's ``dedup_key``, the webhook's
  ``webhook-id`` or Alertmanager's label set, so the target keeps one.
  Slack and Teams have no such key: for them that one message may repeat.

Decisions: a firing alert is sent unless it is stale (older than
``notify_max_age_s``), already firing there at the same or a higher severity,
or grouped under another alert on the same subject by the per-subject cooldown
(:class:`~sinks.routing.Cooldown`). A resolve is sent only to targets that were
told it fired. A delivery that fails after its retries, or that the target
rejects, is recorded and also written to the dead-letter topic with the target
named in the ``earful.notify.target`` header, for an operator to replay.

Alertmanager forgets an alert ``resolve_timeout`` after its last post, so
:class:`AlertmanagerRefresher` re-posts the active ones every
``notify_refresh_s`` from a background thread.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import timedelta
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from earful.errors import ConfigError, RecordError
from earful.events import Alert, decode, now_utc
from earful.kafkautil import read_to_end
from earful.settings import BaseWorkerSettings
from earful.worker import Clock, ConsumedRecord, Output, deadletter_output
from sinks.notify import AlertmanagerNotifier, Notification, Target, delivery_id
from sinks.notify.base import DeliveryResult, Outcome
from sinks.routing import SEVERITY_RANK, Cooldown, RouteConfig, Router, TargetConfig

__all__ = [
    "AlertmanagerRefresher",
    "DeliveryProcessor",
    "DeliveryRecord",
    "DeliverySettings",
    "DeliveryState",
    "cooldown_seconds",
    "ensure_deliveries_topic",
    "load_delivery_state",
]

log = logging.getLogger(__name__)


class DeliverySettings(BaseWorkerSettings):
    """``earful sink notify``."""

    notify_group: str = "earful-sink-notify"
    topic_deliveries: str = Field(
        default="earful.deliveries", description="Compacted topic of delivery decisions."
    )
    batch_max_records: int = Field(
        default=1,
        ge=1,
        le=100,
        description="Alerts per transaction; 1 bounds what a crash can repeat to one alert.",
    )
    notify_targets: tuple[TargetConfig, ...] = Field(
        default=(TargetConfig(name="console", kind="console"),),
        description="Where alerts can go (see docs/alerting.md).",
    )
    notify_routes: tuple[RouteConfig, ...] = Field(
        default=(), description="Which alerts go where; empty: every alert to every target."
    )
    notify_cooldown_s: float = Field(
        default=600.0, ge=0, description="Per target and subject: one new alert per cooldown."
    )
    notify_max_age_s: float = Field(
        default=3600.0,
        ge=0,
        description="Firing alerts older than this are recorded, not sent (0: no limit).",
    )
    notify_refresh_s: float = Field(
        default=60.0, gt=0, description="How often active alerts are re-posted to Alertmanager."
    )
    notify_base_delay_s: float = Field(default=1.0, gt=0)
    notify_max_delay_s: float = Field(default=30.0, gt=0)
    notify_max_retry_after_s: float = Field(default=120.0, gt=0)


Revision = str  # "resolved" or "firing:<severity>"


class DeliveryRecord(BaseModel):
    """One decision about one (target, alert, state change): the value on the deliveries topic."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[1] = 1
    target: str
    dedup_key: str
    revision: Revision
    delivery_id: str
    outcome: Outcome
    attempts: int = 0
    status_code: int | None = None
    detail: str = ""
    grouped_into: str | None = None
    subject: str
    at: AwareDatetime
    alert: Alert | None = Field(
        default=None, description="The alert as sent (firing only): restarts rebuild from it."
    )

    @property
    def key(self) -> tuple[str, str, Revision]:
        return (self.target, self.dedup_key, self.revision)

    def key_bytes(self) -> bytes:
        return json.dumps(list(self.key), ensure_ascii=False).encode("utf-8")


def revision_of(alert: Alert) -> Revision:
    return "resolved" if alert.status == "resolved" else f"firing:{alert.severity}"


class DeliveryState:
    """What has been decided, what is firing where, and the cooldown clocks.

    The main loop applies records; the Alertmanager refresher reads a snapshot
    of the active alerts from its own thread, hence the lock.
    """

    def __init__(self, cooldown: Cooldown) -> None:
        self.cooldown = cooldown
        self.decided: dict[tuple[str, str, Revision], DeliveryRecord] = {}
        self.active: dict[tuple[str, str], Alert] = {}
        self._lock = threading.Lock()

    def apply(self, record: DeliveryRecord) -> None:
        with self._lock:
            self.decided[record.key] = record
            if record.outcome != "delivered":
                return
            where = (record.target, record.dedup_key)
            if record.revision == "resolved":
                self.active.pop(where, None)
            elif record.alert is not None:
                self.active[where] = record.alert
                self.cooldown.record(record.target, record.alert, record.at)

    def firing_at(self, dedup_key: str) -> list[str]:
        with self._lock:
            return [t for (t, k) in self.active if k == dedup_key]

    def active_for(self, target: str) -> list[Alert]:
        with self._lock:
            return [a for (t, _), a in self.active.items() if t == target]


def ensure_deliveries_topic(settings: DeliverySettings) -> bool:
    """Create the compacted deliveries topic if missing; True when it was created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.kafka_client_id}-admin"
    )
    try:
        if settings.topic_deliveries in set(admin.list_topics()):
            return False
        config = {"cleanup.policy": "compact,delete", "retention.ms": str(90 * 24 * 3600 * 1000)}
        admin.create_topics(
            [
                NewTopic(
                    settings.topic_deliveries,
                    settings.topic_partitions,
                    settings.topic_replication,
                    topic_configs=config,
                )
            ],
            raise_errors=False,  # another replica may create it at the same moment
            wait_for_metadata=True,
        )
        if settings.topic_deliveries not in set(admin.list_topics()):
            raise ConfigError(f"could not create topic {settings.topic_deliveries}")
        return True
    finally:
        admin.close()


def load_delivery_state(settings: DeliverySettings, consumer: Any, state: DeliveryState) -> int:
    """Replay the deliveries topic into ``state``; return how many records were read.

    ``consumer`` is a group-less, read_committed consumer: records of a
    transaction a crash left open are not part of the state.
    """
    count = 0
    for record in read_to_end(consumer, settings.topic_deliveries):
        try:
            state.apply(DeliveryRecord.model_validate_json(record.value))
        except ValueError as exc:
            log.warning("skipping unreadable delivery record at offset %d: %s", record.offset, exc)
            continue
        count += 1
    return count


class DeliveryProcessor:
    """Consumes alerts, delivers each to its routed targets, emits delivery records."""

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        targets: Mapping[str, Target],
        state: DeliveryState,
        router: Router | None = None,
        clock: Clock = now_utc,
        worker_name: str = "sink-notify",
    ) -> None:
        self.settings = settings
        self.targets = dict(targets)
        self.state = state
        self.router = router or Router(settings.notify_routes, list(self.targets))
        self.clock = clock
        self.worker_name = worker_name
        self.max_age = (
            timedelta(seconds=settings.notify_max_age_s) if settings.notify_max_age_s else None
        )

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        alert = decode(Alert, record.value)
        outputs: list[Output] = []
        names = self.router.targets_for(alert)
        if alert.status == "resolved":
            # A resolve goes wherever the alert is firing, even if the routes changed since.
            names += [n for n in self.state.firing_at(alert.dedup_key) if n not in names]
        for name in names:
            if name not in self.targets:
                continue  # a target removed from the configuration
            decision = self._decide(name, alert)
            if decision is None:
                continue
            self.state.apply(decision)
            outputs.append(
                Output(
                    topic=self.settings.topic_deliveries,
                    key=decision.key_bytes(),
                    value=decision.model_dump_json().encode("utf-8"),
                )
            )
            if decision.outcome in ("failed", "rejected"):
                outputs.append(self._deadletter(record, decision))
        return outputs

    def _decide(self, name: str, alert: Alert) -> DeliveryRecord | None:
        revision = revision_of(alert)
        if (name, alert.dedup_key, revision) in self.state.decided:
            return None  # a repeated alert record: this change was already handled here
        now = self.clock()
        previous = self.state.active.get((name, alert.dedup_key))

        def record(
            outcome: Outcome, detail: str, result: DeliveryResult | None = None, **extra: Any
        ) -> DeliveryRecord:
            return DeliveryRecord(
                target=name, dedup_key=alert.dedup_key, revision=revision,
                delivery_id=delivery_id(name, alert.dedup_key, revision), outcome=outcome,
                attempts=result.attempts if result else 0,
                status_code=result.status_code if result else None,
                detail=detail, subject=alert.subject, at=now,
                alert=alert if alert.status == "firing" else None, **extra,
            )  # fmt: skip

        if alert.status == "firing":
            if self.max_age is not None and now - alert.created_at > self.max_age:
                return record("suppressed", f"stale: created {alert.created_at.isoformat()}")
            if previous is not None and (
                SEVERITY_RANK[alert.severity] <= SEVERITY_RANK[previous.severity]
            ):
                return record("suppressed", f"already firing here at {previous.severity}")
            group = self.state.cooldown.grouped_into(name, alert, now)
            if group is not None:
                return record("suppressed", "cooldown: grouped", grouped_into=group)
        elif previous is None:
            return record("suppressed", "not firing here (never sent, or grouped)")
        notification = Notification(
            alert=alert,
            delivery_id=delivery_id(name, alert.dedup_key, revision),
            previous=previous,
        )
        result = self.targets[name].deliver(notification)
        log.info(
            "%s %s %s to %s: %s after %d attempt(s)",
            alert.status, alert.subject, alert.dedup_key, name, result.outcome, result.attempts,
        )  # fmt: skip
        return record(result.outcome, result.detail, result)

    def _deadletter(self, record: ConsumedRecord, decision: DeliveryRecord) -> Output:
        error = RecordError(
            f"delivery to {decision.target} {decision.outcome} after {decision.attempts} "
            f"attempt(s) (HTTP {decision.status_code}): {decision.detail}",
            reason=f"delivery_{decision.outcome}",
        )
        out = deadletter_output(
            record, error, topic=self.settings.topic_deadletter, worker=self.worker_name,
            clock=self.clock,
        )  # fmt: skip
        headers = [*out.headers, ("earful.notify.target", decision.target.encode())]
        return Output(topic=out.topic, value=out.value, key=out.key, headers=headers)


class AlertmanagerRefresher:
    """Re-posts the active alerts to each Alertmanager target, so none lapses while firing."""

    def __init__(
        self,
        state: DeliveryState,
        targets: Mapping[str, Target],
        *,
        interval_s: float,
        stop: threading.Event | None = None,
    ) -> None:
        self.state = state
        self.targets = {n: t for n, t in targets.items() if isinstance(t, AlertmanagerNotifier)}
        self.interval_s = interval_s
        self.stop = stop or threading.Event()
        self._thread: threading.Thread | None = None

    def refresh_once(self) -> dict[str, DeliveryResult]:
        results = {}
        for name, target in self.targets.items():
            results[name] = target.refresh(self.state.active_for(name))
            if results[name].outcome != "delivered":
                log.warning("refreshing alerts on %s failed: %s", name, results[name])
        return results

    def start(self) -> None:
        if not self.targets:
            return
        self._thread = threading.Thread(target=self._run, name="am-refresher", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self.stop.wait(self.interval_s):
            try:
                self.refresh_once()
            except Exception:  # the refresher must outlive one bad round
                log.exception("Alertmanager refresh failed")

    def close(self) -> None:
        self.stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)


def cooldown_seconds(settings: DeliverySettings) -> Callable[[str], float]:
    """Cooldown per target: its own, else 0 for Alertmanager (it groups), else the default."""
    by_name = {t.name: t for t in settings.notify_targets}

    def lookup(name: str) -> float:
        cfg = by_name.get(name)
        if cfg is None:
            return settings.notify_cooldown_s
        if cfg.cooldown_s is not None:
            return cfg.cooldown_s
        return 0.0 if cfg.kind == "alertmanager" else settings.notify_cooldown_s

    return lookup
