"""The registry log codec (``{prefix}registry``, compacted, one partition).

Record key: ``type/{key}``, ``workflow/{id}`` or ``segment/{id}`` (UTF-8). Value: orjson
``{"formatVersion": 1, "kind": "type"|"workflow"|"segment", "requestId": "…",
"data": {…camelCase…}}``; a ``None`` value is a tombstone (the entry is deleted, and
compaction eventually drops it). Decoding ignores unknown fields (a newer writer may add
some) and refuses malformed records without raising: :func:`decode` returns a
:class:`Malformed` that the state counts and skips. Older format versions are upgraded
step by step through :data:`UPGRADES` before decoding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Final

import orjson

from eventgate.registry.model import (
    EMPTY_STRUCTURE_JSON,
    VALIDATION_OFF,
    Category,
    ContactFieldRef,
    EventType,
    Origin,
    Segment,
    SegmentRef,
    SystemRef,
    Validation,
    VolumeFloor,
    Workflow,
    WorkflowStatus,
)

FORMAT_VERSION: Final = 1
TYPE, WORKFLOW, SEGMENT = "type", "workflow", "segment"
KINDS: Final = (TYPE, WORKFLOW, SEGMENT)

Entity = EventType | Workflow | Segment
Data = dict[str, Any]

#: ``UPGRADES[n]`` turns the ``data`` of format version ``n`` into version ``n + 1``.
#: Version 1 is the first; a version 2 adds ``UPGRADES[1]`` and bumps FORMAT_VERSION.
UPGRADES: dict[int, Callable[[str, Data], Data]] = {}


@dataclass(frozen=True, slots=True)
class Record:
    """One decoded registry record; ``value`` is ``None`` for a tombstone."""

    kind: str
    id: str
    value: Entity | None
    request_id: str | None = None


@dataclass(frozen=True, slots=True)
class Malformed:
    """A record that cannot be read; skipped and counted, never fatal."""

    reason: str


# -- keys ---------------------------------------------------------------------------------


def record_key(kind: str, ident: str) -> bytes:
    return f"{kind}/{ident}".encode()


def kind_of(entity: Entity) -> str:
    if isinstance(entity, EventType):
        return TYPE
    return WORKFLOW if isinstance(entity, Workflow) else SEGMENT


def entity_key(entity: Entity) -> bytes:
    if isinstance(entity, EventType):
        return record_key(TYPE, entity.key)
    if isinstance(entity, Workflow):
        return record_key(WORKFLOW, entity.id)
    return record_key(SEGMENT, entity.id)


# -- encoding -----------------------------------------------------------------------------


def _system_to_json(ref: SystemRef | None) -> Data | None:
    if ref is None:
        return None
    if isinstance(ref, SegmentRef):
        return {"segmentId": ref.segment_id, "segmentName": ref.segment_name}
    return {"contactFieldId": ref.contact_field_id, "contactFieldName": ref.contact_field_name}


def type_to_json(t: EventType, *, raw_structure: bool = False) -> Data:
    """camelCase JSON of a type, as in the log (and the API's base representation).

    ``raw_structure`` embeds the stored structure bytes as an ``orjson.Fragment`` (for
    ``orjson.dumps``, no decode/re-encode); otherwise the structure is decoded.
    """
    return {
        "key": t.key,
        "name": t.name,
        "category": t.category.value,
        "segmentation": t.segmentation,
        "validation": {"enabled": t.validation.enabled, "rules": t.validation.rules},
        "structure": orjson.Fragment(t.structure_json) if raw_structure else t.structure,
        "volumeFloor": (
            None
            if t.volume_floor is None
            else {"events": t.volume_floor.events, "hours": t.volume_floor.hours}
        ),
        "origin": t.origin.value,
        "system": _system_to_json(t.system),
        "lastEventAt": t.last_event_at_ms,
        "createdAt": t.created_at_ms,
        "updatedAt": t.updated_at_ms,
        "version": t.version,
    }


def workflow_to_json(w: Workflow) -> Data:
    return {
        "id": w.id,
        "name": w.name,
        "status": w.status.value,
        "launchOn": list(w.launch_on),
        "stopOn": list(w.stop_on),
        "launchCondition": _system_to_json(w.launch_condition),
    }


def segment_to_json(s: Segment) -> Data:
    return {"id": s.id, "name": s.name, "eventTypeKeys": list(s.event_type_keys)}


def entity_to_json(entity: Entity, *, raw_structure: bool = False) -> Data:
    if isinstance(entity, EventType):
        return type_to_json(entity, raw_structure=raw_structure)
    if isinstance(entity, Workflow):
        return workflow_to_json(entity)
    return segment_to_json(entity)


def encode(entity: Entity, request_id: str | None = None) -> tuple[bytes, bytes]:
    """``(key, value)`` of the record that stores ``entity``."""
    value: Data = {
        "formatVersion": FORMAT_VERSION,
        "kind": kind_of(entity),
        "data": entity_to_json(entity, raw_structure=True),
    }
    if request_id is not None:
        value["requestId"] = request_id
    return entity_key(entity), orjson.dumps(value)


def tombstone(kind: str, ident: str) -> tuple[bytes, None]:
    return record_key(kind, ident), None


# -- decoding -----------------------------------------------------------------------------


class _Bad(Exception):
    """Internal: the record is malformed (reason in args[0])."""


def _str(data: Data, name: str, *, max_len: int = 1000) -> str:
    value = data.get(name)
    if not isinstance(value, str) or not value or len(value) > max_len:
        raise _Bad(f"{name}: expected a non-empty string")
    return value


def _int(data: Data, name: str) -> int:
    value = data.get(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Bad(f"{name}: expected an integer")
    return value


def _opt_int(data: Data, name: str) -> int | None:
    return None if data.get(name) is None else _int(data, name)


def _bool(data: Data, name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise _Bad(f"{name}: expected a boolean")
    return value


def _keys(data: Data, name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(k, str) for k in value):
        raise _Bad(f"{name}: expected a list of strings")
    return tuple(value)


def system_from_json(value: Any) -> SystemRef | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Bad("system: expected an object")
    if "segmentId" in value:
        return SegmentRef(str(value["segmentId"]), str(value.get("segmentName", "")))
    if "contactFieldId" in value:
        return ContactFieldRef(str(value["contactFieldId"]), str(value.get("contactFieldName", "")))
    raise _Bad("system: neither segmentId nor contactFieldId")


def _validation(value: Any) -> Validation:
    if value is None:
        return VALIDATION_OFF
    if not isinstance(value, dict) or not isinstance(value.get("enabled", False), bool):
        raise _Bad("validation: expected {enabled, rules}")
    enabled, rules = value.get("enabled", False), value.get("rules")
    if not enabled and rules is None:
        return VALIDATION_OFF  # one shared object for the common case: memory per type
    return Validation(enabled, rules)


def _volume_floor(value: Any) -> VolumeFloor | None:
    if value is None:
        return None
    if not isinstance(value, dict):
        raise _Bad("volumeFloor: expected {events, hours}")
    return VolumeFloor(_int(value, "events"), _int(value, "hours"))


def _compact_json(value: dict[str, Any]) -> bytes:
    if not value:
        return EMPTY_STRUCTURE_JSON
    # orjson hands back its whole output buffer (4 KiB or more); keep an exact-size copy,
    # since every process holds one per type.
    return bytes(memoryview(orjson.dumps(value)))


def type_from_json(data: Data) -> EventType:
    key = _str(data, "key", max_len=100)
    name = _str(data, "name", max_len=200)
    structure = data.get("structure", {})
    if not isinstance(structure, dict):
        raise _Bad("structure: expected an object")
    try:
        category, origin = Category(str(data.get("category"))), Origin(str(data.get("origin")))
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    return EventType(
        key=key,
        name=key if name == key else name,  # share the string: memory per type
        category=category,
        segmentation=_bool(data, "segmentation"),
        validation=_validation(data.get("validation")),
        structure_json=_compact_json(structure),
        volume_floor=_volume_floor(data.get("volumeFloor")),
        origin=origin,
        system=system_from_json(data.get("system")),
        last_event_at_ms=_opt_int(data, "lastEventAt"),
        created_at_ms=_int(data, "createdAt"),
        updated_at_ms=_int(data, "updatedAt"),
        version=_int(data, "version"),
    )


def workflow_from_json(data: Data) -> Workflow:
    try:
        status = WorkflowStatus(str(data.get("status")))
    except ValueError as exc:
        raise _Bad(str(exc)) from None
    return Workflow(
        id=_str(data, "id"),
        name=str(data.get("name", "")),
        status=status,
        launch_on=_keys(data, "launchOn"),
        stop_on=_keys(data, "stopOn"),
        launch_condition=system_from_json(data.get("launchCondition")),
    )


def segment_from_json(data: Data) -> Segment:
    return Segment(
        id=_str(data, "id"),
        name=str(data.get("name", "")),
        event_type_keys=_keys(data, "eventTypeKeys"),
    )


_FROM_JSON: dict[str, Callable[[Data], Entity]] = {
    TYPE: type_from_json,
    WORKFLOW: workflow_from_json,
    SEGMENT: segment_from_json,
}


def _ident_of(entity: Entity) -> str:
    return entity.key if isinstance(entity, EventType) else entity.id


def decode(key: bytes | None, value: bytes | None) -> Record | Malformed:
    """Decode one log record; never raises."""
    if key is None:
        return Malformed("no key")
    try:
        text = key.decode()
    except UnicodeDecodeError:
        return Malformed("key is not UTF-8")
    kind, sep, ident = text.partition("/")
    if not sep or kind not in KINDS or not ident:
        return Malformed(f"unknown record key {text[:120]!r}")
    if value is None:
        return Record(kind, ident, None)
    try:
        envelope = orjson.loads(value)
    except orjson.JSONDecodeError:
        return Malformed("value is not JSON")
    if not isinstance(envelope, dict):
        return Malformed("value is not an object")
    version = envelope.get("formatVersion")
    if not isinstance(version, int) or isinstance(version, bool) or version < 0:
        return Malformed("no formatVersion")
    if version > FORMAT_VERSION:
        return Malformed(f"formatVersion {version} is newer than this reader ({FORMAT_VERSION})")
    if envelope.get("kind") != kind:
        return Malformed(f"kind {envelope.get('kind')!r} does not match key {kind!r}")
    data = envelope.get("data")
    if not isinstance(data, dict):
        return Malformed("data is not an object")
    request_id = envelope.get("requestId")
    try:
        while version < FORMAT_VERSION:
            upgrade = UPGRADES.get(version)
            if upgrade is None:
                return Malformed(f"no upgrade from formatVersion {version}")
            data, version = upgrade(kind, data), version + 1
        entity = _FROM_JSON[kind](data)
    except _Bad as exc:
        return Malformed(f"{kind} {ident!r}: {exc}")
    except Exception as exc:  # noqa: BLE001 - a hostile record must never stop the reader
        return Malformed(f"{kind} {ident!r}: {type(exc).__name__}")
    if _ident_of(entity) != ident:
        return Malformed(f"record key {ident!r} does not match its data")
    # The entity's own id string becomes the state's dict key: one string per type.
    rid = request_id if isinstance(request_id, str) else None
    return Record(kind, _ident_of(entity), entity, rid)
