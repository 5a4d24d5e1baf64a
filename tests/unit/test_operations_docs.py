"""docs/operations.md keeps up with the code: every metric declared, every alert shipped."""

from __future__ import annotations

from pathlib import Path

import yaml

from eventgate.metrics import Metrics

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = (ROOT / "docs/operations.md").read_text()


def test_every_declared_metric_is_documented() -> None:
    families = list(Metrics().registry.collect())
    assert len(families) >= 25
    for family in families:
        name = family.name + ("_total" if family.type == "counter" else "")
        assert f"`{name}`" in OPERATIONS, f"docs/operations.md lacks {name}"


def test_every_alert_is_documented_with_what_to_do() -> None:
    rules = yaml.safe_load((ROOT / "deploy/prometheus/alerts.yml").read_text())
    for rule in (r for g in rules["groups"] for r in g["rules"]):
        rows = [line for line in OPERATIONS.splitlines() if line.startswith(f"| `{rule['alert']}`")]
        assert len(rows) == 1, f"docs/operations.md lacks a row for {rule['alert']}"
        assert len(rows[0].split("|")) == 5  # name, when, what to do


def test_readme_points_at_monitoring() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Monitoring\n", 1)[1].split("\n## ", 1)[0]
    for path in (
        "deploy/prometheus",
        "deploy/grafana/dashboards/eventgate.json",
        "deploy/k8s",
        "docs/operations.md",
    ):
        assert path in section
        assert (ROOT / path).exists()
