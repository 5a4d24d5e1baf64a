"""The registry's domain objects: event types, workflows, segments (SPEC §3, §7).

Frozen, slotted dataclasses: every process holds the whole registry in memory (100,000
types must fit a worker), so nothing here carries a ``__dict__``. pydantic lives only at
the boundaries (``requests.py``, the API). Large opaque JSON (the parameter structure) is
kept as canonical orjson bytes and decoded on demand.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import orjson

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
NAME_MAX = 200
DAY_MS = 86_400_000
EMPTY_STRUCTURE_JSON = b"{}"


def is_valid_key(key: object) -> bool:
    """True for a well-formed event-type key (SPEC §3), case-sensitive."""
    return isinstance(key, str) and KEY_PATTERN.fullmatch(key) is not None


class Category(StrEnum):
    CLICK = "click"
    SUBSCRIBE = "subscribe"
    RFM = "rfm"
    IMPORT = "import"
    NOTIFICATION = "notification"
    REGULAR_WORKFLOW = "regular_workflow"
    CONTACT_FIELD_CHANGE = "contact_field_change"
    OTHER = "other"


class Origin(StrEnum):
    AUTO = "auto"
    MANUAL = "manual"
    SYSTEM = "system"


class Status(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


class WorkflowStatus(StrEnum):
    ACTIVE = "active"
    INACTIVE = "inactive"


@dataclass(frozen=True, slots=True)
class Validation:
    """``{enabled, rules}``; rules are stored as sent (the API compiled them already)."""

    enabled: bool = False
    rules: Any = None


VALIDATION_OFF = Validation()


@dataclass(frozen=True, slots=True)
class VolumeFloor:
    """Alert when fewer than ``events`` arrive in ``hours`` hours."""

    events: int
    hours: int


@dataclass(frozen=True, slots=True)
class SegmentRef:
    """Launch condition / system origin: a dynamic segment."""

    segment_id: str
    segment_name: str

    @property
    def system_key(self) -> str:
        return f"segment.{self.segment_id}"

    @property
    def system_name(self) -> str:
        return f"Regular workflow: {self.segment_name} ({self.segment_id})"

    @property
    def system_category(self) -> Category:
        return Category.REGULAR_WORKFLOW


@dataclass(frozen=True, slots=True)
class ContactFieldRef:
    """Launch condition / system origin: a change of a contact field."""

    contact_field_id: str
    contact_field_name: str

    @property
    def system_key(self) -> str:
        return f"contactField.{self.contact_field_id}"

    @property
    def system_name(self) -> str:
        return f"Contact field change: {self.contact_field_name} ({self.contact_field_id})"

    @property
    def system_category(self) -> Category:
        return Category.CONTACT_FIELD_CHANGE


SystemRef = SegmentRef | ContactFieldRef


@dataclass(frozen=True, slots=True)
class EventType:
    key: str
    name: str
    category: Category
    segmentation: bool
    validation: Validation
    structure_json: bytes
    volume_floor: VolumeFloor | None
    origin: Origin
    system: SystemRef | None
    last_event_at_ms: int | None
    created_at_ms: int
    updated_at_ms: int
    version: int

    @property
    def structure(self) -> Any:
        """The parameter structure as JSON (opaque here; see ``registry.structure``)."""
        return orjson.loads(self.structure_json)

    def status(self, now_ms: int, activity_window_ms: int) -> Status:
        return type_status(self.last_event_at_ms, now_ms, activity_window_ms)


def type_status(last_event_at_ms: int | None, now_ms: int, activity_window_ms: int) -> Status:
    """``active`` if an event arrived within the window before ``now_ms`` (SPEC §3)."""
    if last_event_at_ms is None or now_ms - last_event_at_ms > activity_window_ms:
        return Status.INACTIVE
    return Status.ACTIVE


def activity_window_ms(days: int) -> int:
    return days * DAY_MS


@dataclass(frozen=True, slots=True)
class Workflow:
    id: str
    name: str
    status: WorkflowStatus
    launch_on: tuple[str, ...]
    stop_on: tuple[str, ...]
    launch_condition: SystemRef | None = None

    @property
    def is_active(self) -> bool:
        return self.status is WorkflowStatus.ACTIVE

    @property
    def effective_launch_on(self) -> tuple[str, ...]:
        """``launch_on`` plus the system type of its launch condition, deduplicated."""
        if self.launch_condition is None:
            return self.launch_on
        key = self.launch_condition.system_key
        return self.launch_on if key in self.launch_on else (*self.launch_on, key)


@dataclass(frozen=True, slots=True)
class Segment:
    id: str
    name: str
    event_type_keys: tuple[str, ...]


def new_auto_type(key: str, now_ms: int) -> EventType:
    """An auto-registered type: category other, named after the key, switches off."""
    return EventType(
        key=key,
        name=key,
        category=Category.OTHER,
        segmentation=False,
        validation=VALIDATION_OFF,
        structure_json=EMPTY_STRUCTURE_JSON,
        volume_floor=None,
        origin=Origin.AUTO,
        system=None,
        last_event_at_ms=None,
        created_at_ms=now_ms,
        updated_at_ms=now_ms,
        version=1,
    )
