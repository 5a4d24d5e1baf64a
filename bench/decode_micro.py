"""Micro-benchmark of the pure decode stage (``eventgate.ingest.decode``).

Builds 100,000 realistic ingest records of ~260 bytes, then times ``decode_batch`` over
them (best and median of several rounds, one core, no I/O): in one call, in polls of
500 (results dropped after each poll, as the worker does), and in one call with the
cyclic GC off, to show its share. Two workloads:

- ``common``: explicit ``keyValue`` and ``eventId``, object params, no ``occurredAt``;
- ``mixed``: a quarter each of the common shape, contact taken from params, list-form
  params, and an explicit ``occurredAt`` with an offset.

Run: ``.venv/bin/python bench/decode_micro.py [--events N] [--rounds R]``
"""

from __future__ import annotations

import argparse
import gc
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import cast

import orjson

from eventgate.ingest.decode import Event, RawRecord, decode_batch

TOPIC = "eventgate.ingest"
KEYS = [f"purchase.{name}" for name in ("web", "app", "pos", "phone", "partner")] + [
    "cart_abandoned",
    "newsletter-signup",
    "page.view",
]


def _common(i: int, rng: random.Random) -> dict[str, object]:
    return {
        "eventTypeKey": rng.choice(KEYS),
        "keyValue": f"customer-{rng.randrange(10**7):07d}@example.com",
        "eventId": f"ord-{i:010d}-{rng.randrange(10**6):06d}",
        "params": {
            "orderId": f"SO-{rng.randrange(10**8):08d}",
            "amount": round(rng.uniform(1, 500), 2),
            "currency": "EUR",
            "items": rng.randrange(1, 9),
            "channel": rng.choice(["web", "ios", "android"]),
            "coupon": None,
            "firstPurchase": rng.random() < 0.1,
            "store": rng.choice(["paris-01", "lyon-02", "online"]),
        },
    }


def _fallback(i: int, rng: random.Random) -> dict[str, object]:
    doc = _common(i, rng)
    contact = doc.pop("keyValue")
    params = cast(dict[str, object], doc["params"])
    params["email"] = contact
    return doc


def _list_form(i: int, rng: random.Random) -> dict[str, object]:
    doc = _common(i, rng)
    params = cast(dict[str, object], doc["params"])
    doc["params"] = [{"name": n, "value": v} for n, v in params.items() if v is not None][:5]
    return doc


def _with_time(i: int, rng: random.Random) -> dict[str, object]:
    doc = _common(i, rng)
    ms = 1_790_000_000_000 + rng.randrange(10**9)
    sec, milli = divmod(ms, 1000)
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec))
    doc["occurredAt"] = f"{stamp}.{milli:03d}+01:00"
    return doc


def build(
    count: int, shapes: Sequence[Callable[[int, random.Random], dict[str, object]]]
) -> list[RawRecord]:
    rng = random.Random(7)  # noqa: S311 - reproducible test data
    base = 1_790_000_000_000
    records = []
    for i in range(count):
        doc = shapes[i % len(shapes)](i, rng)
        value = orjson.dumps(doc)
        records.append(
            RawRecord(TOPIC, i % 4, i, base + i, str(doc.get("keyValue", "")).encode(), value)
        )
    return records


def measure(records: list[RawRecord], rounds: int, poll: int) -> tuple[float, float]:
    """(best, median) events/s of decode_batch over ``records`` in slices of ``poll``."""
    results = decode_batch(records)
    bad = [r for r in results if not isinstance(r, Event)]
    if bad:
        raise SystemExit(f"benchmark input rejected: {bad[0]}")
    del results
    polls = [records[i : i + poll] for i in range(0, len(records), poll)]
    timings = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        for batch in polls:
            decode_batch(batch)
        timings.append(time.perf_counter() - start)
    return len(records) / min(timings), len(records) / statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    workloads = {
        "common": [_common],
        "mixed": [_common, _fallback, _list_form, _with_time],
    }
    print(f"Python {sys.version.split()[0]}, orjson {orjson.__version__}")
    for name, shapes in workloads.items():
        records = build(args.events, shapes)
        size = statistics.mean(len(r.value or b"") for r in records)
        print(f"{name}: {len(records):,} events, mean {size:.0f} B")
        for label, poll, gc_on in (
            ("one decode_batch call", len(records), True),
            ("polls of 500", 500, True),
            ("one call, gc disabled", len(records), False),
        ):
            if not gc_on:
                gc.disable()
            try:
                best, median = measure(records, args.rounds, poll)
            finally:
                gc.enable()
            print(f"  {label:22s} best {best:>9,.0f} events/s, median {median:>9,.0f} events/s")


if __name__ == "__main__":
    main()
