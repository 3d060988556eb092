"""`earful demo` end to end on the bundled incident, against the real broker."""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from tests.ports import free_port

pytestmark = pytest.mark.kafka


def test_demo_runs_the_incident_through_every_worker(kafka_bootstrap: str) -> None:
    env = {**os.environ, "EARFUL_KAFKA_BOOTSTRAP": kafka_bootstrap}
    proc = subprocess.run(
        [sys.executable, "-m", "earful.cli", "demo", "--speed", "1500",
         "--metrics-port", str(free_port())],
        env=env, capture_output=True, text=True, timeout=400, check=False,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "replayed 4170 mentions" in out
    # The outage is detected and reaches responders, with evidence.
    assert re.search(r"open\s+\w+\s+acme: outage_burst", out), out[-3000:]
    assert "FIRING" in out and "Symptoms:" in out
    deliveries = re.search(r"(\d+) deliveries, (\d+) with a valid signature, (\d+) repeated", out)
    assert deliveries is not None
    sent, signed, repeated = map(int, deliveries.groups())
    assert sent >= 1 and signed == sent and repeated == 0
    # The responder summary counts every mention of the main subject.
    counts = re.search(r"mentions: (.*)", out)
    assert counts is not None
    total = sum(int(n) for n in re.findall(r"(\d+) \(", counts.group(1)))
    assert total == 4170
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
