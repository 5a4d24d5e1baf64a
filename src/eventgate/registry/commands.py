"""The single writer's decisions: ``decide(view, request, now_ms, limits) -> Decision``.

Pure: it reads the registry through a :class:`~eventgate.registry.staged.RegistryView`
and returns the records to append plus the reply; the writer does the I/O. Refusals are
reply codes (``conflict``, ``not_found``, ``precondition_failed``, ``invalid``,
``limit``) with a message and details, never exceptions. Every change of a type bumps
its ``version`` (the ETag) and, except for ``touch``, its ``updatedAt``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventgate.registry import structure
from eventgate.registry.model import (
    EMPTY_STRUCTURE_JSON,
    ContactFieldRef,
    EventType,
    Origin,
    Segment,
    SegmentRef,
    SystemRef,
    Validation,
    VolumeFloor,
    Workflow,
    is_valid_key,
    new_auto_type,
)
from eventgate.registry.records import SEGMENT, TYPE, WORKFLOW, Entity, Record, kind_of
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
    SegmentCondition,
    SetValidation,
    Touch,
    UpdateType,
    VolumeFloorBody,
)
from eventgate.registry.staged import RegistryView

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
REGISTERED, EXISTS, LIMITED, INVALID = "registered", "exists", "limited", "invalid"


@dataclass(frozen=True, slots=True)
class Limits:
    """Auto-registration caps (SPEC §3), cluster-wide because one writer counts them."""

    max_per_minute: int
    max_total: int

    @classmethod
    def from_settings(cls, settings: Any) -> Limits:
        return cls(settings.registration_max_per_minute, settings.registration_max_total)


@dataclass(frozen=True, slots=True)
class Decision:
    records: tuple[Record, ...] = ()
    code: ReplyCode = ReplyCode.OK
    message: str = ""
    details: Any = None
    result: dict[str, Any] = field(default_factory=dict)


def _put(entity: Entity, request_id: str) -> Record:
    ident = entity.key if isinstance(entity, EventType) else entity.id
    return Record(kind_of(entity), ident, entity, request_id)


def _refuse(code: ReplyCode, message: str, details: Any = None) -> Decision:
    return Decision(code=code, message=message, details=details)


def _not_found(what: str, ident: str) -> Decision:
    return _refuse(ReplyCode.NOT_FOUND, f"{what} {ident!r} does not exist", {"id": ident})


def _precondition(t: EventType, expected: int | None) -> Decision | None:
    if expected is not None and expected != t.version:
        return _refuse(
            ReplyCode.PRECONDITION_FAILED,
            f"event type {t.key!r} is at version {t.version}, not {expected}",
            {"key": t.key, "version": t.version, "expected": expected},
        )
    return None


def _changed(t: EventType, now_ms: int, *, touch_updated: bool = True, **changes: Any) -> EventType:
    return dataclasses.replace(
        t,
        **changes,
        version=t.version + 1,
        updated_at_ms=now_ms if touch_updated else t.updated_at_ms,
    )


def _floor(body: VolumeFloorBody | None) -> VolumeFloor | None:
    return None if body is None else VolumeFloor(body.events, body.hours)


def _type_result(t: EventType) -> dict[str, Any]:
    return {"key": t.key, "version": t.version}


# -- event types --------------------------------------------------------------------------


def _ensure_types(view: RegistryView, r: EnsureTypes, now_ms: int, limits: Limits) -> Decision:
    results: dict[str, str] = {}
    records: list[Record] = []
    recent = view.auto_registrations_since(now_ms - MINUTE_MS)
    total = view.type_count()
    seen_at = min(r.seen_at_ms, now_ms)
    for key in dict.fromkeys(r.keys):
        if not is_valid_key(key):
            results[key] = INVALID
        elif view.get(key) is not None:
            results[key] = EXISTS
        elif recent + len(records) >= limits.max_per_minute or (
            total + len(records) >= limits.max_total
        ):
            results[key] = LIMITED
        else:
            t = dataclasses.replace(new_auto_type(key, now_ms), last_event_at_ms=seen_at)
            records.append(_put(t, r.request_id))
            results[key] = REGISTERED
    return Decision(tuple(records), result={"keys": results})


def _create_type(view: RegistryView, r: CreateType, now_ms: int, limits: Limits) -> Decision:
    if not is_valid_key(r.key):
        return _refuse(ReplyCode.INVALID, f"invalid event type key {r.key!r}", {"key": r.key})
    if view.get(r.key) is not None:
        return _refuse(ReplyCode.CONFLICT, f"event type {r.key!r} already exists", {"key": r.key})
    if view.type_count() >= limits.max_total:
        return _refuse(
            ReplyCode.LIMIT,
            f"the registry holds its maximum of {limits.max_total} event types",
            {"maxTotal": limits.max_total},
        )
    t = EventType(
        key=r.key,
        name=r.name,
        category=r.category,
        segmentation=r.segmentation,
        validation=Validation(r.validation.enabled, r.validation.rules),
        structure_json=EMPTY_STRUCTURE_JSON,
        volume_floor=_floor(r.volume_floor),
        origin=Origin.MANUAL,
        system=None,
        last_event_at_ms=None,
        created_at_ms=now_ms,
        updated_at_ms=now_ms,
        version=1,
    )
    return Decision((_put(t, r.request_id),), result=_type_result(t))


def _segment_refs_details(view: RegistryView, key: str) -> list[dict[str, str]]:
    out = []
    for ident in sorted(view.segment_referrers(key)):
        s = view.segment(ident)
        out.append({"id": ident, "name": s.name if s else ""})
    return out


def _update_type(view: RegistryView, r: UpdateType, now_ms: int, limits: Limits) -> Decision:
    t = view.get(r.key)
    if t is None:
        return _not_found("event type", r.key)
    if (refused := _precondition(t, r.if_match_version)) is not None:
        return refused
    patch, present = r.patch, r.patch.model_fields_set
    changes: dict[str, Any] = {}
    if "name" in present and patch.name is not None and patch.name != t.name:
        changes["name"] = patch.name
    if "category" in present and patch.category is not None and patch.category != t.category:
        changes["category"] = patch.category
    if "segmentation" in present and patch.segmentation is not None:
        if t.segmentation and not patch.segmentation:
            segments = _segment_refs_details(view, t.key)
            if segments:
                names = ", ".join(s["id"] for s in segments)
                return _refuse(
                    ReplyCode.CONFLICT,
                    f"segmentation of {t.key!r} is used by segments: {names}",
                    {"key": t.key, "segments": segments},
                )
        if patch.segmentation != t.segmentation:
            changes["segmentation"] = patch.segmentation
    if "volume_floor" in present:
        floor = _floor(patch.volume_floor)
        if floor != t.volume_floor:
            changes["volume_floor"] = floor
    if not changes:
        return Decision(result=_type_result(t))
    new = _changed(t, now_ms, **changes)
    return Decision((_put(new, r.request_id),), result=_type_result(new))


def _set_validation(view: RegistryView, r: SetValidation, now_ms: int, limits: Limits) -> Decision:
    t = view.get(r.key)
    if t is None:
        return _not_found("event type", r.key)
    if (refused := _precondition(t, r.if_match_version)) is not None:
        return refused
    validation = Validation(r.enabled, r.rules)
    if validation == t.validation:
        return Decision(result=_type_result(t))
    new = _changed(t, now_ms, validation=validation)
    return Decision((_put(new, r.request_id),), result=_type_result(new))


def _delete_type(view: RegistryView, r: DeleteType, now_ms: int, limits: Limits) -> Decision:
    t = view.get(r.key)
    if t is None:
        return _not_found("event type", r.key)
    if (refused := _precondition(t, r.if_match_version)) is not None:
        return refused
    workflows: list[dict[str, str]] = []
    for role, ids in (
        ("launch", view.launch_referrers(r.key)),
        ("stop", view.stop_referrers(r.key)),
    ):
        for ident in sorted(ids):
            w = view.workflow(ident)
            workflows.append({"id": ident, "name": w.name if w else "", "role": role})
    segments = _segment_refs_details(view, r.key)
    if workflows or segments:
        listed = [f"workflow {w['id']} ({w['role']})" for w in workflows]
        listed += [f"segment {s['id']}" for s in segments]
        return _refuse(
            ReplyCode.CONFLICT,
            f"event type {r.key!r} is used by: {', '.join(listed)}",
            {"key": r.key, "workflows": workflows, "segments": segments},
        )
    return Decision((Record(TYPE, r.key, None, r.request_id),), result={"key": r.key})


def _merge_structure(
    view: RegistryView, r: MergeStructure, now_ms: int, limits: Limits
) -> Decision:
    t = view.get(r.key)
    if t is None:
        return _not_found("event type", r.key)
    try:
        additions = structure.additions_from_json(r.additions)
        current = structure.structure_from_json(orjson.loads(t.structure_json))
        merged, ignored = structure.merge(current, additions)
    except (ValueError, TypeError) as exc:
        return _refuse(ReplyCode.INVALID, f"cannot merge into {r.key!r}: {exc}", {"key": r.key})
    if merged is current:  # ``merge`` returns the same object when nothing is new
        return Decision(result={**_type_result(t), "changed": False, "ignored": ignored})
    new = _changed(t, now_ms, structure_json=orjson.dumps(structure.structure_to_json(merged)))
    return Decision(
        (_put(new, r.request_id),),
        result={**_type_result(new), "changed": True, "ignored": ignored},
    )


def _touch(view: RegistryView, r: Touch, now_ms: int, limits: Limits) -> Decision:
    records: list[Record] = []
    results: dict[str, str] = {}
    for key, seen in r.seen.items():
        t = view.get(key)
        seen = min(seen, now_ms)
        if t is None:
            results[key] = "not_found"
        elif t.last_event_at_ms is not None and seen - t.last_event_at_ms < HOUR_MS:
            results[key] = "fresh"  # lastEventAt is kept at most hourly (SPEC §3)
        else:
            new = _changed(t, now_ms, touch_updated=False, last_event_at_ms=seen)
            records.append(_put(new, r.request_id))
            results[key] = "touched"
    return Decision(tuple(records), result={"keys": results})


# -- workflows and segments ---------------------------------------------------------------


def _system_ref(condition: SegmentCondition | ContactFieldCondition | None) -> SystemRef | None:
    if isinstance(condition, SegmentCondition):
        return SegmentRef(condition.segment_id, condition.segment_name)
    if isinstance(condition, ContactFieldCondition):
        return ContactFieldRef(condition.contact_field_id, condition.contact_field_name)
    return None


def _system_type(
    view: RegistryView, ref: SystemRef, now_ms: int, request_id: str
) -> tuple[str, Record | None]:
    """The system type of a launch condition: created, adopted or renamed (SPEC §3)."""
    key = ref.system_key
    t = view.get(key)
    wanted: dict[str, Any] = {
        "origin": Origin.SYSTEM,
        "category": ref.system_category,
        "system": ref,
        "name": ref.system_name,
    }
    if t is None:
        new = dataclasses.replace(new_auto_type(key, now_ms), last_event_at_ms=None, **wanted)
        return key, _put(new, request_id)
    if all(getattr(t, name) == value for name, value in wanted.items()):
        return key, None
    # An auto (or manual) type with that key becomes the system type and keeps its
    # structure, validation, switches and activity.
    return key, _put(_changed(t, now_ms, **wanted), request_id)


def _put_workflow(view: RegistryView, r: PutWorkflow, now_ms: int, limits: Limits) -> Decision:
    body = r.workflow
    bad = sorted({k for k in (*body.launch_on, *body.stop_on) if not is_valid_key(k)})
    ref = _system_ref(body.launch_condition)
    if ref is not None and not is_valid_key(ref.system_key):
        bad.append(ref.system_key)
    if bad:
        return _refuse(
            ReplyCode.INVALID, f"invalid event type keys: {', '.join(bad)}", {"keys": bad}
        )
    workflow = Workflow(
        id=body.id,
        name=body.name,
        status=body.status,
        launch_on=tuple(dict.fromkeys(body.launch_on)),
        stop_on=tuple(dict.fromkeys(body.stop_on)),
        launch_condition=ref,
    )
    records: list[Record] = []
    system_key = None
    if ref is not None:
        system_key, system_record = _system_type(view, ref, now_ms, r.request_id)
        if system_record is not None:
            records.append(system_record)
    old = view.workflow(body.id)
    if old != workflow:
        records.append(_put(workflow, r.request_id))
    result = {"id": body.id, "created": old is None, "changed": bool(records)}
    return Decision(tuple(records), result={**result, "systemType": system_key})


def _delete_workflow(
    view: RegistryView, r: DeleteWorkflow, now_ms: int, limits: Limits
) -> Decision:
    if view.workflow(r.id) is None:
        return _not_found("workflow", r.id)
    return Decision((Record(WORKFLOW, r.id, None, r.request_id),), result={"id": r.id})


def _put_segment(view: RegistryView, r: PutSegment, now_ms: int, limits: Limits) -> Decision:
    body = r.segment
    keys = tuple(dict.fromkeys(body.event_type_keys))
    missing = [k for k in keys if view.get(k) is None]
    off = [k for k in keys if (t := view.get(k)) is not None and not t.segmentation]
    if missing or off:
        return _refuse(
            ReplyCode.CONFLICT,
            "a segment may reference only event types with segmentation on: "
            + ", ".join([*missing, *off]),
            {"keys": [*missing, *off], "missing": missing, "segmentationOff": off},
        )
    segment = Segment(body.id, body.name, keys)
    old = view.segment(body.id)
    records = () if old == segment else (_put(segment, r.request_id),)
    return Decision(
        records, result={"id": body.id, "created": old is None, "changed": bool(records)}
    )


def _delete_segment(view: RegistryView, r: DeleteSegment, now_ms: int, limits: Limits) -> Decision:
    if view.segment(r.id) is None:
        return _not_found("segment", r.id)
    return Decision((Record(SEGMENT, r.id, None, r.request_id),), result={"id": r.id})


_Handler = Callable[[RegistryView, Any, int, Limits], Decision]
_HANDLERS: dict[type, _Handler] = {
    EnsureTypes: _ensure_types,
    CreateType: _create_type,
    UpdateType: _update_type,
    SetValidation: _set_validation,
    DeleteType: _delete_type,
    MergeStructure: _merge_structure,
    Touch: _touch,
    PutWorkflow: _put_workflow,
    DeleteWorkflow: _delete_workflow,
    PutSegment: _put_segment,
    DeleteSegment: _delete_segment,
}


def decide(view: RegistryView, request: Request, now_ms: int, limits: Limits) -> Decision:
    """The records ``request`` appends to the registry, and the answer to it."""
    return _HANDLERS[type(request)](view, request, now_ms, limits)
