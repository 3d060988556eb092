"""How every ``earful`` command talks to its user: one-line errors, progress, logging.

The command dispatcher (:func:`earful.cli.main`) runs each command inside
:func:`run_command`, which turns a user's mistake into one line on standard
error and a non-zero exit; a traceback appears only with ``-v``:

* bad settings, rules or flags: ``earful: configuration error: ...``, exit 2;
* an input that is not what the command reads (binary, the wrong kind of
  file): ``earful: data error: ...``, exit 2;
* a missing or unreadable file, an output that cannot be written:
  ``earful: <path>: no such file`` and the like, exit 2;
* no broker at the address: ``earful: no Kafka broker at HOST:PORT ...``, exit 1;
* other Earful errors and Kafka errors: ``earful: ...``, exit 1;
* Ctrl-C: ``earful: interrupted; <what was done>``, exit 130;
* standard output closed by its reader (``| head``): nothing, exit 141;
* a bug: ``earful: internal error: ...``, exit 70.

Paths are checked before any work (:func:`check_paths`): an argument named
``file``, ``input``, ``mentions``, ``tracking`` or ``config`` must be a
readable text file; ``output``, ``plot`` and ``dir`` must be writable (a
command declares a directory output with ``set_defaults(output_kinds=...)``).

One-shot commands that talk to Kafka call :func:`require_kafka` first: a TCP
probe of the bootstrap address that fails in about a second instead of
kafka-python's bootstrap timeout. Long work shows a :class:`Progress` line on
a terminal and stays quiet in pipes and CI; :func:`interrupt_summary` says
what a command had done when Ctrl-C stops it.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import socket
import sys
import time
import traceback
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any, TypeVar

from earful.errors import ConfigError, EarfulError, KafkaUnavailableError

__all__ = [
    "EXIT_BUG",
    "EXIT_INTERRUPTED",
    "EXIT_PIPE",
    "EXIT_USAGE",
    "InputError",
    "JsonLogFormatter",
    "PathError",
    "Progress",
    "check_paths",
    "configure_logging",
    "interrupt_summary",
    "progress_enabled",
    "require_kafka",
    "run_command",
    "wait_for_kafka",
]

log = logging.getLogger(__name__)

EXIT_USAGE = 2
EXIT_BUG = 70
EXIT_INTERRUPTED = 130
EXIT_PIPE = 141

#: Arguments holding a file the command reads, and those it writes.
INPUT_ARGS = ("file", "input", "mentions", "tracking", "config")
OUTPUT_ARGS = {"output": "file", "plot": "file", "dir": "dir"}
_SNIFF_BYTES = 8192
#: Archives people pass instead of the file inside them.
_PACKED = (
    (b"\x1f\x8b", "gzip-compressed"),
    (b"PK\x03\x04", "a zip archive"),
    (b"BZh", "bzip2-compressed"),
    (b"\xfd7zXZ\x00", "xz-compressed"),
    (b"\x28\xb5\x2f\xfd", "zstd-compressed"),
)

_T = TypeVar("_T")


class InputError(EarfulError):
    """The input is not what the command reads (binary, the wrong kind of file)."""


class PathError(EarfulError):
    """A file the command needs cannot be read, or an output cannot be written."""


# -- paths ----------------------------------------------------------------------


def _paths(value: Any) -> list[Path]:
    if isinstance(value, Path):
        return [value]
    if isinstance(value, (list, tuple)):
        return [v for v in value if isinstance(v, Path)]
    return []


def check_input(path: Path, *, config: bool = False) -> None:
    """A readable, non-empty-named text file, or one line saying what is wrong."""
    if str(path) == "-":
        return
    error: type[EarfulError] = ConfigError if config else PathError
    what = "config file " if config else ""
    if not path.exists():
        raise error(f"{what}{path}: no such file")
    if path.is_dir():
        raise error(f"{what}{path} is a directory, not a file")
    try:
        with path.open("rb") as fh:
            head = fh.read(_SNIFF_BYTES)
    except OSError as exc:
        raise error(f"{what}{path}: cannot read it: {exc.strerror or exc}") from exc
    packed = next((name for magic, name in _PACKED if head.startswith(magic)), None)
    if packed is not None:
        raise (ConfigError if config else InputError)(f"{what}{path} is {packed}; unpack it first")
    if b"\0" in head and not head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise (ConfigError if config else InputError)(f"{what}{path} is a binary file, not text")
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise (ConfigError if config else InputError)(
            f"{what}{path} is UTF-16 text; save it as UTF-8"
        )


def check_output(path: Path, kind: str = "file") -> None:
    """Fail now, before any work, if ``path`` cannot be written (``kind``: file or dir)."""
    if str(path) == "-":
        return
    if path.exists():
        if kind == "file" and path.is_dir():
            raise PathError(f"cannot write {path}: it is a directory")
        if kind == "dir" and not path.is_dir():
            raise PathError(f"cannot write into {path}: it is a file, not a directory")
        if not os.access(path, os.W_OK):
            raise PathError(f"cannot write {path}: permission denied")
        return
    parent = path.parent
    if kind == "dir":
        # Directories are created with their parents: the nearest existing one decides.
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.exists():
        raise PathError(f"cannot write {path}: directory {parent} does not exist")
    if not parent.is_dir():
        raise PathError(f"cannot write {path}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PathError(f"cannot write {path}: permission denied in {parent}")


def check_paths(args: argparse.Namespace) -> None:
    """Check the command's input and output paths before it starts work."""
    for name in INPUT_ARGS:
        for path in _paths(getattr(args, name, None)):
            check_input(path, config=name == "config")
    kinds = {**OUTPUT_ARGS, **(getattr(args, "output_kinds", None) or {})}
    for name, kind in kinds.items():
        for path in _paths(getattr(args, name, None)):
            check_output(path, kind)


