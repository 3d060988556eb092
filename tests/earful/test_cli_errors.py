"""Every subcommand meets a user's mistake with one line and a non-zero exit (issue 16).

The table names every leaf command of the parser (a new command without a row
fails :func:`test_every_command_has_a_row`) with what a user can get wrong
there: a missing file, an output that cannot be written, a broker that is not
there (``127.0.0.1:1``), Ctrl-C. Each case asserts one line on standard
error, the exit code and no traceback. Missing files and outputs run
in-process (``main``); the broker and Ctrl-C cases run the real command line,
several at a time.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from earful.cli import build_parser, main

ROOT = Path(__file__).resolve().parents[2]
TRACKING = ROOT / "examples" / "tracking.yaml"
INCIDENT = ROOT / "examples" / "acme-incident.jsonl"
NOWHERE = "127.0.0.1:1"  # nothing listens on port 1 of loopback

#: For each leaf command: arguments that make it valid apart from the mistake under test.
#: ``{missing}`` is a file that does not exist; None: the command reads no file.
MISSING_FILE: dict[str, list[str] | None] = {
    "kafka": None,
    "topics": ["topics", "create", "--config", "{missing}"],
    "ingest replay": ["ingest", "replay", "{missing}"],
    "ingest push": ["ingest", "push", "--tracking", "{missing}"],
    "ingest rules": ["ingest", "rules", "{missing}"],
    "ingest <connector>": ["ingest", "hackernews", "--tracking", "{missing}"],
    "analyze": ["analyze", "--config", "{missing}"],
    "detect": ["detect", "--config", "{missing}"],
    "conversation": ["conversation", "--config", "{missing}"],
    "sink metrics": ["sink", "metrics", "--config", "{missing}"],
    "sink notify": ["sink", "notify", "--config", "{missing}"],
    "sink signals": ["sink", "signals", "--config", "{missing}"],
    "sink receiver": None,
    "schemas": None,
    "demo": ["demo", "--file", "{missing}"],
    "score": ["score", "{missing}"],
    "backtest": ["backtest", "{missing}"],
    "backtest --mentions": ["backtest", "--mentions", "{missing}"],
    "check": ["check", "--config", "{missing}"],
    "report": ["report", "--subject", "acme", "--input", "{missing}"],
    "report export": ["report", "export", "--output", "-", "--config", "{missing}"],
    "tone": ["tone", "--file", "{missing}"],
}

#: ``{blocked}`` is a path under a regular file: no directory can be made there.
UNWRITABLE: dict[str, list[str]] = {
    "backtest --output": ["backtest", "{counts}", "--output", "{blocked}/out.csv"],
    "backtest --plot": ["backtest", "{counts}", "--output", "{ok}", "--plot", "{blocked}/p.png"],
    "report --output": [
        "report",
        "--subject",
        "acme",
        "--input",
        "{export}",
        "--output",
        "{blocked}/report",
    ],
    "report export --output": [
        "report",
        "export",
        "--output",
        "{blocked}/x.jsonl",
        "--bootstrap",
        NOWHERE,
    ],
    "schemas --dir": ["schemas", "write", "--dir", "{blocked}/schemas"],
}

#: Commands that talk to Kafka, each given the address where no broker is.
UNREACHABLE: dict[str, list[str]] = {
    "topics": ["topics", "create"],
    "ingest replay": ["ingest", "replay", str(INCIDENT)],
    "ingest push": ["ingest", "push", "--tracking", str(TRACKING), "--port", "0"],
    "ingest <connector>": ["ingest", "hackernews", "--tracking", str(TRACKING)],
    "analyze": ["analyze"],
    "detect": ["detect"],
    "conversation": ["conversation"],
    "sink metrics": ["sink", "metrics", "--port", "0"],
    "sink signals": ["sink", "signals"],
    "sink notify": ["sink", "notify"],
    "report": ["report", "--subject", "acme"],
    "report export": ["report", "export", "--output", "-"],
    "demo": ["demo"],
}

#: Commands Ctrl-C stops while they work (or wait on standard input).
INTERRUPTED: dict[str, list[str]] = {
    "score": ["score"],
    "tone": ["tone"],
    "backtest": ["backtest", "{big}", "--output", "{ok}"],
}
#: Long-running servers and workers: Ctrl-C is how they are stopped, a clean exit.
STOPPED: dict[str, list[str]] = {
    "sink receiver": ["sink", "receiver", "--port", "0"],
    "analyze": ["analyze", "--bootstrap", NOWHERE],
}


def leaf_commands() -> set[str]:
    """Every runnable command of the parser, connectors folded into one row."""
    import argparse

    def walk(parser: argparse.ArgumentParser, prefix: str) -> Iterator[str]:
        subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or not subs[0].required:
            yield prefix
        for action in subs:
            for name, child in action.choices.items():
                yield from walk(child, f"{prefix} {name}".strip())

    connectors = {f"ingest {name}" for name in _connector_names()}
    found = set(walk(build_parser(load_all=True), ""))
    return (found - connectors) | {"ingest <connector>"}


def _connector_names() -> list[str]:
    from earful.ingest.cli import connector_names

    return connector_names()


def test_every_command_has_a_row() -> None:
    rows = set(MISSING_FILE) - {"backtest --mentions"}
    assert leaf_commands() == rows


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update(
        {
            "EARFUL_KAFKA_STARTUP_WAIT_S": "1",
            "EARFUL_KAFKA_RETRY_MAX_S": "1",
            "EARFUL_RAW_HANDLES": "true",
            "EARFUL_PUSH_TOKEN": "push-token-for-the-error-tests",
            "EARFUL_PROGRESS": "0",
            "EARFUL_LOG_LEVEL": "WARNING",
        }
    )
    env.update(extra)
    return env


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(os.environ):
        if key.startswith("EARFUL_"):
            monkeypatch.delenv(key)
    for key, value in _clean_env().items():
        if key.startswith("EARFUL_"):
            monkeypatch.setenv(key, value)


def assert_one_line(err: str, pattern: str) -> None:
    lines = [line for line in err.split("\n") if line.strip()]
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    assert re.search(pattern, lines[0]), lines[0]
    assert lines[0].startswith("earful: "), lines[0]


def _fill(argv: list[str], **paths: Path) -> list[str]:
    return [a.format(**{k: str(v) for k, v in paths.items()}) for a in argv]


# -- a missing file ---------------------------------------------------------------------


@pytest.mark.parametrize("command", [c for c, argv in MISSING_FILE.items() if argv is not None])
@pytest.mark.usefixtures("clean_env")
def test_a_missing_file_is_one_line(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = MISSING_FILE[command]
    assert argv is not None
    missing = tmp_path / "nothing-here.jsonl"
    code = main(_fill(argv, missing=missing))
    _, err = capsys.readouterr()
    assert code == 2
    assert_one_line(err, f"{re.escape(str(missing))}: no such file")
    if "--config" in argv:
        assert "configuration error" in err


# -- an output that cannot be written, found before the work -------------------------------


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    counts = tmp_path / "counts.csv"
    counts.write_text(
        "timestamp,value\n"
        + "".join(
            f"2026-01-01T{h:02d}:{m:02d}:00Z,{(h * m) % 7}\n" for h in range(3) for m in range(60)
        ),
        encoding="utf-8",
    )
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory\n", encoding="utf-8")
    export = tmp_path / "export.jsonl"
    export.write_text("", encoding="utf-8")
    return {
        "counts": counts,
        "blocked": blocked,
        "export": export,
        "ok": tmp_path / "ok.csv",
        "missing": tmp_path / "missing",
    }


@pytest.mark.parametrize("command", list(UNWRITABLE))
@pytest.mark.usefixtures("clean_env")
def test_an_unwritable_output_is_one_line_before_any_work(
    command: str, files: dict[str, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.monotonic()
    code = main(_fill(UNWRITABLE[command], **files))
    _, err = capsys.readouterr()
    assert code == 2
    assert_one_line(err, f"cannot write {re.escape(str(files['blocked']))}/")
    assert not files["ok"].exists()  # the work did not start: no other output either
    assert time.monotonic() - started < 5


# -- no broker at the address --------------------------------------------------------------


def _run(argv: list[str], *, timeout_s: float, env: dict[str, str] | None = None) -> Any:
    started = time.monotonic()
    proc = subprocess.run(
        [sys.executable, "-m", "earful.cli", *argv],
        env=env or _clean_env(),
        capture_output=True,
        text=True,
        timeout=timeout_s,
        stdin=subprocess.DEVNULL,
        check=False,
    )
    return proc, time.monotonic() - started


def _in_parallel(cases: dict[str, Callable[[], None]]) -> None:
    """Run the cases four at a time; report every failure, not just the first."""
    failures: dict[str, str] = {}

    def one(name: str) -> None:
        try:
            cases[name]()
        except BaseException as exc:  # collected, then reported together
            failures[name] = f"{type(exc).__name__}: {exc}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(one, cases))
    assert not failures, "\n".join(f"{k}: {v}" for k, v in failures.items())


def test_no_broker_at_the_address_is_one_line_within_seconds() -> None:
    def case(argv: list[str]) -> Callable[[], None]:
        def check() -> None:
            proc, took = _run([*argv, "--bootstrap", NOWHERE], timeout_s=60)
            assert proc.returncode == 1, proc.stderr
            assert_one_line(proc.stderr, r"Kafka broker .*127\.0\.0\.1:1")
            assert took < 20, f"took {took:.1f}s"

        return check

    _in_parallel({name: case(argv) for name, argv in UNREACHABLE.items()})


# -- Ctrl-C ------------------------------------------------------------------------------------


def _interrupt(argv: list[str], *, after_s: float) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", *argv],
        env=_clean_env(EARFUL_KAFKA_STARTUP_WAIT_S="60"),
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    time.sleep(after_s)
    proc.send_signal(signal.SIGINT)
    try:
        _, err = proc.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        _, err = proc.communicate()
    return proc.returncode, err


def test_ctrl_c_is_one_line_and_exit_130(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write("timestamp,value\n")
        start = 1_767_225_600  # 2026-01-01
        for i in range(525_600):  # a year of minutes: still running when Ctrl-C comes
            fh.write(f"{start + 60 * i},{i % 13}\n")
    ok = tmp_path / "ok.csv"

    def case(argv: list[str]) -> Callable[[], None]:
        def check() -> None:
            code, err = _interrupt(_fill(argv, big=big, ok=ok), after_s=3.0)
            # 130, or death by SIGINT (which a shell reports as 130 too): CPython re-raises
            # the signal at exit when the interruption passed through an extension's import.
            assert code in (130, -signal.SIGINT), err
            assert_one_line(err, r"^earful: interrupted")

        return check

    _in_parallel({name: case(argv) for name, argv in INTERRUPTED.items()})


def test_ctrl_c_stops_servers_and_workers_cleanly() -> None:
    def case(argv: list[str]) -> Callable[[], None]:
        def check() -> None:
            code, err = _interrupt(argv, after_s=4.0)
            assert code in (0, 130), err
            assert "Traceback" not in err, err

        return check

    _in_parallel({name: case(argv) for name, argv in STOPPED.items()})


# -- standard output closed early (`| head`) ------------------------------------------------


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    posts = tmp_path / "posts.txt"
    posts.write_text("is acme down?\n" * 20_000, encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "earful.cli", "score", str(posts)],
        env=_clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    first = proc.stdout.readline()
    proc.stdout.close()  # as `head -1` does
    err = proc.stderr.read().decode()
    proc.stderr.close()
    proc.wait(timeout=60)
    assert first.startswith(b'{"id": 1')
    assert proc.returncode == 141
    assert err == ""


# -- a flag the command does not take, or a value it cannot read ------------------------------


@pytest.mark.parametrize(
    "argv",
    [
        ["backtest", "--bogus"],
        ["report", "--since", "yesterday-ish"],
        ["ingest", "replay"],
        ["demo", "--speed", "fast"],
        [],
    ],
)
def test_a_usage_mistake_is_one_line_pointing_at_help(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--help)" in err and "Traceback" not in err


def test_a_typo_in_the_config_file_is_one_line_with_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "earful.yaml"
    config.write_text("kafka_bootstrap: 127.0.0.1:1\ntopic_partitons: 6\n", encoding="utf-8")
    assert main(["topics", "create", "--config", str(config)]) == 2
    assert capsys.readouterr().err == (
        f"earful: configuration error: config file {config}, line 2: unknown setting "
        "'topic_partitons'; did you mean 'topic_partitions'?\n"
    )


def test_the_metrics_sink_help_names_the_topics_it_reads(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit):
        main(["sink", "--help"])
    out = " ".join(capsys.readouterr().out.split())
    assert "scored, windows, signals, reactions and dead-letter topics" in out
