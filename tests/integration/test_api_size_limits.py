"""Request size limits of POST /events (SPEC §10: up to 500 events of up to one record
each): its own body limit (500 records), 413 with the error shape whether or not the
client declares a Content-Length, over 500 events 422, an oversized item rejected on its
own. The 1 MiB limit of the other routes is tested in test_api_hostile.py."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import orjson
import pytest
from test_api_support import PRODUCER, Api, ServicesLike, api_settings, api_stack, error_of

from eventgate.api.routes.events import MAX_EVENTS

RECORD = 1024  # the smallest max_record_bytes: keeps the bodies of these tests small
EVENTS_LIMIT = MAX_EVENTS * RECORD + 64 * 1024
JSON = {"Content-Type": "application/json"}


def event(index: int, pad: int = 0) -> dict[str, Any]:
    return {"eventTypeKey": "size", "keyValue": f"c-{index}", "params": {"pad": "x" * pad}}


async def chunks(body: bytes, size: int = 64 * 1024) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.fixture(scope="module")
async def api(services: ServicesLike) -> AsyncIterator[Api]:
    """An API whose records are at most ``RECORD`` bytes."""
    settings = api_settings(services.kafka_bootstrap, services.redis_url).model_copy(
        update={"max_record_bytes": RECORD}
    )
    async with api_stack(settings) as stack:
        yield stack


async def test_the_events_body_limit_is_500_records_with_or_without_content_length(
    api: Api,
) -> None:
    over = orjson.dumps({"events": [event(i, pad=1500) for i in range(400)]})
    assert len(over) > EVENTS_LIMIT
    for content in (over, chunks(over)):
        r = await api.call("POST", "/events", token=PRODUCER, content=content, headers=JSON)
        assert r.status_code == 413, r.text
        error = error_of(r)
        assert error["code"] == "payload_too_large"
        assert error["details"] == {"maxBytes": EVENTS_LIMIT}
    # 500 events each near the record limit fit (the general 1 MiB limit aside)
    fits = orjson.dumps({"events": [event(i, pad=RECORD - 100) for i in range(MAX_EVENTS)]})
    assert len(fits) <= EVENTS_LIMIT
    r = await api.call("POST", "/events", token=PRODUCER, content=chunks(fits), headers=JSON)
    assert r.status_code == 202, r.text
    assert r.json()["queued"] == MAX_EVENTS


async def test_events_past_500_or_past_the_record_limit_are_refused(api: Api) -> None:
    body = {"events": [event(i) for i in range(MAX_EVENTS + 1)]}
    r = await api.call("POST", "/events", token=PRODUCER, json=body)
    assert r.status_code == 422
    error = error_of(r)
    assert error["code"] == "invalid_request" and "events" in error["message"]
    body = {"events": [event(0), event(1, pad=2 * RECORD)]}
    r = await api.call("POST", "/events", token=PRODUCER, json=body)
    assert r.status_code == 202, r.text
    items = r.json()["items"]
    assert [i["status"] for i in items] == ["queued", "rejected"]
    assert items[1]["reason"] == "too_large"


async def test_bodies_over_1_mib_are_fine_on_events_only(services: ServicesLike) -> None:
    async with api_stack(api_settings(services.kafka_bootstrap, services.redis_url)) as api:
        body = orjson.dumps({"events": [event(i, pad=2600) for i in range(MAX_EVENTS)]})
        assert 1024 * 1024 < len(body) < 2 * 1024 * 1024
        r = await api.call("POST", "/events", token=PRODUCER, content=body, headers=JSON)
        assert r.status_code == 202 and r.json()["queued"] == MAX_EVENTS
        r = await api.call("PUT", "/workflows/w", content=body, headers=JSON)
        assert r.status_code == 413 and error_of(r)["details"] == {"maxBytes": 1024 * 1024}
