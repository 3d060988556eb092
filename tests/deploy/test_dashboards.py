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


@pytest.mark.observability
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


# -- one value per label -------------------------------------------------------------------

#: Panels that reduce each field to one value (stat, bar gauge, gauge, pie chart).
_REDUCING = {"stat", "bargauge", "gauge", "piechart"}


def _by_labels(expr: str) -> set[str]:
    """The labels the outermost aggregations keep: ``sum by (a, b) (...)`` -> {a, b}."""
    return {
        label.strip()
        for group in re.findall(r"\bby\s*\(([^)]*)\)", expr)
        for label in group.split(",")
        if label.strip() and label.strip() != "le"
    }


def _targets(path: Path) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    return [
        (panel, target)
        for panel in all_panels(load(path)["panels"])
        for target in panel.get("targets", [])
    ]


def single_value_problem(panel: dict[str, Any], target: dict[str, Any]) -> str | None:
    """Why ``panel`` would show one number for a query of many series, or None."""
    if panel["type"] not in _REDUCING:
        return None
    if panel.get("options", {}).get("reduceOptions", {}).get("values"):
        return None  # every row shown: one value per label already
    if target.get("format", "time_series") != "time_series":
        return (
            f"format {target.get('format')!r} with reduceOptions.values false "
            "reduces every label to one number"
        )
    if not target.get("legendFormat"):
        return "no legendFormat: the series have no names of their own"
    return None


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_no_panel_reduces_a_by_label_query_to_one_value(path: Path) -> None:
    """A table-format query is one frame: a stat or bar gauge reduces it to a single number."""
    reducing = 0
    for panel, target in _targets(path):
        reducing += panel["type"] in _REDUCING
        problem = single_value_problem(panel, target)
        assert problem is None, f"{path.name} panel {panel['id']} {panel['title']!r}: {problem}"
    assert reducing, "no reducing panel found"


def test_the_check_catches_a_reduced_table() -> None:
    """The shape the dashboards had: a by-label query as a table in a bar gauge."""
    panel = {"type": "bargauge", "options": {"reduceOptions": {"values": False}}}
    table = {"format": "table", "expr": "sum by (place) (x)", "legendFormat": "{{place}}"}
    assert single_value_problem(panel, table) is not None
    assert single_value_problem(panel, {**table, "format": "time_series"}) is None
    assert single_value_problem({**panel, "type": "timeseries"}, table) is None
    assert _by_labels("topk(10, sum by (a, b) (rate(x[5m])))") == {"a", "b"}
    assert _by_labels("histogram_quantile(0.9, sum by (le) (rate(x[5m])))") == set()


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_every_legend_names_the_labels_its_query_keeps(path: Path) -> None:
    for panel, target in _targets(path):
        if panel["type"] == "heatmap":
            continue
        legend = target.get("legendFormat", "")
        shown = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", legend))
        kept = _by_labels(target["expr"])
        assert kept <= shown, (
            f"{path.name} panel {panel['id']} {panel['title']!r}: {sorted(kept - shown)} "
            f"missing from legend {legend!r}: its series would share one name"
        )


@pytest.mark.parametrize("path", DASHBOARDS, ids=lambda p: p.name)
def test_totals_over_the_range_count_series_born_inside_it(path: Path) -> None:
    """increase(x[$__range]) misses a series' first count; the query adds it back."""
    for where, expr in dashboard_exprs(load(path)):
        for metric, _window in re.findall(r"increase\((\w+)\{[^}]*\}\[(\$__range|\d+m)\]\)", expr):
            assert f"min_over_time({metric}" in expr, f"{path.name} {where}: {expr}"


def test_dashboards_only_read_recorded_series_that_exist() -> None:
    recorded = {
        rule["record"]
        for rule_file in (DEPLOY / "prometheus" / "rules").glob("*.yml")
        for group in yaml.safe_load(rule_file.read_text())["groups"]
        for rule in group["rules"]
        if "record" in rule
    }
    for path in DASHBOARDS:
        for where, expr in dashboard_exprs(load(path)):
            for name in re.findall(r"\b\w+:\w+:\w+\b", expr):
                assert name in recorded, f"{path.name} {where} reads {name}, which no rule records"
