"""The Alertmanager notifier against a real Alertmanager (Debian's prometheus-alertmanager).

Alertmanager routes our pushed alert to a local webhook receiver; the test
checks what arrives, firing and then resolved. Without the binary the project's
installer runs; if that fails too the test fails, unless EARFUL_SKIP_ALERTMANAGER=1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from pydantic import SecretStr

from earful.sinks.notify import AlertmanagerNotifier, DeliveryVerdict, Notification
from earful.sinks.notify.receiver import LocalReceiver, ReceivedRequest
from tests.ports import free_port
from tests.sinks.notify.alerts import make_alert

#: Needs Debian's Prometheus tools (make test installs them; make unit leaves these out).
pytestmark = pytest.mark.observability

ROOT = Path(__file__).resolve().parents[3]
INSTALLER = ROOT / "deploy" / "scripts" / "install-observability.sh"


def _binary() -> str:
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name)
        if found:
            return found
    if os.environ.get("EARFUL_SKIP_ALERTMANAGER") == "1":
        pytest.skip("EARFUL_SKIP_ALERTMANAGER=1 and no Alertmanager binary")
    done = subprocess.run(["bash", str(INSTALLER)], capture_output=True, text=True, timeout=600)
    for name in ("prometheus-alertmanager", "alertmanager"):
        found = shutil.which(name)
        if found:
            return found
    pytest.fail(
        "Alertmanager is not installed and deploy/scripts/install-observability.sh could not "
        f"install it (exit {done.returncode}: {done.stderr.strip()[-500:]}). Install Debian's "
        "prometheus-alertmanager, or set EARFUL_SKIP_ALERTMANAGER=1 to skip this test."
    )


@pytest.fixture
def receiver() -> Iterator[LocalReceiver]:
    with LocalReceiver() as rx:
        yield rx


@pytest.fixture
def alertmanager(receiver: LocalReceiver, tmp_path: Path) -> Iterator[str]:
    binary = _binary()
    config = tmp_path / "alertmanager.yml"
    config.write_text(
        f"""
route:
  receiver: earful-hook
  group_by: [alertname, subject]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: earful-hook
    webhook_configs:
      - url: {receiver.url}/alertmanager
        send_resolved: true
"""
    )
    port = free_port()
    proc = subprocess.Popen(
        [
            binary,
            f"--config.file={config}",
            f"--storage.path={tmp_path / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                err = proc.stderr.read().decode() if proc.stderr else ""
                pytest.fail(f"Alertmanager did not become ready: {err[-2000:]}")
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=10)


def _webhooks_with(status: str) -> Callable[[list[ReceivedRequest]], bool]:
    def check(requests: list[ReceivedRequest]) -> bool:
        return any(r.json().get("status") == status for r in requests)

    return check


def test_alertmanager_routes_our_alert_to_the_webhook_and_resolves_it(
    alertmanager: str, receiver: LocalReceiver
) -> None:
    now = datetime.now(UTC)
    alert = make_alert(starts_at=now - timedelta(minutes=3), created_at=now)
    with httpx.Client(timeout=5) as client:
        notifier = AlertmanagerNotifier(name="am", url=SecretStr(alertmanager), client=client)
        assert notifier.deliver(Notification(alert, "x")).outcome == "delivered"
        assert receiver.wait_for(_webhooks_with("firing"), timeout_s=30), "nothing was routed"

        firing = next(r.json() for r in receiver.requests if r.json()["status"] == "firing")
        assert receiver.requests[0].path == "/alertmanager"
        assert firing["receiver"] == "earful-hook"
        [routed] = firing["alerts"]
        assert routed["labels"]["alertname"] == "EarfulOutageBurst"
        assert routed["labels"]["subject"] == "acme"
        assert routed["labels"]["severity"] == "critical"
        assert routed["labels"]["dedup_key"] == alert.dedup_key
        assert routed["annotations"]["summary"] == alert.summary
        assert "10.3x normal" in routed["annotations"]["magnitude"]
        assert routed["generatorURL"] == alert.dashboard_url

        resolved = alert.model_copy(update={"status": "resolved", "ends_at": datetime.now(UTC)})
        assert notifier.deliver(Notification(resolved, "y")).outcome == "delivered"
        assert receiver.wait_for(_webhooks_with("resolved"), timeout_s=30), "no resolve routed"
    closing = next(r.json() for r in receiver.requests if r.json()["status"] == "resolved")
    assert closing["alerts"][0]["labels"]["dedup_key"] == alert.dedup_key
    assert closing["alerts"][0]["status"] == "resolved"


def test_an_alert_whose_event_time_runs_ahead_of_the_clock_is_accepted_and_shown(
    alertmanager: str,
) -> None:
    # A replay at 60x: the signal opened two hours of event time from now.
    now = datetime.now(UTC)
    ahead = make_alert(starts_at=now + timedelta(hours=2), created_at=now)
    with httpx.Client(timeout=5) as client:
        notifier = AlertmanagerNotifier(name="am", url=SecretStr(alertmanager), client=client)
        assert notifier.deliver(Notification(ahead, "x")).outcome == "delivered"
        shown = client.get(f"{alertmanager}/api/v2/alerts").json()
        assert [a["labels"]["dedup_key"] for a in shown] == [ahead.dedup_key]
        assert shown[0]["status"]["state"] == "active"
        assert shown[0]["annotations"]["event_starts_at"].startswith(
            f"{ahead.starts_at:%Y-%m-%dT%H:%M:%S}"
        )
        resolved = ahead.model_copy(
            update={"status": "resolved", "ends_at": now + timedelta(hours=3)}
        )
        assert notifier.deliver(Notification(resolved, "y")).outcome == "delivered"
        # Resolved: Alertmanager no longer lists it as active.
        active = client.get(f"{alertmanager}/api/v2/alerts", params={"active": "true"}).json()
        assert [a for a in active if a["status"]["state"] == "active"] == []


def test_a_push_alertmanager_refuses_is_classified_final(alertmanager: str) -> None:
    with httpx.Client(timeout=5) as client:
        notifier = AlertmanagerNotifier(name="am", url=SecretStr(alertmanager), client=client)
        # Alertmanager answers 400 to an alert without labels; that must not be retried.
        response = client.post(f"{alertmanager}/api/v2/alerts", json=[{"labels": {}}])
    assert response.status_code == 400
    assert notifier.classify(response) is DeliveryVerdict.REJECTED


def test_without_alertmanager_the_test_fails_loudly_unless_skipped(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    failing = tmp_path / "install.sh"
    failing.write_text("echo 'no apt here' >&2; exit 1\n")
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setattr(f"{__name__}.INSTALLER", failing)
    monkeypatch.delenv("EARFUL_SKIP_ALERTMANAGER", raising=False)
    with pytest.raises(pytest.fail.Exception, match="no apt here"):
        _binary()
    monkeypatch.setenv("EARFUL_SKIP_ALERTMANAGER", "1")
    with pytest.raises(pytest.skip.Exception):
        _binary()
