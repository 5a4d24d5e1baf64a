"""An LRU of compiled validators keyed by rules hash, compiling lazily (DESIGN-NOTES 5).

One 17-property validator is ~23 KB and milliseconds to compile, so the 30,000 types of a
large account are never compiled up front: a type's validator is compiled the first time
one of its events needs it, and the least recently used ones are dropped past
``max_entries``. Rules that fail to compile are cached too (as their :class:`RulesError`),
so a bad rule stored before a check was tightened costs one compile, not one per event.

Hashing the rules on every call costs a canonical JSON dump (µs for a small schema); a
caller that already keeps the hash (e.g. with the registry record) passes ``rules_hash``.
Thread-safe; a compile runs outside the lock, so two threads may compile the same rules
once each, harmlessly.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from eventgate.validation.errors import RulesError
from eventgate.validation.rules import CompiledRules, canonical_rules_hash, compile_rules


class ValidatorCache:
    """LRU of :class:`CompiledRules` (and refusals) by :func:`canonical_rules_hash`."""

    def __init__(self, max_entries: int = 2048) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._entries: OrderedDict[str, CompiledRules | RulesError] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, rules: Any, rules_hash: str | None = None) -> CompiledRules:
        """The compiled ``rules``, compiled on a miss; raises :class:`RulesError`.

        ``rules_hash``, when given, must be ``canonical_rules_hash(rules)``."""
        key = rules_hash if rules_hash is not None else canonical_rules_hash(rules)
        with self._lock:
            entry = self._entries.get(key)
            if entry is not None:
                self._entries.move_to_end(key)
                self.hits += 1
        if entry is None:
            try:
                entry = compile_rules(rules)
            except RulesError as exc:
                entry = exc
            with self._lock:
                self.misses += 1
                self._entries[key] = entry
                self._entries.move_to_end(key)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem(last=False)
        if isinstance(entry, RulesError):
            raise RulesError(entry.message, entry.path)
        return entry
