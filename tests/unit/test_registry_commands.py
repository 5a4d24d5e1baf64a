"""The writer's pure decisions: every request kind, refusals as reply codes, caps."""

from __future__ import annotations

import itertools
from typing import Any

import orjson
import pytest

from eventgate.registry.commands import Decision, Limits, decide
from eventgate.registry.model import Category, Origin, SegmentRef, Validation
from eventgate.registry.requests import (
    ContactFieldCondition,
    CreateType,
    DeleteSegment,
    DeleteType,
    DeleteWorkflow,
    EnsureTypes,
    MergeStructure,
    PutSegment,
    PutWorkflow,
    ReplyCode,
    Request,
    SegmentBody,
    SegmentCondition,
    SetValidation,
    Touch,
    TypePatch,
    UpdateType,
    VolumeFloorBody,
    WorkflowBody,
    decode_request,
    encode_request,
)
from eventgate.registry.staged import StagedView
from eventgate.registry.state import RegistryState

LIMITS = Limits(max_per_minute=1000, max_total=100_000)
HOUR = 3_600_000


class Writer:
    """decide + apply to a state, as the writer and every reader do."""

    def __init__(self, limits: Limits = LIMITS) -> None:
        self.state = RegistryState()
        self.limits = limits
        self.offsets = itertools.count()
        self.now = 1_000_000

    def __call__(self, request: Request, now: int | None = None) -> Decision:
        # Requests cross the wire as JSON: decide on what the writer would read.
        request = decode_request(encode_request(request))
        decision = decide(self.state, request, self.now if now is None else now, self.limits)
        for record in decision.records:
            self.state.apply(record, next(self.offsets))
        return decision


def create(key: str, **kw: Any) -> CreateType:
    return CreateType(key=key, name=kw.pop("name", key.title()), **kw)


def test_ensure_types_registers_unknown_well_formed_keys() -> None:
    w = Writer()
    d = w(EnsureTypes(keys=("a", "a", "bad key", "b"), seen_at_ms=999_000))
    assert d.code is ReplyCode.OK
    assert d.result["keys"] == {"a": "registered", "bad key": "invalid", "b": "registered"}
    t = w.state.get("a")
    assert t is not None
    assert (t.name, t.category, t.origin, t.segmentation, t.validation.enabled) == (
        "a",
        Category.OTHER,
        Origin.AUTO,
        False,
        False,
    )
    assert t.last_event_at_ms == 999_000 and t.version == 1
    assert w(EnsureTypes(keys=("a", "c"), seen_at_ms=1)).result["keys"] == {
        "a": "exists",
        "c": "registered",
    }


def test_ensure_types_per_minute_cap() -> None:
    w = Writer(Limits(max_per_minute=3, max_total=100))
    d = w(EnsureTypes(keys=("a", "b", "c", "d"), seen_at_ms=1))
    assert d.result["keys"]["d"] == "limited"
    assert w(EnsureTypes(keys=("e",), seen_at_ms=1), now=w.now + 59_000).result["keys"] == {
        "e": "limited"
    }
    assert w(EnsureTypes(keys=("e",), seen_at_ms=1), now=w.now + 60_001).result["keys"] == {
        "e": "registered"
    }


def test_ensure_types_total_cap_and_manual_creation_limit() -> None:
    w = Writer(Limits(max_per_minute=100, max_total=2))
    assert w(EnsureTypes(keys=("a", "b", "c"), seen_at_ms=1)).result["keys"]["c"] == "limited"
    assert w(create("m")).code is ReplyCode.LIMIT


def test_create_type_and_duplicate_conflict_names_the_key() -> None:
    w = Writer()
    d = w(
        create(
            "purchase",
            category=Category.CLICK,
            segmentation=True,
            volume_floor=VolumeFloorBody(events=5, hours=2),
        )
    )
    assert d.code is ReplyCode.OK and d.result == {"key": "purchase", "version": 1}
    t = w.state.get("purchase")
    assert t is not None and t.origin is Origin.MANUAL and t.volume_floor is not None
    again = w(create("purchase"))
    assert again.code is ReplyCode.CONFLICT and "purchase" in again.message
    assert again.details == {"key": "purchase"}
    assert w(create("no spaces")).code is ReplyCode.INVALID


