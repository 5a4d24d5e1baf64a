"""POST /events, the 24 h figures of the list and the event history, through the API with
a running processor on the real broker and Redis."""

from __future__ import annotations

import asyncio
from typing import Any

from streams import pipeline
from test_api_support import api_stack

from eventgate.connections import redis_client
from eventgate.counters.store import CounterStore
from eventgate.settings import Settings


async def _until(check: Any, timeout: float = 30) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            found = await check()
            if found:
                return found
            await asyncio.sleep(0.2)


async def test_posted_events_reach_the_figures_and_the_history(settings: Settings) -> None:
    settings = settings.model_copy(update={"producer_tokens": ("test-producer-token",)})
    admin = {"Authorization": "Bearer test-admin-token"}
    producer = {"Authorization": "Bearer test-producer-token"}
    async with api_stack(settings) as api, pipeline(settings):
        client = api.client
        created = await client.post(
            "/api/v1/event-types",
            headers=admin,
            json={"key": "order", "name": "Order", "category": "click"},
        )
        assert created.status_code == 201, created.text
        workflow = {"name": "Thanks", "status": "active", "launchOn": ["order"]}
        put = await client.put("/api/v1/workflows/wf-thanks", headers=admin, json=workflow)
        assert put.status_code in (200, 201), put.text

        events = [
            {"eventTypeKey": "order", "keyValue": "c1", "eventId": "o-1", "params": {"n": 1}},
            {"eventTypeKey": "order", "keyValue": "c2", "eventId": "o-2"},
            {"eventTypeKey": "order", "keyValue": "c1", "eventId": "o-1"},  # a retry
            {"eventTypeKey": "bad key", "keyValue": "c3"},
            {"keyValue": "c4"},
            [1, 2],
        ]
        answer = await client.post("/api/v1/events", headers=producer, json={"events": events})
        assert answer.status_code == 202, answer.text
        body = answer.json()
        assert body["queued"] == 3 and body["rejected"] == 3
        assert [i["status"] for i in body["items"]] == ["queued"] * 3 + ["rejected"] * 3
        assert [i["reason"] for i in body["items"][3:]] == [
            "invalid_key",
            "missing_key",
            "not_object",
        ]
        # The read scope cannot publish; an empty batch is a 422.
        read = {"Authorization": "Bearer test-read-token"}
        denied = await client.post("/api/v1/events", headers=read, json={"events": events})
        assert denied.status_code == 403
        empty = await client.post("/api/v1/events", headers=producer, json={"events": []})
        assert empty.status_code == 422

        async def figures() -> dict[str, Any] | None:
            page = (await client.get("/api/v1/event-types", headers=admin)).json()
            row = next(i for i in page["items"] if i["key"] == "order")
            return row if row["volume24h"] == 2 else None

        row = await _until(figures)
        assert (row["launched24h"], row["errors24h"], row["rejected24h"]) == (2, 0, 0)
        for key in ("aaa.quiet", "zzz.quiet"):
            quiet = {"key": key, "name": key, "category": "other"}
            assert (await client.post("/api/v1/event-types", headers=admin, json=quiet)).is_success
        by_volume = await client.get(
            "/api/v1/event-types", headers=admin, params={"sort": "-volume24h", "limit": 2}
        )
        assert [i["key"] for i in by_volume.json()["items"]] == ["order", "aaa.quiet"]
        ascending = await client.get(
            "/api/v1/event-types", headers=admin, params={"sort": "volume24h", "offset": 2}
        )
        assert [i["key"] for i in ascending.json()["items"]] == ["order"]

        async def history() -> dict[str, Any] | None:
            page = (await client.get("/api/v1/event-types/order/history", headers=admin)).json()
            return page if len(page["items"]) == 3 else None

        page = await _until(history)
        outcomes = sorted((i["eventId"], i["outcome"]) for i in page["items"])
        assert outcomes == [("o-1", "accepted"), ("o-1", "duplicate"), ("o-2", "accepted")]
        accepted = [i for i in page["items"] if i["outcome"] == "accepted"]
        assert all(i["launchedWorkflows"] == ["wf-thanks"] for i in accepted)

        one = await client.get("/api/v1/history", headers=admin, params={"limit": 1})
        assert one.status_code == 200 and len(one.json()["items"]) == 1
        cursor = one.json()["nextCursor"]
        assert cursor
        rest = await client.get(
            "/api/v1/history", headers=admin, params={"cursor": cursor, "outcome": "accepted"}
        )
        assert all(i["outcome"] == "accepted" for i in rest.json()["items"])
        bad = await client.get("/api/v1/history", headers=admin, params={"cursor": "nope"})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "invalid_request"
        missing = await client.get("/api/v1/event-types/nope/history", headers=admin)
        assert missing.status_code == 404

        # Deleting the type (after its workflow) clears its counters and history.
        assert (
            await client.delete("/api/v1/workflows/wf-thanks", headers=admin)
        ).status_code == 204
        assert (await client.delete("/api/v1/event-types/order", headers=admin)).status_code == 204
        store = CounterStore(redis_client(settings), settings)
        try:
            after = (await store.figures(["order"]))["order"]
            assert (after.volume24h, after.launched24h) == (0, 0)
            assert (await store.history("order"))[0] == []
        finally:
            await store.redis.aclose()
