"""What installing Earful puts in site-packages, and that the code imports it one way.

The stages keep their top-level folders (``ingest/``, ``analyze/``,
``sinks/``); each is reached through a link inside the package
(``earful/ingest`` -> ``../ingest``), so the installed wheel holds one
``earful`` namespace and a checkout imports the same modules by the same
names. Importing a stage by its bare folder name would load a second copy of
its modules, so no file may.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("ingest", "analyze", "sinks")
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


def test_no_module_imports_a_stage_by_its_folder_name() -> None:
    offenders = []
    for path in python_files():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
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
            offenders += [
                f"{path.relative_to(ROOT)}:{node.lineno} {n}"
                for n in names
                if n.split(".")[0] in STAGES
            ]
    assert not offenders, offenders


def test_the_stage_links_point_at_the_stage_folders() -> None:
    for stage in STAGES:
        link = ROOT / "earful" / stage
        assert link.is_symlink() and link.resolve() == (ROOT / stage).resolve()


def test_the_wheel_installs_one_earful_package_with_its_data(tmp_path: Path) -> None:
    wheels = tmp_path / "wheels"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps",
         "--wheel-dir", str(wheels), str(ROOT)],
        check=True, capture_output=True,
    )  # fmt: skip
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
            check=True, capture_output=True, text=True,
        ).stdout.strip()
    )  # fmt: skip
    before = {p.name for p in site.iterdir()}
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", "--no-index", str(wheel)],
        check=True, capture_output=True,
    )  # fmt: skip
    # Exactly what the install added: one package and its metadata.
    assert {p.name for p in site.iterdir()} - before == {"earful", dist_info}
    package = site / "earful"
    for stage in STAGES:
        assert (package / stage / "__init__.py").is_file()
        assert not (package / stage).is_symlink()
    demo = package / "data" / "acme-incident.jsonl"
    assert demo.is_file() and demo.stat().st_size > 100_000
    assert (package / "analyze" / "lexicon").is_dir()


def test_the_package_runs_without_the_checkout_on_the_path(tmp_path: Path) -> None:
    # From another directory only the installed names resolve: a module that finds its
    # data or a module by a bare stage name ("analyze") fails here, as in a wheel.
    code = (
        "from earful.analyze.scoring import Scorer\n"
        "print(Scorer().score('acme is down, cannot log in', 'en').outage.is_report)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "True"
