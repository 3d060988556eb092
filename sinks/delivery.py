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
(:class:`~earful.sinks.routing.Cooldown`). A resolve is sent only to targets that were
told it fired (or will be: it waits behind its firing, below).

Retries run beside the Kafka loop, not in it. The worker makes one attempt
per target inline, and spends at most ``notify_inline_s`` (5 s) on one
alert's first attempts (their timeouts cut to fit; what is left goes to the
retrier untried). When that attempt fails in a way worth retrying, the
decision is recorded as ``retrying`` (with the alert, the first attempt's time
and the next one's) in the same transaction as the input offset, and the
:class:`DeliveryRetrier` thread takes it over once that transaction has
committed. It keeps trying with backoff and Retry-After for the target's
budget (``notify_retry_budget_s``, 10 minutes), then writes the final record
(``delivered``, ``rejected`` or ``failed``) and, for the last two, a dead
letter naming the target in ``earful.notify.target``; ``failed`` is counted in
``earful_notify_deliveries_total`` and alerted on. Why a thread and not waits
in the loop: a webhook down for minutes would otherwise hold the loop past
``max_poll_interval_ms`` (the consumer leaves its group) and past the liveness
probe, and every other alert, to every other target, would wait behind it.
Later changes of the same alert on the same target (its resolve, an
escalation) queue behind the one being retried, so a target never sees a
resolve before its firing; a resolve whose firing was given up is recorded as
suppressed. The retrier writes its records with a plain idempotent producer,
after the ``retrying`` record is committed, so on the compacted topic the
final record always follows it. State in Kafka means a restart resumes the
retries where they were, their budgets still counted from the first attempt;
an attempt in flight at a crash is repeated with the same idempotency key.
The state is read at start-up, so one notify worker runs (one replica).

Alertmanager forgets an alert ``resolve_timeout`` after its last post, so
:class:`AlertmanagerRefresher` re-posts the active ones every
``notify_refresh_s`` from a background thread.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any, Literal

from prometheus_client import CollectorRegistry, Counter, Gauge
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from earful.errors import RecordError
from earful.events import SEVERITY_RANK, Alert, decode, encode, now_utc
from earful.settings import BaseWorkerSettings
from earful.sinks.notify import AlertmanagerNotifier, Notification, Target, delivery_id
from earful.sinks.notify.base import (
    Attempt,
    DeliveryResult,
    DeliveryVerdict,
    Outcome,
    give_up_detail,
)
from earful.sinks.routing import Cooldown, RouteConfig, Router, TargetConfig
from earful.state import ensure_compacted_topic, read_latest
from earful.worker import Clock, ConsumedRecord, Output, deadletter_output

__all__ = [
    "OUTCOMES",
    "AlertmanagerRefresher",
    "DeliveryProcessor",
    "DeliveryRecord",
    "DeliveryRetrier",
    "DeliverySettings",
    "DeliveryState",
    "KafkaRecordWriter",
    "NotifyMetrics",
    "cooldown_seconds",
    "ensure_deliveries_topic",
    "load_delivery_state",
]

OUTCOMES: tuple[Outcome, ...] = ("delivered", "rejected", "failed", "suppressed", "retrying")
#: Below this much of notify_inline_s left, a first attempt is not started in the loop.
_MIN_INLINE_S = 0.05

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
    notify_inline_s: float = Field(
        default=5.0,
        ge=0,
        description="How long the Kafka loop may spend on one alert's first attempts (one per "
        "target, their timeouts cut to fit); what is left goes to the retrier untried.",
    )
    notify_retry_budget_s: float = Field(
        default=600.0,
        gt=0,
        description="How long a delivery is retried (backoff, Retry-After honoured) before it "
        "is given up, counted and dead-lettered; a target's retry_budget_s overrides it.",
    )
    notify_base_delay_s: float = Field(default=1.0, gt=0, description="First retry wait.")
    notify_max_delay_s: float = Field(
        default=30.0, gt=0, description="Longest backoff wait (a Retry-After may be longer)."
    )


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
        default=None,
        description="The alert as sent (firing, or any retrying): restarts rebuild from it.",
    )
    since: AwareDatetime | None = Field(
        default=None, description="Retrying: the first attempt; the retry budget counts from it."
    )
    next_at: AwareDatetime | None = Field(
        default=None, description="Retrying: when the next attempt is due."
    )
    source_partition: int | None = Field(
        default=None, description="Where the alert was read (for a later dead letter)."
    )
    source_offset: int | None = None

    @property
    def key(self) -> tuple[str, str, Revision]:
        return (self.target, self.dedup_key, self.revision)

    def key_bytes(self) -> bytes:
        return json.dumps(list(self.key), ensure_ascii=False).encode("utf-8")


