"""A static bound on what one event can cost to validate against untrusted rules.

fastjsonschema's run time is the product of schema and data: a 600-branch ``anyOf``
applied to each of 30,000 array items tries 18 million subschemas (~50 s). Timing each
event would tax the hot path, so rules are priced once, at compile time, and refused
when their worst case exceeds :data:`MAX_CHECKS`.

**What a check is** (about a plain keyword check, ~0.2 µs): applying a subschema to a
value costs 1, plus 1 per ``required`` name (each missing one is a violation), per
``dependencies`` entry, per 16 ``properties`` entries and per 64 bytes of
``enum``/``const`` (a violation prints the whole list). Reaching a subschema may cost
more: :data:`TRIAL_CHECKS` where fastjsonschema tries it inside a ``try`` (a branch of
``anyOf``/``oneOf``, ``not``, ``if``, ``contains`` on an item: a failed try costs an
exception), :data:`CALL_CHECKS` for a call (a ``$ref`` hop; a ``patternProperties``
entry searched on a property name). Every branch is assumed tried and failed.

**On how many values.** ``items``, ``additionalItems`` and ``contains`` apply to every
item: the array's ``maxItems``, else :data:`MAX_ARRAY_ITEMS` (the most a 64 KiB record
holds, ``[0,0,…]``); ``patternProperties``, ``additionalProperties`` and
``propertyNames`` to every property: ``maxProperties``, else
:data:`MAX_OBJECT_PROPERTIES`. Recursion (a ``$ref`` back up) stops at the record's
nesting limit. The cost is the lesser of two sound bounds: the sum over every path
through the schema of checks times values reached (tight when arrays are bounded), and
the record's :data:`MAX_DATA_NODES` values times the most checks one value can meet
(tight for recursive schemas and long lists of differently named properties, which
never meet the same value).

It over-estimates, never under-estimates, so a refusal names its fix: ``maxItems``,
``maxProperties``, or fewer branches. Pure logic: no I/O, no clock.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from eventgate.validation.errors import RulesError
from eventgate.validation.facts import Pointer, SchemaFacts, pointer_text

RECORD_BYTES = 64 * 1024
"""The default record size limit (``EVENTGATE_MAX_RECORD_BYTES``) the caps derive from."""
MAX_ARRAY_ITEMS = RECORD_BYTES // 2
"""Most items one array of a 64 KiB record holds (``[0,0,0,…]``: 2 bytes each)."""
MAX_OBJECT_PROPERTIES = RECORD_BYTES // 6
"""Most properties one object of a 64 KiB record holds (``"ab":0,`` is 7 bytes; 6 is safe)."""
MAX_DATA_NODES = MAX_ARRAY_ITEMS
"""Most values a 64 KiB record holds in all."""
MAX_DATA_DEPTH = 32
"""Deepest nesting of an accepted record (SPEC §2): recursion in the rules stops there."""
MAX_CHECKS = 400_000
"""Most checks (see the module docstring) one event may cost."""
TRIAL_CHECKS = 16
"""A subschema tried inside a ``try``: its failure costs an exception with a formatted
message and a copy of the subschema, ~1.5-9 µs measured against ~0.2 µs per plain check."""
CALL_CHECKS = 4
"""A ``$ref`` hop (a function call) or a pattern searched on a property name (RE2): ~1-3 µs."""
PROPERTIES_PER_CHECK = 16
ENUM_BYTES_PER_CHECK = 64

_COMBINATORS = frozenset({"allOf", "anyOf", "oneOf"})
_IN_PLACE = frozenset({"not", "if", "then", "else"})
_PER_ITEM = frozenset({"additionalItems", "contains"})
_PER_PROPERTY = frozenset({"patternProperties", "additionalProperties", "propertyNames"})
_SATURATE = MAX_CHECKS * 1000  # keep the integers small once far over the limit

# (pointer, reach, depth): one subschema applied to ``reach`` values at data ``depth``.
_Key = tuple[Pointer, int, int]
# (child, checks of reaching it on top of its own (a trial, a call), whether it is one of
# ``properties`` or of an ``items`` array: a value is at most one of those, so they never
# add up on it)
_Edge = tuple[_Key, int, bool]


def check_cost(schema: dict[str, Any], facts: SchemaFacts) -> int:
    """The worst-case checks one event costs against ``schema``, which passed every
    other check of :func:`~eventgate.validation.checks.check_schema` (so no ``$ref`` loop
    stays in place); raises :class:`RulesError` over :data:`MAX_CHECKS`, naming the
    deepest subschema that alone exceeds it."""
    pricer = _Pricer(schema, facts)
    root: _Key = ((), 1, 0)
    total = pricer.cost(root)
    if total > MAX_CHECKS:
        raise RulesError(
            f"the rules could cost up to {total:,} checks to validate one event, over the "
            f"limit of {MAX_CHECKS:,} (branches of anyOf/oneOf/allOf, $ref, "
            "patternProperties, long required lists and enums, times the array items and "
            "properties they apply to): bound the arrays with maxItems and the objects "
            "with maxProperties, or use fewer branches",
            pointer_text(pricer.culprit(root)),
        )
    return total


def own_checks(node: Any) -> int:
    """Checks of applying ``node`` itself to one value (its subschemas aside)."""
    if not isinstance(node, dict):
        return 1
    checks = (
        1
        + len(node.get("required", ()))
        + len(node.get("properties", ())) // (PROPERTIES_PER_CHECK)
    )
    dependencies = node.get("dependencies", {})
    checks += len(dependencies) + sum(len(d) for d in dependencies.values() if isinstance(d, list))
    for keyword in ("enum", "const"):
        if keyword in node:
            text = json.dumps(node[keyword], separators=(",", ":"), ensure_ascii=False)
            checks += len(text.encode()) // ENUM_BYTES_PER_CHECK
    return checks


class _Pricer:
    def __init__(self, schema: dict[str, Any], facts: SchemaFacts) -> None:
        self.schema = schema
        self.ref_targets = facts.ref_targets
        self.own: dict[Pointer, int] = {}
        # key -> (checks summed over paths, rates): rates[j] is the most checks one value
        # j levels below the key's values meets through it
        self.costs: dict[_Key, tuple[int, tuple[int, ...]]] = {}

    def node(self, at: Pointer) -> Any:
        node: Any = self.schema
        for seg in at:
            node = node[int(seg)] if isinstance(node, list) else node[seg]
        return node

    def cost(self, key: _Key) -> int:
        """The lesser of the two bounds of the module docstring for ``key``."""
        self.price(key)
        total, rates = self.costs[key]
        per_value = key[1] * rates[0] + MAX_DATA_NODES * max(rates[1:], default=0)
        return min(total, per_value)

    def price(self, start: _Key) -> None:
        """Memoised post-order walk; iterative, so a long ``$ref`` chain cannot exhaust
        the Python stack (the key graph has no cycle: in-place loops are refused earlier
        and every other loop deepens into the data, down to the nesting limit)."""
        stack: list[tuple[_Key, list[_Edge] | None]] = [(start, None)]
        while stack:
            key, edges = stack.pop()
            if key in self.costs:
                continue
            if edges is None:
                edges = list(self.edges(key))
                stack.append((key, edges))
                stack.extend((child, None) for child, _, _ in edges if child not in self.costs)
                continue
            at, reach, depth = key
            if at not in self.own:
                self.own[at] = own_checks(self.node(at))
            total = reach * self.own[at]
            longest = max((c[2] - depth + len(self.costs[c][1]) for c, _, _ in edges), default=1)
            rates = [0] * max(1, min(longest, MAX_DATA_DEPTH + 1 - depth))
            rates[0] = self.own[at]
            exclusive = [0] * len(rates)  # the most any one named property/index adds
            for child, reaching, named in edges:
                child_total, child_rates = self.costs[child]
                total += child_total + child[1] * reaching
                shift = child[2] - depth  # 0 in place, 1 for a value inside this one
                if shift < len(rates):
                    rates[shift] += reaching  # paid at the child's level
                for j, rate in enumerate(child_rates[: len(rates) - shift]):
                    if named:
                        exclusive[j + shift] = max(exclusive[j + shift], rate)
                    else:
                        rates[j + shift] += rate
            merged = [min(a + b, _SATURATE) for a, b in zip(rates, exclusive, strict=True)]
            while len(merged) > 1 and not merged[-1]:  # short tuples: short loops above
                merged.pop()
            self.costs[key] = (min(total, _SATURATE), tuple(merged))

    def culprit(self, key: _Key) -> Pointer:
        """The deepest subschema on the costliest path that alone is over the limit."""
        while True:
            over = [child for child, _, _ in self.edges(key) if self.cost(child) > MAX_CHECKS]
            if not over:
                return key[0]
            key = max(over, key=self.cost)

    def edges(self, key: _Key) -> Iterator[_Edge]:
        at, reach, depth = key
        node = self.node(at)
        if not isinstance(node, dict) or reach == 0 or depth > MAX_DATA_DEPTH:
            return
        items_cap = _cap(node.get("maxItems"), MAX_ARRAY_ITEMS)
        properties_cap = _cap(node.get("maxProperties"), MAX_OBJECT_PROPERTIES)

        def child(pointer: Pointer, times: int = 1, deeper: bool = True) -> _Key:
            return (pointer, min(MAX_DATA_NODES, reach * times), depth + deeper)

        for keyword, value in node.items():
            here = (*at, keyword)
            if keyword == "properties":
                yield from ((child((*here, name)), 0, True) for name in value)
            elif keyword in _COMBINATORS:
                trial = TRIAL_CHECKS if keyword != "allOf" else 0  # allOf is inlined
                for i in range(len(value)):
                    yield child((*here, str(i)), deeper=False), trial, False
            elif keyword in _IN_PLACE:
                trial = TRIAL_CHECKS if keyword in {"not", "if"} else 0
                yield child(here, deeper=False), trial, False
            elif keyword == "dependencies":
                for name, dependency in value.items():
                    if not isinstance(dependency, list):
                        yield child((*here, name), deeper=False), 0, False
            elif keyword == "$ref":
                yield child(self.ref_targets[value], deeper=False), CALL_CHECKS, False
            elif keyword == "items" and isinstance(value, list):
                yield from ((child((*here, str(i))), 0, True) for i in range(len(value)))
            elif keyword == "items" or keyword in _PER_ITEM:
                trial = TRIAL_CHECKS if keyword == "contains" else 0
                yield child(here, items_cap), trial, False
            elif keyword == "patternProperties":
                yield from ((child((*here, n), properties_cap), CALL_CHECKS, False) for n in value)
            elif keyword in _PER_PROPERTY:
                yield child(here, properties_cap), 0, False


def _cap(declared: Any, default: int) -> int:
    if isinstance(declared, int | float) and not isinstance(declared, bool):
        return min(int(declared), default)
    return default
