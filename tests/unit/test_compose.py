"""docker-compose.yml cannot run here (no Docker engine), so check it against the code:
variables are known settings, images are pinned, ports and scrape targets agree."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from eventgate.devstack.kafka import KAFKA_VERSION
from eventgate.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    return loaded


def _env(service: dict[str, Any]) -> dict[str, str]:
    return {str(k): str(v) for k, v in (service.get("environment") or {}).items()}


def test_every_service_has_a_pinned_image_and_a_healthcheck(compose: dict[str, Any]) -> None:
    for name, service in compose["services"].items():
        image = service["image"]
        assert re.fullmatch(r"[\w./-]+:[\w.-]*\d[\w.-]*", image), f"{name}: unpinned {image}"
        assert not image.endswith(":latest"), name
        assert service.get("healthcheck", {}).get("test"), f"{name} has no healthcheck"


def test_eventgate_variables_are_settings_and_parse(compose: dict[str, Any]) -> None:
    for name in ("worker", "api"):
        env = _env(compose["services"][name])
        fields = {}
        for key, value in env.items():
            assert key.startswith("EVENTGATE_"), f"{name}: {key} is not an eventgate setting"
            field = key.removeprefix("EVENTGATE_").lower()
            assert field in Settings.model_fields, f"{name}: {key} is not a setting"
            # ${VAR:?message} is filled in by compose from the caller's environment.
            fields[field] = "token-from-env" if value.startswith("${") else value
        Settings(**fields)


def test_ports_and_addresses_agree(compose: dict[str, Any]) -> None:
    services = compose["services"]
    api_env, worker_env = _env(services["api"]), _env(services["worker"])
    api_port = api_env["EVENTGATE_API_PORT"]
    assert f"{api_port}:{api_port}" in services["api"]["ports"]
    assert api_env["EVENTGATE_API_HOST"] == "0.0.0.0"  # noqa: S104 - inside its container
    for env in (api_env, worker_env):
        host, port = env["EVENTGATE_KAFKA_BOOTSTRAP"].split(":")
        assert host == "kafka"
        assert f"PLAINTEXT://:{port}" in services["kafka"]["environment"]["KAFKA_LISTENERS"]
        assert env["EVENTGATE_REDIS_URL"].startswith("redis://redis:6379/")
    scrape = yaml.safe_load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = {
        t for job in scrape["scrape_configs"] for c in job["static_configs"] for t in c["targets"]
    }
    assert f"worker:{worker_env['EVENTGATE_WORKER_HTTP_PORT']}" in targets
    assert f"api:{api_port}" in targets
    for name in ("worker", "api"):
        check = " ".join(services[name]["healthcheck"]["test"])
        port = worker_env["EVENTGATE_WORKER_HTTP_PORT"] if name == "worker" else api_port
        assert f":{port}/healthz" in check


def test_kafka_image_matches_the_launcher(compose: dict[str, Any]) -> None:
    image = compose["services"]["kafka"]["image"]
    assert image == f"apache/kafka:{KAFKA_VERSION}"
    env = compose["services"]["kafka"]["environment"]
    assert env["KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR"] == "1"
    assert env["KAFKA_TRANSACTION_STATE_LOG_MIN_ISR"] == "1"


def test_mounted_folders_exist(compose: dict[str, Any]) -> None:
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("./"):
                assert (ROOT / source).exists(), source
