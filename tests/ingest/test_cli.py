"""``earful ingest <connector>`` finds connector modules by name and runs them into Kafka."""

from __future__ import annotations

import socket
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import earful.ingest.cli
from earful.cli import main
from earful.errors import ConfigError
from earful.ingest.checkpoint import load_checkpoints
from earful.ingest.settings import IngestSettings
from earful.kafkautil import read_to_end
from earful.worker import make_consumer

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "tracking.yaml"

FAKENET = '''
"""A connector for tests: three pages of posts, then nothing."""
from datetime import UTC, datetime

from earful.ingest.base import Page, Post

T0 = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


class FakeNet:
    name = "fakenet"

    def __init__(self, texts, search):
        self.texts = texts
        self.search = search

    def fetch(self, cursor):
        start = int(cursor or 0)
        chunk = self.texts[start : start + 2]
        posts = tuple(
            Post(source="replay", native_id=str(start + i), text=text, created_at=T0,
                 author_handle="someone")
            for i, text in enumerate(chunk)
        )
        return Page(posts=posts, cursor=str(start + len(chunk)))


def build(config, http, search):
    assert "acme" in search.terms
    return FakeNet(list(config["texts"]), search)
'''

TWO_ARGS = """
def build(config, http):
    return ("two", config)
"""


@pytest.fixture
def connectors(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    package = tmp_path / "fakesources"
    package.mkdir()
    (package / "__init__.py").write_text("", encoding="utf-8")
    # Named like a real connector: the command table lists the connectors `earful ingest` knows.
    (package / "rss.py").write_text(textwrap.dedent(FAKENET), encoding="utf-8")
    (package / "twoargs.py").write_text(TWO_ARGS, encoding="utf-8")
    (package / "_helpers.py").write_text("", encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setattr(earful.ingest.cli, "CONNECTOR_PACKAGE", "fakesources")
    return package


def test_connectors_are_found_by_module_name(connectors: Path) -> None:
    assert earful.ingest.cli.connector_names() == ["rss", "twoargs"]
    assert earful.ingest.cli.build_source("twoargs", {"a": 1}, None, None) == ("two", {"a": 1})
    with pytest.raises(Exception, match="no connector named 'nope'"):
        earful.ingest.cli.build_source("nope", {}, None, None)


def test_rules_command_checks_a_file(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ingest", "rules", str(EXAMPLE), "--text", "is acme down?"]) == 0
    assert "'is acme down?' -> acme" in capsys.readouterr().out
    bad = tmp_path / "bad.yaml"
    bad.write_text("subjects:\n  - name: x\n", encoding="utf-8")
    assert main(["ingest", "rules", str(bad)]) == 2
    assert "bad.yaml line 2" in capsys.readouterr().err


@pytest.mark.kafka
def test_earful_ingest_runs_a_connector_into_kafka(
    connectors: Path,
    settings_factory: Callable[..., Any],
    unique_name: Callable[[str], str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings: IngestSettings = settings_factory(
        IngestSettings, topic_checkpoints=unique_name("ckpt"), kafka_client_id=unique_name("c")
    )
    config = tmp_path / "earful.yaml"
    config.write_text(
        "connectors:\n  rss:\n    texts: ['acme is down', 'nice day', 'acme pay broken']\n",
        encoding="utf-8",
    )
    for key in ("topic_raw", "topic_deadletter", "topic_checkpoints", "kafka_client_id"):
        monkeypatch.setenv(f"EARFUL_{key.upper()}", getattr(settings, key))
    monkeypatch.setenv("EARFUL_PSEUDONYM_KEY", "cli-test-key-0123456789")
    monkeypatch.setenv("EARFUL_INGEST_METRICS_PORT", "0")
    argv = [
        "ingest",
        "rss",
        "--config",
        str(config),
        "--tracking",
        str(EXAMPLE),
        "--bootstrap",
        settings.kafka_bootstrap,
        "--idle-pages",
        "1",
    ]
    monkeypatch.setattr(
        "earful.ingest.runner.IngestRunner.install_signal_handlers", lambda self: None
    )
    assert main(argv) == 0
    assert main(argv) == 0  # a second run resumes at the stored cursor: nothing new
    reader = make_consumer(settings, group=None, topics=[])
    try:
        keys = sorted(r.key for r in read_to_end(reader, settings.topic_raw))
        stored = load_checkpoints(reader, settings.topic_checkpoints)
    finally:
        reader.close()
    assert keys == [b"replay:0", b"replay:2"]
    assert stored["fakenet"].cursor == "3"


# -- metrics port --------------------------------------------------------------------


def _occupied(port: int) -> socket.socket | None:
    sock = socket.socket()
    try:
        sock.bind(("127.0.0.1", port))
    except OSError:
        sock.close()
        return None
    sock.listen()
    return sock


def test_a_second_ingest_worker_falls_back_to_a_free_metrics_port(
    caplog: pytest.LogCaptureFixture,
) -> None:
    from prometheus_client import CollectorRegistry

    settings = IngestSettings()
    assert "ingest_metrics_port" not in settings.model_fields_set
    holder = _occupied(settings.ingest_metrics_port)
    if holder is None:
        pytest.skip(f"port {settings.ingest_metrics_port} is taken by another process")
    try:
        with caplog.at_level("WARNING"):
            earful.ingest.cli._serve_metrics(settings, CollectorRegistry())
    finally:
        holder.close()
    assert "in use (another ingest worker?); serving metrics on" in caplog.text


def test_a_metrics_port_set_on_purpose_must_be_free() -> None:
    from prometheus_client import CollectorRegistry

    holder = _occupied(0)
    assert holder is not None
    port = holder.getsockname()[1]
    try:
        with pytest.raises(ConfigError, match=f"ingest_metrics_port {port} .* is in use"):
            earful.ingest.cli._serve_metrics(
                IngestSettings(ingest_metrics_port=port), CollectorRegistry()
            )
    finally:
        holder.close()
