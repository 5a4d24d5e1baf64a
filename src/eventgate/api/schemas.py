"""The API's response shapes (camelCase), shared by the handlers and ``/openapi.json``.
Request bodies live in :mod:`eventgate.api.bodies`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic.alias_generators import to_camel

from eventgate.counters.model import Figures
from eventgate.registry.model import (
    Category,
    ContactFieldRef,
    EventType,
    Origin,
    Segment,
    SegmentRef,
    Status,
    SystemRef,
    Workflow,
    WorkflowStatus,
)
from eventgate.registry.state import DependencyCounts


class ApiModel(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, frozen=True, serialize_by_alias=True
    )


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
    rules: Any = Field(None, description="as last set: simple form, JSON Schema or null")


class ValidationSummary(ApiModel):
    enabled: bool


class VolumeFloorOut(ApiModel):
    events: int
    hours: int


class SegmentConditionOut(ApiModel):
    segment_id: str
    segment_name: str


class ContactFieldConditionOut(ApiModel):
    contact_field_id: str
    contact_field_name: str


ConditionOut = SegmentConditionOut | ContactFieldConditionOut


def condition_of(ref: SystemRef | None) -> ConditionOut | None:
    """A system type's origin, or a workflow's launch condition."""
    if isinstance(ref, ContactFieldRef):
        return ContactFieldConditionOut(
            contact_field_id=ref.contact_field_id, contact_field_name=ref.contact_field_name
        )
    if isinstance(ref, SegmentRef):
        return SegmentConditionOut(segment_id=ref.segment_id, segment_name=ref.segment_name)
    return None


class DependencyCountsOut(ApiModel):
    launch: int = Field(description="workflows launched by the type")
    stop: int = Field(description="workflows stopped by the type")
    segments: int = Field(description="segments using the type")
    total: int

    @classmethod
    def of(cls, counts: DependencyCounts) -> DependencyCountsOut:
        return cls(
            launch=counts.launch,
            stop=counts.stop,
            segments=counts.segments,
            total=counts.launch + counts.stop + counts.segments,
        )


class _TypeFields(ApiModel):
    key: str
    name: str
    category: Category
    segmentation: bool
    volume_floor: VolumeFloorOut | None
    origin: Origin
    system: ConditionOut | None = Field(description="for system types: what they stand for")
    status: Status
    last_event_at: str | None
    created_at: str | None
    updated_at: str | None
    version: int = Field(description="increases on every change; the ETag")

    @staticmethod
    def fields_of(t: EventType, status: Status) -> dict[str, Any]:
        floor = t.volume_floor
        return {
            "key": t.key,
            "name": t.name,
            "category": t.category,
            "segmentation": t.segmentation,
            "volume_floor": None
            if floor is None
            else VolumeFloorOut(events=floor.events, hours=floor.hours),
            "origin": t.origin,
            "system": condition_of(t.system),
            "status": status,
            "last_event_at": iso_ms(t.last_event_at_ms),
            "created_at": iso_ms(t.created_at_ms),
            "updated_at": iso_ms(t.updated_at_ms),
            "version": t.version,
        }


class EventTypeOut(_TypeFields):
    """One event type (``GET /event-types/{key}``)."""

    validation: ValidationOut

    @classmethod
    def of(cls, t: EventType, status: Status) -> EventTypeOut:
        validation = ValidationOut(enabled=t.validation.enabled, rules=t.validation.rules)
        return cls(**cls.fields_of(t, status), validation=validation)


class EventTypeListItem(_TypeFields):
    """A row of the list: the type without its rules, with its dependency counts."""

    validation: ValidationSummary
    dependencies: DependencyCountsOut
    volume24h: int | None = Field(
        alias="volume24h",
        description="records of the type in the last 24 h (null: Redis unreachable)",
    )
    launched24h: int | None = Field(
        alias="launched24h", description="launch commands emitted in the last 24 h"
    )
    errors24h: int | None = Field(
        alias="errors24h", description="distinct commands reported failed in the last 24 h"
    )
    rejected24h: int | None = Field(
        alias="rejected24h", description="records rejected in the last 24 h"
    )

    @classmethod
    def row(
        cls, t: EventType, status: Status, counts: DependencyCounts, figures: Figures | None
    ) -> EventTypeListItem:
        return cls(
            **cls.fields_of(t, status),
            validation=ValidationSummary(enabled=t.validation.enabled),
            dependencies=DependencyCountsOut.of(counts),
            volume24h=None if figures is None else figures.volume24h,
            launched24h=None if figures is None else figures.launched24h,
            errors24h=None if figures is None else figures.errors24h,
            rejected24h=None if figures is None else figures.rejected24h,
        )


class EventTypePage(ApiModel):
    items: list[EventTypeListItem]
    total: int
    limit: int
    offset: int


class StructurePath(ApiModel):
    path: str = Field(description="copyable path, e.g. params.items[].sku")
    kind: str
    first_seen_at: str


class StructureOut(ApiModel):
    """The merged parameter structure (SPEC §5) as an example document and as paths."""

    key: str
    version: int
    json_preview: dict[str, Any] = Field(
        alias="json", description="the params as an example document; scalars show their kind"
    )
    paths: list[StructurePath]
    path_count: int
    max_paths: int
    max_depth: int


DependencyKind = Literal["launch", "stop", "segment"]


class DependencyOut(ApiModel):
    id: str
    name: str
    kind: DependencyKind
    status: WorkflowStatus | None = Field(description="a workflow's status; null for a segment")


class DependenciesOut(ApiModel):
    key: str
    items: list[DependencyOut]
    counts: DependencyCountsOut


class WorkflowOut(ApiModel):
    id: str
    name: str
    status: WorkflowStatus
    launch_on: list[str]
    stop_on: list[str]
    launch_condition: ConditionOut | None
    system_type: str | None = Field(
        description="key of the system type its launch condition launches it on"
    )

    @classmethod
    def of(cls, w: Workflow) -> WorkflowOut:
        ref = w.launch_condition
        return cls(
            id=w.id,
            name=w.name,
            status=w.status,
            launch_on=list(w.launch_on),
            stop_on=list(w.stop_on),
            launch_condition=condition_of(ref),
            system_type=None if ref is None else ref.system_key,
        )


class WorkflowPage(ApiModel):
    items: list[WorkflowOut]
    total: int
    limit: int
    offset: int


class SegmentOut(ApiModel):
    id: str
    name: str
    event_type_keys: list[str]

    @classmethod
    def of(cls, s: Segment) -> SegmentOut:
        return cls(id=s.id, name=s.name, event_type_keys=list(s.event_type_keys))


class SegmentPage(ApiModel):
    items: list[SegmentOut]
    total: int
    limit: int
    offset: int
