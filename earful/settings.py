"""Settings: one frozen object per worker, from ``EARFUL_*`` env vars and a config file.

Precedence, highest first: explicit keyword arguments (the CLI's flags), the
environment (``EARFUL_<FIELD>``), the YAML config file named by
``EARFUL_CONFIG`` (or ``--config``), then defaults. Secrets are ``SecretStr``
and can also come from files in ``EARFUL_SECRETS_DIR`` (default
``/run/secrets``).

The config file uses the same flat keys as the fields, e.g.::

    kafka_bootstrap: 127.0.0.1:9092
    topic_partitions: 6
    alert_negative_share: 0.6
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, ClassVar, TypeVar

import yaml
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from earful.errors import ConfigError

__all__ = [
    "DEFAULT_BOOTSTRAP",
    "AlertSinkSettings",
    "AnalyzerSettings",
    "BaseWorkerSettings",
    "MetricsSinkSettings",
    "ReplaySettings",
    "load_settings",
]

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the flat YAML config file named by ``EARFUL_CONFIG``."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is None:
            return
        try:
            loaded = yaml.safe_load(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"config file {path}{where}: {exc}") from exc
        if loaded is None:
            return
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: expected a mapping of settings")
        known = set(settings_cls.model_fields)
        # A file may serve several workers; keep only this worker's keys.
        self._data = {k: v for k, v in loaded.items() if k in known}

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return self._data.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(self._data)


class BaseWorkerSettings(BaseSettings):
    """What every worker shares: where Kafka is, the topic names, batching and shutdown."""

    model_config = SettingsConfigDict(
        env_prefix="EARFUL_",
        frozen=True,
        extra="ignore",
        secrets_dir=os.environ.get("EARFUL_SECRETS_DIR", "/run/secrets")
        if Path(os.environ.get("EARFUL_SECRETS_DIR", "/run/secrets")).is_dir()
        else None,
    )
    config_path: ClassVar[Path | None] = None

    kafka_bootstrap: str = Field(
        default=DEFAULT_BOOTSTRAP,
        description="Kafka bootstrap servers (EARFUL_KAFKA_BOOTSTRAP); default: the local broker.",
    )
    kafka_client_id: str = "earful"
    topic_raw: str = "earful.mentions.raw"
    topic_scored: str = "earful.mentions.scored.v1"
    topic_windows: str = "earful.windows.v1"
    topic_signals: str = "earful.signals.v1"
    topic_alerts: str = "earful.alerts.v1"
    topic_updates: str = "earful.updates.v1"
    topic_reactions: str = "earful.reactions.v1"
    topic_deadletter: str = "earful.deadletter"
    topic_partitions: int = Field(default=3, ge=1, le=1024)
    topic_replication: int = Field(default=1, ge=1, le=16)
    batch_max_records: int = Field(default=2000, ge=1, le=100_000)
    producer_batch_bytes: int = Field(
        default=256 * 1024,
        ge=16 * 1024,
        le=16 * 1024 * 1024,
        description="Producer batch size per partition (the analyzer's default is 1 MiB).",
    )
    gc_freeze: bool = Field(
        default=False,
        description=(
            "Before its loop, a worker process moves what start-up built out of the garbage "
            "collector's reach (gc.freeze) and collects young objects less often "
            "(the analyzer's default is on)."
        ),
    )
    poll_timeout_s: float = Field(default=0.5, gt=0)
    drain_timeout_s: float = Field(
        default=20.0, gt=0, description="How long a stopping worker may take to finish its batch."
    )
    exactly_once: bool = Field(
        default=True, description="Use Kafka transactions for consume-produce steps."
    )
    kafka_timeout_s: float = Field(
        default=30.0,
        gt=0,
        le=300,
        description=(
            "Longest a worker waits on one Kafka call (send, flush, commit, abort). Past it the "
            "batch is abandoned, the clients are rebuilt and the batch is read again from the "
            "last commit; under the 60 s liveness limit so a wait is never mistaken for a hang."
        ),
    )
    kafka_delivery_timeout_s: float = Field(
        default=120.0,
        ge=1,
        le=3600,
        description="How long the producer keeps retrying one record before it reports failure.",
    )
    kafka_retry_max_s: float = Field(
        default=5.0,
        gt=0,
        le=300,
        description=(
            "Longest pause between attempts to reach a broker that went away: bounds how long "
            "after the broker's return a worker resumes."
        ),
    )
    kafka_startup_wait_s: float = Field(
        default=10.0,
        ge=0,
        description=(
            "How long a worker that has never reached Kafka keeps trying before it exits with "
            "one line; 0 waits for ever (for orchestrators that start workers before the broker)."
        ),
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        raw = os.environ.get("EARFUL_CONFIG")
        path = Path(raw) if raw else cls.config_path
        return (
            init_settings,
            env_settings,
            _YamlFileSource(settings_cls, path),
            file_secret_settings,
        )


class ReplaySettings(BaseWorkerSettings):
    """``earful ingest replay``."""

    replay_speed: float = Field(
        default=0.0, ge=0.0, description="Event-time speed-up; 0 replays as fast as possible."
    )


class AnalyzerSettings(BaseWorkerSettings):
    """``earful analyze``."""

    analyzer_group: str = "earful-analyzer"
    score_cache_size: int = Field(default=50_000, ge=0, description="Texts remembered (reposts).")
    producer_batch_bytes: int = Field(
        default=1024 * 1024,
        ge=16 * 1024,
        le=16 * 1024 * 1024,
        description=(
            "1 MiB, Kafka's default largest record batch: a batch of 2,000 scored mentions "
            "fits in two or three, so kafka-python wakes its sender thread a few times per "
            "transaction instead of on most sends."
        ),
    )
    gc_freeze: bool = Field(
        default=True,
        description=(
            "Lexicons and the gazetteer outlive every record: frozen, full collections no "
            "longer walk them (10 -> 1-3 us per record of collections)."
        ),
    )


class MetricsSinkSettings(BaseWorkerSettings):
    """``earful sink metrics``."""

    metrics_group: str = "earful-sink-metrics"
    metrics_host: str = "127.0.0.1"
    metrics_port: int = Field(default=9464, ge=0, le=65535)


class AlertSinkSettings(BaseWorkerSettings):
    """``earful sink alerts`` (the simple negative-share alert of the first slice)."""

    alerts_group: str = "earful-sink-alerts"
    alert_window_s: int = Field(default=300, ge=10, description="Sliding event-time window.")
    alert_negative_share: float = Field(default=0.5, gt=0.0, le=1.0)
    alert_min_mentions: int = Field(default=30, ge=1, description="Below this, never alert.")
    alert_resolve_share: float = Field(
        default=0.3, gt=0.0, le=1.0, description="Resolve below this share (hysteresis)."
    )
    dashboard_url: str | None = None


_S = TypeVar("_S", bound=BaseWorkerSettings)


def load_settings(cls: type[_S], config: Path | None = None, **overrides: Any) -> _S:
    """Build a worker's settings; raise :class:`ConfigError` with every bad field named."""
    clean = {k: v for k, v in overrides.items() if v is not None}
    previous = BaseWorkerSettings.config_path
    try:
        if config is not None:
            BaseWorkerSettings.config_path = config
        return cls(**clean)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"invalid settings: {problems}") from exc
    finally:
        BaseWorkerSettings.config_path = previous
