"""Grafana dashboards checked structurally, and their PromQL checked by promtool."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.tools import (
    DASHBOARDS,
    DEPLOY,
    dashboard_exprs,
    observability_tool,
    render_grafana_vars,
    run,
)

PROVISIONING = DEPLOY / "grafana" / "provisioning"
_BUILTIN_VARS = {
    "__rate_interval",
    "__interval",
    "__range",
    "__all",
    "__dashboard",
    "__from",
    "__to",
}


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def all_panels(panels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for panel in panels:
        out.append(panel)
        out.extend(all_panels(panel.get("panels", [])))
    return out


def provisioned_datasource() -> dict[str, Any]:
    doc = yaml.safe_load((PROVISIONING / "datasources" / "prometheus.yaml").read_text())
    (ds,) = doc["datasources"]
    return dict(ds)


def test_there_are_dashboards_with_unique_uids() -> None:
    assert len(DASHBOARDS) >= 2
    uids = [load(p)["uid"] for p in DASHBOARDS]
    assert len(set(uids)) == len(uids)
    assert all(0 < len(uid) <= 40 for uid in uids)


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_panels_have_unique_ids_and_fit_the_grid(path: Path) -> None:
    dashboard = load(path)
    panels = all_panels(dashboard["panels"])
    ids = [p["id"] for p in panels]
    assert len(ids) == len(set(ids)), f"duplicate panel ids in {path.name}"
    cells: set[tuple[int, int]] = set()
    for p in panels:
        g = p["gridPos"]
        assert g["w"] > 0 and g["h"] > 0 and g["x"] >= 0 and g["y"] >= 0, p["title"]
        assert g["x"] + g["w"] <= 24, f"{p['title']} overflows the 24-column grid"
        mine = {
            (x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])
        }
        assert not cells & mine, f"{p['title']} overlaps another panel"
        cells |= mine


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_variable_used_is_declared(path: Path) -> None:
    dashboard = load(path)
    declared = {v["name"] for v in dashboard["templating"]["list"]}
    text = path.read_text()
    used = {a or b for a, b in re.findall(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)", text)}
    assert used - _BUILTIN_VARS <= declared, f"undeclared: {used - _BUILTIN_VARS - declared}"


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_datasources_point_at_the_provisioned_prometheus(path: Path) -> None:
    dashboard = load(path)
    provisioned = provisioned_datasource()
    (ds_var,) = [v for v in dashboard["templating"]["list"] if v["type"] == "datasource"]
    assert ds_var["query"] == provisioned["type"] == "prometheus"
    assert ds_var["current"]["value"] == provisioned["uid"]
    refs = [p.get("datasource") for p in all_panels(dashboard["panels"]) if p["type"] != "row"]
    refs += [
        t.get("datasource") for p in all_panels(dashboard["panels"]) for t in p.get("targets", [])
    ]
    refs += [a["datasource"] for a in dashboard["annotations"]["list"] if not a.get("builtIn")]
    for ref in refs:
        assert ref == {"type": "prometheus", "uid": "${datasource}"}
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            assert var["datasource"] == {"type": "prometheus", "uid": "${datasource}"}


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_panel_has_targets_with_expressions(path: Path) -> None:
    dashboard = load(path)
    for panel in all_panels(dashboard["panels"]):
        if panel["type"] == "row":
            continue
        assert panel["targets"], f"{panel['title']} has no query"
        ref_ids = [t["refId"] for t in panel["targets"]]
        assert len(set(ref_ids)) == len(ref_ids)
    for where, expr in dashboard_exprs(dashboard):
        assert expr.strip(), f"{where} has no expr"


def test_promql_of_every_dashboard_parses(tmp_path: Path) -> None:
    """Each expr becomes a recording rule; promtool check rules parses them all."""
    rules = []
    for path in DASHBOARDS:
        for i, (where, expr) in enumerate(dashboard_exprs(load(path))):
            name = f"dashboard:check_{path.stem.replace('-', '_')}:{i}"
            rules.append(
                {"record": name, "expr": render_grafana_vars(expr), "labels": {"where": where}}
            )
    assert len(rules) > 20
    rule_file = tmp_path / "dashboards.yml"
    rule_file.write_text(yaml.safe_dump({"groups": [{"name": "dashboards", "rules": rules}]}))
    result = run(observability_tool("promtool"), "check", "rules", str(rule_file))
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_dashboard_provider_loads_the_mounted_directory() -> None:
    doc = yaml.safe_load((PROVISIONING / "dashboards" / "earful.yaml").read_text())
    (provider,) = doc["providers"]
    assert provider["type"] == "file"
    compose = (DEPLOY.parent / "docker-compose.yml").read_text()
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in compose
