"""The benchmark's workload: event types, rules, workflows and ingest records, all
deterministic from one seed.

A realistic mix for a marketing-automation account (SPEC §2-§7):

- ``types`` event types (default 50) with Zipf-like volumes (rank ``r`` gets weight
  ``1 / r``); the busiest types are the small click-stream ones;
- params of 5-30 fields per type (most 5-9), some nested objects and arrays of objects,
  some optional; a typical record is ~260 bytes;
- ~30 % of the types validate their params: half with the simple form
  ``[{name, required, type}]``, half with a draft-07 JSON Schema (types, enums, bounds,
  a pattern);
- ~20 % of the types launch workflows (one or two active ones each), some of them also
  stop a workflow of another type, plus one inactive workflow that must launch nothing;
- contact identifiers as record keys (``keyValue``; ~10 % give the contact as
  ``params.email`` instead), explicit ``eventId`` s of fixed width, so a paced run can
  re-issue the same payloads under fresh ids cheaply (:meth:`Records.retagged`);
- 1 % invalid records of mixed reasons (bad JSON, not an object, missing or malformed
  key, no contact, an over-long event id, params breaking the type's rules).

``Workload.expected`` tells, for each record, what a correct pipeline does with it, so
the harness can check the command counts it sees; ``Workload.peer_spec()`` is the JSON
the peer applications load (rules as JSON Schemas, launch/stop workflow ids per type).
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

import orjson

Paced = tuple[bytes | None, bytes, str | None, int]
EVENT_ID_WIDTH = 13  # "p0-0000000001": a two-character tag, a dash, ten digits
CONTACT_FALLBACK_NAMES = ("contactId", "externalCustomerId", "email", "phone", "pushToken")

_NOUN_TEXT = """purchase cart order page app push email sms form product wishlist coupon review
subscription loyalty store ticket video search profile account payment refund delivery survey
webinar download"""
_VERB_TEXT = """view click open submit add remove complete start cancel fail update share confirm
redeem rate sign_up bounce reply"""
_PARAM_TEXT = """orderId sku amount currency quantity channel category brand price discount coupon
pageUrl referrer campaign source medium device os appVersion locale country city storeId
sessionId durationMs score rating comment paymentMethod shippingMethod tier points balance plan
variant experiment step reason position listId itemCount firstTime vip segment language
timezone"""
_NOUNS = tuple(_NOUN_TEXT.split())
_VERBS = tuple(_VERB_TEXT.split())
_PARAM_NAMES = tuple(_PARAM_TEXT.split())
_CHANNELS = ("web", "ios", "android", "pos", "email", "sms")
_CURRENCIES = ("EUR", "USD", "GBP", "PLN")
_KINDS = ("str", "str", "str", "int", "int", "float", "bool", "enum", "enum", "nested", "array")
SIMPLE_TYPE = {
    "str": "string",
    "enum": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "nested": "object",
    "array": "array",
}
INVALID_REASONS = (
    "invalid_json",
    "not_object",
    "missing_key",
    "invalid_key",
    "missing_contact",
    "invalid_event_id",
    "validation_failed",
)


@dataclass(frozen=True)
class Param:
    name: str
    kind: str
    optional: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class EventTypeSpec:
    key: str
    weight: float
    params: tuple[Param, ...]
    rules_form: str | None = None  # None, "simple" or "schema"
    rules: Any = None
    launch: tuple[str, ...] = ()  # ids of ACTIVE workflows launched by this type
    stop: tuple[str, ...] = ()  # ids of ACTIVE workflows stopped by this type

    @property
    def schema(self) -> dict[str, Any] | None:
        """The rules as one draft-07 schema (the simple form is a closed set that lets the
        contact fallback names through, SPEC §4), for the peers' fastjsonschema."""
        if self.rules_form == "schema":
            return dict(self.rules)
        if self.rules_form == "simple":
            properties = {r["name"]: {"type": r["type"]} for r in self.rules}
            fallback = "|".join(CONTACT_FALLBACK_NAMES)
            return {
                "type": "object",
                "properties": properties,
                "patternProperties": {f"(?i)^(?:{fallback})$": {}},
                "additionalProperties": False,
                "required": [r["name"] for r in self.rules if r["required"]],
            }
        return None


@dataclass(frozen=True)
class WorkflowSpec:
    id: str
    name: str
    status: str
    launch_on: tuple[str, ...]
    stop_on: tuple[str, ...] = ()


