"""Micro-benchmark of the ingest processor's pure stages, per event, one core, no I/O.

Runs the stages a worker runs on every (partition, poll) batch over the ``make bench``
workload (``workload.py``: 50 types, ~30 % validated, ~20 % launching, 1 % invalid) with a
registry snapshot that already knows every type and param (steady state):

    decode -> decide (validation) -> entries -> Redis arguments -> outputs -> registry feedback

and prints CPU microseconds per event (thread CPU time, so other load on the machine does
not count) for each stage and in total; the inverse of the total is
the ceiling one worker process's Python can reach before any Kafka or Redis I/O. Timed with
the worker's GC tuning (``worker.tune_gc``), and the total again with the default one.

Run: ``.venv/bin/python bench/hotpath_micro.py [--events N] [--batch B] [--rounds R]``
(``--profile`` prints a cProfile of the whole path instead).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import pstats
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import orjson
from aiokafka import TopicPartition

sys.path.insert(0, str(Path(__file__).parent))

from workload import build_workload

from eventgate.counters.encode import HistoryStyle, encode_batch
from eventgate.ingest.decide import accepted_params, batch_entries, decide_batch
from eventgate.ingest.decode import RawRecord, decode_batch
from eventgate.ingest.outputs import build_outputs
from eventgate.ingest.registry_requests import RegistryFeedback
from eventgate.ingest.validators import TypeValidators
from eventgate.registry.model import EventType, Validation, new_auto_type
from eventgate.registry.structure import EMPTY_STRUCTURE, discover_batch, merge
from eventgate.registry.structure_json import structure_to_json
from eventgate.settings import Settings
from eventgate.worker import tune_gc

TOPIC = "eventgate.ingest"


class Snapshot:
    """A registry view holding the workload's types, workflows and converged structures."""

    def __init__(
        self,
        types: dict[str, EventType],
        launch: dict[str, tuple[str, ...]],
        stop: dict[str, tuple[str, ...]],
    ) -> None:
        self.types, self.launch, self.stop = types, launch, stop

    def get(self, key: str) -> EventType | None:
        return self.types.get(key)

    def launch_workflows(self, key: str) -> tuple[str, ...]:
        return self.launch.get(key, ())

    def stop_workflows(self, key: str) -> tuple[str, ...]:
        return self.stop.get(key, ())


def clone_key(key: str, clone: int) -> str:
    return key if clone == 0 else f"{key}.c{clone}"


def build_snapshot(records: list[RawRecord], clones: int = 1, rules: bool = True) -> Snapshot:
    """The workload's types, each ``clones`` times (``key``, ``key.c1``, ...), with the
    structures ``records`` (of the uncloned types) converge to."""
    workload = build_workload()
    now = int(time.time() * 1000)
    types: dict[str, EventType] = {}
    for spec in workload.types:
        spec_rules: Any = spec.rules if spec.rules_form else None
        validation = Validation(enabled=rules and spec.rules_form is not None, rules=spec_rules)
        types[spec.key] = dataclasses.replace(
            new_auto_type(spec.key, now), validation=validation, last_event_at_ms=now
        )
    snapshot = Snapshot(
        types,
        {s.key: s.launch for s in workload.types if s.launch},
        {s.key: s.stop for s in workload.types if s.stop},
    )
    # Converge every structure, as a registry that has seen the traffic for a while.
    decisions = decide_batch(decode_batch(records, 64 * 1024), snapshot, TypeValidators())
    for key, events in accepted_params(decisions, frozenset()).items():
        additions = discover_batch(EMPTY_STRUCTURE, events)
        structure = merge(EMPTY_STRUCTURE, additions)[0] if additions else EMPTY_STRUCTURE
        types[key] = dataclasses.replace(
            types[key], structure_json=orjson.dumps(structure_to_json(structure))
        )
    for spec in workload.types:
        base = types[spec.key]
        for c in range(1, clones):
            key = clone_key(spec.key, c)
            types[key] = dataclasses.replace(base, key=key)
            if spec.launch:
                snapshot.launch[key] = spec.launch
            if spec.stop:
                snapshot.stop[key] = spec.stop
    return snapshot


def flat_params(n: int, i: int) -> dict[str, object]:
    """``n`` flat params of mixed kinds (strings, integers, numbers, booleans)."""
    kinds = (lambda k: f"value-{k}", lambda k: k, lambda k: k + 0.5, lambda k: k % 2 == 0)
    return {f"param{j:03d}": kinds[j % 4](i + j) for j in range(n)}


