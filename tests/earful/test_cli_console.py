"""The shared console layer: error lines, path checks, the Kafka probe, progress, logs."""

from __future__ import annotations

import argparse
import io
import json
import logging
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from earful import console
from earful.console import InputError, PathError, Progress
from earful.errors import ConfigError, KafkaUnavailableError

# -- run_command: each kind of failure is one line and its exit code -------------------------


def _run(exc: BaseException, capsys: pytest.CaptureFixture[str], **args: object) -> tuple[int, str]:
    def command(_args: argparse.Namespace) -> int:
        raise exc

    code = console.run_command(command, argparse.Namespace(**args))
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    ("error", "line", "code"),
    [
        (ConfigError("bad flag"), "earful: configuration error: bad flag", 2),
        (InputError("not mentions"), "earful: data error: not mentions", 2),
        (PathError("cannot write x"), "earful: cannot write x", 2),
        (KafkaUnavailableError("no broker"), "earful: no broker", 1),
        (
            FileNotFoundError(2, "No such file or directory", "in.csv"),
            "earful: in.csv: no such file or directory",
            2,
        ),
        (
            PermissionError(13, "Permission denied", "out.csv"),
            "earful: out.csv: permission denied",
            2,
        ),
        (OSError(98, "Address already in use"), "earful: Address already in use", 1),
        (
            UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
            "earful: data error: the input is not UTF-8 text (byte 0: invalid start byte)",
            2,
        ),
        (
            RuntimeError("boom\nsecond line"),
            "earful: internal error: RuntimeError: boom (run with -v for the traceback)",
            70,
        ),
    ],
)
def test_each_failure_is_one_line(
    error: BaseException, line: str, code: int, capsys: pytest.CaptureFixture[str]
) -> None:
    got, err = _run(error, capsys)
    assert (got, err) == (code, line + "\n")


def test_a_traceback_only_with_verbose(capsys: pytest.CaptureFixture[str]) -> None:
    code, err = _run(RuntimeError("boom"), capsys, verbose=True)
    assert code == 70
    assert "Traceback (most recent call last)" in err
    assert err.rstrip().endswith("earful: internal error: RuntimeError: boom")


def test_kafka_library_errors_name_the_address(capsys: pytest.CaptureFixture[str]) -> None:
    from kafka.errors import KafkaConnectionError, KafkaTimeoutError

    for error in (KafkaConnectionError("refused"), KafkaTimeoutError("Unable to bootstrap from x")):
        code, err = _run(error, capsys, bootstrap="x:1")
        assert code == 1
        assert err.startswith("earful: no Kafka broker at x:1: is it running?")
        assert err.count("\n") == 1


def test_ctrl_c_reports_what_was_done(capsys: pytest.CaptureFixture[str]) -> None:
    done = {"sent": 0}

    def command(_args: argparse.Namespace) -> int:
        with console.interrupt_summary(lambda: f"{done['sent']} sent"):
            done["sent"] = 7
            raise KeyboardInterrupt

    assert console.run_command(command, argparse.Namespace()) == 130
    assert capsys.readouterr().err == "earful: interrupted; 7 sent\n"
    # The summary does not outlive its command.
    assert _run(KeyboardInterrupt(), capsys) == (130, "earful: interrupted\n")


# -- paths, before any work --------------------------------------------------------------------


def test_inputs_must_exist_be_files_and_be_text(tmp_path: Path) -> None:
    with pytest.raises(PathError, match="no such file"):
        console.check_input(tmp_path / "nope.csv")
    with pytest.raises(PathError, match="is a directory"):
        console.check_input(tmp_path)
    binary = tmp_path / "x.bin"
    binary.write_bytes(b"\x7fELF\x00\x01")
    with pytest.raises(InputError, match="binary file, not text"):
        console.check_input(binary)
    utf16 = tmp_path / "u16.csv"
    utf16.write_bytes("timestamp,value\n".encode("utf-16"))
    with pytest.raises(InputError, match="UTF-16"):
        console.check_input(utf16)
    with pytest.raises(ConfigError, match=r"config file .* no such file"):
        console.check_input(tmp_path / "c.yaml", config=True)
    text = tmp_path / "ok.csv"
    text.write_text("a,b\n", encoding="utf-8")
    console.check_input(text)
    console.check_input(Path("-"))  # standard input


