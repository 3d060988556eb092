"""Settings: one frozen object per worker, from ``EARFUL_*`` env vars and a config file.

Precedence, highest first: explicit keyword arguments (the CLI's flags), the
environment (``EARFUL_<FIELD>``), the YAML config file named by
``EARFUL_CONFIG`` (or ``--config``), then defaults. Secrets are ``SecretStr``
and can also come from files in ``EARFUL_SECRETS_DIR`` (default
``/run/secrets``).

The config file uses the same flat keys as the fields, e.g.::

    kafka_bootstrap: 127.0.0.1:9092
    topic_partitions: 6
    batch_max_records: 1000

One file may hold the keys of several workers; each takes its own. A key that
no worker knows (a typo such as ``topic_partitons``) is refused with the file,
the line and the nearest known key: the workers' settings classes are listed
in :func:`settings_modules` and read there without being imported, and only
when the file has a key the current worker does not know.
"""

from __future__ import annotations

import ast
import difflib
import functools
import importlib
import importlib.util
import logging
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
    "CORE_SETTINGS_MODULES",
    "DEFAULT_BOOTSTRAP",
    "AnalyzerSettings",
    "BaseWorkerSettings",
    "ReplaySettings",
    "known_setting_keys",
    "load_settings",
    "settings_modules",
]

log = logging.getLogger(__name__)

DEFAULT_BOOTSTRAP = "127.0.0.1:9092"

#: The core's modules that define a settings class read from the shared config
#: file. Each stage lists its own in its package's ``SETTINGS_MODULES`` (the
#: stage's ``__init__``, which imports nothing), so the core names no stage.
CORE_SETTINGS_MODULES = ("earful.settings", "earful.health")


def settings_modules() -> tuple[str, ...]:
    """Every module whose settings classes read the shared config file: the core's, then each
    stage's, found as the subpackages of ``earful`` (tests/earful/test_settings.py checks the
    list against the classes)."""
    import pkgutil

    import earful

    names = list(CORE_SETTINGS_MODULES)
    for info in sorted(pkgutil.iter_modules(earful.__path__, "earful."), key=lambda i: i.name):
        if info.ispkg:
            names += getattr(importlib.import_module(info.name), "SETTINGS_MODULES", ())
    return tuple(names)


def _settings_fields(source: str) -> set[str]:
    """Field names of the ``...Settings`` classes in one module's source (no import)."""
    names: set[str] = set()
    for node in ast.parse(source).body:
        if not isinstance(node, ast.ClassDef):
            continue
        bases = [ast.unparse(b) for b in node.bases]
        if not any(b.endswith("Settings") for b in bases):
            continue
        for stmt in node.body:
            if (
                isinstance(stmt, ast.AnnAssign)
                and isinstance(stmt.target, ast.Name)
                and "ClassVar" not in ast.unparse(stmt.annotation)
            ):
                names.add(stmt.target.id)
    return names


@functools.cache
def known_setting_keys() -> frozenset[str] | None:
    """Every key some worker reads from the config file; None if a listed module is missing."""
    names: set[str] = set()
    for module in settings_modules():
        spec = importlib.util.find_spec(module)
        if spec is None or spec.origin is None:
            log.warning("settings module %s not found: unknown config keys are not checked", module)
            return None
        names |= _settings_fields(Path(spec.origin).read_text(encoding="utf-8"))
    return frozenset(names)


def _key_lines(text: str) -> dict[str, int]:
    """Line of each top-level key of a YAML mapping (1-based)."""
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    if not isinstance(node, yaml.MappingNode):
        return {}
    return {
        str(key.value): key.start_mark.line + 1
        for key, _ in node.value
        if isinstance(key, yaml.ScalarNode)
    }


def _reject_unknown_keys(path: Path, text: str, keys: list[str]) -> None:
    known = known_setting_keys()
    if known is None:
        return
    unknown = [k for k in keys if k not in known]
    if not unknown:
        return
    key = unknown[0]
    line = _key_lines(text).get(key)
    where = f"config file {path}" + (f", line {line}" if line else "")
    close = difflib.get_close_matches(key, sorted(known), n=1, cutoff=0.75)
    hint = f"; did you mean {close[0]!r}?" if close else "; no Earful worker reads it"
    more = f" (and {len(unknown) - 1} more: {', '.join(unknown[1:4])})" if len(unknown) > 1 else ""
    raise ConfigError(f"{where}: unknown setting {key!r}{hint}{more}")


class _YamlFileSource(PydanticBaseSettingsSource):
    """Reads the flat YAML config file named by ``EARFUL_CONFIG``."""

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None) -> None:
        super().__init__(settings_cls)
        self._data: dict[str, Any] = {}
        if path is None:
            return
        try:
            text = path.read_text(encoding="utf-8")
            loaded = yaml.safe_load(text)
        except FileNotFoundError as exc:
            raise ConfigError(f"config file {path} does not exist") from exc
        except UnicodeDecodeError as exc:
            raise ConfigError(f"config file {path} is not UTF-8 text") from exc
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}" if mark is not None else ""
            raise ConfigError(f"config file {path}{where}: {exc}") from exc
        if loaded is None:
            return
        if not isinstance(loaded, dict):
            raise ConfigError(f"config file {path}: expected a mapping of settings")
        known = set(settings_cls.model_fields)
        others = [str(k) for k in loaded if k not in known]
        if others:
            # Keys of other workers are expected; keys of none are typos.
            _reject_unknown_keys(path, text, others)
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
