"""The ``earful`` command: one entry point for every worker and tool.

Each worker is its own process: ``earful ingest replay``, ``earful analyze``,
``earful sink metrics``, ``earful detect``. Common flags: ``--config``
(YAML settings file), ``--bootstrap`` (overrides ``EARFUL_KAFKA_BOOTSTRAP``),
and for workers the burst mode ``--max-messages`` / ``--idle-timeout``.

This module is the dispatcher on top of the stages: :data:`COMMANDS` names
every command, its help line and the module that defines it. Only the module
of the command being run is imported (``earful check``, the container
healthcheck, loads none of the stages); ``earful --help`` lists the commands
from the table alone. A module defines ``register(groups)``, where ``groups``
maps "root", "ingest" and "sink" to their subparser actions, and every parser
it adds sets ``func=callable(args) -> int``.
"""

from __future__ import annotations

import argparse
import contextlib
import faulthandler
import importlib
import signal
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NoReturn

from earful.errors import ConfigError

__all__ = ["COMMANDS", "GROUPS", "Command", "build_parser", "main"]


@dataclass(frozen=True, slots=True)
class Command:
    """One command the dispatcher routes: ``earful <path...>``."""

    path: tuple[str, ...]
    module: str
    help: str

    @property
    def group(self) -> str:
        return self.path[0] if len(self.path) > 1 else "root"


def _c(path: str, module: str, help: str) -> Command:
    return Command(tuple(path.split()), module, help)


_INGEST = "earful.ingest.cli"
_CONNECTOR_HELP = "run the {} connector into the raw topic"

#: Command groups with commands of their own below them.
GROUPS: dict[str, str] = {"ingest": "ingest workers", "sink": "sink workers"}

#: Every command, in the order ``earful --help`` lists them.
#: tests/earful/test_cli.py checks each module registers exactly its rows.
COMMANDS: tuple[Command, ...] = (
    _c("kafka", "earful.core_cli", "run a local Apache Kafka broker for development"),
    _c("topics", "earful.core_cli", "manage the pipeline's topics"),
    _c(
        "ingest replay",
        "earful.ingest.replay_cli",
        "replay a JSONL file of mentions to the raw topic",
    ),
    _c("ingest bluesky", _INGEST, _CONNECTOR_HELP.format("bluesky")),
    _c("ingest hackernews", _INGEST, _CONNECTOR_HELP.format("hackernews")),
    _c("ingest mastodon", _INGEST, _CONNECTOR_HELP.format("mastodon")),
    _c("ingest reddit", _INGEST, _CONNECTOR_HELP.format("reddit")),
    _c("ingest rss", _INGEST, _CONNECTOR_HELP.format("rss")),
    _c("ingest statuspage", _INGEST, _CONNECTOR_HELP.format("statuspage")),
    _c("ingest push", _INGEST, "serve the HTTP push endpoint for mentions"),
    _c("ingest rules", _INGEST, "check a tracking file; show what a text matches"),
    _c("analyze", "earful.analyze.score_cli", "score raw mentions into the scored topic"),
    _c(
        "detect",
        "earful.analyze.detect_cli",
        "window scored mentions and detect spikes, surges and outage bursts",
    ),
    _c(
        "conversation",
        "earful.analyze.conversation_cli",
        "publish official updates, the public's reaction to each, and silence signals",
    ),
    _c(
        "sink metrics",
        "earful.sinks.metrics_cli",
        "serve Prometheus metrics from the scored, windows, signals, reactions and "
        "dead-letter topics",
    ),
    _c(
        "sink signals",
        "earful.sinks.notify_cli",
        "turn detector signals into alerts on the alerts topic",
    ),
    _c(
        "sink notify",
        "earful.sinks.notify_cli",
        "deliver alerts to Slack, PagerDuty, Teams, Alertmanager, webhooks",
    ),
    _c(
        "sink receiver",
        "earful.sinks.notify_cli",
        "a local webhook receiver that prints what arrives",
    ),
    _c("check", "earful.check", "probe a worker's /readyz (or /livez) for container healthchecks"),
    _c(
        "score",
        "earful.analyze.score_cli",
        "score text lines (or --jsonl objects) the way the analyzer does",
    ),
    _c(
        "backtest",
        "earful.analyze.backtest_cli",
        "run the default detectors over a count CSV or a scored-mentions JSONL file",
    ),
    _c(
        "tone",
        "earful.comms.tone_cli",
        "review a drafted official update (acknowledgement, empathy, specifics, length)",
    ),
    _c(
        "report",
        "earful.comms.report_cli",
        "write the incident communications report (Markdown, HTML, PNG charts)",
    ),
    _c("schemas", "earful.core_cli", "write the JSON Schema files of the event contract"),
    _c("demo", "earful.demo_cli", "run the pipeline end to end on the bundled example incident"),
)


