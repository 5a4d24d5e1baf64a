"""What a batch tells the registry: new parameters (structure merges) and activity
(``lastEventAt``, at most hourly per type). Pure; the processor produces the requests in
the batch's Kafka transaction, so they are sent exactly when the batch commits.

Request ids are derived from the partition and position, so a request is recognisable
whoever sends it; merges and touches are idempotent at the writer anyway.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from aiokafka import TopicPartition

from eventgate.ingest.decide import Decision, accepted_params, touched
from eventgate.registry.requests import MergeStructure, Touch, encode_request
from eventgate.registry.state import RegistryState
from eventgate.registry.structure import (
    Additions,
    Structure,
    additions_to_json,
    discover_batch,
    merge,
    structure_from_json,
)
from eventgate.settings import Settings

HOUR_MS = 3_600_000


class RegistryFeedback:
    """Remembers what this process already sent, so a change is sent once, not once per
    batch until the registry view shows it.

    Discovery always runs against the type's real registry structure (the writer merges in
    log order and applies the path limit itself, ``registry.structure``). What was sent is
    kept apart, merged onto that structure, and used only to skip a batch that brings
    nothing beyond it.
    """

    def __init__(self, settings: Settings, max_types: int = 20_000) -> None:
        self.settings = settings
        self.max_types = max_types
        # key -> (registry version, the structure of that version)
        self._structures: dict[str, tuple[int, Structure]] = {}
        # key -> (registry version, that structure plus what this process sent since)
        self._sent: dict[str, tuple[int, Structure]] = {}
        self._touched: dict[str, int] = {}

    def forget(self) -> None:
        """Forget what was sent: a transaction carrying requests did not commit (aborted or
        fenced), so later batches must ask again (merges and touches are idempotent at the
        writer)."""
        self._sent.clear()
        self._touched.clear()

    def _structure(self, state: RegistryState, key: str) -> tuple[int, Structure] | None:
        event_type = state.get(key)
        if event_type is None:
            return None
        known = self._structures.get(key)
        if known is not None and known[0] == event_type.version:
            return known
        parsed = structure_from_json(orjson.loads(event_type.structure_json))
        if len(self._structures) >= self.max_types:
            self._structures.clear()
            self._sent.clear()
        entry = (event_type.version, parsed)
        self._structures[key] = entry
        return entry

    def requests(
        self,
        decisions: Sequence[Decision],
        duplicates: frozenset[int],
        state: RegistryState,
        tp: TopicPartition,
        to_pos: int,
    ) -> list[tuple[bytes, bytes]]:
        """(key, value) records for ``registry.requests``."""
        out: list[tuple[bytes, bytes]] = []
        stem = f"ingest:{tp.partition}:{to_pos}"
        for key, events in accepted_params(decisions, duplicates).items():
            known = self._structure(state, key)
            if known is None:
                continue
            version, structure = known
            sent = self._sent.get(key)
            if sent is not None and sent[0] == version and discover_batch(sent[1], events) is None:
                continue  # nothing beyond what this process already asked for
            additions: Additions | None = discover_batch(structure, events)
            if additions is None:
                continue
            base = sent[1] if sent is not None and sent[0] == version else structure
            self._sent[key] = (version, merge(base, additions)[0])
            request = MergeStructure(
                request_id=f"{stem}:merge:{key}", key=key, additions=additions_to_json(additions)
            )
            out.append((request.request_id.encode(), encode_request(request)))
        seen: dict[str, int] = {}
        for key, ts in touched(decisions, duplicates).items():
            event_type = state.get(key)
            stored = event_type.last_event_at_ms if event_type is not None else None
            last = max(self._touched.get(key, -1), -1 if stored is None else stored)
            if ts - last >= HOUR_MS:
                seen[key] = ts
        if seen:
            if len(self._touched) >= self.max_types:
                self._touched.clear()
            self._touched.update(seen)
            request_touch = Touch(request_id=f"{stem}:touch", seen=seen)
            out.append((request_touch.request_id.encode(), encode_request(request_touch)))
        return out