@dataclass(frozen=True)
class Expected:
    """What a correct pipeline does with one record."""

    reason: str | None  # None: accepted
    launches: int = 0
    stops: int = 0


@dataclass
class Records:
    """Ingest records ready to produce, with what each should lead to."""

    keys: list[bytes | None]
    values: list[bytes]
    id_at: list[int]  # where the fixed-width eventId starts in the value, -1 if none
    expected: list[Expected]
    tag: str

    def __len__(self) -> int:
        return len(self.values)

    @property
    def launches(self) -> int:
        return sum(e.launches for e in self.expected)

    @property
    def stops(self) -> int:
        return sum(e.stops for e in self.expected)

    def invalid(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for e in self.expected:
            if e.reason is not None:
                found[e.reason] = found.get(e.reason, 0) + 1
        return found

    def event_id(self, i: int) -> str | None:
        at = self.id_at[i]
        return None if at < 0 else self.values[i][at : at + EVENT_ID_WIDTH].decode()

    def retagged(self, tag: str, start: int = 0) -> Iterator[Paced]:
        """The records again, forever, with fresh event ids ``{tag}-{n:010d}``: (key,
        value, eventId, commands expected). Splicing fixed-width bytes costs well under a
        microsecond, so a paced producer needs no generator running beside it."""
        if len(tag) != 2:
            raise ValueError("a tag is two characters")
        n = start
        size = len(self.values)
        while True:
            i = n % size
            at = self.id_at[i]
            value = self.values[i]
            if at < 0:
                yield self.keys[i], value, None, 0
            else:
                eid = f"{tag}-{n:010d}"
                spliced = value[:at] + eid.encode() + value[at + EVENT_ID_WIDTH :]
                outcome = self.expected[i]
                yield self.keys[i], spliced, eid, outcome.launches + outcome.stops
            n += 1

    def sizes(self) -> dict[str, float]:
        lengths = [len(v) for v in self.values]
        return {
            "mean": round(statistics.fmean(lengths), 1),
            "median": float(statistics.median(lengths)),
            "p99": float(sorted(lengths)[int(len(lengths) * 0.99)]),
        }


@dataclass
class Workload:
    seed: int
    types: list[EventTypeSpec]
    workflows: list[WorkflowSpec]
    contacts: int
    _cumulative: list[float] = field(default_factory=list, repr=False)

    def peer_spec(self) -> dict[str, Any]:
        """What the peer applications need: per type its schema and workflow ids."""
        return {
            "seed": self.seed,
            "types": {
                t.key: {"schema": t.schema, "launch": list(t.launch), "stop": list(t.stop)}
                for t in self.types
            },
        }

    def summary(self) -> dict[str, Any]:
        return {
            "seed": self.seed,
            "eventTypes": len(self.types),
            "withValidation": sum(1 for t in self.types if t.rules_form),
            "simpleForm": sum(1 for t in self.types if t.rules_form == "simple"),
            "jsonSchema": sum(1 for t in self.types if t.rules_form == "schema"),
            "withWorkflows": sum(1 for t in self.types if t.launch or t.stop),
            "workflows": len(self.workflows),
            "contacts": self.contacts,
            "paramsPerType": sorted(len(t.params) for t in self.types),
        }

    def records(self, count: int, tag: str, invalid_share: float = 0.01) -> Records:
        """``count`` records with event ids ``{tag}-{i:010d}``; deterministic from the seed
        and the tag."""
        rng = random.Random(f"{self.seed}/{tag}")  # noqa: S311 - reproducible, not secret
        if not self._cumulative:
            total = 0.0
            for t in self.types:
                total += t.weight
                self._cumulative.append(total)
        keys: list[bytes | None] = []
        values: list[bytes] = []
        id_at: list[int] = []
        expected: list[Expected] = []
        validated = [t for t in self.types if t.rules_form]
        for i in range(count):
            spec = rng.choices(self.types, cum_weights=self._cumulative)[0]
            event_id = f"{tag}-{i:010d}"
            contact = f"contact-{rng.randrange(self.contacts):07d}@example.com"
            params = _params(spec, rng)
            doc: dict[str, Any] = {"eventTypeKey": spec.key}
            if rng.random() < 0.1:
                params["email"] = contact
            else:
                doc["keyValue"] = contact
            doc["eventId"] = event_id
            doc["params"] = params
            outcome = Expected(None, len(spec.launch), len(spec.stop))
            value: bytes | None = None
            if rng.random() < invalid_share:
                reason = rng.choice(INVALID_REASONS)
                if reason == "validation_failed" and not spec.rules_form:
                    spec = rng.choice(validated) if validated else spec
                    doc["eventTypeKey"] = spec.key
                    doc["params"] = _params(spec, rng)
                    doc["params"]["email"] = contact
                value, reason = _break(doc, reason, spec, rng)
                outcome = Expected(reason)
            if value is None:
                value = orjson.dumps(doc)
            keys.append(contact.encode() if rng.random() < 0.99 else None)
            values.append(value)
            at = value.find(b'"eventId":"')
            ok_id = at >= 0 and value[at + 11 + EVENT_ID_WIDTH : at + 12 + EVENT_ID_WIDTH] == b'"'
            id_at.append(at + 11 if ok_id and outcome.reason is None else -1)
            expected.append(outcome)
        return Records(keys, values, id_at, expected, tag)


def _value(param: Param, rng: random.Random) -> Any:
    kind = param.kind
    if kind == "str":
        if param.name.endswith("Url") or param.name == "referrer":
            return f"/p/{rng.randrange(10**5)}"
        if param.name in ("sku", "orderId", "sessionId", "listId", "storeId"):
            return f"{param.name[:2].upper()}-{rng.randrange(10**6):06d}"
        return rng.choice(("spring-sale", "newsletter-2026", "gold", "retargeting", "none"))
    if kind == "int":
        return rng.randrange(0, 5000)
    if kind == "float":
        return round(rng.uniform(0.5, 400.0), 2)
    if kind == "bool":
        return rng.random() < 0.3
    if kind == "enum":
        return rng.choice(param.choices)
    if kind == "nested":
        return {"os": rng.choice(("ios", "android", "web")), "v": f"{rng.randrange(1, 20)}.1"}
    # array of small objects
    return [
        {"sku": f"SK-{rng.randrange(10**5):05d}", "qty": rng.randrange(1, 4)}
        for _ in range(rng.randrange(1, 3))
    ]


def _params(spec: EventTypeSpec, rng: random.Random) -> dict[str, Any]:
    return {p.name: _value(p, rng) for p in spec.params if not (p.optional and rng.random() < 0.3)}


def _break(
    doc: dict[str, Any], reason: str, spec: EventTypeSpec, rng: random.Random
) -> tuple[bytes | None, str]:
    """Make ``doc`` invalid for ``reason``; returns (raw value or None to encode, reason)."""
    if reason == "invalid_json":
        return orjson.dumps(doc)[: rng.randrange(10, 60)], reason
    if reason == "not_object":
        return orjson.dumps([doc["eventTypeKey"], doc["params"]]), reason
    if reason == "missing_key":
        del doc["eventTypeKey"]
    elif reason == "invalid_key":
        doc["eventTypeKey"] = f"bad key {rng.randrange(100)}!"
    elif reason == "missing_contact":
        doc.pop("keyValue", None)
        doc["params"].pop("email", None)
    elif reason == "invalid_event_id":
        doc["eventId"] = "x" * 200
    elif reason == "validation_failed":
        # A required param of the wrong type: a violation in both rule forms.
        required = [p for p in spec.params if not p.optional and p.kind != "str"]
        target = required[0] if required else spec.params[0]
        doc["params"][target.name] = (
            "not-a-string-value" if SIMPLE_TYPE[target.kind] != "string" else 12345
        )
    return None, reason


def build_workload(seed: int = 7, types: int = 50, contacts: int = 200_000) -> Workload:
    """The event types, rules and workflows of the mix (see the module docstring)."""
    rng = random.Random(seed)  # noqa: S311 - reproducible, not secret
    names: list[str] = []
    while len(names) < types:
        key = f"{rng.choice(_NOUNS)}.{rng.choice(_VERBS)}"
        if key not in names:
            names.append(key)
    specs: list[EventTypeSpec] = []
    for rank, key in enumerate(names, start=1):
        roll = rng.random()
        # The busiest third are small click-stream events; the rest spread to 30 fields.
        if rank <= types // 3:
            n_params = rng.randint(6, 8)
        elif roll < 0.6:
            n_params = rng.randint(5, 9)
        elif roll < 0.85:
            n_params = rng.randint(10, 16)
        else:
            n_params = rng.randint(17, 30)
        chosen = rng.sample(_PARAM_NAMES, n_params)
        params = tuple(_param(name, rng, nested_ok=rank > 3) for name in chosen)
        specs.append(EventTypeSpec(key, 1.0 / rank, params))

    # Validation on ~30 % of the types, alternating forms; workflows on ~20 %.
    order = list(range(types))
    rng.shuffle(order)
    n_validated = round(types * 0.3)
    validated = order[:n_validated]
    # Campaigns hang on the busier half (purchases, carts), not on the rarest types.
    with_workflows = sorted(rng.sample(range(max(types // 2, 1)), round(types * 0.2)))
    for n, index in enumerate(validated):
        spec = specs[index]
        form = "simple" if n % 2 == 0 else "schema"
        rules = _simple_rules(spec) if form == "simple" else _schema_rules(spec)
        specs[index] = _replace(spec, rules_form=form, rules=rules)

    workflows: list[WorkflowSpec] = []
    launch: dict[int, list[str]] = {i: [] for i in with_workflows}
    stop: dict[int, list[str]] = {}
    for n, index in enumerate(with_workflows):
        wid = f"wf-{n:03d}"
        stop_on: tuple[str, ...] = ()
        if n % 3 == 0:  # a third also stop on another (busy) type, as "purchase stops cart"
            other = rng.randrange(min(types, 8))
            if other != index:
                stop_on = (specs[other].key,)
                stop.setdefault(other, []).append(wid)
        workflows.append(WorkflowSpec(wid, f"Campaign {n}", "active", (specs[index].key,), stop_on))
        launch[index].append(wid)
        if n % 4 == 1:  # some types launch two campaigns
            wid2 = f"wf-{n:03d}b"
            workflows.append(WorkflowSpec(wid2, f"Campaign {n}b", "active", (specs[index].key,)))
            launch[index].append(wid2)
    if with_workflows:
        first = specs[with_workflows[0]].key
        workflows.append(WorkflowSpec("wf-paused", "Paused campaign", "inactive", (first,)))
    for index, ids in launch.items():
        specs[index] = _replace(specs[index], launch=tuple(ids))
    for index, ids in stop.items():
        specs[index] = _replace(specs[index], stop=tuple(ids))
    return Workload(seed, specs, workflows, contacts)


def _param(name: str, rng: random.Random, nested_ok: bool) -> Param:
    kinds = _KINDS if nested_ok else _KINDS[:-2]
    kind = rng.choice(kinds)
    if name in ("currency",):
        return Param(name, "enum", False, _CURRENCIES)
    if name in ("channel", "source", "medium"):
        return Param(name, "enum", False, _CHANNELS)
    choices = tuple(f"{name[:3]}{k}" for k in range(rng.randint(2, 5))) if kind == "enum" else ()
    return Param(name, kind, rng.random() < 0.25, choices)


def _simple_rules(spec: EventTypeSpec) -> list[dict[str, Any]]:
    return [
        {"name": p.name, "required": not p.optional, "type": SIMPLE_TYPE[p.kind]}
        for p in spec.params
    ]


def _schema_rules(spec: EventTypeSpec) -> dict[str, Any]:
    properties: dict[str, Any] = {}
    for p in spec.params:
        prop: dict[str, Any] = {"type": SIMPLE_TYPE[p.kind]}
        if p.kind == "enum":
            prop["enum"] = list(p.choices)
        elif p.kind == "int":
            prop.update(minimum=0, maximum=1_000_000)
        elif p.kind == "float":
            prop["minimum"] = 0
        elif p.kind == "str":
            prop["maxLength"] = 64
            if p.name in ("sku", "orderId", "sessionId", "listId", "storeId"):
                prop["pattern"] = "^[A-Z]{2}-[0-9]{6}$"
        elif p.kind == "nested":
            prop["properties"] = {"os": {"type": "string"}, "v": {"type": "string"}}
            prop["required"] = ["os"]
        elif p.kind == "array":
            prop["items"] = {
                "type": "object",
                "properties": {"sku": {"type": "string"}, "qty": {"type": "integer", "minimum": 1}},
                "required": ["sku"],
            }
            prop["maxItems"] = 50
        properties[p.name] = prop
    return {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": properties,
        "required": [p.name for p in spec.params if not p.optional],
    }


def _replace(spec: EventTypeSpec, **changes: Any) -> EventTypeSpec:
    return replace(spec, **changes)


def _demo(print_: Callable[[str], None] = print) -> None:
    wl = build_workload()
    recs = wl.records(20_000, "p0")
    print_(orjson.dumps(wl.summary()).decode())
    print_(f"sizes {recs.sizes()} invalid {recs.invalid()} launches {recs.launches}")
    print_(recs.values[0].decode())


if __name__ == "__main__":
    _demo()