class _Parser(argparse.ArgumentParser):
    """A usage mistake is one line that points at ``--help`` (subcommands inherit this class)."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def selected_command(argv: Sequence[str]) -> Command | None:
    """The command ``argv`` asks for, from the table alone; None for help or a typo."""
    words = [w for w in argv[:2] if not w.startswith("-")]
    if not words or words[0] != argv[0]:
        return None
    path = tuple(words[:2]) if words[0] in GROUPS else (words[0],)
    return next((c for c in COMMANDS if c.path == path), None)


def _not_loaded(command: Command) -> Callable[[argparse.Namespace], int]:
    def run(args: argparse.Namespace) -> int:
        raise ConfigError(f"{command.module} did not define 'earful {' '.join(command.path)}'")

    return run


def build_parser(argv: Sequence[str] | None = None, *, load_all: bool = False) -> _Parser:
    """The parser for ``argv``: the chosen command's module is loaded, the rest are names.

    ``load_all`` loads every command module (tests walk the whole tree).
    """
    parser = _Parser(prog="earful", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    groups: dict[str, argparse._SubParsersAction[_Parser]] = {"root": sub}
    if load_all:
        modules = list(dict.fromkeys(c.module for c in COMMANDS))
    else:
        chosen = selected_command(sys.argv[1:] if argv is None else argv)
        modules = [chosen.module] if chosen is not None else []
    # In the table's order: groups where they first appear, then every command not
    # loaded as a name only (for --help and for choosing); the loaded modules add theirs.
    for command in COMMANDS:
        name = command.path[0]
        if name in GROUPS and name not in groups:
            groups[name] = sub.add_parser(name, help=GROUPS[name]).add_subparsers(
                dest="source" if name == "ingest" else "sink", required=True
            )
        if command.module not in modules:
            placeholder = groups[command.group].add_parser(command.path[-1], help=command.help)
            placeholder.set_defaults(func=_not_loaded(command))
    for module in modules:
        importlib.import_module(module).register(groups)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    from earful import console

    if hasattr(signal, "SIGUSR1"):
        # `kill -USR1 <pid>` prints every thread's stack to stderr: how to see where a
        # worker that looks stuck is waiting, without stopping it.
        with contextlib.suppress(OSError, ValueError):  # stderr without a descriptor
            faulthandler.register(signal.SIGUSR1, all_threads=True)

    try:
        # Building the parser imports the chosen command's module: Ctrl-C may land here.
        args = build_parser(argv).parse_args(argv)
    except KeyboardInterrupt:
        print("earful: interrupted", file=sys.stderr)
        return console.EXIT_INTERRUPTED
    try:
        console.configure_logging(
            verbose=bool(getattr(args, "verbose", False)), fmt=getattr(args, "log_format", None)
        )
    except ConfigError as exc:
        print(f"earful: configuration error: {exc}", file=sys.stderr)
        return console.EXIT_USAGE
    return console.run_command(args.func, args)


if __name__ == "__main__":
    sys.exit(main())
