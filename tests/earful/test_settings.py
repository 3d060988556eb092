from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from earful.errors import ConfigError
from earful.settings import (
    AnalyzerSettings,
    BaseWorkerSettings,
    known_setting_keys,
    load_settings,
    settings_modules,
)

ROOT = Path(__file__).resolve().parents[2]


def test_env_beats_config_file_which_beats_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "earful.yaml"
    # metrics_port belongs to another worker: the shared file may hold it.
    config.write_text("topic_partitions: 6\nbatch_max_records: 500\nmetrics_port: 9000\n")
    monkeypatch.setenv("EARFUL_BATCH_MAX_RECORDS", "250")
    s = load_settings(AnalyzerSettings, config=config)
    assert s.topic_partitions == 6  # from the file
    assert s.batch_max_records == 250  # env wins over the file
    assert s.topic_raw == "earful.mentions.raw"  # default


def test_explicit_overrides_win_and_none_means_not_given(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARFUL_KAFKA_BOOTSTRAP", "kafka-env:9092")
    assert load_settings(AnalyzerSettings, kafka_bootstrap=None).kafka_bootstrap == "kafka-env:9092"
    s = load_settings(AnalyzerSettings, kafka_bootstrap="flag:9092")
    assert s.kafka_bootstrap == "flag:9092"


def test_config_file_from_env_var(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "c.yaml"
    config.write_text("score_cache_size: 7\n")
    monkeypatch.setenv("EARFUL_CONFIG", str(config))
    assert load_settings(AnalyzerSettings).score_cache_size == 7


def test_invalid_value_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EARFUL_TOPIC_PARTITIONS", "zero")
    with pytest.raises(ConfigError, match="topic_partitions"):
        load_settings(AnalyzerSettings)


def test_broken_yaml_reports_the_line(tmp_path: Path) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("topic_partitions: 3\nbatch_max_records: [1, 2\n")
    with pytest.raises(ConfigError, match=r"bad.yaml at line \d"):
        load_settings(AnalyzerSettings, config=config)


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(AnalyzerSettings, config=tmp_path / "nope.yaml")


def test_settings_are_frozen() -> None:
    s = load_settings(AnalyzerSettings)
    with pytest.raises(ValueError, match="frozen"):
        s.topic_raw = "x"


def test_a_typo_in_a_top_level_key_names_the_file_the_line_and_the_key_meant(
    tmp_path: Path,
) -> None:
    config = tmp_path / "earful.yaml"
    config.write_text("# shared\nkafka_bootstrap: x:1\ntopic_partitons: 6\n")
    with pytest.raises(ConfigError) as info:
        load_settings(AnalyzerSettings, config=config)
    message = str(info.value)
    assert f"config file {config}, line 3" in message
    assert "unknown setting 'topic_partitons'" in message
    assert "did you mean 'topic_partitions'?" in message


def test_a_key_no_worker_reads_is_refused_with_the_others_counted(tmp_path: Path) -> None:
    config = tmp_path / "earful.yaml"
    config.write_text("zzz_nothing: 1\nalso_nothing: 2\n")
    with pytest.raises(ConfigError, match=r"'zzz_nothing'; no Earful worker reads it \(and 1 more"):
        load_settings(BaseWorkerSettings, config=config)


def _all_settings_classes() -> set[type[BaseWorkerSettings]]:
    import importlib

    for module in settings_modules():
        importlib.import_module(module)
    found: set[type[BaseWorkerSettings]] = set()
    todo: list[type[BaseWorkerSettings]] = [BaseWorkerSettings]
    while todo:
        cls = todo.pop()
        found.add(cls)
        todo.extend(cls.__subclasses__())
    return found


def test_the_core_lists_its_own_settings_modules_and_each_stage_its_own() -> None:
    modules = settings_modules()
    stages = {m.split(".")[1] for m in modules if m.split(".")[1] not in ("settings", "health")}
    assert stages == {"analyze", "comms", "ingest", "sinks"}
    assert all(m.startswith("earful.") for m in modules)


def test_the_settings_module_list_covers_every_settings_class_and_field() -> None:
    import importlib
    import pkgutil

    # Import every module of the package (the stages included) so a settings class
    # anywhere is a subclass by now.
    pkg = importlib.import_module("earful")
    for info in pkgutil.walk_packages(pkg.__path__, prefix="earful."):
        if not info.name.endswith("__main__"):
            importlib.import_module(info.name)
    classes = {c for c in _all_settings_classes() if not c.__module__.startswith("tests")}
    assert {c.__module__ for c in classes} <= set(settings_modules())
    fields: set[str] = set().union(*(c.model_fields for c in classes))
    known = known_setting_keys()
    assert known is not None and set(known) == fields


@pytest.mark.parametrize("path", ["deploy/config/earful.yaml", "deploy/k8s/configmap.yaml"])
def test_the_shipped_configs_hold_only_known_keys_and_tracked_subjects(path: str) -> None:
    data = yaml.safe_load((ROOT / path).read_text(encoding="utf-8"))
    if "data" in data:  # the ConfigMap wraps the file
        data = yaml.safe_load(data["data"]["earful.yaml"])
    known = known_setting_keys()
    assert known is not None and set(data) <= known
    tracking = yaml.safe_load((ROOT / "examples" / "tracking.yaml").read_text(encoding="utf-8"))
    subjects = {s["name"] for s in tracking["subjects"]}
    assert set(data["metrics_subjects"]) <= subjects
