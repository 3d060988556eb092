from __future__ import annotations

from pathlib import Path

import pytest

from earful.errors import ConfigError
from earful.settings import AlertSinkSettings, AnalyzerSettings, load_settings


def test_env_beats_config_file_which_beats_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "earful.yaml"
    config.write_text("topic_partitions: 6\nbatch_max_records: 500\nunrelated_key: 1\n")
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
    config.write_text("alert_negative_share: 0.7\n")
    monkeypatch.setenv("EARFUL_CONFIG", str(config))
    assert load_settings(AlertSinkSettings).alert_negative_share == 0.7


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
