"""The LRU of compiled validators (DESIGN-NOTES 5)."""

from __future__ import annotations

from typing import Any

import pytest

from eventgate.validation import RulesError, ValidatorCache, canonical_rules_hash
from eventgate.validation import cache as cache_module


@pytest.fixture
def compiles(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    seen: list[Any] = []
    real = cache_module.compile_rules

    def counting(rules: Any) -> Any:
        seen.append(rules)
        return real(rules)

    monkeypatch.setattr(cache_module, "compile_rules", counting)
    return seen


def rules_for(n: int) -> list[dict[str, Any]]:
    return [{"name": f"p{n}", "required": True}]


def test_compiles_lazily_once_per_rules_hash(compiles: list[Any]) -> None:
    cache = ValidatorCache()
    assert compiles == []
    first = cache.get({"type": "object", "required": ["a"]})
    again = cache.get({"required": ["a"], "type": "object"})  # same canonical JSON
    assert first is again
    assert len(compiles) == 1
    assert (cache.hits, cache.misses) == (1, 1)
    assert first.violations({"a": 1}) == []


def test_a_given_rules_hash_skips_hashing() -> None:
    cache = ValidatorCache()
    rules = rules_for(1)
    compiled = cache.get(rules, rules_hash=canonical_rules_hash(rules))
    assert compiled.rules_hash == canonical_rules_hash(rules)
    assert cache.get(rules) is compiled


def test_least_recently_used_entries_are_evicted(compiles: list[Any]) -> None:
    cache = ValidatorCache(max_entries=2)
    one = cache.get(rules_for(1))
    cache.get(rules_for(2))
    assert cache.get(rules_for(1)) is one  # 1 is now the most recent
    cache.get(rules_for(3))  # evicts 2
    assert len(cache) == 2
    assert cache.get(rules_for(1)) is one
    cache.get(rules_for(2))
    assert compiles == [rules_for(1), rules_for(2), rules_for(3), rules_for(2)]


def test_refused_rules_are_cached_and_raise_every_time(compiles: list[Any]) -> None:
    cache = ValidatorCache()
    bad = {"unevaluatedProperties": False}
    for _ in range(3):
        with pytest.raises(RulesError, match="unevaluatedProperties"):
            cache.get(bad)
    assert len(compiles) == 1


def test_non_json_rules_raise_rules_error() -> None:
    with pytest.raises(RulesError):
        ValidatorCache().get({"a": object()})


def test_max_entries_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        ValidatorCache(max_entries=0)
