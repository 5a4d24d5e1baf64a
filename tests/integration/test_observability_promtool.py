"""deploy/prometheus passes promtool: the configs (compose and Kubernetes) are valid
syntax — their targets are names that only resolve where they run —, the alert rules
load, and their unit tests (alerts_test.yml) pass."""

from __future__ import annotations

import subprocess

import pytest
from promstack import ROOT, prometheus_binaries

PROMETHEUS_DIR = ROOT / "deploy" / "prometheus"


def promtool(*args: str) -> str:
    _, tool = prometheus_binaries()
    done = subprocess.run(
        [tool, *args], cwd=PROMETHEUS_DIR, capture_output=True, text=True, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    return output


@pytest.mark.parametrize("config", ["prometheus.yml", "prometheus-kubernetes.yml"])
def test_check_config(config: str) -> None:
    out = promtool("check", "config", config)
    assert "SUCCESS" in out and "alerts.yml" in out  # the rule file is found and checked


def test_check_rules() -> None:
    out = promtool("check", "rules", "alerts.yml")
    assert "SUCCESS: 10 rules found" in out


def test_rule_unit_tests_pass() -> None:
    out = promtool("test", "rules", "alerts_test.yml")
    assert "SUCCESS" in out