# -- Kafka -------------------------------------------------------------------------


def _addresses(bootstrap: str) -> list[tuple[str, int]]:
    out = []
    for item in bootstrap.split(","):
        item = item.strip()
        if "://" in item:
            item = item.split("://", 1)[1]
        if not item:
            continue
        host, sep, port = item.rpartition(":")
        if not sep or not port.isdigit():
            raise ConfigError(
                f"Kafka bootstrap address {item!r} is not HOST:PORT "
                "(check --bootstrap or EARFUL_KAFKA_BOOTSTRAP)"
            )
        out.append((host.strip("[]") or "127.0.0.1", int(port)))
    if not out:
        raise ConfigError("no Kafka bootstrap address (set --bootstrap or EARFUL_KAFKA_BOOTSTRAP)")
    return out


def kafka_hint(bootstrap: str) -> str:
    return (
        f"no Kafka broker at {bootstrap}: is it running? "
        "(`earful kafka up` starts a local one; check --bootstrap or EARFUL_KAFKA_BOOTSTRAP)"
    )


def require_kafka(bootstrap: str, *, timeout_s: float = 3.0) -> None:
    """Raise :class:`KafkaUnavailableError` at once when nothing listens at ``bootstrap``.

    A TCP connect to each address: refused answers in a millisecond, a host that
    drops packets within ``timeout_s``. It does not prove a Kafka broker answers
    (the clients' own timeouts cover that), only spares the user kafka-python's
    bootstrap wait and its log lines when there is plainly none.
    """
    addresses = _addresses(bootstrap)
    deadline = time.monotonic() + timeout_s
    reasons = []
    for host, port in addresses:
        left = max(0.2, deadline - time.monotonic())
        try:
            with socket.create_connection((host, port), timeout=left):
                return
        except OSError as exc:
            reasons.append(exc.strerror or type(exc).__name__)
    raise KafkaUnavailableError(f"{kafka_hint(bootstrap)} [{'; '.join(reasons)}]")


def wait_for_kafka(
    bootstrap: str,
    *,
    wait_s: float,
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
) -> None:
    """:func:`require_kafka`, retried for ``wait_s`` (0: for ever) before giving up.

    For a worker's start-up steps that run before its loop (restoring state):
    the same patience as the loop's own ``kafka_startup_wait_s``.
    """
    deadline = time.monotonic() + wait_s if wait_s > 0 else None
    delay = 0.25
    while True:
        try:
            require_kafka(bootstrap, timeout_s=min(3.0, wait_s) if wait_s > 0 else 3.0)
            return
        except KafkaUnavailableError:
            if stop() or (deadline is not None and time.monotonic() >= deadline):
                raise
        sleep(delay)
        delay = min(delay * 2, 5.0)


def _bootstrap_of(args: argparse.Namespace) -> str:
    if getattr(args, "bootstrap", None):
        return str(args.bootstrap)
    try:
        from earful.settings import BaseWorkerSettings, load_settings

        settings = load_settings(BaseWorkerSettings, config=getattr(args, "config", None))
        return settings.kafka_bootstrap
    except Exception:  # the address is only for the message
        return os.environ.get("EARFUL_KAFKA_BOOTSTRAP", "the configured address")


# -- progress ------------------------------------------------------------------------


def progress_enabled(stream: IO[str] | None = None) -> bool:
    """Progress on a terminal only: not in a pipe, a file, CI or a dumb terminal.

    ``EARFUL_PROGRESS=1`` forces it on, ``EARFUL_PROGRESS=0`` off.
    """
    forced = os.environ.get("EARFUL_PROGRESS", "").strip().lower()
    if forced in ("1", "true", "yes", "on", "always"):
        return True
    if forced in ("0", "false", "no", "off", "never"):
        return False
    stream = stream if stream is not None else sys.stderr
    if os.environ.get("CI") or os.environ.get("TERM") == "dumb":
        return False
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


