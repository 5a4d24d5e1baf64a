"""Compiled validators per event type, looked up once per (type, version).

Hashing a type's rules on every event would cost more than validating it; the registry
version changes whenever the rules do, so (key, version) identifies them. Compilation
itself is shared through the rules-hash LRU (``validation.cache``), so types with equal
rules share one validator.
"""

from __future__ import annotations

from eventgate.registry.model import EventType
from eventgate.validation.cache import ValidatorCache
from eventgate.validation.errors import RulesError
from eventgate.validation.rules import CompiledRules

Compiled = CompiledRules | RulesError


class TypeValidators:
    def __init__(self, cache: ValidatorCache | None = None, max_types: int = 20_000) -> None:
        self.cache = cache if cache is not None else ValidatorCache()
        self.max_types = max_types
        self._by_type: dict[str, tuple[int, Compiled]] = {}

    def for_type(self, event_type: EventType) -> Compiled:
        known = self._by_type.get(event_type.key)
        if known is not None and known[0] == event_type.version:
            return known[1]
        compiled: Compiled
        try:
            compiled = self.cache.get(event_type.validation.rules)
        except RulesError as exc:
            compiled = exc
        if len(self._by_type) >= self.max_types:
            self._by_type.clear()  # bounded; refilled lazily from the LRU
        self._by_type[event_type.key] = (event_type.version, compiled)
        return compiled