def test_outputs_are_checked_for_files_and_directories(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    with pytest.raises(PathError, match=r"directory .* does not exist"):
        console.check_output(tmp_path / "no" / "out.csv")
    with pytest.raises(PathError, match="is not a directory"):
        console.check_output(blocked / "out.csv")
    with pytest.raises(PathError, match="it is a directory"):
        console.check_output(tmp_path)
    with pytest.raises(PathError, match="it is a file, not a directory"):
        console.check_output(blocked, "dir")
    console.check_output(tmp_path / "new" / "deeper", "dir")  # made with its parents
    console.check_output(tmp_path / "out.csv")
    console.check_output(Path("-"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root may write anywhere")
def test_an_output_in_a_read_only_directory_is_refused(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(PathError, match="permission denied"):
            console.check_output(locked / "out.csv")
    finally:
        locked.chmod(0o700)


def test_check_paths_reads_the_argument_names_and_declared_kinds(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("x", encoding="utf-8")
    with pytest.raises(PathError, match="no such file"):
        console.check_paths(argparse.Namespace(input=[blocked, tmp_path / "missing.jsonl"]))
    # A command that writes a directory says so; a file there is refused.
    with pytest.raises(PathError, match="not a directory"):
        console.check_paths(argparse.Namespace(output=blocked, output_kinds={"output": "dir"}))
    console.check_paths(argparse.Namespace(output=blocked))  # a file output may be replaced
    console.check_paths(argparse.Namespace(text="not a path", file=None))


# -- the Kafka probe ---------------------------------------------------------------------------


def test_require_kafka_fails_at_once_when_nothing_listens() -> None:
    with pytest.raises(KafkaUnavailableError, match=r"no Kafka broker at 127\.0\.0\.1:1: .*"):
        console.require_kafka("127.0.0.1:1")


def test_require_kafka_passes_when_one_address_answers() -> None:
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        console.require_kafka(f"127.0.0.1:1,PLAINTEXT://127.0.0.1:{port}")


def test_a_malformed_bootstrap_is_a_configuration_error() -> None:
    with pytest.raises(ConfigError, match="is not HOST:PORT"):
        console.require_kafka("localhost")


def test_wait_for_kafka_retries_until_its_wait_is_spent() -> None:
    sleeps: list[float] = []
    with pytest.raises(KafkaUnavailableError):
        console.wait_for_kafka("127.0.0.1:1", wait_s=0.5, sleep=sleeps.append)
    # Sleeps are not real here, so the probes repeat until the wall clock passes 0.5 s.
    assert sleeps and sleeps[0] == 0.25


# -- progress ----------------------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_progress_draws_one_line_in_place_and_clears_it() -> None:
    stream, clock = io.StringIO(), FakeClock()
    with Progress(
        "replay", total=200, unit="lines", stream=stream, enabled=True, clock=clock
    ) as bar:
        bar.update(50, "3 dead letters")
        clock.now += 0.1
        bar.update(60)  # within the interval: not drawn
        clock.now += 1.0
        bar.update(100)
    text = stream.getvalue()
    assert "\n" not in text
    frames = text.split("\r")[1:]
    assert frames[0] == "replay: 50 / 200 lines (25%) 0s, 3 dead letters"
    assert frames[1].startswith("replay: 100 / 200 lines (50%) 1s")
    assert frames[-1] == ""  # cleared at the end


def test_progress_is_silent_when_disabled() -> None:
    stream = io.StringIO()
    with Progress("backtest", stream=stream, enabled=False) as bar:
        for _ in bar.iterate(range(5)):
            pass
    assert bar.done == 5
    assert stream.getvalue() == ""


def test_progress_only_on_a_terminal_outside_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    for key in ("EARFUL_PROGRESS", "CI", "TERM"):
        monkeypatch.delenv(key, raising=False)
    assert console.progress_enabled(Tty())
    assert not console.progress_enabled(io.StringIO())  # a pipe or a file
    monkeypatch.setenv("CI", "true")
    assert not console.progress_enabled(Tty())
    monkeypatch.setenv("EARFUL_PROGRESS", "1")
    assert console.progress_enabled(io.StringIO())
    monkeypatch.setenv("EARFUL_PROGRESS", "0")
    monkeypatch.delenv("CI")
    assert not console.progress_enabled(Tty())


# -- logging -----------------------------------------------------------------------------------


def test_json_log_lines_are_one_object_each() -> None:
    formatter = console.JsonLogFormatter()
    record = logging.LogRecord("earful.x", logging.WARNING, __file__, 1, "a %s", ("b",), None)
    obj = json.loads(formatter.format(record))
    assert obj["level"] == "WARNING" and obj["logger"] == "earful.x" and obj["message"] == "a b"
    assert obj["time"].endswith("+00:00")


def test_a_worker_logs_json_with_the_flag_and_kafka_python_stays_quiet() -> None:
    code = (
        "import logging, sys\n"
        "from earful import console\n"
        "console.configure_logging(fmt=sys.argv[1])\n"
        "logging.getLogger('earful.test').info('hello')\n"
        "logging.getLogger('kafka.conn').error('library noise')\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    proc = subprocess.run(
        [sys.executable, "-c", code, "json"], env=env, capture_output=True, text=True, check=True
    )
    (line,) = proc.stderr.splitlines()
    assert json.loads(line)["message"] == "hello"
    env["EARFUL_LOG_LEVEL"] = "WARNING"
    quiet = subprocess.run(
        [sys.executable, "-c", code, "text"], env=env, capture_output=True, text=True, check=True
    )
    assert quiet.stderr == ""


def test_a_bad_log_level_or_format_is_a_configuration_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EARFUL_LOG_LEVEL", "LOUD")
    with pytest.raises(ConfigError, match="EARFUL_LOG_LEVEL='LOUD'"):
        console.configure_logging()
    monkeypatch.delenv("EARFUL_LOG_LEVEL")
    with pytest.raises(ConfigError, match="use text or json"):
        console.configure_logging(fmt="xml")


def test_a_packed_input_is_refused_with_what_it_is(tmp_path: Path) -> None:
    import gzip

    packed = tmp_path / "mentions.jsonl.gz"
    packed.write_bytes(gzip.compress(b'{"text": "x"}\n'))
    with pytest.raises(InputError, match="is gzip-compressed; unpack it first"):
        console.check_input(packed)


def test_with_json_logs_the_last_line_is_json_too() -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("EARFUL_")}
    env.update(EARFUL_KAFKA_STARTUP_WAIT_S="1", EARFUL_LOG_FORMAT="json")
    proc = subprocess.run(
        [sys.executable, "-m", "earful.cli", "analyze", "--bootstrap", "127.0.0.1:1"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert proc.returncode == 1
    lines = [json.loads(line) for line in proc.stderr.splitlines()]
    assert lines and lines[-1]["level"] == "ERROR"
    assert lines[-1]["message"].startswith("no Kafka broker at 127.0.0.1:1")
