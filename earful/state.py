"""Keyed state in a compacted changelog topic: the one helper every stateful stage uses.

A stateful processor keeps, per key (a subject, a connector, an alert), one
JSON record in a compacted topic. It writes the records of what changed in a
batch as ordinary outputs of that batch, so they commit in the worker's
transaction together with the outputs and the input offsets
(:meth:`earful.worker.CheckpointingProcessor.checkpoint_outputs`), and the
framework reads them back:

* :func:`read_latest` reads a topic to its end and keeps the latest record of
  each key (a tombstone deletes it): compaction's view, whether or not the
  cleaner has run yet.
* :class:`ChangelogListener` restores, whenever the worker's consumer is
  assigned partitions of its input topic, the state of the keys those
  partitions own (each state record names the input partition it belongs to
  in its ``"partition"`` field), and drops the state of revoked partitions.
  The processor supplies only :class:`PartitionedState`'s ``restore`` and
  ``forget_partitions``.
* :func:`ensure_compacted_topic` creates the changelog topic if it is missing.
* :func:`state_reader` is the consumer to read state with: no group,
  ``read_committed``, closed afterwards.

Records that cannot be read are logged and skipped: state is an optimisation
of the input, and a worker must start rather than stop on one bad record.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

from kafka import ConsumerRebalanceListener

from earful.kafkautil import close_consumer, make_admin, read_to_end
from earful.settings import BaseWorkerSettings

__all__ = [
    "ChangelogListener",
    "PartitionedState",
    "ensure_compacted_topic",
    "load_partition_states",
    "read_latest",
    "state_reader",
    "state_record",
]

log = logging.getLogger(__name__)

#: Compaction keeps the last record per key; a minute of history keeps a
#: just-written record readable while its transaction settles.
COMPACTED = {"cleanup.policy": "compact", "min.compaction.lag.ms": "60000"}


class PartitionedState(Protocol):
    """What a stateful processor supplies: restore one key's state, forget partitions."""

    def restore(self, state: dict[str, Any]) -> None: ...

    def forget_partitions(self, partitions: set[int]) -> None: ...


@contextmanager
def state_reader(settings: BaseWorkerSettings) -> Iterator[Any]:
    """A consumer to read state with (no group, ``read_committed``), closed on leaving."""
    from earful.worker import make_consumer

    reader = make_consumer(settings, group=None, topics=[])
    try:
        yield reader
    finally:
        close_consumer(reader)


def read_latest(reader: Any, topic: str, *, timeout_s: float = 60.0) -> dict[bytes, Any]:
    """The latest record of every key of ``topic`` (tombstones delete; keyless records skip).

    Within a partition, in the order of the keys' last writes, as compaction
    leaves the topic: a state rebuilt by applying them in turn sees each key's
    last change where a replay of the whole topic would.
    ``reader``: a group-less ``read_committed`` consumer, so aborted state is never read.
    """
    latest: dict[bytes, Any] = {}
    for record in read_to_end(reader, topic, timeout_s=timeout_s):
        if record.key is None:
            continue
        latest.pop(record.key, None)  # a dict keeps the order of the keys' last writes
        if record.value is not None:
            latest[record.key] = record
    return latest


def load_partition_states(
    reader: Any, topic: str, partitions: set[int], *, timeout_s: float = 60.0
) -> list[dict[str, Any]]:
    """The latest JSON state of every key whose ``"partition"`` is one of ``partitions``."""
    states = []
    for key, record in read_latest(reader, topic, timeout_s=timeout_s).items():
        try:
            state = json.loads(record.value)
            partition = int(state["partition"])
        except (ValueError, KeyError, TypeError):
            log.warning("%s@%d: unreadable state of %r skipped", topic, record.offset, key)
            continue
        if partition in partitions:
            states.append(state)
    return states


def state_record(state: Mapping[str, Any]) -> bytes:
    """A state as the changelog stores it: compact JSON."""
    return json.dumps(state, separators=(",", ":")).encode("utf-8")


class ChangelogListener(ConsumerRebalanceListener):  # type: ignore[misc]
    """Restores the state of newly assigned partitions; forgets that of revoked ones.

    Only partitions of ``input_topic`` count (a worker may read a second topic
    co-partitioned with it). A previous owner may have moved the state on, so
    assigned partitions are always reloaded.
    """

    def __init__(
        self,
        store: PartitionedState,
        *,
        changelog_topic: str,
        input_topic: str,
        make_reader: Callable[[], Any],
        name: str,
        timeout_s: float = 60.0,
    ) -> None:
        self.store = store
        self.changelog_topic = changelog_topic
        self.input_topic = input_topic
        self.make_reader = make_reader
        self.name = name
        self.timeout_s = timeout_s
        self.loaded = 0

    def _mine(self, tps: Iterable[Any]) -> set[int]:
        return {tp.partition for tp in tps if tp.topic == self.input_topic}

    def on_partitions_revoked(self, revoked: Iterable[Any]) -> None:
        self.store.forget_partitions(self._mine(revoked))

    def on_partitions_lost(self, lost: Iterable[Any]) -> None:
        self.store.forget_partitions(self._mine(lost))

    def on_partitions_assigned(self, assigned: Iterable[Any]) -> None:
        partitions = self._mine(assigned)
        if not partitions:
            return
        self.store.forget_partitions(partitions)
        reader = self.make_reader()
        try:
            states = load_partition_states(
                reader, self.changelog_topic, partitions, timeout_s=self.timeout_s
            )
        finally:
            close_consumer(reader)
        restored = 0
        for state in states:
            try:
                self.store.restore(state)
            except (KeyError, TypeError, ValueError) as exc:
                # Raising here would fail every poll: the key starts afresh instead.
                log.warning("%s: unreadable state skipped: %s", self.name, exc)
                continue
            restored += 1
        self.loaded += restored
        log.info(
            "%s: partitions %s assigned, %d key(s) restored",
            self.name,
            sorted(partitions),
            restored,
        )


def ensure_compacted_topic(
    settings: BaseWorkerSettings,
    topic: str,
    *,
    partitions_like: str | None = None,
    partitions: int = 1,
    configs: Mapping[str, str] | None = None,
) -> bool:
    """Create the compacted ``topic`` if it is missing; True when this call created it.

    ``partitions_like``: give it as many partitions as that topic (a changelog
    keyed like its input), else ``partitions``.
    """
    from kafka.admin import NewTopic

    admin = make_admin(
        settings, bootstrap_timeout_ms=max(1000, int(settings.kafka_retry_max_s * 1000))
    )
    try:
        if topic in set(admin.list_topics()):
            return False
        if partitions_like is not None:
            described = admin.describe_topics([partitions_like])
            found = len(described[0]["partitions"]) if described else 0
            partitions = found or settings.topic_partitions
        admin.create_topics(
            [
                NewTopic(
                    topic,
                    max(partitions, 1),
                    settings.topic_replication,
                    topic_configs={**COMPACTED, **(configs or {})},
                )
            ],
            raise_errors=False,  # another worker may create it at the same moment
            wait_for_metadata=True,
        )
        return True
    finally:
        admin.close()