def revision_of(alert: Alert) -> Revision:
    return "resolved" if alert.status == "resolved" else f"firing:{alert.severity}"


class DeliveryState:
    """What has been decided, what is firing where, what is being retried, the cooldowns.

    The main loop applies its decisions as it makes them and :meth:`save` /
    :meth:`commit` / :meth:`rollback` bracket each batch: an abandoned batch
    (Kafka went away before the commit) leaves no trace, except the retrier's
    outcomes, which are its own and are kept. The retrier and the Alertmanager
    refresher use the state from their threads, hence the lock.
    """

    def __init__(self, cooldown: Cooldown) -> None:
        self.cooldown = cooldown
        self.decided: dict[tuple[str, str, Revision], DeliveryRecord] = {}
        self.active: dict[tuple[str, str], Alert] = {}
        self.pending: dict[tuple[str, str, Revision], DeliveryRecord] = {}
        self._lock = threading.RLock()
        self._saved: tuple[Any, ...] | None = None
        self._applied_since_save: list[DeliveryRecord] = []

    def apply(self, record: DeliveryRecord, *, background: bool = False) -> None:
        with self._lock:
            self._apply(record)
            if background and self._saved is not None:
                self._applied_since_save.append(record)

    def _apply(self, record: DeliveryRecord) -> None:
        self.decided[record.key] = record
        if record.outcome == "retrying":
            self.pending[record.key] = record
            return
        self.pending.pop(record.key, None)
        if record.outcome != "delivered":
            return
        where = (record.target, record.dedup_key)
        if record.revision == "resolved":
            self.active.pop(where, None)
        elif record.alert is not None:
            self.active[where] = record.alert
            self.cooldown.record(record.target, record.alert, record.at)

    def save(self) -> None:
        """Remember the state before a batch's first decision (once per batch)."""
        with self._lock:
            if self._saved is None:
                self._saved = (
                    dict(self.decided),
                    dict(self.active),
                    dict(self.pending),
                    self.cooldown.snapshot(),
                )
                self._applied_since_save = []

    def commit(self) -> None:
        with self._lock:
            self._saved = None
            self._applied_since_save = []

    def rollback(self) -> None:
        """Back to :meth:`save`, keeping what the retrier applied since."""
        with self._lock:
            if self._saved is None:
                return
            decided, active, pending, cooldown = self._saved
            self.decided, self.active, self.pending = decided, active, pending
            self.cooldown.restore(cooldown)
            for record in self._applied_since_save:
                self._apply(record)
            self._saved = None
            self._applied_since_save = []

    def where(self, target: str, dedup_key: str) -> tuple[Alert | None, bool]:
        """What is firing at ``target`` for this alert, and whether a change is being retried.

        Read together, under the lock: the retrier may deliver meanwhile.
        """
        with self._lock:
            retrying = any(t == target and k == dedup_key for (t, k, _) in self.pending)
            return self.active.get((target, dedup_key)), retrying

    def firing_at(self, dedup_key: str) -> list[str]:
        with self._lock:
            names = [t for (t, k) in self.active if k == dedup_key]
            waiting = [t for (t, k, r) in self.pending if k == dedup_key and r != "resolved"]
            return list(dict.fromkeys(names + waiting))

    def active_for(self, target: str) -> list[Alert]:
        with self._lock:
            return [a for (t, _), a in self.active.items() if t == target]


