"""The API's JSON shapes (camelCase), shared by the handlers and ``/openapi.json``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from eventgate.registry.model import Category, ContactFieldRef, EventType, Origin, Status
from eventgate.registry.state import DependencyCounts


class ApiModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, frozen=True)


def iso_ms(ms: int | None) -> str | None:
    if ms is None:
        return None
    return (
        datetime.fromtimestamp(ms / 1000, UTC)
        .isoformat(timespec="milliseconds")
        .replace("+00:00", "Z")
    )


class ValidationOut(ApiModel):
    enabled: bool
    rules: Any = None


class VolumeFloorOut(ApiModel):
    events: int
    hours: int


class DependencyCountsOut(ApiModel):
    launch: int = Field(description="workflows launched by the type")
    stop: int = Field(description="workflows stopped by the type")
    segments: int = Field(description="segments using the type")
    total: int


class EventTypeOut(ApiModel):
    key: str
    name: str
    category: Category
    segmentation: bool
    validation: ValidationOut
    volume_floor: VolumeFloorOut | None
    origin: Origin
    system: dict[str, str] | None
    status: Status
    last_event_at: str | None
    created_at: str | None
    updated_at: str | None
    version: int

    @classmethod
    def of(cls, t: EventType, status: Status) -> EventTypeOut:
        system: dict[str, str] | None = None
        if isinstance(t.system, ContactFieldRef):
            system = {
                "contactFieldId": t.system.contact_field_id,
                "contactFieldName": t.system.contact_field_name,
            }
        elif t.system is not None:
            system = {"segmentId": t.system.segment_id, "segmentName": t.system.segment_name}
        floor = t.volume_floor
        return cls(
            key=t.key,
            name=t.name,
            category=t.category,
            segmentation=t.segmentation,
            validation=ValidationOut(enabled=t.validation.enabled, rules=t.validation.rules),
            volume_floor=None
            if floor is None
            else VolumeFloorOut(events=floor.events, hours=floor.hours),
            origin=t.origin,
            system=system,
            status=status,
            last_event_at=iso_ms(t.last_event_at_ms),
            created_at=iso_ms(t.created_at_ms),
            updated_at=iso_ms(t.updated_at_ms),
            version=t.version,
        )


class EventTypeListItem(EventTypeOut):
    dependencies: DependencyCountsOut

    @classmethod
    def row(cls, t: EventType, status: Status, counts: DependencyCounts) -> EventTypeListItem:
        base = EventTypeOut.of(t, status).model_dump()
        deps = DependencyCountsOut(
            launch=counts.launch,
            stop=counts.stop,
            segments=counts.segments,
            total=counts.launch + counts.stop + counts.segments,
        )
        return cls(**base, dependencies=deps)


class EventTypePage(ApiModel):
    items: list[EventTypeListItem]
    total: int
    limit: int
    offset: int
