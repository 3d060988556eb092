"""Alertmanager's configuration (amtool check-config) and where each alert goes (routes test)."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.tools import DEPLOY, observability_tool, run

#: Needs Debian's Prometheus tools (make test installs them; make unit leaves these out).
pytestmark = pytest.mark.observability

ALERTMANAGER = DEPLOY / "alertmanager"
CONFIG = ALERTMANAGER / "alertmanager.yml"


def test_config_is_valid() -> None:
    result = run(observability_tool("amtool"), "check-config", str(CONFIG))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


@pytest.mark.parametrize(
    ("labels", "receivers"),
    [
        # Every alert reaches the default webhook too (visible with empty secrets).
        # Pipeline health: operators, paged only when critical.
        (
            {"alertname": "EarfulTargetDown", "component": "pipeline", "severity": "critical"},
            "earful-default,ops-pagerduty",
        ),
        (
            {"alertname": "EarfulConsumerLagHigh", "component": "pipeline", "severity": "warning"},
            "earful-default,ops-slack",
        ),
        # A subject's signal: critical pages on-call and informs comms.
        (
            {"alertname": "EarfulVolumeSpike", "subject": "acme", "severity": "critical"},
            "earful-default,oncall-pagerduty,comms-slack",
        ),
        (
            {"alertname": "EarfulNegativeSurge", "subject": "acme", "severity": "warning"},
            "earful-default,comms-slack",
        ),
        (
            {
                "alertname": "EarfulNegativeSentimentSurge",
                "component": "sentiment",
                "subject": "acme",
                "severity": "warning",
            },
            "earful-default,comms-slack",
        ),
        (
            {"alertname": "EarfulOfficialUpdate", "subject": "acme", "severity": "info"},
            "earful-default",
        ),
        # Communications silence: the comms team, never on-call, even when critical.
        (
            {
                "alertname": "EarfulCommsSilence",
                "kind": "comms_silence",
                "subject": "acme",
                "severity": "critical",
            },
            "earful-default,comms-slack",
        ),
    ],
)
def test_routes(labels: dict[str, str], receivers: str) -> None:
    amtool = observability_tool("amtool")
    args = [f"{k}={v}" for k, v in labels.items()]
    result = run(
        amtool,
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        f"--verify.receivers={receivers}",
        *args,
    )
    assert result.returncode == 0, f"{labels} went to {result.stdout.strip()}: {result.stderr}"
    assert result.stdout.strip() == receivers


def test_a_wrong_expectation_fails() -> None:
    """The routes test above can fail: amtool exits non-zero on a mismatch."""
    result = run(
        observability_tool("amtool"),
        "config",
        "routes",
        "test",
        f"--config.file={CONFIG}",
        "--verify.receivers=ops-pagerduty",
        "severity=warning",
        "subject=acme",
    )
    assert result.returncode != 0


def test_every_receiver_is_routed_and_secrets_come_from_files() -> None:
    config = yaml.safe_load(CONFIG.read_text())
    names = {r["name"] for r in config["receivers"]}
    routed = {config["route"]["receiver"]} | {r["receiver"] for r in config["route"]["routes"]}
    assert names == routed
    text = CONFIG.read_text()
    for inline in ("api_url:", "routing_key:", "service_key:", "webhook_url:"):
        assert inline not in text, f"{inline} would put a secret in the file; use *_file"


def test_teams_fragment_is_a_receiver_for_newer_alertmanagers() -> None:
    fragment = yaml.safe_load((ALERTMANAGER / "msteams.yml").read_text())
    (receiver,) = fragment["receivers"]
    (teams,) = receiver["msteamsv2_configs"]
    assert teams["webhook_url_file"].startswith("/run/secrets/")
    assert receiver["name"] not in {
        r["name"] for r in yaml.safe_load(CONFIG.read_text())["receivers"]
    }


def test_every_alert_reaches_the_visible_default_receiver_whatever_its_labels() -> None:
    """With the stack's empty secrets only the webhook delivers: nothing may bypass it."""
    amtool = observability_tool("amtool")
    for labels in (
        ["severity=critical", "component=pipeline", "alertname=EarfulTargetDown"],
        ["severity=critical", "subject=acme", "kind=outage_burst"],
        ["severity=warning", "kind=comms_silence", "subject=acme"],
        ["severity=info"],
        ["alertname=Unknown"],
    ):
        result = run(amtool, "config", "routes", "test", f"--config.file={CONFIG}", *labels)
        assert result.returncode == 0, result.stderr
        assert "earful-default" in result.stdout.strip().split(","), labels