class NotifyMetrics:
    """What the delivery worker decided, per target, for Prometheus."""

    def __init__(self, registry: CollectorRegistry, targets: Iterable[str] = ()) -> None:
        self.deliveries = Counter(
            "earful_notify_deliveries",
            "Delivery decisions by target and outcome (failed: given up after the retry "
            "budget; rejected: refused for good by the target).",
            ["target", "outcome"],
            registry=registry,
        )
        self.retrying = Gauge(
            "earful_notify_retrying",
            "Deliveries the retrier is still trying, by target.",
            ["target"],
            registry=registry,
        )
        for target in targets:  # every series exists from the start, so increase() sees a 1
            for outcome in OUTCOMES:
                self.deliveries.labels(target=target, outcome=outcome)
            self.retrying.labels(target=target).set(0)

    def count(self, record: DeliveryRecord) -> None:
        self.deliveries.labels(target=record.target, outcome=record.outcome).inc()


def ensure_deliveries_topic(settings: DeliverySettings) -> bool:
    """Create the compacted deliveries topic if missing; True when it was created.

    ``delete`` too: decisions about alerts 90 days old are no longer needed.
    """
    return ensure_compacted_topic(
        settings,
        settings.topic_deliveries,
        partitions=settings.topic_partitions,
        configs={"cleanup.policy": "compact,delete", "retention.ms": str(90 * 24 * 3600 * 1000)},
    )


def load_delivery_state(settings: DeliverySettings, consumer: Any, state: DeliveryState) -> int:
    """Apply the latest record of each key of the deliveries topic to ``state``.

    Returns how many were applied. ``consumer`` is a group-less, read_committed
    consumer: records of a transaction a crash left open are not part of the state.
    """
    count = 0
    for record in read_latest(consumer, settings.topic_deliveries).values():
        try:
            state.apply(DeliveryRecord.model_validate_json(record.value))
        except ValueError as exc:
            log.warning("skipping unreadable delivery record at offset %d: %s", record.offset, exc)
            continue
        count += 1
    return count


