"""The API when the registry says no for reasons other than the request: the registry's
total cap (429 ``limit``) and no registry writer at all (503, retriable, Retry-After)."""

from __future__ import annotations

import httpx
from test_api_support import ADMIN, ServicesLike, api_settings, api_stack, auth, error_of, unique

from eventgate.api.app import create_app
from eventgate.registry.service import Registry
from eventgate.topics import ensure_topics


async def test_the_registry_total_cap_is_429(services: ServicesLike) -> None:
    settings = api_settings(services.kafka_bootstrap, services.redis_url).model_copy(
        update={"registration_max_total": 1}
    )
    async with api_stack(settings) as api:
        first = await api.call("POST", "/event-types", json={"key": unique("one"), "name": "1"})
        assert first.status_code == 201
        r = await api.call("POST", "/event-types", json={"key": unique("two"), "name": "2"})
        assert r.status_code == 429
        error = error_of(r)
        assert error["code"] == "limit" and error["details"] == {"maxTotal": 1}


async def test_without_a_registry_writer_writes_are_503_and_reads_still_work(
    services: ServicesLike,
) -> None:
    settings = api_settings(services.kafka_bootstrap, services.redis_url)
    await ensure_topics(settings)
    registry = Registry(settings, name="no-writer", is_writer_candidate=False, request_timeout_s=1)
    await registry.start()
    try:
        app = create_app(settings, registry)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://t", headers=auth(ADMIN)
        ) as client:
            r = await client.post("/api/v1/event-types", json={"key": "k", "name": "n"})
            assert r.status_code == 503 and r.headers["retry-after"] == "1"
            error = error_of(r)
            assert error["code"] == "registry_unavailable" and "retry" in error["message"]
            r = await client.get("/api/v1/event-types")
            assert r.status_code == 200 and r.json()["total"] == 0
    finally:
        await registry.stop()
