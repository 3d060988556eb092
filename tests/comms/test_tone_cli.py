"""``earful tone`` as a user runs it: argument, file, stdin, JSON, exit codes, --serve."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from earful.cli import main

GOOD = (
    "We know many of you in the UK can't log in to the app on iOS since 09:40 UTC. "
    "We're sorry, we know how frustrating this is. Next update by 10:30 UTC."
)
HOLLOW = (
    "We are aware that card payments are failing. We apologise for any inconvenience this may "
    "have caused. Next update in 45 minutes."
)
VAGUE = "We know some of you can't log in. We're sorry. We'll share more as soon as possible."


def test_a_ready_draft_exits_0_with_a_text_report(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tone", GOOD]) == 0
    out = capsys.readouterr().out
    n = len(GOOD)  # plain ASCII, no URL: every network counts it the same
    assert out.startswith("Tone check: READY (score 100/100)")
    assert f"Bluesky {n}/300 fits | Mastodon {n}/500 fits | X {n}/280 fits" in out


def test_fail_on_sets_the_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["tone", VAGUE]) == 1  # a problem: not ready
    assert main(["tone", HOLLOW]) == 0  # warnings only pass the default gate...
    assert main(["tone", HOLLOW, "--fail-on", "warning"]) == 1  # ...not a stricter one
    assert main(["tone", VAGUE, "--fail-on", "never"]) == 0
    assert "empathy.hollow" in capsys.readouterr().out


def test_json_from_a_file_with_chosen_networks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    draft = tmp_path / "draft.txt"
    draft.write_text(VAGUE + "\n", encoding="utf-8")
    assert main(["tone", "--file", str(draft), "--json", "--networks", "x,bluesky"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["verdict"] == "not_ready"
    assert list(report["fits"]) == ["x", "bluesky"]
    vague = next(f for f in report["findings"] if f["rule"] == "next_update.vague")
    assert vague["evidence"][0]["text"] == "as soon as possible"


@pytest.mark.parametrize(
    ("stdin", "args", "error"),
    [
        (b"   \n", ["tone"], "the draft is empty"),
        (b"ok \xff\xfe", ["tone", "-"], "not UTF-8 (byte 3)"),
        (b"", ["tone", GOOD, "--networks", "myspace"], "unknown network 'myspace'"),
        (b"", ["tone", "a" * 10_001], "10001 characters"),
    ],
)
def test_bad_drafts_exit_2_with_the_reason(stdin: bytes, args: list[str], error: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "earful.cli", *args], input=stdin, capture_output=True, timeout=120
    )
    assert done.returncode == 2
    assert error in done.stderr.decode()
    assert done.stdout == b""


def test_stdin_draft() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "earful.cli", "tone", "--json"],
        input=GOOD.encode(),
        capture_output=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert json.loads(done.stdout)["verdict"] == "ready"


def test_serve_answers_and_stops_on_sigterm() -> None:
    env = {**os.environ, "EARFUL_TONE_TOKEN": "t0ken"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "tone", "--serve", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode()
        match = re.search(r"http://127\.0\.0\.1:(\d+)/v1/tone", line)
        assert match, line
        url = match.group(0)
        assert httpx.post(url, json={"text": GOOD}).status_code == 401
        r = httpx.post(url, json={"text": VAGUE}, headers={"Authorization": "Bearer t0ken"})
        assert r.status_code == 200 and r.json()["verdict"] == "not_ready"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
