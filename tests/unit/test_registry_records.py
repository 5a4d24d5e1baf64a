"""The registry log codec: round trips, tombstones, tolerance, refusal, upgrades."""

from __future__ import annotations

import orjson
import pytest

from eventgate.registry import records
from eventgate.registry.model import (
    VALIDATION_OFF,
    Category,
    ContactFieldRef,
    EventType,
    Origin,
    Segment,
    SegmentRef,
    Validation,
    VolumeFloor,
    Workflow,
    WorkflowStatus,
    new_auto_type,
)
from eventgate.registry.records import FORMAT_VERSION, Malformed, Record, decode, encode


def _manual() -> EventType:
    return EventType(
        key="purchase",
        name="Purchase",
        category=Category.CLICK,
        segmentation=True,
        validation=Validation(True, [{"name": "sku", "required": True}]),
        structure_json=b'{"sku":{"kind":"string"}}',
        volume_floor=VolumeFloor(10, 24),
        origin=Origin.SYSTEM,
        system=SegmentRef("1234", "VIP buyers"),
        last_event_at_ms=5,
        created_at_ms=1,
        updated_at_ms=2,
        version=3,
    )


@pytest.mark.parametrize(
    "entity",
    [
        _manual(),
        new_auto_type("a.b-c_d", 1000),
        Workflow("w1", "Welcome", WorkflowStatus.ACTIVE, ("a", "b"), ("c",)),
        Workflow("w/2", "", WorkflowStatus.INACTIVE, (), (), ContactFieldRef("7", "City")),
        Segment("s1", "Buyers", ("a", "b")),
    ],
)
def test_round_trip(entity: records.Entity) -> None:
    key, value = encode(entity, "req-1")
    decoded = decode(key, value)
    assert isinstance(decoded, Record)
    assert decoded.value == entity
    assert decoded.request_id == "req-1"
    body = orjson.loads(value)
    assert body["formatVersion"] == FORMAT_VERSION
    assert body["kind"] == decoded.kind


def test_type_record_layout_is_camel_case() -> None:
    key, value = encode(_manual())
    assert key == b"type/purchase"
    data = orjson.loads(value)["data"]
    assert data["volumeFloor"] == {"events": 10, "hours": 24}
    assert data["system"] == {"segmentId": "1234", "segmentName": "VIP buyers"}
    assert data["structure"] == {"sku": {"kind": "string"}}
    assert {"lastEventAt", "createdAt", "updatedAt", "version"} <= data.keys()


def test_tombstone() -> None:
    key, value = records.tombstone("type", "purchase")
    assert decode(key, value) == Record("type", "purchase", None)


def test_unknown_fields_are_ignored_and_defaults_shared() -> None:
    key, value = encode(new_auto_type("k", 1))
    body = orjson.loads(value)
    body["future"] = {"x": 1}
    body["data"]["somethingNew"] = [1, 2]
    decoded = decode(key, orjson.dumps(body))
    assert isinstance(decoded, Record)
    assert isinstance(decoded.value, EventType)
    assert decoded.value.validation is VALIDATION_OFF
    assert decoded.value.name is decoded.value.key


@pytest.mark.parametrize(
    ("key", "value"),
    [
        (None, b"{}"),
        (b"\xff", b"{}"),
        (b"nokind", b"{}"),
        (b"thing/x", b"{}"),
        (b"type/x", b"not json"),
        (b"type/x", b"[]"),
        (b"type/x", b'{"kind": "type", "data": {}}'),
        (b"type/x", b'{"formatVersion": 99, "kind": "type", "data": {}}'),
        (b"type/x", b'{"formatVersion": 1, "kind": "workflow", "data": {}}'),
        (b"type/x", b'{"formatVersion": 1, "kind": "type", "data": []}'),
        (b"type/x", b'{"formatVersion": 1, "kind": "type", "data": {"key": "x"}}'),
        (b"workflow/w", b'{"formatVersion": 1, "kind": "workflow", "data": {"id": "w"}}'),
        (b"segment/s", b'{"formatVersion": 1, "kind": "segment", "data": {"id": 5}}'),
    ],
)
def test_malformed_records_are_refused_not_raised(key: bytes | None, value: bytes) -> None:
    assert isinstance(decode(key, value), Malformed)


def test_key_must_match_data() -> None:
    _, value = encode(new_auto_type("a", 1))
    assert isinstance(decode(b"type/b", value), Malformed)


def test_older_format_versions_go_through_the_upgrade_hooks(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, value = encode(new_auto_type("a", 1))
    body = orjson.loads(value)
    body["formatVersion"] = 0
    body["data"]["title"] = body["data"].pop("name")  # pretend v0 called it "title"
    old = orjson.dumps(body)
    assert isinstance(decode(b"type/a", old), Malformed)  # no hook: refused, not guessed

    def v0_to_v1(kind: str, data: dict[str, object]) -> dict[str, object]:
        data = dict(data)
        data["name"] = data.pop("title")
        return data

    monkeypatch.setitem(records.UPGRADES, 0, v0_to_v1)
    decoded = decode(b"type/a", old)
    assert isinstance(decoded, Record)
    assert decoded.value == new_auto_type("a", 1)
