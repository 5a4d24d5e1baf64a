"""``RegistryState``: the in-memory materialised view of the registry log.

Records are applied in log order (:meth:`RegistryState.apply`); every process builds the
same state from the same log. Hot-path lookups (``get``, ``launch_workflows``,
``stop_workflows``, ``segments_of``) are dictionary reads against indexes kept up to
date on apply; listing and dependency queries serve the API. Pure: no I/O.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from eventgate.registry.model import EventType, Origin, Segment, Status, Workflow
from eventgate.registry.records import (
    SEGMENT,
    TYPE,
    WORKFLOW,
    Entity,
    Malformed,
    Record,
    decode,
)

MINUTE_MS = 60_000
_EMPTY: tuple[str, ...] = ()


class DependencyFilter(StrEnum):
    ALL = "all"
    LAUNCH = "launch"
    STOP = "stop"
    SEGMENTATION = "segmentation"
    NONE = "none"


class StatusFilter(StrEnum):
    ALL = "all"
    ACTIVE = "active"
    INACTIVE = "inactive"


SORT_FIELDS: dict[str, str] = {
    "key": "key",
    "name": "name",
    "category": "category",
    "origin": "origin",
    "segmentation": "segmentation",
    "createdAt": "created_at_ms",
    "updatedAt": "updated_at_ms",
    "lastEventAt": "last_event_at_ms",
    "version": "version",
}


@dataclass(frozen=True, slots=True)
class Change:
    """One applied record: ``old``/``new`` are ``None`` for a creation/deletion."""

    kind: str
    id: str
    old: Entity | None
    new: Entity | None
    offset: int


@dataclass(frozen=True, slots=True)
class Dependencies:
    launch: tuple[Workflow, ...]
    stop: tuple[Workflow, ...]
    segments: tuple[Segment, ...]

    @property
    def empty(self) -> bool:
        return not (self.launch or self.stop or self.segments)


@dataclass(frozen=True, slots=True)
class DependencyCounts:
    launch: int
    stop: int
    segments: int


@dataclass(frozen=True, slots=True)
class Page:
    items: list[EventType]
    total: int


def _add(index: dict[str, set[str]], keys: Iterable[str], ident: str) -> None:
    for key in keys:
        index.setdefault(key, set()).add(ident)


def _remove(index: dict[str, set[str]], keys: Iterable[str], ident: str) -> None:
    for key in keys:
        members = index.get(key)
        if members is not None:
            members.discard(ident)
            if not members:
                del index[key]


class RegistryState:
    """The registry as of ``last_offset``; see the module docstring."""

    def __init__(self) -> None:
        self.types: dict[str, EventType] = {}
        self.workflows: dict[str, Workflow] = {}
        self.segments: dict[str, Segment] = {}
        self.last_offset = -1
        self.malformed = 0
        self.last_malformed: str | None = None
        # key -> workflow / segment ids referencing it (any status)
        self._launch_refs: dict[str, set[str]] = {}
        self._stop_refs: dict[str, set[str]] = {}
        self._segment_refs: dict[str, set[str]] = {}
        # hot path: key -> sorted ids of ACTIVE workflows, and of segments
        self._launch_active: dict[str, tuple[str, ...]] = {}
        self._stop_active: dict[str, tuple[str, ...]] = {}
        self._segments_of: dict[str, tuple[str, ...]] = {}
        # creation times of recent auto-registrations (the per-minute cap, SPEC §3)
        self._recent_auto: deque[int] = deque()
        self._sorted_keys: list[str] | None = None

    # -- applying the log ----------------------------------------------------------------

    def apply_raw(self, key: bytes | None, value: bytes | None, offset: int) -> Change | None:
        """Decode and apply one log record; a malformed one is counted and skipped."""
        decoded = decode(key, value)
        if isinstance(decoded, Malformed):
            self.malformed += 1
            self.last_malformed = f"offset {offset}: {decoded.reason}"
            self.last_offset = max(self.last_offset, offset)
            return None
        return self.apply(decoded, offset)

    def apply(self, record: Record, offset: int) -> Change:
        self.last_offset = max(self.last_offset, offset)
        old: Entity | None
        if record.kind == TYPE:
            old = self._apply_type(record.id, record.value)
        elif record.kind == WORKFLOW:
            old = self._apply_workflow(record.id, record.value)
        else:
            old = self._apply_segment(record.id, record.value)
        return Change(record.kind, record.id, old, record.value, offset)

    def _apply_type(self, key: str, value: Entity | None) -> EventType | None:
        old = self.types.get(key)
        if isinstance(value, EventType):
            self.types[key] = value
            if old is None:
                self._sorted_keys = None
                if value.origin is Origin.AUTO and value.version == 1:
                    self._note_auto(value.created_at_ms)
        elif old is not None:
            del self.types[key]
            self._sorted_keys = None
        return old

    def _note_auto(self, created_at_ms: int) -> None:
        recent = self._recent_auto
        recent.append(created_at_ms)
        horizon = created_at_ms - 2 * MINUTE_MS
        while recent and recent[0] < horizon:
            recent.popleft()

    def _apply_workflow(self, ident: str, value: Entity | None) -> Workflow | None:
        old = self.workflows.get(ident)
        touched: set[str] = set()
        if old is not None:
            _remove(self._launch_refs, old.effective_launch_on, ident)
            _remove(self._stop_refs, old.stop_on, ident)
            touched.update(old.effective_launch_on, old.stop_on)
            del self.workflows[ident]
        if isinstance(value, Workflow):
            self.workflows[ident] = value
            _add(self._launch_refs, value.effective_launch_on, ident)
            _add(self._stop_refs, value.stop_on, ident)
            touched.update(value.effective_launch_on, value.stop_on)
        for key in touched:
            self._reindex_active(key)
        return old

    def _reindex_active(self, key: str) -> None:
        for refs, active in (
            (self._launch_refs, self._launch_active),
            (self._stop_refs, self._stop_active),
        ):
            ids = tuple(sorted(i for i in refs.get(key, ()) if self.workflows[i].is_active))
            if ids:
                active[key] = ids
            else:
                active.pop(key, None)

    def _apply_segment(self, ident: str, value: Entity | None) -> Segment | None:
        old = self.segments.get(ident)
        touched: set[str] = set()
        if old is not None:
            _remove(self._segment_refs, old.event_type_keys, ident)
            touched.update(old.event_type_keys)
            del self.segments[ident]
        if isinstance(value, Segment):
            self.segments[ident] = value
            _add(self._segment_refs, value.event_type_keys, ident)
            touched.update(value.event_type_keys)
        for key in touched:
            ids = tuple(sorted(self._segment_refs.get(key, ())))
            if ids:
                self._segments_of[key] = ids
            else:
                self._segments_of.pop(key, None)
        return old

    # -- hot path ------------------------------------------------------------------------

    def get(self, key: str) -> EventType | None:
        return self.types.get(key)

    def launch_workflows(self, key: str) -> tuple[str, ...]:
        """Ids of the ACTIVE workflows launched by type ``key``, sorted."""
        return self._launch_active.get(key, _EMPTY)

    def stop_workflows(self, key: str) -> tuple[str, ...]:
        """Ids of the ACTIVE workflows stopped by type ``key``, sorted."""
        return self._stop_active.get(key, _EMPTY)

    def segments_of(self, key: str) -> tuple[str, ...]:
        """Ids of the segments referencing type ``key``, sorted."""
        return self._segments_of.get(key, _EMPTY)

    # -- the view the writer decides against (see ``staged.RegistryView``) --------------

    def workflow(self, ident: str) -> Workflow | None:
        return self.workflows.get(ident)

    def segment(self, ident: str) -> Segment | None:
        return self.segments.get(ident)

    def launch_referrers(self, key: str) -> frozenset[str]:
        return frozenset(self._launch_refs.get(key, ()))

    def stop_referrers(self, key: str) -> frozenset[str]:
        return frozenset(self._stop_refs.get(key, ()))

    def segment_referrers(self, key: str) -> frozenset[str]:
        return frozenset(self._segment_refs.get(key, ()))

    def type_count(self) -> int:
        return len(self.types)

    def auto_registrations_since(self, since_ms: int) -> int:
        """Auto-registrations created after ``since_ms`` (recent ones only are kept)."""
        return sum(1 for created in self._recent_auto if created > since_ms)

    # -- API queries ---------------------------------------------------------------------

    def dependencies(self, key: str) -> Dependencies:
        return Dependencies(
            launch=tuple(self.workflows[i] for i in sorted(self._launch_refs.get(key, ()))),
            stop=tuple(self.workflows[i] for i in sorted(self._stop_refs.get(key, ()))),
            segments=tuple(self.segments[i] for i in self.segments_of(key)),
        )

    def dependency_counts(self, key: str) -> DependencyCounts:
        return DependencyCounts(
            len(self._launch_refs.get(key, ())),
            len(self._stop_refs.get(key, ())),
            len(self._segment_refs.get(key, ())),
        )

    def _keys_sorted(self) -> list[str]:
        if self._sorted_keys is None:
            self._sorted_keys = sorted(self.types)
        return self._sorted_keys

    def list_types(
        self,
        *,
        now_ms: int,
        activity_window_ms: int,
        status: StatusFilter | str = StatusFilter.ALL,
        dependency: DependencyFilter | str = DependencyFilter.ALL,
        q: str | None = None,
        sort: str = "key",
        limit: int = 50,
        offset: int = 0,
    ) -> Page:
        """Filter, sort (``-field`` descending, ties by key) and page the types.

        Raises ``ValueError`` for an unknown filter value or sort field.
        """
        status, dependency = StatusFilter(status), DependencyFilter(dependency)
        descending = sort.startswith("-")
        field = sort[1:] if descending else sort
        if field != "status" and field not in SORT_FIELDS:
            raise ValueError(f"cannot sort by {field!r}")
        items = [self.types[k] for k in self._keys_sorted()]
        if status is not StatusFilter.ALL:
            wanted = Status(status.value)
            items = [t for t in items if t.status(now_ms, activity_window_ms) is wanted]
        if dependency is not DependencyFilter.ALL:
            items = [t for t in items if self._matches(t, dependency)]
        if q:
            needle = q.casefold()
            items = [t for t in items if needle in t.key.casefold() or needle in t.name.casefold()]
        if field != "key" or descending:
            items.sort(key=self._sort_key(field, now_ms, activity_window_ms), reverse=descending)
        total = len(items)
        return Page(items[offset : offset + limit], total)

    def _matches(self, t: EventType, dependency: DependencyFilter) -> bool:
        if dependency is DependencyFilter.LAUNCH:
            return t.key in self._launch_refs
        if dependency is DependencyFilter.STOP:
            return t.key in self._stop_refs
        if dependency is DependencyFilter.SEGMENTATION:
            return t.segmentation
        return not (
            t.key in self._launch_refs or t.key in self._stop_refs or t.key in self._segment_refs
        )

    @staticmethod
    def _sort_key(field: str, now_ms: int, window_ms: int) -> Any:
        if field == "status":
            return lambda t: t.status(now_ms, window_ms).value
        attr = SORT_FIELDS[field]
        if attr == "last_event_at_ms":
            return lambda t: -1 if t.last_event_at_ms is None else t.last_event_at_ms
        if attr == "name":
            return lambda t: t.name.casefold()
        return lambda t: getattr(t, attr)

    def snapshot(self) -> tuple[dict[str, EventType], dict[str, Workflow], dict[str, Segment]]:
        """Copies of the three maps (tests compare states field by field with it)."""
        return dict(self.types), dict(self.workflows), dict(self.segments)


__all__ = [
    "SEGMENT",
    "TYPE",
    "WORKFLOW",
    "Change",
    "Dependencies",
    "DependencyCounts",
    "DependencyFilter",
    "Page",
    "RegistryState",
    "StatusFilter",
]
