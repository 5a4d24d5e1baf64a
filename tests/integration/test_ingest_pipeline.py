"""The ingest hot path on the real broker and Redis: every reject reason of SPEC §2 and §4,
launch/stop fan-out, segmentation, structure merges, duplicates and dead-letter replay."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from streams import bodies, event, pipeline, produce, read_committed

from eventgate.dlq import Selection, replay
from eventgate.ingest.outputs import command_id
from eventgate.ingest.reasons import RejectReason
from eventgate.registry.model import WorkflowStatus
from eventgate.registry.requests import (
    CreateType,
    PutWorkflow,
    SetValidation,
    ValidationBody,
    WorkflowBody,
)
from eventgate.registry.service import Registry
from eventgate.registry.structure import preview_paths, structure_from_json
from eventgate.settings import Settings


async def _ok(registry: Registry, request: Any) -> None:
    (await registry.request(request)).raise_for_code()


async def _workflows(registry: Registry) -> None:
    await _ok(registry, CreateType(key="purchase", name="Purchase", segmentation=True))
    await _ok(
        registry,
        CreateType(
            key="signup",
            name="Signup",
            validation=ValidationBody(
                enabled=True,
                rules={
                    "type": "object",
                    "properties": {"plan": {"type": "string", "pattern": "^(free|pro)$"}},
                    "required": ["plan"],
                },
            ),
        ),
    )
    for wid, status, launch, stop in [
        ("wf-a", WorkflowStatus.ACTIVE, ("purchase",), ()),
        ("wf-b", WorkflowStatus.ACTIVE, ("purchase", "signup"), ()),
        ("wf-off", WorkflowStatus.INACTIVE, ("purchase",), ()),
        ("wf-stop", WorkflowStatus.ACTIVE, (), ("purchase",)),
    ]:
        body = WorkflowBody(id=wid, name=wid, status=status, launch_on=launch, stop_on=stop)
        await _ok(registry, PutWorkflow(workflow=body))


async def test_every_reject_reason_reaches_the_dead_letter_topic(settings: Settings) -> None:
    deep: Any = 1
    for _ in range(40):
        deep = [deep]
    cases: dict[RejectReason, bytes] = {
        RejectReason.INVALID_UTF8: b'{"eventTypeKey": "a\xff"}',
        RejectReason.INVALID_JSON: b'{"eventTypeKey": ',
        RejectReason.NOT_OBJECT: b"[1, 2]",
        RejectReason.TOO_LARGE: b'{"eventTypeKey": "big", "p": "' + b"x" * 70_000 + b'"}',
        RejectReason.TOO_DEEP: orjson.dumps({"eventTypeKey": "deep", "params": {"d": deep}}),
        RejectReason.INVALID_NUMBER: b'{"eventTypeKey": "n", "keyValue": "c", "params": [NaN]}',
        RejectReason.MISSING_KEY: b'{"keyValue": "c1"}',
        RejectReason.INVALID_KEY: b'{"eventTypeKey": "no spaces allowed", "keyValue": "c1"}',
        RejectReason.INVALID_CONTACT: orjson.dumps({"eventTypeKey": "k", "keyValue": "x" * 301}),
        RejectReason.MISSING_CONTACT: b'{"eventTypeKey": "k", "params": {"sku": 1}}',
        RejectReason.INVALID_PARAMS: b'{"eventTypeKey": "k", "keyValue": "c", "params": 42}',
        RejectReason.DUPLICATE_PARAM: orjson.dumps(
            {
                "eventTypeKey": "k",
                "keyValue": "c",
                "params": [{"name": "a", "value": 1}, {"name": "a", "value": 2}],
            }
        ),
        RejectReason.INVALID_EVENT_ID: orjson.dumps(
            {"eventTypeKey": "k", "keyValue": "c", "eventId": "e" * 129}
        ),
        RejectReason.INVALID_OCCURRED_AT: orjson.dumps(
            {"eventTypeKey": "k", "keyValue": "c", "occurredAt": "yesterday"}
        ),
        RejectReason.VALIDATION_FAILED: orjson.dumps(
            {"eventTypeKey": "signup", "keyValue": "c", "params": {"plan": "gold", "x": 1}}
        ),
    }
    async with pipeline(settings, _workflows):
        await produce(settings, [(b"c", value) for value in cases.values()], partition=0)
        letters = await read_committed(settings, "rejected", expect=len(cases))
    pairs = zip(bodies(letters), letters, strict=True)
    found = {body["reason"]: (body, letter) for body, letter in pairs}
    assert set(found) == {reason.value for reason in cases}
    assert len(letters) == len(cases)
    failed, record = found["validation_failed"]
    assert failed["eventTypeKey"] == "signup"
    assert {v["path"] for v in failed["violations"]} == {"params.plan"}
    assert dict(record.headers)["eventgate-reason"] == b"validation_failed"
    assert found["too_large"][0]["payloadSize"] > 70_000
    assert found["invalid_utf8"][0]["payloadEncoding"] == "base64"


async def test_launch_and_stop_fan_out_and_segmentation(settings: Settings) -> None:
    async with pipeline(settings, _workflows):
        await produce(
            settings,
            [
                event("purchase", "c1", eventId="p-1", params={"sku": "A"}),
                event("purchase", "c2", eventId="p-2"),
                event("signup", "c3", eventId="s-1", params={"plan": "pro"}),
            ],
        )
        launches = bodies(await read_committed(settings, "workflow.launch", expect=5))
        stops = bodies(await read_committed(settings, "workflow.stop", expect=2))
        segmentation = bodies(await read_committed(settings, "segmentation", expect=2))
    assert sorted((b["eventId"], b["workflowId"]) for b in launches) == [
        ("p-1", "wf-a"),
        ("p-1", "wf-b"),
        ("p-2", "wf-a"),
        ("p-2", "wf-b"),
        ("s-1", "wf-b"),
    ]  # the inactive wf-off launches nothing
    assert sorted((b["eventId"], b["workflowId"]) for b in stops) == [
        ("p-1", "wf-stop"),
        ("p-2", "wf-stop"),
    ]
    assert all(
        b["commandId"] == command_id(b["eventTypeKey"], b["eventId"], b["workflowId"], b["kind"])
        for b in launches + stops
    )
    assert sorted(b["eventId"] for b in segmentation) == ["p-1", "p-2"]  # signup: switch off


async def test_producer_retries_launch_once_and_replay_of_dead_letters_launches_once(
    settings: Settings,
) -> None:
    async with pipeline(settings, _workflows) as running:
        retried = event("purchase", "c1", eventId="retry-1")
        await produce(settings, [retried, retried, retried])
        bad = event("signup", "c9", eventId="fix-me", params={"plan": "gold"})
        await produce(settings, [bad])
        assert len(await read_committed(settings, "workflow.launch", expect=2)) == 2
        (letter,) = await read_committed(settings, "rejected", expect=1)

        # Fix the rules, then replay the dead letter twice: one launch.
        relaxed = {"type": "object", "properties": {"plan": {"type": "string"}}}
        await _ok(running.registry, SetValidation(key="signup", enabled=True, rules=relaxed))
        for _ in range(2):
            report = await replay(settings, Selection(reasons=("validation_failed",)))
            assert report.replayed == 1
        launches = bodies(await read_committed(settings, "workflow.launch", expect=3))
    assert sorted(b["eventId"] for b in launches) == ["fix-me", "retry-1", "retry-1"]
    assert {(b["eventId"], b["workflowId"]) for b in launches} == {
        ("retry-1", "wf-a"),
        ("retry-1", "wf-b"),
        ("fix-me", "wf-b"),
    }
    assert orjson.loads(letter.value)["eventId"] == "fix-me"
    assert running.metrics.duplicates._value.get() >= 3  # two retries + the second replay


async def test_structure_merges_first_seen_kind_across_partitions(settings: Settings) -> None:
    async with pipeline(settings) as running:

        async def paths_once(wanted: str, kind: str) -> dict[str, str]:
            found: dict[str, str] = {}
            async with asyncio.timeout(30):
                while found.get(wanted) != kind:
                    await asyncio.sleep(0.1)
                    cart = running.registry.state.get("cart")
                    if cart is not None:
                        tree = structure_from_json(orjson.loads(cart.structure_json))
                        found = {p["path"]: p["kind"] for p in preview_paths(tree)}
            return found

        await produce(
            settings, [event("cart", "c1", params={"total": 10, "coupon": None})], partition=0
        )
        await paths_once("params.coupon", "null")
        later = {"total": "ten", "coupon": "X1", "items": [{"sku": "A", "qty": 1}]}
        await produce(settings, [event("cart", "c2", params=later)], partition=1)
        await paths_once("params.items[].qty", "integer")
        await produce(settings, [event("cart", "c3", params={"coupon": 5, "n": 1})], partition=2)
        paths = await paths_once("params.n", "integer")
    assert paths == {
        "params.total": "integer",  # first seen as integer; "ten" later changes nothing
        "params.coupon": "string",  # null until its first non-null kind, then that kind
        "params.items": "array",
        "params.items[]": "object",
        "params.items[].sku": "string",
        "params.items[].qty": "integer",
        "params.n": "integer",
    }
