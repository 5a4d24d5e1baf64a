"""Micro-benchmark of ``eventgate.registry.structure.discover`` (pure, one core, no I/O).

A realistic event of 20 params (scalars of every kind, a nested ``customer`` object, a
3-item ``items`` array of objects, a ``tags`` array of strings). Cases:

- ``known``: the structure already holds everything (the common case: fast path, ``None``);
- ``known+tally``: the same, counting ignored params (``ignored=Ignored()``);
- ``one-new``: every event brings one param the structure lacks (slow path);
- ``full+tally``: the structure is at ``MAX_PATHS`` and every event brings an extra param
  that cannot fit, counted with a tally (the slow path a saturated type pays);
- ``batch``: ``discover_batch`` over 1,000 events that all carry the same new param
  (per event).

Run: ``.venv/bin/python bench/structure_micro.py [--events N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import time
from collections.abc import Callable
from typing import Any

from eventgate.registry.structure import (
    EMPTY_STRUCTURE,
    MAX_PATHS,
    Ignored,
    Structure,
    discover,
    discover_batch,
    merge,
)

T0 = 1_767_225_600_000


def event(i: int) -> dict[str, Any]:
    return {
        "orderId": f"SO-{i:08d}",
        "total": 129.9 + i % 7,
        "currency": "EUR",
        "quantity": 3,
        "paid": True,
        "coupon": None,
        "channel": "web",
        "storeId": 12,
        "discount": 0.1,
        "firstOrder": False,
        "note": "leave at the door",
        "shippingMethod": "express",
        "customer": {"tier": "gold", "age": 41, "city": "Lyon"},
        "items": [
            {"sku": "A-1", "qty": 1, "price": 19.9},
            {"sku": "B-2", "qty": 2, "price": 55.0},
            {"sku": "C-3", "qty": 1, "price": 0.0},
        ],
        "tags": ["spring", "promo"],
        "referrer": "newsletter",
        "device": "mobile",
        "locale": "fr-FR",
        "score": 0.87,
        "sessionId": f"s-{i}",
    }


def learn(structure: Structure, params: dict[str, Any]) -> Structure:
    found = discover(structure, params, T0)
    return structure if found is None else merge(structure, found)[0]


def check(ok: bool, what: str) -> None:
    if not ok:
        raise RuntimeError(f"benchmark setup is wrong: {what}")


def best_rate(fn: Callable[[], int], rounds: int) -> float:
    rates = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        n = fn()
        rates.append(n / (time.perf_counter() - start))
    return max(rates)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=200_000)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    events = [event(i) for i in range(1000)]
    n: int = args.events
    known = learn(EMPTY_STRUCTURE, events[0])
    check(all(discover(known, e, T0) is None for e in events), "known events bring nothing")
    print(f"structure: {known.paths} paths; event: {len(events[0])} top-level params")

    def run_known() -> int:
        for i in range(n):
            discover(known, events[i % 1000], T0)
        return n

    def run_known_tally() -> int:
        tally = Ignored()
        for i in range(n):
            discover(known, events[i % 1000], T0, ignored=tally)
        return n

    novel = [{**e, f"extra{i}": i} for i, e in enumerate(events)]

    def run_one_new() -> int:
        m = n // 10
        for i in range(m):
            discover(known, novel[i % 1000], T0)
        return m

    full = known
    k = 0
    while full.paths < MAX_PATHS:
        full = learn(full, {f"filler{k}": 1})
        k += 1
    check(discover(full, novel[0], T0) is None, "a full structure takes nothing")

    def run_full_tally() -> int:
        m = n // 10
        tally = Ignored()
        for i in range(m):
            discover(full, novel[i % 1000], T0, ignored=tally)
        check(tally.count == m, "one ignored param per event")
        return m

    same_new = [({**e, "promoCode": "X"}, T0 + i) for i, e in enumerate(events)]

    def run_batch() -> int:
        m = 0
        while m < n // 2:
            found = discover_batch(known, same_new)
            check(found is not None and found.paths == 1, "one addition per batch")
            m += len(same_new)
        return m

    cases = [
        ("known", run_known),
        ("known+tally", run_known_tally),
        ("one-new", run_one_new),
        ("full+tally", run_full_tally),
        ("batch", run_batch),
    ]
    for name, fn in cases:
        rate = best_rate(fn, args.rounds)
        print(f"{name:12s} {rate:>12,.0f} events/s  ({1e6 / rate:6.2f} µs/event)")


if __name__ == "__main__":
    main()
