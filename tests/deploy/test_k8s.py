"""Kubernetes manifests: the schemas (kubernetes-validate --strict) and what the workers need."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
import yaml

from earful.analyze.conversation_worker import ConversationSettings
from earful.analyze.detect_worker import DetectSettings
from earful.comms.tone_http import ToneSettings
from earful.events import Alert, Severity
from earful.health import HealthSettings
from earful.settings import AnalyzerSettings, BaseWorkerSettings, ReplaySettings
from earful.sinks.delivery import DeliverySettings
from earful.sinks.metrics import MetricsSinkSettings
from earful.sinks.routing import Router
from earful.sinks.signal_alerts import SignalAlertSettings
from tests.deploy.tools import DEPLOY, WORKERS, pip_tool, run

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
    """The workers' workloads: StatefulSets, so each pod keeps its name (its instance id)."""
    return [d for d in docs() if d["kind"] in {"Deployment", "StatefulSet"}]


def worker_of(deployment: dict[str, Any]) -> str:
    """The compose service name of a Deployment's worker (its name without ``earful-``)."""
    name: str = deployment["metadata"]["name"]
    return name.removeprefix("earful-")


def container_of(deployment: dict[str, Any]) -> dict[str, Any]:
    containers: list[dict[str, Any]] = deployment["spec"]["template"]["spec"]["containers"]
    (container,) = containers
    return container


def test_one_deployment_per_worker_kind() -> None:
    commands = {worker_of(d): tuple(container_of(d)["args"]) for d in deployments()}
    assert commands == WORKERS


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["metadata"]["name"])
def test_probes_hit_the_health_server(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]["template"]["spec"]
    container = container_of(deployment)
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert ports["health"] == int(env["EARFUL_HEALTH_PORT"]) == HealthSettings().health_port
    assert env["EARFUL_HEALTH_HOST"] == "0.0.0.0"
    assert spec["terminationGracePeriodSeconds"] >= 30
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector.items() <= deployment["spec"]["template"]["metadata"]["labels"].items()
    kinds = ("startupProbe", "livenessProbe", "readinessProbe")
    paths = {kind: container[kind]["httpGet"]["path"] for kind in kinds}
    assert paths == {
        "startupProbe": "/livez",
        "livenessProbe": "/livez",
        "readinessProbe": "/readyz",
    }
    for kind in kinds:
        assert container[kind]["httpGet"]["port"] in ports


@pytest.mark.parametrize("deployment", deployments(), ids=lambda d: d["metadata"]["name"])
def test_workers_run_locked_down_with_secrets_from_the_volume(deployment: dict[str, Any]) -> None:
    spec = deployment["spec"]["template"]["spec"]
    container = container_of(deployment)
    assert spec["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    env = {e["name"]: e for e in container["env"]}
    # Stable per pod: the transactional id and the static group membership use it.
    assert env["EARFUL_INSTANCE_ID"]["valueFrom"] == {"fieldRef": {"fieldPath": "metadata.name"}}
    assert not [e for e in env.values() if "secretKeyRef" in e.get("valueFrom", {})]
    assert "envFrom" not in container
    volumes = {v["name"]: v for v in spec["volumes"]}
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    mount = mounts[env["EARFUL_SECRETS_DIR"]["value"]]
    assert mount["readOnly"] is True
    assert volumes[mount["name"]]["secret"]["secretName"] == "earful-secrets"


def test_scaling() -> None:
    """Stateful-in-Kafka workers scale by partitions; the notify and signal sinks do not."""
    by_worker = {worker_of(d): d["spec"] for d in deployments()}
    partitions = yaml.safe_load(configmap_text())["topic_partitions"]
    for name in ("analyzer", "detect", "conversation"):
        assert 1 <= by_worker[name]["replicas"] <= partitions, name
    for name in ("sink-signals", "sink-notify"):
        # Their state is read once at start-up: one replica, never two side by side
        # (a StatefulSet stops a pod before it starts its replacement).
        assert by_worker[name]["replicas"] == 1, name


def test_workers_keep_their_instance_id_across_a_rollout() -> None:
    """Static members rejoin under the same id only if the pod name is stable."""
    headless = services()["earful-workers"]
    assert headless["spec"]["clusterIP"] == "None"
    for workload in deployments():
        name = workload["metadata"]["name"]
        assert workload["kind"] == "StatefulSet", name
        assert workload["spec"]["serviceName"] == "earful-workers", name
        assert workload["spec"]["updateStrategy"] == {"type": "RollingUpdate"}, name
        labels = workload["spec"]["template"]["metadata"]["labels"]
        assert headless["spec"]["selector"].items() <= labels.items(), name


def services() -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in docs() if d["kind"] == "Service"}


