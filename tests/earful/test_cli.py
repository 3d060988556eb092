"""The dispatcher: a static table of commands, and only the chosen command's module loaded."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from collections import defaultdict

import pytest

from earful.cli import COMMANDS, GROUPS, Command, build_parser, main, selected_command

STAGES = ("earful.ingest", "earful.analyze", "earful.sinks", "earful.demo")


def _registered(module: str) -> dict[tuple[str, ...], str | None]:
    """What ``module.register`` adds: command path -> help line."""
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    groups = {"root": sub, **{g: sub.add_parser(g).add_subparsers() for g in GROUPS}}
    importlib.import_module(module).register(groups)
    found: dict[tuple[str, ...], str | None] = {}
    for group, action in groups.items():
        helps = {a.dest: a.help for a in action._choices_actions}
        for name in action.choices:
            if group == "root" and name in GROUPS:
                continue
            found[(name,) if group == "root" else (group, name)] = helps.get(name)
    return found


def test_each_module_registers_exactly_its_rows_of_the_table() -> None:
    rows: dict[str, dict[tuple[str, ...], str]] = defaultdict(dict)
    for command in COMMANDS:
        rows[command.module][command.path] = command.help
    for module, expected in rows.items():
        assert _registered(module) == expected, module


def test_the_table_names_every_connector() -> None:
    from earful.ingest.cli import connector_names

    listed = {c.path[1] for c in COMMANDS if c.module == "earful.ingest.cli"}
    assert set(connector_names()) <= listed


def test_paths_are_unique_and_groups_known() -> None:
    paths = [c.path for c in COMMANDS]
    assert len(paths) == len(set(paths))
    assert all(len(p) == 1 or p[0] in GROUPS for p in paths)


@pytest.mark.parametrize(
    ("argv", "path"),
    [
        (["check"], ("check",)),
        (["sink", "notify", "--port", "1"], ("sink", "notify")),
        (["ingest", "mastodon"], ("ingest", "mastodon")),
        (["ingest", "--help"], None),
        (["--help"], None),
        (["analyse"], None),
        ([], None),
    ],
)
def test_the_command_is_found_from_the_table(argv: list[str], path: tuple[str, ...] | None) -> None:
    chosen = selected_command(argv)
    assert (chosen.path if isinstance(chosen, Command) else None) == path


def test_help_and_check_load_no_stage() -> None:
    # A fresh interpreter: which earful modules do the parsers of --help and check import?
    code = (
        "import sys, json\n"
        "from earful.cli import build_parser\n"
        "build_parser(['--help'])\n"
        "build_parser(['check'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('earful'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = json.loads(out.stdout)
    assert "earful.check" in loaded
    assert not [m for m in loaded if m.startswith(STAGES)], loaded


def test_a_command_loads_only_its_module() -> None:
    code = (
        "import sys, json\n"
        "from earful.cli import build_parser\n"
        "build_parser(['tone', '--json'])\n"
        "print(json.dumps(sorted(m for m in sys.modules if m.endswith('_cli'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert json.loads(out.stdout) == ["earful.comms.tone_cli"]


def test_top_level_help_lists_every_command_in_table_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    listing = capsys.readouterr().out
    firsts = list(dict.fromkeys(c.path[0] for c in COMMANDS))
    assert "{" + ",".join(firsts) + "}" in listing.replace("\n", "").replace(" ", "")
    assert all(c.help.split()[0] in listing for c in COMMANDS if len(c.path) == 1)


def test_a_misspelt_command_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["analyse"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "invalid choice: 'analyse'" in err


def test_the_full_tree_builds() -> None:
    parser = build_parser(load_all=True)
    args = parser.parse_args(["sink", "receiver", "--port", "0"])
    assert callable(args.func)
