"""Decide each record of a batch against a registry snapshot — pure, no I/O.

For every decoded record: which existing type it belongs to, whether it is accepted or
rejected (and why), which active workflows it launches and stops, and whether it goes to
segmentation. Duplicates are not decided here: the Redis store answers them per batch
(``counters.batch``), and ``outputs`` then skips them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple, Protocol

from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.ingest.decode import Event, Rejection, derive_event_id
from eventgate.ingest.reasons import RejectReason, Violation
from eventgate.registry.model import EventType
from eventgate.validation.errors import RulesError
from eventgate.validation.rules import CompiledRules


class RegistryView(Protocol):
    def get(self, key: str) -> EventType | None: ...
    def launch_workflows(self, key: str) -> tuple[str, ...]: ...
    def stop_workflows(self, key: str) -> tuple[str, ...]: ...


class Validators(Protocol):
    def for_type(self, event_type: EventType) -> CompiledRules | RulesError: ...


class Decision(NamedTuple):
    """What happens to one record (before dedupe)."""

    item: Event | Rejection
    event: Event | None  # ``item`` when it is an Event (a field: read per stage, per event)
    event_type: EventType | None  # the existing type the record is attributed to
    outcome: Outcome  # ACCEPTED or REJECTED
    reason: RejectReason | None
    message: str
    violations: tuple[Violation, ...]
    launches: tuple[str, ...]
    stops: tuple[str, ...]

    @property
    def position(self) -> int:
        return self.item.record.offset


def _reject(
    item: Event | Rejection,
    event_type: EventType | None,
    reason: RejectReason,
    message: str,
    violations: Sequence[Violation] = (),
) -> Decision:
    event = item if isinstance(item, Event) else None
    return Decision(
        item, event, event_type, Outcome.REJECTED, reason, message, tuple(violations), (), ()
    )


def decide_batch(
    items: Sequence[Event | Rejection],
    registry: RegistryView,
    validators: Validators,
    limited: frozenset[str] = frozenset(),
) -> list[Decision]:
    """One decision per item, in order. ``limited`` holds the keys the registry refused to
    auto-register (cap reached): their events are rejected ``registration_limit``."""
    decisions: list[Decision] = []
    for item in items:
        if isinstance(item, Rejection):
            key = item.event_type_key
            existing = registry.get(key) if key is not None else None
            decisions.append(_reject(item, existing, item.reason, item.message, item.violations))
            continue
        key = item.event_type_key
        event_type = registry.get(key)
        if event_type is None:
            reason = "registration cap reached" if key in limited else "type not registered"
            decisions.append(
                _reject(
                    item,
                    None,
                    RejectReason.REGISTRATION_LIMIT,
                    f"event type '{key}' could not be registered: {reason}",
                )
            )
            continue
        if event_type.validation.enabled:
            validator = validators.for_type(event_type)
            if isinstance(validator, RulesError):
                problem = Violation("", f"the type's rules cannot be compiled: {validator.message}")
                decisions.append(
                    _reject(
                        item,
                        event_type,
                        RejectReason.VALIDATION_FAILED,
                        "the type's validation rules are invalid",
                        (problem,),
                    )
                )
                continue
            violations = validator.violations(item.params)
            if violations:
                decisions.append(
                    _reject(
                        item,
                        event_type,
                        RejectReason.VALIDATION_FAILED,
                        f"{len(violations)} parameter violation(s); first: "
                        f"{violations[0].path}: {violations[0].message}",
                        violations,
                    )
                )
                continue
        decisions.append(
            Decision(
                item,
                item,  # the event: an accepted item is one
                event_type,
                Outcome.ACCEPTED,
                None,
                "",
                (),
                registry.launch_workflows(key),
                registry.stop_workflows(key),
            )
        )
    return decisions


def batch_entries(decisions: Sequence[Decision]) -> list[BatchEntry]:
    """The Redis store's view of the decisions (counters, history, dedupe)."""
    entries: list[BatchEntry] = []
    for d in decisions:
        item, record = d.item, d.item.record
        event = d.event
        event_id = event.event_id if event is not None else None
        entries.append(
            BatchEntry(  # positional: half the cost of keywords, in BatchEntry's field order
                record.offset,
                record.timestamp,
                d.event_type.key if d.event_type is not None else None,
                event_id if event is not None and event.explicit_id else None,
                d.outcome,
                d.reason.value if d.reason is not None else None,
                d.launches,
                d.stops,
                event_id if event_id is not None else _derived_id(item),
                event.key_value if event is not None else None,
            )
        )
    return entries


def _derived_id(item: Event | Rejection) -> str:
    r = item.record
    return derive_event_id(r.topic, r.partition, r.offset)


def touched(decisions: Sequence[Decision], duplicates: frozenset[int]) -> dict[str, int]:
    """The latest record time per type among the non-duplicate records of known types."""
    seen: dict[str, int] = {}
    for d in decisions:
        if d.event_type is None or (duplicates and d.position in duplicates):
            continue
        ts = d.item.record.timestamp
        key = d.event_type.key
        if ts > seen.get(key, -1):
            seen[key] = ts
    return seen


def accepted_params(
    decisions: Sequence[Decision], duplicates: frozenset[int]
) -> Mapping[str, list[tuple[Mapping[str, Any], int]]]:
    """Per type, the params (and record time) of accepted non-duplicate events, in order:
    the input of structure discovery."""
    by_type: dict[str, list[tuple[Mapping[str, Any], int]]] = {}
    for d in decisions:
        event = d.event
        if d.outcome is not Outcome.ACCEPTED or (duplicates and d.position in duplicates):
            continue
        if event is None or d.event_type is None:
            continue  # accepted decisions always carry both; this keeps the types honest
        by_type.setdefault(d.event_type.key, []).append((event.params, event.record.timestamp))
    return by_type
