"""deploy/k8s: no cluster here, so check the manifests against the code: settings are
real and parse, probes hit the endpoints the processes serve, every container has
requests and limits, selectors meet their pods, the Prometheus config finds them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from eventgate.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy/k8s"


def _docs(name: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((K8S / name).read_text()) if d]


@pytest.fixture(scope="module")
def objects() -> dict[tuple[str, str], dict[str, Any]]:
    kustomization = yaml.safe_load((K8S / "kustomization.yaml").read_text())
    found = {}
    for name in kustomization["resources"]:
        for doc in _docs(name):
            found[(doc["kind"], doc["metadata"]["name"])] = doc
    return found


def _settings_from(data: dict[str, str]) -> dict[str, str]:
    fields = {}
    for key, value in data.items():
        assert key.startswith("EVENTGATE_"), key
        field = key.removeprefix("EVENTGATE_").lower()
        assert field in Settings.model_fields, f"{key} is not a setting"
        fields[field] = value
    return fields


def test_config_and_secret_template_are_settings_and_parse(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    config = objects[("ConfigMap", "eventgate-config")]["data"]
    (secret,) = _docs("secret.template.yaml")
    assert secret["kind"] == "Secret" and secret["metadata"]["name"] == "eventgate-secrets"
    assert not set(config) & set(secret["stringData"]), "a setting in both"
    Settings(**_settings_from(config), **_settings_from(secret["stringData"]))
    for key in ("EVENTGATE_ADMIN_TOKENS", "EVENTGATE_KAFKA_SASL_PASSWORD"):
        assert key not in config, f"{key} belongs in the Secret"
    assert (
        "secret.template.yaml"
        not in (K8S / "kustomization.yaml").read_text().split("resources:")[1]
    )


@pytest.mark.parametrize(
    ("name", "port_setting"),
    [("worker", "EVENTGATE_WORKER_HTTP_PORT"), ("api", "EVENTGATE_API_PORT")],
)
def test_deployments_probe_health_and_ready_and_set_resources(
    objects: dict[tuple[str, str], dict[str, Any]], name: str, port_setting: str
) -> None:
    config = objects[("ConfigMap", "eventgate-config")]["data"]
    deployment = objects[("Deployment", f"eventgate-{name}")]
    pod = deployment["spec"]["template"]
    assert (
        deployment["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    )
    (container,) = pod["spec"]["containers"]
    assert container["args"] == [name]
    port = int(config[port_setting])
    ports = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert list(ports.values()) == [port]
    assert pod["metadata"]["annotations"]["prometheus.io/port"] == str(port)
    probes = {
        k: container[k]["httpGet"] for k in ("startupProbe", "livenessProbe", "readinessProbe")
    }
    assert probes["livenessProbe"]["path"] == "/healthz"
    assert probes["startupProbe"]["path"] == "/healthz"
    assert probes["readinessProbe"]["path"] == "/readyz"
    assert all(p["port"] in ports for p in probes.values())
    # /readyz gives each check 2 s (health.Readiness): the probe must wait longer.
    assert container["readinessProbe"]["timeoutSeconds"] > 2
    for kind in ("requests", "limits"):
        assert {"cpu", "memory"} <= container["resources"][kind].keys()
    refs = {next(iter(r.values()))["name"] for r in container["envFrom"]}
    assert refs == {"eventgate-config", "eventgate-secrets"}


def test_services_and_budgets_select_existing_pods(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    pods = [
        d["spec"]["template"]["metadata"]["labels"]
        for (k, _), d in objects.items()
        if k == "Deployment"
    ]
    selectors = [d["spec"]["selector"] for (k, _), d in objects.items() if k == "Service"]
    selectors += [
        d["spec"]["selector"]["matchLabels"]
        for (k, _), d in objects.items()
        if k == "PodDisruptionBudget"
    ]
    assert len(selectors) == 5
    for selector in selectors:
        assert any(selector.items() <= labels.items() for labels in pods), selector
    budgets = {n for (k, n) in objects if k == "PodDisruptionBudget"}
    assert budgets == {"eventgate-worker", "eventgate-api"}


def test_prometheus_kubernetes_config_names_the_headless_services(
    objects: dict[tuple[str, str], dict[str, Any]],
) -> None:
    namespace = yaml.safe_load((K8S / "kustomization.yaml").read_text())["namespace"]
    config = yaml.safe_load((ROOT / "deploy/prometheus/prometheus-kubernetes.yml").read_text())
    for job in config["scrape_configs"]:
        (sd,) = job["dns_sd_configs"]
        (name,) = sd["names"]
        service, ns = name.split(".")[:2]
        assert ns == namespace
        spec = objects[("Service", service)]["spec"]
        assert spec["clusterIP"] == "None" and spec["publishNotReadyAddresses"] is True
        assert sd["port"] == spec["ports"][0]["port"]
