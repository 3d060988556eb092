"""Settings of the ingest workers (``earful ingest <source>`` and ``earful ingest push``).

Every field comes from the flat YAML settings file (``--config`` /
``EARFUL_CONFIG``), the environment (``EARFUL_<FIELD>``) or a file in the
secrets directory; see :mod:`earful.settings`. Connector settings sit under one
key, a mapping per connector module::

    tracking_config: examples/tracking.yaml
    connectors:
      hackernews: {poll_interval_s: 60}
      mastodon: {instances: [mastodon.social, fosstodon.org]}
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr

from earful.errors import ConfigError
from earful.settings import BaseWorkerSettings

__all__ = ["IngestSettings"]

#: Shortest pseudonymisation key accepted, in bytes: HMAC-SHA256 wants >= 16 (RFC 2104).
MIN_KEY_BYTES = 16


class IngestSettings(BaseWorkerSettings):
    """What a connector runner and the push endpoint need besides Kafka."""

    tracking_config: Path | None = Field(
        default=None, description="Tracking rules file, YAML or .toml (EARFUL_TRACKING_CONFIG)."
    )
    connectors: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="Per-connector settings, keyed by connector module name."
    )
    topic_checkpoints: str = Field(
        default="earful.ingest.checkpoints",
        description="Compacted topic of connector cursors, keyed by connector name.",
    )

    # -- privacy -----------------------------------------------------------------
    pseudonym_key: SecretStr | None = Field(
        default=None,
        description="HMAC key for author pseudonyms (EARFUL_PSEUDONYM_KEY); keep it stable.",
    )
    pseudonym_key_file: Path | None = Field(
        default=None, description="File holding the pseudonymisation key (e.g. a mounted secret)."
    )
    raw_handles: bool = Field(
        default=False, description="Keep authors' raw handles instead of keyed pseudonyms."
    )

    # -- dedup and noise ---------------------------------------------------------
    dedup_capacity: int = Field(
        default=200_000, ge=1, description="Mention ids remembered to drop repeats."
    )
    dedup_restore_records: int = Field(
        default=200_000,
        ge=0,
        description="Records read back from the raw topic's tail at start-up to refill the dedup.",
    )
    near_duplicate_threshold: int = Field(
        default=5, ge=2, description="Copies of one text within the window that flag a flood."
    )
    near_duplicate_window_s: float = Field(default=600.0, gt=0)
    near_duplicate_min_words: int = Field(
        default=6, ge=1, description="Shorter texts ('acme down?') are never called copies."
    )

    # -- runner ------------------------------------------------------------------
    backoff_initial_s: float = Field(default=1.0, gt=0)
    backoff_max_s: float = Field(default=300.0, gt=0)
    checkpoint_interval_s: float = Field(
        default=5.0, ge=0, description="Longest gap between cursor writes when nothing matches."
    )
    http_timeout_s: float = Field(default=30.0, gt=0)
    user_agent: str = "earful/0.1 (+https://github.com/earful/earful)"
    ingest_metrics_host: str = "127.0.0.1"
    ingest_metrics_port: int = Field(
        default=9465,
        ge=0,
        le=65535,
        description=(
            "Prometheus metrics of the runner; 0 = off. When the default is taken (a second "
            "ingest worker on the host) a free port is used and logged; a port set on purpose "
            "must be free."
        ),
    )

    # -- push endpoint -------------------------------------------------------------
    push_host: str = "127.0.0.1"
    push_port: int = Field(default=8088, ge=0, le=65535)
    push_token: SecretStr | None = Field(
        default=None, description="Bearer token clients must send (EARFUL_PUSH_TOKEN)."
    )
    push_max_bytes: int = Field(
        default=1024 * 1024, ge=1024, description="Largest request body accepted."
    )
    push_max_items: int = Field(default=5000, ge=1, description="Most mentions in one request.")
    push_ack_timeout_s: float = Field(
        default=10.0,
        ge=1.0,
        le=120.0,
        description=(
            "Longest a request waits for Kafka to acknowledge its mentions before the 503; "
            "also how long the push producer keeps a record, so one answered 503 is never "
            "delivered later. Under common HTTP client timeouts (30 s)."
        ),
    )

    def pseudonym_key_bytes(self) -> bytes | None:
        """The key from the setting or its file; None when neither is set."""
        if self.pseudonym_key is not None:
            key = self.pseudonym_key.get_secret_value().encode("utf-8")
        elif self.pseudonym_key_file is not None:
            try:
                key = self.pseudonym_key_file.read_bytes().strip()
            except OSError as exc:
                raise ConfigError(
                    f"pseudonym_key_file {self.pseudonym_key_file}: {exc.strerror}"
                ) from exc
        else:
            return None
        if len(key) < MIN_KEY_BYTES:
            raise ConfigError(
                f"the pseudonymisation key is {len(key)} bytes; use at least {MIN_KEY_BYTES} "
                "(e.g. python -c 'import secrets; print(secrets.token_hex(32))')"
            )
        return key

    def connector_config(self, name: str) -> dict[str, Any]:
        value = self.connectors.get(name, {})
        if not isinstance(value, dict):
            raise ConfigError(f"connectors.{name} must be a mapping of settings")
        return value
