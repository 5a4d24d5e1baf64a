"""What the writer decides against: a read view of the registry, and an overlay of the
records it has decided but not yet seen come back from the log.

The writer's decisions for one batch of requests must see each other (two requests in a
batch registering the same key produce one type), but the process's ``RegistryState``
only changes when its reader applies committed records. :class:`StagedView` layers the
batch's pending records over the state without copying it (one copy of the registry per
process: memory).
"""

from __future__ import annotations

from typing import Protocol

from eventgate.registry.model import EventType, Origin, Segment, Workflow
from eventgate.registry.records import TYPE, WORKFLOW, Record


class RegistryView(Protocol):
    """The queries :func:`commands.decide` needs."""

    def get(self, key: str) -> EventType | None: ...
    def workflow(self, ident: str) -> Workflow | None: ...
    def segment(self, ident: str) -> Segment | None: ...
    def launch_referrers(self, key: str) -> frozenset[str]: ...
    def stop_referrers(self, key: str) -> frozenset[str]: ...
    def segment_referrers(self, key: str) -> frozenset[str]: ...
    def type_count(self) -> int: ...
    def auto_registrations_since(self, since_ms: int) -> int: ...


class StagedView:
    """``base`` plus pending records (later ones win); implements :class:`RegistryView`."""

    def __init__(self, base: RegistryView) -> None:
        self._base = base
        self._types: dict[str, EventType | None] = {}
        self._workflows: dict[str, Workflow | None] = {}
        self._segments: dict[str, Segment | None] = {}
        self._count_delta = 0
        self._auto: list[int] = []

    def stage(self, record: Record) -> None:
        if record.kind == TYPE:
            before = self.get(record.id)
            value = record.value if isinstance(record.value, EventType) else None
            self._types[record.id] = value
            self._count_delta += (value is not None) - (before is not None)
            if before is None and value is not None and value.origin is Origin.AUTO:
                self._auto.append(value.created_at_ms)
        elif record.kind == WORKFLOW:
            self._workflows[record.id] = (
                record.value if isinstance(record.value, Workflow) else None
            )
        else:
            self._segments[record.id] = record.value if isinstance(record.value, Segment) else None

    def get(self, key: str) -> EventType | None:
        if key in self._types:
            return self._types[key]
        return self._base.get(key)

    def workflow(self, ident: str) -> Workflow | None:
        if ident in self._workflows:
            return self._workflows[ident]
        return self._base.workflow(ident)

    def segment(self, ident: str) -> Segment | None:
        if ident in self._segments:
            return self._segments[ident]
        return self._base.segment(ident)

    def launch_referrers(self, key: str) -> frozenset[str]:
        base = {i for i in self._base.launch_referrers(key) if i not in self._workflows}
        base.update(
            i for i, w in self._workflows.items() if w is not None and key in w.effective_launch_on
        )
        return frozenset(base)

    def stop_referrers(self, key: str) -> frozenset[str]:
        base = {i for i in self._base.stop_referrers(key) if i not in self._workflows}
        base.update(i for i, w in self._workflows.items() if w is not None and key in w.stop_on)
        return frozenset(base)

    def segment_referrers(self, key: str) -> frozenset[str]:
        base = {i for i in self._base.segment_referrers(key) if i not in self._segments}
        base.update(
            i for i, s in self._segments.items() if s is not None and key in s.event_type_keys
        )
        return frozenset(base)

    def type_count(self) -> int:
        return self._base.type_count() + self._count_delta

    def auto_registrations_since(self, since_ms: int) -> int:
        staged = sum(1 for created in self._auto if created > since_ms)
        return self._base.auto_registrations_since(since_ms) + staged
