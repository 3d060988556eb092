"""Kubernetes manifests: the schemas (kubernetes-validate --strict) and what the workers need."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from earful.health import HealthSettings
from sinks.metrics import SinkMetricsSettings
from tests.deploy.tools import DEPLOY, pip_tool, run

K8S = DEPLOY / "k8s"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")


def docs() -> list[dict[str, Any]]:
    return [d for p in MANIFESTS for d in yaml.safe_load_all(p.read_text()) if d]


def test_manifests_match_the_kubernetes_schemas() -> None:
    result = run(pip_tool("kubernetes-validate"), "--strict", *map(str, MANIFESTS), timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("passed") == len(docs())


def test_kustomization_lists_every_manifest() -> None:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(p.name for p in MANIFESTS)


def deployments() -> list[dict[str, Any]]:
    return [d for d in docs() if d["kind"] == "Deployment"]


def test_one_deployment_per_worker_kind() -> None:
    commands = {
        tuple(d["spec"]["template"]["spec"]["containers"][0]["args"]) for d in deployments()
    }
    assert {("analyze",), ("sink", "metrics"), ("sink", "alerts")} <= commands
    assert len(commands) == len(deployments())


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["metadata"]["name"])
def test_probes_hit_the_health_server(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]["template"]["spec"]
    (container,) = spec["containers"]
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ports["health"] == int(env["EARFUL_HEALTH_PORT"]) == HealthSettings().health_port
    assert env["EARFUL_HEALTH_HOST"] == "0.0.0.0"
    paths = {
        kind: container[kind]["httpGet"]["path"]
        for kind in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert paths == {
        "startupProbe": "/livez",
        "livenessProbe": "/livez",
        "readinessProbe": "/readyz",
    }
    for kind in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert container[kind]["httpGet"]["port"] in ports
    assert spec["terminationGracePeriodSeconds"] >= 30
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()


def test_metrics_service_selects_the_metrics_sink() -> None:
    (service,) = [d for d in docs() if d["kind"] == "Service"]
    (sink,) = [d for d in deployments() if d["metadata"]["name"] == "earful-sink-metrics"]
    labels = sink["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    container_ports = {
        p["name"] for p in sink["spec"]["template"]["spec"]["containers"][0]["ports"]
    }
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= container_ports


CONFIGS = [
    ("deploy/config/earful.yaml", (DEPLOY / "config" / "earful.yaml").read_text()),
    ("configmap", next(d for d in docs() if d["kind"] == "ConfigMap")["data"]["earful.yaml"]),
]


@pytest.mark.parametrize(("where", "text"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_worker_config_keys_are_real_settings(where: str, text: str) -> None:
    """A misspelt key would be silently ignored by the settings loader: catch it here."""
    from earful import settings as core

    config = yaml.safe_load(text)
    known: set[str] = set(SinkMetricsSettings.model_fields) | set(HealthSettings.model_fields)
    for cls in (core.AnalyzerSettings, core.AlertSinkSettings, core.ReplaySettings):
        known |= set(cls.model_fields)
    assert set(config) <= known, f"{where}: unknown keys {set(config) - known}"
    settings = SinkMetricsSettings(
        **{k: v for k, v in config.items() if k in SinkMetricsSettings.model_fields}
    )
    assert settings.metrics_subjects and settings.metrics_lag_groups