def test_update_type_patch_etag_and_segmentation_guard() -> None:
    w = Writer()
    w(create("a", segmentation=True))
    d = w(UpdateType(key="a", patch=TypePatch(name="Renamed"), if_match_version=1), now=w.now + 5)
    assert d.code is ReplyCode.OK and d.result["version"] == 2
    t = w.state.get("a")
    assert t is not None and t.name == "Renamed" and t.updated_at_ms == w.now + 5
    stale = w(UpdateType(key="a", patch=TypePatch(name="X"), if_match_version=1))
    assert stale.code is ReplyCode.PRECONDITION_FAILED
    same = w(UpdateType(key="a", patch=TypePatch(name="Renamed")))
    assert same.records == () and same.result["version"] == 2  # nothing changed: no bump
    w(PutSegment(segment=SegmentBody(id="s1", name="Buyers", event_type_keys=("a",))))
    off = w(UpdateType(key="a", patch=TypePatch(segmentation=False)))
    assert off.code is ReplyCode.CONFLICT and "s1" in off.message
    assert off.details["segments"] == [{"id": "s1", "name": "Buyers"}]
    assert w(UpdateType(key="zz", patch=TypePatch())).code is ReplyCode.NOT_FOUND


def test_patch_volume_floor_absent_vs_null() -> None:
    w = Writer()
    w(create("a", volume_floor=VolumeFloorBody(events=1, hours=1)))
    w(UpdateType(key="a", patch=TypePatch(name="B")))
    assert w.state.get("a").volume_floor is not None  # type: ignore[union-attr]
    w(UpdateType(key="a", patch=TypePatch(volume_floor=None)))
    assert w.state.get("a").volume_floor is None  # type: ignore[union-attr]


def test_set_validation_stores_rules() -> None:
    w = Writer()
    w(create("a"))
    rules = [{"name": "sku", "required": True}]
    assert w(SetValidation(key="a", enabled=True, rules=rules)).code is ReplyCode.OK
    t = w.state.get("a")
    assert t is not None and t.validation == Validation(True, rules) and t.version == 2
    assert w(SetValidation(key="nope", enabled=True)).code is ReplyCode.NOT_FOUND


def test_delete_refused_while_dependencies_then_tombstoned() -> None:
    w = Writer()
    w(create("a", segmentation=True))
    w(
        PutWorkflow(
            workflow=WorkflowBody(id="w1", name="Welcome", status="inactive", stop_on=("a",))
        )
    )
    w(PutSegment(segment=SegmentBody(id="s1", name="S", event_type_keys=("a",))))
    d = w(DeleteType(key="a"))
    assert d.code is ReplyCode.CONFLICT
    assert d.details["workflows"] == [{"id": "w1", "name": "Welcome", "role": "stop"}]
    assert d.details["segments"] == [{"id": "s1", "name": "S"}]
    assert "w1" in d.message and "s1" in d.message
    w(DeleteWorkflow(id="w1"))
    w(DeleteSegment(id="s1"))
    assert w(DeleteType(key="a")).code is ReplyCode.OK
    assert w.state.get("a") is None
    assert w(DeleteType(key="a")).code is ReplyCode.NOT_FOUND
    # the next event re-registers it, validation off
    assert w(EnsureTypes(keys=("a",), seen_at_ms=1)).result["keys"]["a"] == "registered"


def test_touch_at_most_hourly_without_updated_at() -> None:
    w = Writer()
    w(EnsureTypes(keys=("a",), seen_at_ms=w.now))
    fresh = w(Touch(seen={"a": w.now + 10, "zz": 1}), now=w.now + 10)
    assert fresh.records == () and fresh.result["keys"] == {"a": "fresh", "zz": "not_found"}
    later = w.now + HOUR + 1
    touched = w(Touch(seen={"a": later}), now=later)
    assert touched.result["keys"] == {"a": "touched"}
    t = w.state.get("a")
    assert t is not None and t.last_event_at_ms == later and t.version == 2
    assert t.updated_at_ms == w.now


def test_merge_structure_in_log_order() -> None:
    w = Writer()
    w(create("a"))
    seen = 1_767_225_600_000
    additions = {"format": 1, "params": {"sku": {"kind": "string", "firstSeenMs": seen}}}
    d = w(MergeStructure(key="a", additions=additions))
    assert d.code is ReplyCode.OK and d.result["changed"] is True
    t = w.state.get("a")
    assert t is not None and t.version == 2 and "sku" in t.structure["params"]
    # first-seen kind wins: a later "integer" for sku changes nothing
    again = {"format": 1, "params": {"sku": {"kind": "integer", "firstSeenMs": seen + 1}}}
    d2 = w(MergeStructure(key="a", additions=again))
    assert d2.records == () and d2.result["changed"] is False
    assert w(MergeStructure(key="a", additions={"params": 5})).code is ReplyCode.INVALID
    assert w(MergeStructure(key="zz", additions=additions)).code is ReplyCode.NOT_FOUND


