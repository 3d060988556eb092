"""Routes, secrets and the per-subject cooldown, from configuration."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError

from earful.errors import ConfigError
from earful.settings import load_settings
from earful.sinks.delivery import DeliverySettings
from earful.sinks.notify import PagerDutyNotifier, SlackNotifier, WebhookNotifier
from earful.sinks.routing import (
    Cooldown,
    RouteConfig,
    Router,
    SecretRef,
    TargetConfig,
    build_targets,
)
from tests.sinks.notify.alerts import T0, make_alert

ROUTES = [
    RouteConfig.model_validate(
        {"subjects": ["acme"], "min_severity": "critical", "targets": ["pager"], "continue": True}
    ),
    RouteConfig(kinds=("negative_surge",), targets=("comms",)),
    RouteConfig(targets=("comms", "hook")),
]


def test_routes_match_in_order_and_continue_collects_more() -> None:
    router = Router(ROUTES, ["pager", "comms", "hook"])
    assert router.targets_for(make_alert(severity="critical")) == ["pager", "comms", "hook"]
    assert router.targets_for(make_alert(severity="warning")) == ["comms", "hook"]
    assert router.targets_for(make_alert(subject="globex", severity="critical")) == [
        "comms",
        "hook",
    ]
    assert router.targets_for(make_alert(kind="negative_surge", severity="warning")) == ["comms"]
    assert router.targets_for(make_alert(kind="negative_surge", severity="critical")) == [
        "pager",
        "comms",
    ]


def test_no_routes_means_every_target() -> None:
    assert Router([], ["a", "b"]).targets_for(make_alert()) == ["a", "b"]


def test_a_route_to_an_unknown_target_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="unknown target"):
        Router([RouteConfig(targets=("nope",))], ["comms"])


def test_a_target_without_what_its_kind_needs_is_rejected() -> None:
    with pytest.raises(ValidationError, match="needs routing_key"):
        TargetConfig(name="pd", kind="pagerduty")
    with pytest.raises(ValidationError, match="needs url, secret"):
        TargetConfig(name="hook", kind="webhook")
    with pytest.raises(ValidationError, match="exactly one"):
        SecretRef(env="A", file=Path("/x"))


def test_secrets_come_from_env_or_files_and_stay_hidden(tmp_path: Path) -> None:
    url_file = tmp_path / "slack_url"
    url_file.write_text("https://hooks.slack.example/services/T/B/file-secret\n")
    configs = [
        TargetConfig.model_validate({"name": "comms", "kind": "slack", "url": {"file": url_file}}),
        TargetConfig.model_validate(
            {"name": "pager", "kind": "pagerduty", "routing_key": {"env": "PD_KEY"}}
        ),
        TargetConfig.model_validate(
            {
                "name": "hook",
                "kind": "webhook",
                "url": "http://127.0.0.1:1/x",
                "secret": {"env": "HOOK_SECRET"},
            }
        ),
    ]
    env = {"PD_KEY": "env-routing-key", "HOOK_SECRET": "whsec_c2VjcmV0"}
    with httpx.Client() as client:
        targets = build_targets(configs, client=client, environ=env)
    slack, pager, hook = targets["comms"], targets["pager"], targets["hook"]
    assert isinstance(slack, SlackNotifier) and isinstance(pager, PagerDutyNotifier)
    assert isinstance(hook, WebhookNotifier)
    assert slack.url.get_secret_value().endswith("/file-secret")
    assert pager.routing_key.get_secret_value() == "env-routing-key"
    shown = repr(targets) + repr(configs)
    for secret in ("file-secret", "env-routing-key", "c2VjcmV0"):
        assert secret not in shown


def test_a_missing_secret_names_the_variable_not_a_value() -> None:
    config = TargetConfig.model_validate(
        {"name": "pager", "kind": "pagerduty", "routing_key": {"env": "PD_KEY"}}
    )
    with httpx.Client() as client, pytest.raises(ConfigError, match="PD_KEY is not set"):
        build_targets([config], client=client, environ={})


def test_settings_read_targets_and_routes_from_yaml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "earful.yaml"
    config.write_text(
        """
notify_cooldown_s: 120
notify_targets:
  - {name: oncall, kind: pagerduty, routing_key: {env: PD_KEY}}
  - {name: comms, kind: slack, url: {env: SLACK_URL}, cooldown_s: 30}
notify_routes:
  - {subjects: [acme], min_severity: critical, targets: [oncall], continue: true}
  - {targets: [comms]}
"""
    )
    monkeypatch.delenv("EARFUL_CONFIG", raising=False)
    settings = load_settings(DeliverySettings, config=config)
    assert [t.name for t in settings.notify_targets] == ["oncall", "comms"]
    assert settings.notify_routes[0].continue_ is True
    assert settings.notify_routes[0].min_severity == "critical"
    assert settings.notify_cooldown_s == 120
    assert settings.notify_targets[1].cooldown_s == 30


def test_cooldown_groups_a_second_alert_on_the_same_subject() -> None:
    cooldown = Cooldown(lambda target: 600.0)
    first = make_alert(dedup_key="k1", severity="warning")
    cooldown.record("comms", first, T0)
    second = make_alert(dedup_key="k2", severity="warning")
    assert cooldown.grouped_into("comms", second, T0 + timedelta(minutes=5)) == "k1"
    # another target, another subject, after the cooldown, or more severe: sent
    assert cooldown.grouped_into("pager", second, T0 + timedelta(minutes=5)) is None
    other = make_alert(dedup_key="k3", subject="globex", severity="warning")
    assert cooldown.grouped_into("comms", other, T0 + timedelta(minutes=5)) is None
    assert cooldown.grouped_into("comms", second, T0 + timedelta(minutes=10)) is None
    worse = make_alert(dedup_key="k4", severity="critical")
    assert cooldown.grouped_into("comms", worse, T0 + timedelta(minutes=5)) is None


def test_a_silence_alert_is_not_grouped_under_an_outage_alert_nor_the_reverse() -> None:
    cooldown = Cooldown(lambda target: 600.0)
    outage = make_alert(dedup_key="outage", kind="outage_burst", severity="warning")
    cooldown.record("comms", outage, T0)
    silence = make_alert(dedup_key="silence", kind="comms_silence", severity="warning")
    assert cooldown.grouped_into("comms", silence, T0 + timedelta(minutes=2)) is None
    cooldown.record("comms", silence, T0 + timedelta(minutes=2))
    # Each stream keeps its own clock: a second outage alert is still grouped...
    surge = make_alert(dedup_key="surge", kind="negative_surge", severity="warning")
    assert cooldown.grouped_into("comms", surge, T0 + timedelta(minutes=3)) == "outage"
    # ...and so is a second silence alert under the first.
    again = make_alert(dedup_key="silence-2", kind="comms_silence", severity="warning")
    assert cooldown.grouped_into("comms", again, T0 + timedelta(minutes=4)) == "silence"
