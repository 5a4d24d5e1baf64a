"""The Grafana dashboard and the alert rules only name metrics the code declares."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eventgate.metrics import Metrics, declared_names

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "deploy/grafana/dashboards/eventgate.json"
ALERTS = ROOT / "deploy/prometheus/alerts.yml"
DATASOURCES = ROOT / "deploy/grafana/provisioning/datasources/prometheus.yml"
PROVISIONING = ROOT / "deploy/grafana/provisioning/dashboards/eventgate.yml"
PROMETHEUS_OWN = {"up"}  # series Prometheus itself writes for every target
PROMQL_WORDS = {
    *("by", "without", "and", "or", "unless", "on", "ignoring", "bool", "offset"),
    *("group_left", "group_right"),
}


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression reads: identifiers that are not functions,
    aggregation keywords, label names (in ``{…}`` or ``by (…)``) or strings."""
    text = re.sub(r'"(?:[^"\\]|\\.)*"', '""', expr)  # strings
    text = re.sub(r"\{[^}]*\}", "", text)  # label matchers
    text = re.sub(r"\b(by|without|on|ignoring)\s*\([^)]*\)", "", text)  # grouping labels
    text = re.sub(r"\[[^\]]*\]", "", text)  # ranges, $__rate_interval
    names = set()
    for match in re.finditer(r"[A-Za-z_:][A-Za-z0-9_:]*", text):
        word = match.group(0)
        following = text[match.end() :].lstrip()
        if following.startswith("(") or word in PROMQL_WORDS:
            continue  # a function or aggregation
        if re.fullmatch(r"[0-9.e+-]+", word) or word in {"Inf", "NaN"}:
            continue
        names.add(word)
    return names


def test_metric_names_parser() -> None:
    expr = (
        'histogram_quantile(0.99, sum by (le) (rate(eventgate_end_to_end_seconds_bucket{job="w"}'
        '[$__rate_interval]))) / on (instance) group_left up{job=~"eventgate.*"} > 0'
    )
    assert metric_names(expr) == {"eventgate_end_to_end_seconds_bucket", "up"}


@pytest.fixture(scope="module")
def declared() -> set[str]:
    return declared_names(Metrics().registry) | PROMETHEUS_OWN


@pytest.fixture(scope="module")
def dashboard() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(DASHBOARD.read_text())
    return loaded


def _panels(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []
    for panel in dashboard["panels"]:
        found.append(panel)
        found += panel.get("panels", [])
    return [p for p in found if p["type"] != "row"]


def test_every_panel_query_names_declared_metrics(
    dashboard: dict[str, Any], declared: set[str]
) -> None:
    panels = _panels(dashboard)
    assert len(panels) >= 20
    seen: set[str] = set()
    for panel in panels:
        assert panel["targets"], f"panel {panel['title']!r} has no query"
        for target in panel["targets"]:
            names = metric_names(target["expr"])
            assert names, f"{panel['title']!r}: {target['expr']} names no metric"
            unknown = names - declared
            assert not unknown, f"{panel['title']!r} reads undeclared {sorted(unknown)}"
            seen |= names
    # The dashboard shows every metric family the code declares.
    families = {
        n.removesuffix(s) for n in declared for s in ("_bucket", "_sum", "_count") if n.endswith(s)
    }
    shown = {
        n.removesuffix(s) for n in seen for s in ("_bucket", "_sum", "_count", "") if n.endswith(s)
    }
    plain = {n for n in declared if not any(n.startswith(f) for f in families)}
    missing = (families | plain) - shown - PROMETHEUS_OWN
    assert not missing, f"declared but on no panel: {sorted(missing)}"


def test_panels_use_the_provisioned_datasource_and_fit_the_grid(dashboard: dict[str, Any]) -> None:
    uid = yaml.safe_load(DATASOURCES.read_text())["datasources"][0]["uid"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    assert dashboard["uid"] == "eventgate"
    cells: set[tuple[int, int]] = set()
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']!r} overlaps another panel"
                cells.add((x, y))
        if panel["type"] != "row":
            assert panel["datasource"]["uid"] == uid
            assert all(t["datasource"]["uid"] == uid for t in panel["targets"])


def test_compose_provisions_the_dashboard_folder() -> None:
    provider = yaml.safe_load(PROVISIONING.read_text())["providers"][0]
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    mounts = compose["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/dashboards:{provider['options']['path']}:ro" in mounts


def test_alert_rules_name_declared_metrics(declared: set[str]) -> None:
    rules = [r for g in yaml.safe_load(ALERTS.read_text())["groups"] for r in g["rules"]]
    assert len(rules) >= 8
    for rule in rules:
        names = metric_names(rule["expr"])
        assert names, rule["alert"]
        assert not names - declared, f"{rule['alert']} reads undeclared {sorted(names - declared)}"