@pytest.mark.parametrize(
    ("service", "deployment", "port_env"),
    [
        ("earful-sink-metrics", "earful-sink-metrics", "EARFUL_METRICS_PORT"),
        ("earful-tone", "earful-sink-notify", "EARFUL_TONE_PORT"),
    ],
)
def test_services_select_their_worker(service: str, deployment: str, port_env: str) -> None:
    svc = services()[service]
    (sink,) = [d for d in deployments() if d["metadata"]["name"] == deployment]
    labels = sink["spec"]["template"]["metadata"]["labels"]
    assert svc["spec"]["selector"].items() <= labels.items()
    container = container_of(sink)
    container_ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert {p["targetPort"] for p in svc["spec"]["ports"]} <= set(container_ports)
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert int(env[port_env]) in container_ports.values()
    if port_env == "EARFUL_TONE_PORT":
        assert env["EARFUL_TONE_HOST"] == "0.0.0.0"


def test_every_service_is_known() -> None:
    assert set(services()) == {"earful-sink-metrics", "earful-tone", "earful-workers"}


def configmap_text() -> str:
    text: str = next(d for d in docs() if d["kind"] == "ConfigMap")["data"]["earful.yaml"]
    return text


CONFIGS = [
    ("deploy/config/earful.yaml", (DEPLOY / "config" / "earful.yaml").read_text()),
    ("configmap", configmap_text()),
]
#: The settings of everything that reads the config file: the workers, their
#: health and tone servers, and the replay and topic jobs.
SETTINGS: tuple[type[BaseWorkerSettings], ...] = (
    AnalyzerSettings,
    DetectSettings,
    ConversationSettings,
    MetricsSinkSettings,
    SignalAlertSettings,
    DeliverySettings,
    ToneSettings,
    HealthSettings,
    ReplaySettings,
)


def default(cls: type[BaseWorkerSettings], field: str) -> Any:
    return cls.model_fields[field].default


