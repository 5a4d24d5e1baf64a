"""The fault suite's workload and its ground-truth ledger: what a correct pipeline emits
for it, computed from the workload alone (never from the product) — the launch
``commandId``s (UUIDv5, ``ingest.outputs.command_id``), per-type volume / launched /
rejected, and the count of each reject reason."""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson

from eventgate.ingest.outputs import command_id

Record = tuple[bytes | None, bytes]

TYPES = tuple(f"type.{i}" for i in range(10))
LAUNCHING = {"type.0": "wf-0", "type.3": "wf-3", "type.7": "wf-7"}
POISON_TYPE = "poison.target"  # rejected records that carry a key are counted here
STRICT_TYPE = "strict.type"  # validation on: params must be {"n": integer}
STRICT_RULES = [{"name": "n", "required": True, "type": "integer"}]


# -- the ledger and the workload ----------------------------------------------------------


@dataclass
class Ledger:
    """What a correct pipeline emits for the workload (ground truth)."""

    events: int = 0
    commands: set[str] = field(default_factory=set)
    volume: Counter[str] = field(default_factory=Counter)
    launched: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    flood_keys: int = 0  # distinct never-registered keys sent (registration caps)

    @property
    def types(self) -> tuple[str, ...]:
        return (*TYPES, POISON_TYPE, STRICT_TYPE)


def _body(i: int, key: str, contact: str) -> dict[str, Any]:
    return {
        "eventTypeKey": key,
        "keyValue": contact,
        "eventId": f"e{i}",
        "params": {"n": i, "sku": f"s{i % 97}"},
    }


def _poison(reason: str, i: int) -> tuple[bytes, bool]:
    """A record rejected with ``reason`` (SPEC §2) and whether it names ``POISON_TYPE``
    (then it counts in that type's volume and rejected). Records rejected before their key
    is read name no type, and the key-less ones are built without a key on purpose."""
    good = _body(i, POISON_TYPE, f"c{i}")
    broken: dict[str, Any]
    match reason:
        case "invalid_utf8":
            return b'{"eventTypeKey": "x", "keyValue": "\xff\xfe"}', False
        case "invalid_json":
            return b'{"eventTypeKey": "x", ', False
        case "not_object":
            return b"[1, 2, 3]", False
        case "too_large":
            return orjson.dumps({"keyValue": "c", "pad": "x" * 70_000}), False
        case "too_deep":
            return b'{"keyValue": "c", "p": ' + b"[" * 40 + b"]" * 40 + b"}", False
        case "invalid_number":
            return orjson.dumps(good)[:-1] + b', "bad": NaN}', True
        case "missing_key":
            broken = {**good, "eventTypeKey": ""}
            return orjson.dumps(broken), False
        case "invalid_key":
            return orjson.dumps({**good, "eventTypeKey": "no spaces allowed"}), False
        case "invalid_contact":
            return orjson.dumps({**good, "keyValue": ["a list"]}), True
        case "missing_contact":
            broken = {k: v for k, v in good.items() if k != "keyValue"}
            return orjson.dumps(broken), True
        case "invalid_params":
            return orjson.dumps({**good, "params": "not params"}), True
        case "duplicate_param":
            params = [{"name": "a", "value": 1}, {"name": "a", "value": 2}]
            return orjson.dumps({**good, "params": params}), True
        case "invalid_event_id":
            return orjson.dumps({**good, "eventId": "x" * 200}), True
        case "invalid_occurred_at":
            return orjson.dumps({**good, "occurredAt": "yesterday"}), True
        case "validation_failed":
            return orjson.dumps({**good, "eventTypeKey": STRICT_TYPE, "params": {"n": "x"}}), True
    raise ValueError(reason)


# Every reason code that can arise from ingest with a configured registry; the last of
# SPEC §2's list, registration_limit, needs a cap to be reached: the flood scenario.
POISON_REASONS = (
    "invalid_utf8",
    "invalid_json",
    "not_object",
    "too_large",
    "too_deep",
    "invalid_number",
    "missing_key",
    "invalid_key",
    "invalid_contact",
    "missing_contact",
    "invalid_params",
    "duplicate_param",
    "invalid_event_id",
    "invalid_occurred_at",
    "validation_failed",
)


def workload(
    events: int, seed: int = 7, poison: float = 0.0, flood: int = 0
) -> tuple[list[Record], Ledger]:
    """``events`` records over ``TYPES`` (``LAUNCHING`` ones launch a workflow), a
    ``poison`` fraction replaced by malformed records cycling through every reason, and
    ``flood`` extra records each with a fresh random key, spread evenly."""
    rng = random.Random(seed)
    ledger = Ledger()
    records: list[Record] = []
    reasons = list(POISON_REASONS)
    flood_at = set(rng.sample(range(events + flood), flood)) if flood else set()
    n_good = n_bad = 0
    for i in range(events + flood):
        contact = f"c{rng.randrange(5000)}"
        if i in flood_at:
            key = f"flood.{rng.getrandbits(64):016x}"
            records.append((contact.encode(), orjson.dumps(_body(i, key, contact))))
            ledger.flood_keys += 1
            continue
        if poison and (n_bad + 1) <= poison * (n_good + n_bad + 1):
            reason = reasons[n_bad % len(reasons)]
            value, attributed = _poison(reason, i)
            records.append((contact.encode(), value))
            ledger.reasons[reason] += 1
            target = STRICT_TYPE if reason == "validation_failed" else POISON_TYPE
            if attributed:
                ledger.volume[target] += 1
                ledger.rejected[target] += 1
            n_bad += 1
            continue
        n_good += 1
        key = rng.choice(TYPES)
        records.append((contact.encode(), orjson.dumps(_body(i, key, contact))))
        ledger.volume[key] += 1
        if key in LAUNCHING:
            ledger.launched[key] += 1
            ledger.commands.add(command_id(key, f"e{i}", LAUNCHING[key], "launch"))
    ledger.events = len(records)
    return records, ledger
