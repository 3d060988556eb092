"""The pipeline's topics, and ``earful topics create``."""

from __future__ import annotations

from dataclasses import dataclass

from earful.errors import ConfigError
from earful.settings import BaseWorkerSettings

__all__ = [
    "MAX_MESSAGE_BYTES",
    "TOPIC_ROLES",
    "TopicSpec",
    "create_topics",
    "topic_name",
    "topic_specs",
]

#: Raw and dead-letter topics accept oversized records so a poison record can
#: still be read, rejected with a reason and kept, instead of failing upstream.
MAX_MESSAGE_BYTES = 8 * 1024 * 1024


#: The pipeline's topics by role; a worker's settings name each as ``topic_<role>``.
TOPIC_ROLES: tuple[str, ...] = (
    "raw",
    "scored",
    "windows",
    "signals",
    "alerts",
    "updates",
    "reactions",
    "deadletter",
)

_DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    config: dict[str, str]
    role: str = ""


def _role_config(role: str) -> dict[str, str]:
    big = {"max.message.bytes": str(MAX_MESSAGE_BYTES)}
    if role == "raw":
        return {**big, "retention.ms": str(7 * _DAY_MS)}
    if role == "scored":
        return {"retention.ms": str(7 * _DAY_MS)}
    if role == "windows":
        return {"retention.ms": str(30 * _DAY_MS)}
    if role == "alerts":
        # Alerts are state: the latest record per dedup key is what a restart needs.
        return {"cleanup.policy": "compact,delete", "retention.ms": str(90 * _DAY_MS)}
    if role == "deadletter":
        return {**big, "retention.ms": str(30 * _DAY_MS)}
    return {"retention.ms": str(90 * _DAY_MS)}  # signals, updates, reactions


def topic_name(settings: BaseWorkerSettings, role: str) -> str:
    """The topic ``settings`` names for ``role`` (one of :data:`TOPIC_ROLES`)."""
    if role not in TOPIC_ROLES:
        raise ValueError(f"unknown topic role {role!r}; known: {', '.join(TOPIC_ROLES)}")
    name: str = getattr(settings, f"topic_{role}")
    return name


def topic_specs(settings: BaseWorkerSettings) -> list[TopicSpec]:
    """Every topic of the pipeline, in :data:`TOPIC_ROLES` order."""
    return [
        TopicSpec(
            topic_name(settings, role),
            1 if role == "deadletter" else settings.topic_partitions,
            _role_config(role),
            role,
        )
        for role in TOPIC_ROLES
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
