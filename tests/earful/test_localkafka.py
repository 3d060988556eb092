from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from earful.errors import MissingToolError, PortInUseError
from earful.localkafka import LocalKafka, new_cluster_id


def test_cluster_id_is_kafka_uuid_text() -> None:
    for _ in range(200):
        cid = new_cluster_id()
        assert re.fullmatch(r"[A-Za-z0-9_\-]{22}", cid)
        assert not cid.startswith("-")


def test_missing_java_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    broker = LocalKafka(port=1, controller_port=2, root=tmp_path)
    with pytest.raises(MissingToolError, match="java not found"):
        broker.up(timeout_s=1)


def test_taken_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        broker = LocalKafka(port=port, controller_port=port + 1, state_dir=tmp_path / "b")
        with pytest.raises(PortInUseError, match=f"port {port}"):
            broker.up(timeout_s=1)


def test_status_and_down_of_a_broker_that_never_started(tmp_path: Path) -> None:
    broker = LocalKafka(port=1, controller_port=2, state_dir=tmp_path)
    assert broker.status() == "stopped"
    assert broker.down() is False
    (tmp_path / "broker.pid").write_text("999999999")  # stale pid file
    assert broker.pid() is None
    assert not (tmp_path / "broker.pid").exists()