class Progress:
    """One self-rewriting line on standard error: ``replay: 12,000 / 80,000 (15%) 3s``.

    Silent unless :func:`progress_enabled`; redrawn at most every ``interval_s``.
    Use as a context manager (the line is cleared at the end) or call
    :meth:`close`. :meth:`update` takes the count done so far and an optional
    short note (``"3 dead letters"``).
    """

    def __init__(
        self,
        label: str,
        *,
        total: int | None = None,
        unit: str = "",
        stream: IO[str] | None = None,
        enabled: bool | None = None,
        interval_s: float = 0.5,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.stream = stream if stream is not None else sys.stderr
        self.enabled = progress_enabled(self.stream) if enabled is None else enabled
        self.interval_s = interval_s
        self.clock = clock
        self.started = clock()
        self.done = 0
        self._last_draw = float("-inf")
        self._width = 0

    def render(self, note: str = "") -> str:
        unit = f" {self.unit}" if self.unit else ""
        if self.total:
            share = min(1.0, self.done / self.total)
            text = f"{self.label}: {self.done:,} / {self.total:,}{unit} ({share:.0%})"
        else:
            text = f"{self.label}: {self.done:,}{unit}"
        text += f" {self.clock() - self.started:.0f}s"
        return f"{text}, {note}" if note else text

    def update(self, done: int, note: str = "") -> None:
        self.done = done
        if not self.enabled:
            return
        now = self.clock()
        if now - self._last_draw < self.interval_s:
            return
        self._last_draw = now
        self._draw(self.render(note))

    def _draw(self, text: str) -> None:
        pad = max(0, self._width - len(text))
        try:
            self.stream.write("\r" + text + " " * pad)
            self.stream.flush()
        except (OSError, ValueError):
            self.enabled = False
            return
        self._width = len(text)

    def close(self) -> None:
        """Clear the line, so what the command prints next starts clean."""
        if self.enabled and self._width:
            with contextlib.suppress(OSError, ValueError):
                self.stream.write("\r" + " " * self._width + "\r")
                self.stream.flush()
        self._width = 0

    def iterate(self, items: Iterable[_T], note: Callable[[], str] | None = None) -> Iterator[_T]:
        """Yield ``items``, counting them."""
        for n, item in enumerate(items, start=1):
            yield item
            self.update(n, note() if note is not None else "")

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# -- what was done, for Ctrl-C -----------------------------------------------------------

_summaries: list[Callable[[], str]] = []
_captured: list[str] = []


def _describe_safely(describe: Callable[[], str]) -> str:
    try:
        return describe()
    except Exception:  # a summary must never hide the interruption
        return ""


@contextlib.contextmanager
def interrupt_summary(describe: Callable[[], str]) -> Iterator[None]:
    """While inside, Ctrl-C reports ``describe()``: what the command had done by then.

    The text is taken when the interruption leaves the block (after its own
    clean-up), so it can count what that clean-up finished, e.g. a flush.
    """
    _summaries.append(describe)
    try:
        yield
    except KeyboardInterrupt:
        _captured.append(_describe_safely(describe))
        raise
    finally:
        _summaries.remove(describe)


def _interrupted_line() -> str:
    parts = [*_captured, *(_describe_safely(d) for d in reversed(_summaries))]
    _captured.clear()
    parts = [p for p in parts if p]
    return "interrupted" + (f"; {'; '.join(parts)}" if parts else "")


# -- logging ------------------------------------------------------------------------------


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        obj: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            obj["exception"] = self.formatException(record.exc_info)
        return json.dumps(obj, ensure_ascii=False)


def configure_logging(*, verbose: bool = False, fmt: str | None = None) -> None:
    """Root logging from ``-v``, ``EARFUL_LOG_LEVEL`` and ``EARFUL_LOG_FORMAT`` (text or json).

    kafka-python logs every failed connection attempt; Earful says what matters
    in its own words, so the library's lines appear only with ``-v`` (or
    ``EARFUL_KAFKA_LOG_LEVEL``).
    """
    level_name = "DEBUG" if verbose else os.environ.get("EARFUL_LOG_LEVEL", "INFO").upper()
    level = logging.getLevelName(level_name)
    if not isinstance(level, int):
        raise ConfigError(
            f"EARFUL_LOG_LEVEL={level_name!r} is not a level (DEBUG, INFO, WARNING, ERROR)"
        )
    fmt = (fmt or os.environ.get("EARFUL_LOG_FORMAT") or "text").lower()
    if fmt not in ("text", "json"):
        raise ConfigError(f"log format {fmt!r}: use text or json (EARFUL_LOG_FORMAT)")
    global _json_lines
    _json_lines = fmt == "json"
    handler = logging.StreamHandler(sys.stderr)
    if fmt == "json":
        handler.setFormatter(JsonLogFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    for old in list(root.handlers):
        if getattr(old, "earful", False):  # ours, from an earlier call
            root.removeHandler(old)
    if not root.handlers:  # as logging.basicConfig: a host that set up logging keeps it
        handler.earful = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    root.setLevel(level)
    kafka_level = os.environ.get("EARFUL_KAFKA_LOG_LEVEL")
    if verbose:
        library = logging.DEBUG
    elif kafka_level:
        parsed = logging.getLevelName(kafka_level.upper())
        library = parsed if isinstance(parsed, int) else logging.CRITICAL
    else:
        library = logging.CRITICAL
    logging.getLogger("kafka").setLevel(library)
    logging.getLogger("httpx").setLevel(logging.DEBUG if verbose else logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.DEBUG if verbose else logging.WARNING)


# -- the one place errors become lines ------------------------------------------------------


#: Set by :func:`configure_logging`: with JSON logs, the last line is a JSON object too.
_json_lines = False


def _say(message: str) -> None:
    first = " ".join(str(message).split("\n")[0].split()) if message else ""
    line = f"earful: {first}"
    if _json_lines:
        now = datetime.now(UTC).isoformat(timespec="milliseconds")
        line = json.dumps(
            {"time": now, "level": "ERROR", "logger": "earful", "message": first},
            ensure_ascii=False,
        )
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr, flush=True)


def _os_error_line(exc: OSError) -> str:
    name = exc.filename
    reason = exc.strerror or str(exc) or type(exc).__name__
    if isinstance(exc, FileNotFoundError) and name is not None:
        return f"{name}: no such file or directory"
    if isinstance(exc, PermissionError) and name is not None:
        return f"{name}: permission denied"
    if name is not None:
        return f"{name}: {reason}"
    return reason


def _silence_stdout() -> None:
    """Point standard output at /dev/null so the interpreter's final flush cannot fail."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())


def _is_kafka_error(exc: BaseException) -> bool:
    return type(exc).__module__.split(".")[0] == "kafka"


def _is_unreachable(exc: BaseException) -> bool:
    name = type(exc).__name__
    return name in ("NoBrokersAvailable", "KafkaConnectionError") or (
        name == "KafkaTimeoutError" and "bootstrap" in str(exc).lower()
    )


def run_command(func: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    """Run one command; a user's mistake becomes one line and an exit code."""
    verbose = bool(getattr(args, "verbose", False))
    try:
        check_paths(args)
        code = int(func(args) or 0)
        with contextlib.suppress(ValueError):
            sys.stdout.flush()
        return code
    except BrokenPipeError:
        # A reader such as `head` stopped reading: not an error worth a line.
        _silence_stdout()
        return EXIT_PIPE
    except KeyboardInterrupt:
        _say(_interrupted_line())
        return EXIT_INTERRUPTED
    except SystemExit:
        raise
    except BaseException as exc:
        if verbose:
            traceback.print_exc()
        line, code = _describe(exc, args)
        if code == EXIT_BUG and not verbose:
            line += " (run with -v for the traceback)"
        _say(line)
        return code


def _describe(exc: BaseException, args: argparse.Namespace) -> tuple[str, int]:
    if isinstance(exc, ConfigError):
        return f"configuration error: {exc}", EXIT_USAGE
    if isinstance(exc, InputError):
        return f"data error: {exc}", EXIT_USAGE
    if isinstance(exc, PathError):
        return str(exc), EXIT_USAGE
    if isinstance(exc, EarfulError):
        return str(exc), 1
    if _is_kafka_error(exc):
        bootstrap = _bootstrap_of(args)
        if _is_unreachable(exc):
            return kafka_hint(bootstrap), 1
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"Kafka at {bootstrap}: {first}", 1
    if isinstance(exc, UnicodeDecodeError):
        return (
            f"data error: the input is not UTF-8 text (byte {exc.start}: {exc.reason})",
            EXIT_USAGE,
        )
    if isinstance(exc, MemoryError):
        return "out of memory (is the input far larger than expected?)", 1
    if isinstance(exc, OSError):
        # A file the user named (found missing or locked mid-command) is their mistake.
        return _os_error_line(exc), EXIT_USAGE if exc.filename is not None else 1
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"internal error: {type(exc).__name__}{': ' + first if first else ''}", EXIT_BUG


def one_line(exc: BaseException) -> str:
    """An exception as one short line (for logs and summaries)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