class DeliveryProcessor:
    """Consumes alerts, attempts each routed delivery once, records every decision.

    Give it to the worker as its ``hook`` too: :meth:`on_committed` hands the
    batch's ``retrying`` decisions to the retrier once they are durable, and
    :meth:`discard_uncommitted` forgets the decisions of an abandoned batch.
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        targets: Mapping[str, Target],
        state: DeliveryState,
        router: Router | None = None,
        retrier: DeliveryRetrier | None = None,
        metrics: NotifyMetrics | None = None,
        clock: Clock = now_utc,
        timer: Callable[[], float] = time.monotonic,
        rng: random.Random | None = None,
        worker_name: str = "sink-notify",
    ) -> None:
        self.settings = settings
        self.targets = dict(targets)
        self.state = state
        self.router = router or Router(settings.notify_routes, list(self.targets))
        self.retrier = retrier
        self.timer = timer
        self.metrics = metrics
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_name = worker_name
        self.max_age = (
            timedelta(seconds=settings.notify_max_age_s) if settings.notify_max_age_s else None
        )
        self._batch: list[DeliveryRecord] = []

    def process(self, record: ConsumedRecord) -> Iterable[Output]:
        alert = decode(Alert, record.value)
        self.state.save()
        outputs: list[Output] = []
        names = self.router.targets_for(alert)
        if alert.status == "resolved":
            # A resolve goes wherever the alert is firing (or being retried), even if the
            # routes changed since.
            names += [n for n in self.state.firing_at(alert.dedup_key) if n not in names]
        inline_until = self.timer() + self.settings.notify_inline_s
        for name in names:
            if name not in self.targets:
                continue  # a target removed from the configuration
            decision = self._decide(name, alert, record, inline_until)
            if decision is None:
                continue
            self.state.apply(decision)
            self._batch.append(decision)
            outputs.append(_record_output(self.settings, decision))
            if decision.outcome in ("failed", "rejected"):
                outputs.append(_deadletter(self.settings, record, decision, self.worker_name))
        return outputs

    def on_committed(self) -> None:
        """The batch is durable: its retries may start, its decisions count."""
        self.state.commit()
        batch, self._batch = self._batch, []
        if self.metrics is not None:
            for decision in batch:
                self.metrics.count(decision)
        if self.retrier is not None:
            self.retrier.add([d for d in batch if d.outcome == "retrying"])

    def discard_uncommitted(self) -> None:
        """The batch was abandoned: it will be read again, so forget its decisions."""
        self.state.rollback()
        self._batch = []

    def _decide(
        self, name: str, alert: Alert, source: ConsumedRecord, inline_until: float
    ) -> DeliveryRecord | None:
        revision = revision_of(alert)
        if (name, alert.dedup_key, revision) in self.state.decided:
            return None  # a repeated alert record: this change was already handled here
        now = self.clock()
        previous, waiting = self.state.where(name, alert.dedup_key)

        def record(outcome: Outcome, detail: str, **extra: Any) -> DeliveryRecord:
            keep = alert.status == "firing" or outcome == "retrying"
            return DeliveryRecord(
                target=name,
                dedup_key=alert.dedup_key,
                revision=revision,
                delivery_id=delivery_id(name, alert.dedup_key, revision),
                outcome=outcome,
                detail=detail,
                subject=alert.subject,
                at=now,
                alert=alert if keep else None,
                source_partition=getattr(source, "partition", None),
                source_offset=getattr(source, "offset", None),
                **extra,
            )

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
        elif previous is None and not waiting:
            return record("suppressed", "not firing here (never sent, or grouped)")
        if waiting:
            # Its firing (or an earlier change) is being retried: this one goes after it.
            return record("retrying", "queued behind an earlier change", next_at=now)
        left = inline_until - self.timer()
        if left < _MIN_INLINE_S:
            # Slow targets used up the loop's time for this alert: the retrier tries this one.
            return record("retrying", "first attempt left to the retrier", next_at=now)
        target = self.targets[name]
        notification = Notification(
            alert=alert,
            delivery_id=delivery_id(name, alert.dedup_key, revision),
            previous=previous,
        )
        result = target.attempt(notification, timeout_s=left)
        fields: dict[str, Any] = {"attempts": 1, "status_code": result.status_code}
        if result.verdict is DeliveryVerdict.DELIVERED:
            decision = record("delivered", result.detail, **fields)
        elif result.verdict is DeliveryVerdict.REJECTED:
            decision = record("rejected", result.detail, **fields)
        else:
            wait = target.policy.next_wait(1, result.retry_after_s, 0.0, self.rng)
            if wait is None:
                detail = give_up_detail(result, 1, 0.0, target.policy)
                decision = record("failed", detail, **fields)
            else:
                next_at = now + timedelta(seconds=wait)
                decision = record("retrying", result.detail, since=now, next_at=next_at, **fields)
        how: str = decision.outcome
        if decision.outcome == "retrying" and decision.next_at is not None:
            wait = (decision.next_at - now).total_seconds()
            how = f"retrying in {wait:.1f}s ({result.status_code or result.detail})"
        log.info("%s %s %s to %s: %s", alert.status, alert.subject, alert.dedup_key, name, how)
        return decision


def _record_output(settings: DeliverySettings, decision: DeliveryRecord) -> Output:
    return Output(
        topic=settings.topic_deliveries,
        key=decision.key_bytes(),
        value=decision.model_dump_json().encode("utf-8"),
    )


def _deadletter(
    settings: DeliverySettings, record: ConsumedRecord, decision: DeliveryRecord, worker: str
) -> Output:
    error = RecordError(
        f"delivery to {decision.target} {decision.outcome} after {decision.attempts} "
        f"attempt(s) (HTTP {decision.status_code}): {decision.detail}",
        reason=f"delivery_{decision.outcome}",
    )
    out = deadletter_output(
        record, error, topic=settings.topic_deadletter, worker=worker, clock=lambda: decision.at
    )
    headers = [*out.headers, ("earful.notify.target", decision.target.encode())]
    return Output(topic=out.topic, value=out.value, key=out.key, headers=headers)


@dataclass
class _Retry:
    record: DeliveryRecord
    attempts: int
    since: datetime | None
    next_at: datetime


#: Writes outputs; returns those the broker did not acknowledge (to be written again).
RecordWriter = Callable[[list[Output]], list[Output]]


class DeliveryRetrier:
    """Keeps trying, in its own thread, the deliveries whose first attempt failed.

    One FIFO per (target, alert): only its head is attempted, so a target sees
    an alert's changes in order. Each head is attempted when due, with the
    target's :class:`~earful.sinks.notify.base.RetryPolicy` (backoff, Retry-After, the
    budget counted from the first attempt). Its final record, and a dead letter
    when it ends as ``rejected`` or ``failed``, go through ``write``; what the
    broker did not take is kept and written again, so an outage of Kafka loses
    no outcome. See the module docstring for why a thread.
    """

    def __init__(
        self,
        settings: DeliverySettings,
        *,
        targets: Mapping[str, Target],
        state: DeliveryState,
        write: RecordWriter,
        metrics: NotifyMetrics | None = None,
        clock: Clock = now_utc,
        rng: random.Random | None = None,
        worker_name: str = "sink-notify",
    ) -> None:
        self.settings = settings
        self.targets = dict(targets)
        self.state = state
        self.write = write
        self.metrics = metrics
        self.clock = clock
        self.rng = rng or random.Random()
        self.worker_name = worker_name
        self._queues: dict[tuple[str, str], deque[_Retry]] = {}
        self._outbox: list[Output] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def add(self, records: Iterable[DeliveryRecord]) -> None:
        """Take over committed ``retrying`` decisions (from the loop, or the topic at start-up)."""
        ordered = sorted(records, key=lambda r: (r.since or r.at, r.revision == "resolved"))
        with self._lock:
            for record in ordered:
                queue = self._queues.setdefault((record.target, record.dedup_key), deque())
                if any(entry.record.key == record.key for entry in queue):
                    continue
                queue.append(
                    _Retry(record, record.attempts, record.since, record.next_at or record.at)
                )
            self._set_gauges()
        self._wake.set()

    def pending(self) -> int:
        with self._lock:
            return sum(len(q) for q in self._queues.values())

    def next_due(self) -> datetime | None:
        with self._lock:
            heads = [q[0].next_at for q in self._queues.values() if q]
        return min(heads, default=None)

    def run_due(self) -> int:
        """Attempt every queue head whose time has come; write what ended. How many tried."""
        self._flush()
        now = self.clock()
        with self._lock:
            due = [q[0] for q in self._queues.values() if q and q[0].next_at <= now]
        for entry in due:
            self._attempt(entry)
        self._flush()
        return len(due)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="notify-retrier", daemon=True)
        self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=timeout_s)
        self._flush()
        if self._outbox:
            log.warning(
                "%d delivery record(s) not written: those deliveries are retried after a "
                "restart, with the same idempotency key",
                len(self._outbox),
            )

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.run_due()
            except Exception:  # the retrier must outlive one bad round
                log.exception("notify retrier: a round failed")
            due = self.next_due()
            wait = 1.0 if due is None else (due - self.clock()).total_seconds()
            self._wake.wait(timeout=min(1.0, max(0.01, wait)))
            self._wake.clear()

    def _attempt(self, entry: _Retry) -> None:
        record = entry.record
        alert = record.alert
        target = self.targets.get(record.target)
        if target is None or alert is None:
            self._finish(entry, "suppressed", "target removed from the configuration")
            return
        previous, _ = self.state.where(record.target, record.dedup_key)
        if alert.status == "resolved" and previous is None:
            self._finish(entry, "suppressed", "its firing was never delivered here")
            return
        if (
            alert.status == "firing"
            and previous is not None
            and SEVERITY_RANK[alert.severity] <= SEVERITY_RANK[previous.severity]
        ):  # a lower severity queued behind a higher one that got through
            self._finish(entry, "suppressed", f"already firing here at {previous.severity}")
            return
        now = self.clock()
        if entry.since is None:
            entry.since = now
        result = target.attempt(
            Notification(alert=alert, delivery_id=record.delivery_id, previous=previous)
        )
        entry.attempts += 1
        if result.verdict is DeliveryVerdict.DELIVERED:
            self._finish(entry, "delivered", result.detail, result)
            return
        if result.verdict is DeliveryVerdict.REJECTED:
            self._finish(entry, "rejected", result.detail, result)
            return
        elapsed = (self.clock() - entry.since).total_seconds()
        wait = target.policy.next_wait(entry.attempts, result.retry_after_s, elapsed, self.rng)
        if wait is None:
            detail = give_up_detail(result, entry.attempts, elapsed, target.policy)
            log.warning(
                "notify: giving up %s %s to %s: %s",
                alert.status,
                alert.dedup_key,
                record.target,
                detail,
            )
            self._finish(entry, "failed", detail, result)
            return
        entry.next_at = self.clock() + timedelta(seconds=wait)
        log.info(
            "notify: attempt %d of %s %s to %s failed (%s); next in %.1fs",
            entry.attempts,
            alert.status,
            alert.dedup_key,
            record.target,
            result.status_code or result.detail,
            wait,
        )

    def _finish(
        self, entry: _Retry, outcome: Outcome, detail: str, result: Attempt | None = None
    ) -> None:
        record = entry.record
        alert = record.alert
        final = record.model_copy(
            update={
                "outcome": outcome,
                "detail": detail,
                "attempts": entry.attempts,
                "status_code": result.status_code if result else record.status_code,
                "at": self.clock(),
                "since": entry.since,
                "next_at": None,
                "alert": alert if alert is not None and alert.status == "firing" else None,
            }
        )
        self.state.apply(final, background=True)
        outputs = [_record_output(self.settings, final)]
        if outcome in ("failed", "rejected") and alert is not None:
            source = SimpleNamespace(
                topic=self.settings.topic_alerts,
                partition=record.source_partition,
                offset=record.source_offset,
                key=alert.dedup_key.encode(),
                value=encode(alert),
                headers=[],
            )
            outputs.append(_deadletter(self.settings, source, final, self.worker_name))
        if self.metrics is not None:
            self.metrics.count(final)
        with self._lock:
            queue = self._queues[(record.target, record.dedup_key)]
            queue.popleft()
            if queue:
                queue[0].next_at = min(queue[0].next_at, self.clock())  # the next change: now
            else:
                del self._queues[(record.target, record.dedup_key)]
            self._outbox.extend(outputs)
            self._set_gauges()

    def _flush(self) -> None:
        with self._lock:
            outbox, self._outbox = self._outbox, []
        if not outbox:
            return
        try:
            unwritten = self.write(outbox)
        except Exception as exc:  # no broker: keep them, write again next round
            log.warning("notify retrier: %d record(s) not written yet: %s", len(outbox), exc)
            unwritten = outbox
        if unwritten:
            with self._lock:
                self._outbox[:0] = unwritten

    def _set_gauges(self) -> None:
        if self.metrics is None:
            return
        counts = dict.fromkeys(self.targets, 0)
        for (target, _), queue in self._queues.items():
            counts[target] = counts.get(target, 0) + len(queue)
        for target, n in counts.items():
            self.metrics.retrying.labels(target=target).set(n)


class KafkaRecordWriter:
    """The retrier's own producer (idempotent, outside the loop's transactions).

    Built on first use and rebuilt after a failure, so the retrier rides out a
    broker outage like the loop does.
    """

    def __init__(self, make_producer: Callable[[], Any], *, timeout_s: float) -> None:
        self._make_producer = make_producer
        self.timeout_s = timeout_s
        self._producer: Any = None

    def __call__(self, outputs: list[Output]) -> list[Output]:
        try:
            if self._producer is None:
                self._producer = self._make_producer()
            producer = self._producer
            futures = [
                producer.send(o.topic, value=o.value, key=o.key, headers=list(o.headers) or None)
                for o in outputs
            ]
            producer.flush(timeout=self.timeout_s)
        except Exception as exc:
            log.warning("notify retrier: cannot write to Kafka: %s", exc)
            self.close()
            return outputs
        unwritten = []
        for output, future in zip(outputs, futures, strict=True):
            try:
                future.get(timeout=self.timeout_s)
            except Exception:
                unwritten.append(output)
        if unwritten:
            self.close()
        return unwritten

    def close(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            try:
                producer.close(timeout=min(5.0, self.timeout_s))
            except Exception as exc:  # closing after an outage may fail too
                log.debug("notify retrier: closing the producer: %s", exc)


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
