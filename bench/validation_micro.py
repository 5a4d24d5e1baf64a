"""Micro-benchmark of eventgate.validation: compile time and check throughput.

    .venv/bin/python bench/validation_micro.py

Prints: compile time of a 17-property schema (fast validator; detailed one on first
failure), checks/s for valid and invalid params, the simple form, the hash, and the
catastrophic pattern ``^(a+)+$`` on RE2 (with Python's ``re`` on a short input for
comparison). Figures are medians of a few repeats; these machines are noisy.

``--hostile`` instead prices rules built to cost as much as the compile-time bound
(``eventgate.validation.cost``) lets through, each against params of at most 64 KiB
built to fail every branch (or, for anyOf/oneOf, to pass only through the last one),
and prints the slowest validation of one event (violation report included), then how
many of the hostile rules past the bound are refused.
"""

from __future__ import annotations

import re
import statistics
import sys
import time
from collections.abc import Callable
from functools import partial
from typing import Any

import fastjsonschema
import orjson

from eventgate.validation import RulesError, canonical_rules_hash, compile_rules
from eventgate.validation.checks import check_schema
from eventgate.validation.cost import MAX_ARRAY_ITEMS, MAX_CHECKS, check_cost

SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["orderId", "email", "total", "items"],
    "properties": {
        "orderId": {"type": "string", "pattern": "^O-[0-9]{4,12}$"},
        "email": {"type": "string", "format": "email"},
        "phone": {"type": "string", "pattern": "^\\+?[0-9 ]{6,20}$"},
        "total": {"type": "number", "minimum": 0},
        "currency": {"enum": ["EUR", "USD", "GBP"]},
        "coupon": {"type": ["string", "null"], "maxLength": 32},
        "firstOrder": {"type": "boolean"},
        "channel": {"enum": ["web", "app", "store"]},
        "placedAt": {"type": "string", "format": "date-time"},
        "storeId": {"type": "integer", "minimum": 1},
        "country": {"type": "string", "minLength": 2, "maxLength": 2},
        "city": {"type": "string", "maxLength": 100},
        "zip": {"type": "string", "pattern": "^[0-9A-Z -]{3,10}$"},
        "loyaltyPoints": {"type": "integer", "minimum": 0},
        "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 20},
        "discount": {"type": "number", "minimum": 0, "maximum": 100},
        "items": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["sku", "qty"],
                "properties": {
                    "sku": {"type": "string", "pattern": "^[A-Z0-9-]{3,20}$"},
                    "qty": {"type": "integer", "minimum": 1},
                    "price": {"type": "number", "minimum": 0},
                },
                "additionalProperties": False,
            },
        },
    },
}
VALID: dict[str, Any] = {
    "orderId": "O-123456",
    "email": "ann@example.com",
    "phone": "+33 6 12 34 56 78",
    "total": 99.5,
    "currency": "EUR",
    "coupon": None,
    "firstOrder": True,
    "channel": "web",
    "placedAt": "2024-05-01T12:30:00Z",
    "storeId": 12,
    "country": "FR",
    "city": "Lyon",
    "zip": "69001",
    "loyaltyPoints": 120,
    "tags": ["vip", "spring"],
    "discount": 10,
    "items": [{"sku": "ABC-1", "qty": 2, "price": 20.0}, {"sku": "XYZ-9", "qty": 1}],
}
INVALID = {**VALID, "total": -1, "email": "nope", "items": [{"sku": "a", "qty": 0}]}
SIMPLE = [{"name": f"p{i}", "required": i < 5, "type": "string"} for i in range(17)]
SIMPLE_PARAMS = {f"p{i}": "x" for i in range(17)}


def median_seconds(action: Callable[[], object], repeat: int = 5, number: int = 1) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        for _ in range(number):
            action()
        runs.append((time.perf_counter() - start) / number)
    return statistics.median(runs)


def rate(action: Callable[[], object], number: int) -> float:
    return 1.0 / median_seconds(action, number=number)


def check(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"benchmark sanity check failed: {what}")