def test_put_workflow_creates_and_adopts_system_types() -> None:
    w = Writer()
    w(EnsureTypes(keys=("segment.1234",), seen_at_ms=5))
    w(
        MergeStructure(
            key="segment.1234", additions={"params": {"x": {"kind": "string", "firstSeenMs": 1}}}
        )
    )
    before = w.state.get("segment.1234")
    body = WorkflowBody(
        id="w1",
        name="VIP",
        status="active",
        launch_on=("buy",),
        launch_condition=SegmentCondition(segment_id="1234", segment_name="VIP buyers"),
    )
    d = w(PutWorkflow(workflow=body))
    assert d.code is ReplyCode.OK and d.result["systemType"] == "segment.1234"
    t = w.state.get("segment.1234")
    assert t is not None and before is not None
    assert t.origin is Origin.SYSTEM and t.category is Category.REGULAR_WORKFLOW
    assert t.name == "Regular workflow: VIP buyers (1234)"
    assert t.system == SegmentRef("1234", "VIP buyers")
    assert t.structure_json == before.structure_json and t.last_event_at_ms == 5
    assert t.version == before.version + 1
    assert w.state.launch_workflows("segment.1234") == ("w1",)
    assert w.state.launch_workflows("buy") == ("w1",)
    # idempotent PUT: nothing written the second time
    assert w(PutWorkflow(workflow=body)).records == ()
    cf = WorkflowBody(
        id="w2",
        status="active",
        launch_condition=ContactFieldCondition(contact_field_id="7", contact_field_name="City"),
    )
    w(PutWorkflow(workflow=cf))
    t2 = w.state.get("contactField.7")
    assert t2 is not None and t2.category is Category.CONTACT_FIELD_CHANGE
    assert t2.origin is Origin.SYSTEM and t2.name == "Contact field change: City (7)"
    bad = w(PutWorkflow(workflow=WorkflowBody(id="w3", status="active", launch_on=("a b",))))
    assert bad.code is ReplyCode.INVALID and bad.details == {"keys": ["a b"]}
    assert w(DeleteWorkflow(id="nope")).code is ReplyCode.NOT_FOUND


def test_put_segment_only_on_segmentation_enabled_types() -> None:
    w = Writer()
    w(create("on", segmentation=True))
    w(create("off"))
    d = w(PutSegment(segment=SegmentBody(id="s", name="S", event_type_keys=("on", "off", "gone"))))
    assert d.code is ReplyCode.CONFLICT
    assert d.details == {"keys": ["gone", "off"], "missing": ["gone"], "segmentationOff": ["off"]}
    ok = w(PutSegment(segment=SegmentBody(id="s", name="S", event_type_keys=("on",))))
    assert ok.code is ReplyCode.OK and ok.result["created"] is True
    assert w.state.segments_of("on") == ("s",)


def test_one_batch_sees_its_own_decisions() -> None:
    state = RegistryState()
    view = StagedView(state)
    first = decide(view, EnsureTypes(keys=("a",), seen_at_ms=1), 10, LIMITS)
    for r in first.records:
        view.stage(r)
    second = decide(view, create("a"), 10, LIMITS)
    assert second.code is ReplyCode.CONFLICT
    assert state.get("a") is None


@pytest.mark.parametrize(
    "raw",
    [b"nope", b"[]", b'{"op": "create_type", "requestId": "r1"}', b'{"op": "dance"}'],
)
def test_unreadable_requests(raw: bytes) -> None:
    from eventgate.registry.requests import BadRequest

    with pytest.raises(BadRequest) as info:
        decode_request(raw)
    if b"r1" in raw:
        assert info.value.request_id == "r1"


def test_request_codec_keeps_patch_presence() -> None:
    req = UpdateType(key="a", patch=TypePatch(volume_floor=None))
    body = orjson.loads(encode_request(req))
    assert body["patch"] == {"volumeFloor": None}
    back = decode_request(encode_request(req))
    assert isinstance(back, UpdateType) and back.patch.model_fields_set == {"volume_floor"}
