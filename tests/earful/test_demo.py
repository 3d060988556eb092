"""`earful demo` end to end on the bundled incident, against the real broker."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from earful import demo
from earful.cli import build_parser, main
from earful.settings import BaseWorkerSettings
from tests.ports import free_port

pytestmark = pytest.mark.kafka


def test_demo_runs_the_incident_through_every_worker(kafka_bootstrap: str) -> None:
    env = {**os.environ, "EARFUL_KAFKA_BOOTSTRAP": kafka_bootstrap}
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "earful.cli",
            "demo",
            "--speed",
            "1500",
            "--metrics-port",
            str(free_port()),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=400,
        check=False,
    )
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    # kafka-python's own lines stay out of the demo's output.
    assert " kafka." not in proc.stderr and " kafka." not in out, proc.stderr[-3000:]
    assert "replayed 4170 mentions" in out
    # The outage is detected and reaches responders, with evidence.
    assert re.search(r"open\s+\w+\s+acme: outage_burst", out), out[-3000:]
    assert "FIRING" in out and "Symptoms:" in out
    deliveries = re.search(r"(\d+) deliveries, (\d+) with a valid signature, (\d+) repeated", out)
    assert deliveries is not None
    sent, signed, repeated = map(int, deliveries.groups())
    assert sent >= 1 and signed == sent and repeated == 0
    if sent > 8:  # the list shows eight and says how many it leaves out
        assert f"... and {sent - 8} more not shown" in out
    # The workers and their metrics stop with the demo: no dead URL at the end.
    assert "metrics: http" not in out.split("== Local webhook receiver")[-1]
    # The responder summary (the report's numbers) counts every mention of the main
    # subject, the one most mentions name: every line of the incident names acme.
    assert "== What a responder sees (subject 'acme') ==" in out
    counts = re.search(r"mentions: (\d+) public and (\d+) official", out)
    assert counts is not None
    assert sum(map(int, counts.groups())) == 4170
    # The organisation's side: each update's measured reaction.
    assert "== Official updates and the public's reaction" in out
    assert re.search(r"statuspage Login and payment failures .*%\s+->\s+\d+%", out), out[-3000:]
    # A silence alert goes to the comms team only. Whether one opens at this
    # speed is timing: the 26-minute gap lasts about a second here, and the
    # outage signal must reach the conversation worker (scored -> detect ->
    # signals) within it. tests/analyze/test_conversation.py pins the rule on
    # this incident with no timing involved; the default 120x gives it 13 s.
    assert not re.search(r"\[on-call\] [^\n]*Communications silence", out)
    # The first update promised news "as soon as we have more information", then
    # 26 minutes passed: the tone check names that vague promise.
    assert "== Tone check of the first update" in out
    assert "promises an update without a time" in out


def test_demo_deletes_only_the_topics_of_its_own_earlier_runs(
    kafka_bootstrap: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from kafka import KafkaAdminClient
    from kafka.admin import NewTopic

    monkeypatch.setenv("EARFUL_CACHE_DIR", str(tmp_path))
    token = uuid.uuid4().hex[:6]
    ours, theirs = f"earful-demo.{token}.raw", f"demo.customer-orders-{token}"
    lookalike = f"earful-demo.x{token[1:]}.raw"  # a demo prefix, but not a run we recorded
    admin = KafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        admin.create_topics([NewTopic(t, 1, 1) for t in (ours, theirs, lookalike)])
        demo._remember_run(kafka_bootstrap, token)
        settings = BaseWorkerSettings(kafka_bootstrap=kafka_bootstrap)
        demo._drop_earlier_runs(settings)
        deadline = time.monotonic() + 30
        while ours in admin.list_topics() and time.monotonic() < deadline:
            time.sleep(0.2)
        left = set(admin.list_topics())
        assert ours not in left
        assert {theirs, lookalike} <= left
        assert demo._read_runs() == {}
        admin.delete_topics([theirs, lookalike])
    finally:
        admin.close()


def test_the_demo_starts_its_local_broker_on_the_ports_it_is_given(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import argparse

    from earful import localkafka

    made: list[tuple[int, int]] = []

    class Broker:
        def __init__(self, *, port: int, controller_port: int) -> None:
            made.append((port, controller_port))

        def status(self) -> str:
            return "running"

        def up(self) -> str:
            return "127.0.0.1:19092"

    monkeypatch.setattr(localkafka, "LocalKafka", Broker)
    monkeypatch.delenv("EARFUL_KAFKA_BOOTSTRAP", raising=False)
    argv = ["demo", "--kafka-port", "19092", "--kafka-controller-port", "19093"]
    args = build_parser(argv).parse_args(argv)
    assert isinstance(args, argparse.Namespace)
    assert demo._ensure_broker(args) == ("127.0.0.1:19092", None)  # running: not ours to stop
    assert made == [(19092, 19093)]


def test_a_taken_metrics_port_is_one_line_before_anything_starts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    import socket

    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        assert main(["demo", "--metrics-port", str(port), "--bootstrap", "127.0.0.1:1"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert f"port {port} for the metrics is in use" in err and "--metrics-port" in err


def test_the_demo_routes_a_silence_alert_to_the_comms_team_only() -> None:
    # The end-to-end run above cannot count on a silence alert (timing); the route
    # the demo configures is checked here with no timing involved.
    import argparse
    from datetime import UTC, datetime

    from earful.events import Alert
    from earful.sinks.delivery import DeliverySettings
    from earful.sinks.routing import Router

    args = argparse.Namespace(speed=120.0)
    env = demo._demo_env(BaseWorkerSettings(), "run1", "http://127.0.0.1:1/hook", args)
    settings = DeliverySettings(
        notify_targets=json.loads(env["EARFUL_NOTIFY_TARGETS"]),
        notify_routes=json.loads(env["EARFUL_NOTIFY_ROUTES"]),
    )
    router = Router(settings.notify_routes, [t.name for t in settings.notify_targets])
    now = datetime(2026, 1, 1, tzinfo=UTC)

    def alert(kind: str) -> Alert:
        return Alert(
            dedup_key=f"earful/{kind}",
            status="firing",
            subject="acme",
            kind=kind,
            severity="critical",
            summary=kind,
            starts_at=now,
            created_at=now,
        )

    assert router.targets_for(alert("comms_silence")) == ["comms", "webhook"]
    assert router.targets_for(alert("outage_burst")) == ["on-call", "webhook"]