def main() -> None:
    ms = median_seconds(lambda: compile_rules(SCHEMA), repeat=9) * 1e3
    print(f"compile, 17-property schema (fast validator): {ms:.1f} ms")

    def first_failure() -> None:
        compile_rules(SCHEMA).violations(INVALID)

    ms = median_seconds(first_failure) * 1e3
    print(f"compile + first invalid event (both validators): {ms:.1f} ms")

    rules = compile_rules(SCHEMA)
    check(rules.violations(VALID) == [], "valid params")
    found = rules.violations(INVALID)
    check(len(found) == 4, f"4 violations expected, got {found}")
    per_s = rate(lambda: rules.violations(VALID), 50_000)
    print(f"valid params:   {per_s:,.0f} checks/s ({1e6 / per_s:.1f} µs)")
    per_s = rate(lambda: rules.violations(INVALID), 10_000)
    print(f"invalid params: {per_s:,.0f} checks/s ({len(found)} violations)")
    plain = fastjsonschema.compile(SCHEMA, use_default=False)  # Python re, trusted input only
    per_s = rate(lambda: plain(VALID), 50_000)
    print(f"  baseline, plain fastjsonschema (Python re, no guards), valid: {per_s:,.0f}/s")

    simple = compile_rules(SIMPLE)
    check(simple.violations(SIMPLE_PARAMS) == [], "simple form")
    per_s = rate(lambda: simple.violations(SIMPLE_PARAMS), 50_000)
    print(f"simple form, 17 params, valid: {per_s:,.0f} checks/s")
    us = median_seconds(lambda: canonical_rules_hash(SCHEMA), number=2000) * 1e6
    print(f"canonical_rules_hash(17-property schema): {us:.1f} µs")

    evil = compile_rules({"properties": {"p": {"type": "string", "pattern": "^(a+)+$"}}})
    text = "a" * 30 + "!"
    check(evil.violations({"p": text}) != [], "catastrophic pattern must not match")
    us = median_seconds(lambda: evil.violations({"p": text}), number=2000) * 1e6
    print(f"^(a+)+$ on 30 a's + '!' with RE2 (full violation report): {us:.1f} µs")
    backtracking = re.compile("^(a+)+$")
    for n in (18, 20, 22):
        ms = median_seconds(partial(backtracking.search, "a" * n + "!"), repeat=1) * 1e3
        print(f"  Python re, {n} a's + '!': {ms:.0f} ms (x2 per character)")


def _failing_branches(count: int) -> list[dict[str, Any]]:
    """``count`` distinct branches: 0 fails them all, ``count`` passes only the last."""
    return [{"type": "integer", "minimum": i + 1, "maximum": i + 1} for i in range(count)]


def _accepts(schema: dict[str, Any]) -> bool:
    try:
        check_cost(schema, check_schema(schema))
    except RulesError:
        return False
    return True


def largest_accepted(make: Callable[[int], dict[str, Any]], most: int) -> int:
    """The largest n <= ``most`` whose ``make(n)`` the cost bound accepts (binary search)."""
    low, high = 0, most
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if _accepts(make(middle)) else (low, middle - 1)
    return low


def _bounded_items(item: dict[str, Any]) -> Callable[[int], dict[str, Any]]:
    return lambda n: {"properties": {"a": {"maxItems": n, "items": item}}}


Case = tuple[str, dict[str, Any], dict[str, Any]]


