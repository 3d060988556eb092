"""What installing Earful puts in site-packages, and that the code imports it one way.

The stages keep their top-level folders (``ingest/``, ``analyze/``,
``sinks/``, ``comms/``); each is reached through a link inside the package
(``earful/ingest`` -> ``../ingest``), so the installed wheel holds one
``earful`` namespace and a checkout imports the same modules by the same
names. Importing a stage by its bare folder name would load a second copy of
its modules, so no file may; and the stages import each other only in the
directions ``docs/architecture.md`` draws.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("ingest", "analyze", "sinks", "comms")
#: Stages a stage's modules must not import (docs/architecture.md): the analysis
#: and the sources know nothing of the organisation's side, which is offline or
#: on demand; the organisation's side reads the analysis, never the sinks.
FORBIDDEN = {
    "ingest": ("analyze", "sinks", "comms"),
    "analyze": ("sinks", "comms"),
    "comms": ("ingest", "sinks"),
}
#: Calls that name a package in a string: importlib's, and importlib.resources.files.
_IMPORTERS = {"import_module", "__import__", "files", "find_spec"}


def python_files() -> list[Path]:
    skip = {".venv", ".git", "build", "earful.egg-info"}
    return [
        p
        for p in ROOT.rglob("*.py")
        if not (set(p.relative_to(ROOT).parts) & skip)
        and p.relative_to(ROOT).parts[:2] not in {("earful", s) for s in STAGES}
    ]


def imported_names(path: Path) -> list[tuple[int, str]]:
    """Every module name a file imports, with its line: statements and names in strings."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and getattr(node.func, "attr", getattr(node.func, "id", "")) in _IMPORTERS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names = [node.args[0].value]  # importlib.import_module("analyze.x")
        else:
            continue
        found += [(node.lineno, n) for n in names]
    return found


def test_no_module_imports_a_stage_by_its_folder_name() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for path in python_files()
        for line, name in imported_names(path)
        if name.split(".")[0] in STAGES
    ]
    assert not offenders, offenders


def test_stages_import_each_other_only_in_the_allowed_directions() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line} {name}"
        for stage, forbidden in FORBIDDEN.items()
        for path in (ROOT / stage).rglob("*.py")
        for line, name in imported_names(path)
        if name.split(".")[:2] in [["earful", other] for other in forbidden]
    ]
    assert not offenders, offenders


def test_the_stage_links_point_at_the_stage_folders() -> None:
    for stage in STAGES:
        link = ROOT / "earful" / stage
        assert link.is_symlink() and link.resolve() == (ROOT / stage).resolve()


def test_the_image_copies_every_stage_folder() -> None:
    # The image builds the wheel from a copy of the tree: a stage folder left out of it
    # leaves its link in earful/ dangling and the stage out of the installed package.
    copied = re.findall(r"^COPY (?!--from=)(\S+) ", (ROOT / "Dockerfile").read_text(), re.M)
    assert set(STAGES) <= set(copied)


def test_the_wheel_installs_one_earful_package_with_its_data(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(wheels),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    [wheel] = list(wheels.glob("earful-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    dist_info = wheel.name.split("-py3")[0] + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"earful", dist_info}

    env = tmp_path / "env"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    site = Path(
        subprocess.run(
            [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    )
    before = {p.name for p in site.iterdir()}
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True,
        capture_output=True,
    )
    # Exactly what the install added: one package and its metadata.
    assert {p.name for p in site.iterdir()} - before == {"earful", dist_info}
    package = site / "earful"
    for stage in STAGES:
        assert (package / stage / "__init__.py").is_file()
        assert not (package / stage).is_symlink()
    demo = package / "data" / "acme-incident.jsonl"
    assert demo.is_file() and demo.stat().st_size > 100_000
    assert (package / "analyze" / "lexicon").is_dir()
    assert (package / "comms" / "tone" / "__init__.py").is_file()
    assert (package / "comms" / "report" / "__init__.py").is_file()


def test_the_package_runs_without_the_checkout_on_the_path(tmp_path: Path) -> None:
    # From another directory only the installed names resolve: a module that finds its
    # data or a module by a bare stage name ("analyze") fails here, as in a wheel.
    code = (
        "from earful.analyze.scoring import Scorer\n"
        "print(Scorer().score('acme is down, cannot log in', 'en').outage.is_report)\n"
        "from earful.comms.tone import ToneChecker\n"
        "print(ToneChecker(gazetteer=None).review('We are sorry: logins fail.').verdict)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["True", "not_ready"]  # no time for the next update
