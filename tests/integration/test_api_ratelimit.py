"""The API's rate limit through the real app (SPEC §10 hardening): per valid token, else
per client address; 429 with the error shape and ``Retry-After``; ops endpoints exempt;
refusals counted in ``/metrics``; 0 turns it off."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from test_api_support import (
    ADMIN,
    READ,
    Api,
    ServicesLike,
    api_settings,
    api_stack,
    error_of,
)

BURST = 3


@pytest.fixture
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    # 0.01/s: nothing refills while a test runs, so the counts below are exact.
    settings = api_settings(services.kafka_bootstrap, services.redis_url).model_copy(
        update={"api_rate_per_s": 0.01, "api_burst": BURST}
    )
    async with api_stack(settings) as stack:
        yield stack


def refused_count(metrics: str, caller: str) -> float:
    line = f'eventgate_api_rate_limited_total{{caller="{caller}"}} '
    found = [row for row in metrics.splitlines() if row.startswith(line)]
    assert len(found) == 1, metrics
    return float(found[0].removeprefix(line))


async def test_a_token_past_its_burst_gets_429_with_retry_after(api: Api) -> None:
    for _ in range(BURST):
        assert (await api.call("GET", "/event-types", token=READ)).status_code == 200
    r = await api.call("GET", "/event-types", token=READ)
    assert r.status_code == 429
    error = error_of(r)
    assert error["code"] == "rate_limited" and "per second" in error["message"]
    assert error["details"]["burst"] == BURST
    assert int(r.headers["retry-after"]) >= 1
    # Another token has its own bucket; writes and reads share one per token.
    r = await api.call("POST", "/event-types", json={"key": "rl", "name": "n"})
    assert r.status_code == 201
    assert (await api.call("GET", "/event-types/rl", token=ADMIN)).status_code == 200
    metrics = (await api.client.get("/metrics")).text
    assert refused_count(metrics, "token") == 1
    assert refused_count(metrics, "address") == 0


async def test_callers_without_a_valid_token_share_their_address_bucket(api: Api) -> None:
    bad_tokens = [None, "made-up-1", "made-up-2", "made-up-3"]  # no fresh bucket for those
    for token in bad_tokens[:BURST]:
        assert (await api.call("GET", "/event-types", token=token)).status_code == 401
    r = await api.call("GET", "/event-types", token=bad_tokens[BURST])
    assert r.status_code == 429 and error_of(r)["code"] == "rate_limited"
    assert "client address" in error_of(r)["message"]
    # a valid token is counted on its own, not against the address
    assert (await api.call("GET", "/event-types", token=READ)).status_code == 200
    metrics = (await api.client.get("/metrics")).text
    assert refused_count(metrics, "address") == 1


async def test_ops_endpoints_are_never_limited(api: Api) -> None:
    for _ in range(BURST + 5):
        for path in ("/healthz", "/metrics", "/readyz"):
            r = await api.client.get(path)
            assert r.status_code in (200, 503), (path, r.text)  # never 429
    assert (await api.call("GET", "/event-types", token=None)).status_code == 401


async def test_the_limit_applies_before_the_body_is_read(api: Api) -> None:
    big = b'{"key": "k", "name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    headers = {"Content-Type": "application/json"}
    for _ in range(BURST):
        r = await api.call("POST", "/event-types", token=READ, content=big, headers=headers)
        assert r.status_code == 413
    r = await api.call("POST", "/event-types", token=READ, content=big, headers=headers)
    assert r.status_code == 429


async def test_zero_turns_the_limit_off(services: ServicesLike) -> None:
    settings = api_settings(services.kafka_bootstrap, services.redis_url).model_copy(
        update={"api_rate_per_s": 0, "api_burst": 1}
    )
    async with api_stack(settings) as api:
        for _ in range(10):
            assert (await api.call("GET", "/event-types", token=READ)).status_code == 200
