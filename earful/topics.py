"""The pipeline's topics, and ``earful topics create``."""

from __future__ import annotations

from dataclasses import dataclass

from earful.errors import ConfigError
from earful.settings import BaseWorkerSettings

__all__ = ["MAX_MESSAGE_BYTES", "TopicSpec", "create_topics", "topic_specs"]

#: Raw and dead-letter topics accept oversized records so a poison record can
#: still be read, rejected with a reason and kept, instead of failing upstream.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]


def topic_specs(settings: BaseWorkerSettings) -> list[TopicSpec]:
    n = settings.topic_partitions
    big = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
    week = str(7 * 24 * 3600 * 1000)
    return [
        TopicSpec(settings.topic_raw, n, {**big, "retention.ms": week}),
        TopicSpec(settings.topic_scored, n, {"retention.ms": week}),
        TopicSpec(settings.topic_windows, n, {"retention.ms": str(30 * 24 * 3600 * 1000)}),
        TopicSpec(settings.topic_signals, n, {"retention.ms": str(90 * 24 * 3600 * 1000)}),
        TopicSpec(settings.topic_updates, n, {"retention.ms": str(90 * 24 * 3600 * 1000)}),
        TopicSpec(settings.topic_reactions, n, {"retention.ms": str(90 * 24 * 3600 * 1000)}),
        # Alerts are state: the latest record per dedup key is what a restart needs.
        TopicSpec(
            settings.topic_alerts,
            n,
            {"cleanup.policy": "compact,delete", "retention.ms": str(90 * 24 * 3600 * 1000)},
        ),
        TopicSpec(
            settings.topic_deadletter, 1, {**big, "retention.ms": str(30 * 24 * 3600 * 1000)}
        ),
    ]


def create_topics(settings: BaseWorkerSettings) -> list[str]:
    """Create every missing topic; return the names that were created."""
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    admin = KafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap, client_id=f"{settings.kafka_client_id}-admin"
    )
    try:
        existing = set(admin.list_topics())
        wanted = [s for s in topic_specs(settings) if s.name not in existing]
        if not wanted:
            return []
        admin.create_topics(
            [
                NewTopic(s.name, s.partitions, settings.topic_replication, topic_configs=s.config)
                for s in wanted
            ],
            raise_errors=False,  # another process may create the same topic at the same time
            wait_for_metadata=True,
        )
        missing = {s.name for s in wanted} - set(admin.list_topics())
        if missing:
            raise ConfigError(f"could not create topics: {sorted(missing)}")
        return [s.name for s in wanted]
    finally:
        admin.close()