def make_records(count: int, clones: int = 1, params: int = 0) -> list[RawRecord]:
    """The workload's records; with clones, record i goes to clone ``i % clones`` of its
    type; with ``params``, every event carries that many flat params instead of its own."""
    made = build_workload().records(count, "hp")
    now = int(time.time() * 1000)
    values = list(made.values)
    if clones > 1 or params:
        for i, value in enumerate(values):
            try:
                doc = orjson.loads(value)
            except orjson.JSONDecodeError:
                continue
            if isinstance(doc, dict) and isinstance(doc.get("eventTypeKey"), str):
                doc["eventTypeKey"] = clone_key(doc["eventTypeKey"], i % clones)
                if params:
                    contact = doc.get("keyValue") or doc.get("params", {}).get("email")
                    doc["keyValue"] = contact
                    doc["params"] = flat_params(params, i)
                values[i] = orjson.dumps(doc)
    return [RawRecord(TOPIC, 0, i, now, made.keys[i], values[i], ()) for i in range(len(made))]


def run_stages(records: list[RawRecord], snapshot: Snapshot, batch: int) -> dict[str, float]:
    """Seconds spent in each stage over all records, in polls of ``batch``."""
    settings = Settings()
    validators = TypeValidators()
    feedback = RegistryFeedback(settings)
    style = HistoryStyle(mask=False, salt="eventgate.")
    spent = dict.fromkeys(("decode", "decide", "entries", "redis_args", "outputs", "feedback"), 0.0)
    tp = TopicPartition(TOPIC, 0)
    clock = time.thread_time  # CPU time: other processes on the machine do not count
    now_ms = int(time.time() * 1000)
    for start in range(0, len(records), batch):
        chunk = records[start : start + batch]
        t0 = clock()
        decoded = decode_batch(chunk, 64 * 1024)
        t1 = clock()
        decisions = decide_batch(decoded, snapshot, validators)
        t2 = clock()
        entries = batch_entries(decisions)
        t3 = clock()
        encode_batch(0, entries, now_ms, style, (1, 2, 3, 4, 5))
        t4 = clock()
        build_outputs(decisions, frozenset(), now_ms)
        t5 = clock()
        feedback.requests(decisions, frozenset(), snapshot, tp, start + batch)  # type: ignore[arg-type]
        t6 = clock()
        for name, (a, b) in zip(
            spent, ((t0, t1), (t1, t2), (t2, t3), (t3, t4), (t4, t5), (t5, t6)), strict=True
        ):
            spent[name] += b - a
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=5000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument(
        "--types",
        type=int,
        default=50,
        help="registered types the events spread over (the 50 of the mix, cloned)",
    )
    parser.add_argument(
        "--params",
        type=int,
        default=0,
        help="give every event this many flat params (validation off) instead of the mix's",
    )
    args = parser.parse_args(argv)
    clones = max(1, args.types // 50)
    records = make_records(args.events, clones, args.params)
    converged = make_records(args.events, 1, args.params)
    snapshot = build_snapshot(converged, clones, rules=not args.params)
    run_stages(records[: args.batch], snapshot, args.batch)  # warm the validator cache
    if args.profile:
        profiler = cProfile.Profile()
        profiler.runcall(run_stages, records, snapshot, args.batch)
        pstats.Stats(profiler).sort_stats("tottime").print_stats(30)
        return 0
    default_gc = gc.get_threshold()
    plain = [run_stages(records, snapshot, args.batch) for _ in range(args.rounds)]
    tune_gc()  # what the worker does once its registry is loaded
    rounds = [run_stages(records, snapshot, args.batch) for _ in range(args.rounds)]
    gc.set_threshold(*default_gc)

    def per_event(name: str) -> float:
        return statistics.median(r[name] for r in rounds) / len(records) * 1e6

    total = 0.0
    shape = f"{args.params} flat params each" if args.params else "the mix's params"
    print(
        f"{len(records):,} events over {len(snapshot.types):,} types ({shape}), polls of"
        f" {args.batch}, median of {args.rounds} rounds"
    )
    for name in rounds[0]:
        us = per_event(name)
        total += us
        print(f"  {name:<11} {us:6.2f} µs/event")
    print(f"  {'total':<11} {total:6.2f} µs/event  -> {1e6 / total:,.0f} events/s per core")
    untuned = statistics.median(sum(r.values()) for r in plain) / len(records) * 1e6
    print(f"  (with the interpreter's default GC thresholds: {untuned:.2f} µs/event)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