def accepted_worst_cases() -> list[Case]:
    """(name, rules just inside the cost bound, params <= 64 KiB failing all they can)."""
    cases: list[Case] = []
    most = MAX_ARRAY_ITEMS - 1  # ``{"a":[0,…]}`` must fit in 64 KiB
    shapes: list[tuple[str, dict[str, Any], Any]] = [
        (f"{c} {b}{', passing the last' if value else ''}", {c: _failing_branches(b)}, value)
        for b in (2, 20, 600)
        for c in ("anyOf", "oneOf", "allOf")
        for value in ((0, b) if c != "allOf" else (0,))  # a valid event tries every branch
    ]
    definitions: dict[str, Any] = {f"d{i}": {"$ref": f"#/definitions/d{i + 1}"} for i in range(40)}
    definitions["d40"] = {"type": "string"}
    shapes += [
        ("not", {"not": {"type": "integer"}}, 0),
        ("enum ~1.9 KiB", {"enum": [f"value-{i:04d}" for i in range(140)]}, 0),
        ("required 40", {"required": [f"p{i}" for i in range(40)]}, {}),
        ("contains, 4 items", {"maxItems": 4, "contains": {"type": "string"}}, [0, 0, 0, 0]),
    ]
    for name, item, value in shapes:
        make = _bounded_items(item)
        fits = most // max(1, len(orjson.dumps(value)) + 1)
        n = largest_accepted(make, fits)
        cases.append((f"items {{{name}}} x {n}", make(n), {"a": [value] * n}))
    chain = {"definitions": definitions, **_bounded_items({"$ref": "#/definitions/d0"})(0)}
    n = largest_accepted(
        lambda n: {**chain, **_bounded_items({"$ref": "#/definitions/d0"})(n)}, most
    )
    cases.append(
        (
            f"$ref chain 40 x {n}",
            {**chain, **_bounded_items({"$ref": "#/definitions/d0"})(n)},
            {"a": [0] * n},
        )
    )
    patterns = {f"^x{i}$": {"type": "string"} for i in range(4)}
    cases.append(
        (
            "4 patternProperties x 6,500",
            {"patternProperties": patterns},
            {f"k{i}": 0 for i in range(6_500)},
        )
    )
    tree: dict[str, Any] = {
        "properties": {"kids": {"items": {"$ref": "#"}}, "n": {"type": "string"}}
    }
    cases.append(("recursive $ref x 7,000 nodes", tree, {"kids": [{"n": 0}] * 7_000}))
    cases.append(
        ("the 17-property schema above x 21,000 {}", SCHEMA, {**VALID, "items": [{}] * 21_000})
    )
    return cases


def refused_hostile_rules() -> list[dict[str, Any]]:
    """Rules past the bound: the first is the 600-branch x 3,000-item case that took ~9 s."""
    wide = {"anyOf": _failing_branches(600)}
    return [
        {"properties": {"a": {"items": wide}}},
        {"properties": {"a": {"maxItems": 3000, "items": wide}}},
        {"properties": {"a": {"items": {"anyOf": _failing_branches(8)}}}},
        {"properties": {"a": {"items": {"enum": [f"v{i:05d}" for i in range(7000)]}}}},
        {"properties": {"a": {"items": {"enum": [f"value-{i:04d}" for i in range(140)]}}}},
        {"patternProperties": {f"^x{i}$": {} for i in range(1500)}},
        {"anyOf": [{"items": {"$ref": "#"}}, {"items": {"$ref": "#"}}]},
        {"properties": {"a": {"items": {"items": {"oneOf": _failing_branches(3)}}}}},
    ]


def hostile() -> None:
    worst = 0.0
    for name, schema, params in accepted_worst_cases():
        size = len(orjson.dumps(params))
        check(size <= 64 * 1024, f"{name}: params of {size} bytes")
        cost = check_cost(schema, check_schema(schema))
        rules = compile_rules(schema)
        rules.violations(params)  # compile the detailed validator first
        seconds = median_seconds(partial(rules.violations, params), repeat=3)
        worst = max(worst, seconds)
        print(f"{name:42} bound {cost:>6,} checks  {seconds * 1e3:8.1f} ms/event")
    print(f"slowest accepted rule: {worst * 1e3:.0f} ms per event (bound {MAX_CHECKS:,} checks)")
    refused = 0
    hostile_rules = refused_hostile_rules()
    for candidate in hostile_rules:
        try:
            compile_rules(candidate)
        except RulesError as exc:
            refused += 1
            print(f"refused: {exc.message[:60]}… at {exc.path}")
    print(f"hostile rules past the bound refused: {refused}/{len(hostile_rules)}")


if __name__ == "__main__":
    if "--hostile" in sys.argv[1:]:
        hostile()
    else:
        main()