@pytest.mark.parametrize(("where", "text"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_worker_config_keys_are_real_settings(where: str, text: str) -> None:
    """A misspelt key would be silently ignored by the settings loader: catch it here."""
    config = yaml.safe_load(text)
    known: set[str] = set().union(*(cls.model_fields for cls in SETTINGS))
    assert set(config) <= known, f"{where}: unknown keys {set(config) - known}"
    for cls in SETTINGS:  # and every worker accepts its values
        cls(**{k: v for k, v in config.items() if k in cls.model_fields})
    settings = MetricsSinkSettings(
        **{k: v for k, v in config.items() if k in MetricsSinkSettings.model_fields}
    )
    assert settings.metrics_subjects and settings.metrics_lag_groups


@pytest.mark.parametrize(("where", "text"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_lag_is_watched_for_every_consumer_group(where: str, text: str) -> None:
    """Each worker's (default) group with the topics it consumes; the sink watches its own."""
    base = BaseWorkerSettings

    def topics(*kinds: str) -> list[str]:
        return [default(base, f"topic_{k}") for k in kinds]

    expected = {
        default(AnalyzerSettings, "analyzer_group"): topics("raw"),
        default(DetectSettings, "detect_group"): topics("scored"),
        default(ConversationSettings, "conversation_group"): topics("scored", "signals"),
        default(SignalAlertSettings, "signal_alerts_group"): topics("signals"),
        default(DeliverySettings, "notify_group"): topics("alerts"),
    }
    lag = yaml.safe_load(text)["metrics_lag_groups"]
    assert {group: sorted(t) for group, t in lag.items()} == {
        group: sorted(t) for group, t in expected.items()
    }, where


def _alert(kind: str, severity: Severity) -> Alert:
    now = datetime(2026, 1, 1, tzinfo=UTC)
    return Alert(
        dedup_key=f"earful/{kind}",
        status="firing",
        subject="acme",
        kind=kind,
        severity=severity,
        summary=kind,
        starts_at=now,
        created_at=now,
    )


@pytest.mark.parametrize(("where", "text"), CONFIGS, ids=[c[0] for c in CONFIGS])
def test_alerts_reach_alertmanager_and_silence_pages_nobody(where: str, text: str) -> None:
    config = yaml.safe_load(text)
    settings = DeliverySettings(
        **{k: v for k, v in config.items() if k in DeliverySettings.model_fields}
    )
    kinds = {t.name: t.kind for t in settings.notify_targets}
    router = Router(settings.notify_routes, list(kinds))
    silence = router.targets_for(_alert("comms_silence", "critical"))
    outage = router.targets_for(_alert("outage_burst", "critical"))
    surge = router.targets_for(_alert("negative_surge", "warning"))
    for chosen in (silence, outage, surge):
        assert "alertmanager" in {kinds[t] for t in chosen}, where
    # Alertmanager keeps comms_silence off the pager itself (alertmanager.yml);
    # Earful's own on-call target never sees it.
    assert "on-call" in outage and "on-call" in surge
    assert "on-call" not in silence and "comms" in silence
    for target in settings.notify_targets:  # secrets come from files under /run/secrets
        for ref in (target.url, target.routing_key, target.secret):
            if ref is not None and target.kind != "alertmanager":
                assert ref.file is not None and str(ref.file).startswith("/run/secrets/")


MONITORING = K8S / "monitoring"


def monitoring_docs() -> list[dict[str, Any]]:
    return [
        d
        for p in sorted(MONITORING.glob("*.yaml"))
        for d in yaml.safe_load_all(p.read_text())
        if d and d["kind"] != "Kustomization"
    ]


def test_pod_monitors_scrape_every_worker_and_the_sink() -> None:
    monitors = {d["metadata"]["name"]: d for d in monitoring_docs() if d["kind"] == "PodMonitor"}
    assert set(monitors) == {"earful-workers", "earful-sink-metrics"}
    for workload in deployments():
        labels = workload["spec"]["template"]["metadata"]["labels"]
        ports = {p["name"] for p in container_of(workload)["ports"]}
        scraped = [
            endpoint
            for monitor in monitors.values()
            if monitor["spec"]["selector"]["matchLabels"].items() <= labels.items()
            for endpoint in monitor["spec"]["podMetricsEndpoints"]
            if endpoint["port"] in ports
        ]
        assert {e["port"] for e in scraped} >= {"health"}, workload["metadata"]["name"]
        for endpoint in scraped:  # the label the alert rules select on
            assert endpoint["relabelings"][0]["targetLabel"] == "worker"
    kustomization = yaml.safe_load((MONITORING / "kustomization.yaml").read_text())
    assert sorted(kustomization["resources"]) == sorted(
        p.name for p in MONITORING.glob("*.yaml") if p.name != "kustomization.yaml"
    )


def test_prometheus_rule_holds_exactly_the_deployed_rules() -> None:
    (rule,) = [d for d in monitoring_docs() if d["kind"] == "PrometheusRule"]
    files = sorted((DEPLOY / "prometheus" / "rules").glob("*.yml"))
    groups = [g for p in files for g in yaml.safe_load(p.read_text())["groups"]]
    assert rule["spec"]["groups"] == groups, (
        "regenerate: python deploy/scripts/prometheusrule.py > "
        "deploy/k8s/monitoring/prometheusrule.yaml"
    )
