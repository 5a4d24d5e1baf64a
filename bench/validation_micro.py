"""Micro-benchmark of eventgate.validation: compile time and check throughput.

    .venv/bin/python bench/validation_micro.py

Prints: compile time of a 17-property schema (fast validator; detailed one on first
failure), checks/s for valid and invalid params, the simple form, the hash, and the
catastrophic pattern ``^(a+)+$`` on RE2 (with Python's ``re`` on a short input for
comparison). Figures are medians of a few repeats; these machines are noisy.
"""

from __future__ import annotations

import re
import statistics
import time
from collections.abc import Callable
from typing import Any

import fastjsonschema

from eventgate.validation import canonical_rules_hash, compile_rules

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
        ms = median_seconds(lambda n=n: backtracking.search("a" * n + "!"), repeat=1) * 1e3
        print(f"  Python re, {n} a's + '!': {ms:.0f} ms (x2 per character)")


if __name__ == "__main__":
    main()
