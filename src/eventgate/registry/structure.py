"""The parameter structure of an event type (SPEC §5): discover, merge, serialise, preview.

Pure logic, no I/O. Every accepted event's params are merged into its type's structure:
objects recursively, array item shapes, scalar kinds ``string``, ``number``, ``integer``,
``boolean``, ``null`` (and ``object``, ``array`` for containers).

Rules
-----
- **New params are added; existing ones never change.** The first-seen kind wins, "first"
  meaning first in the registry log: processors only *discover* additions; the single
  registry writer merges them in log order, so every process holds the same structure.
  ``firstSeenMs`` is that of the addition that created the param, and is never rewritten.
- **Null upgrade.** A param seen only as ``null`` takes its first non-null kind later (it
  keeps its ``firstSeenMs``). That is the only change an existing param can undergo.
- **Integers and numbers.** A JSON integer is ``integer``, a float (``1.5``, ``1.0``) is
  ``number``, ``true``/``false`` are ``boolean``. Kinds never widen: a param first seen as
  ``integer`` that later arrives as ``2.5`` stays ``integer`` and is *not new* (as with any
  other kind mismatch, including ``object`` vs scalar: what lies under a mismatch is not
  walked).
- **Arrays.** One item shape per array path. Within an event it is folded over every item
  of every array at that path, in document order: the first item kind wins (``[1, "a"]``
  is an array of ``integer``, ``[null, 1]`` too, and in ``["a", {"x": 1}]`` the object is
  dropped), objects' fields are merged. That shape is then merged into the structure like
  any param. The event's shape never depends on the structure, so a processor holding a
  stale snapshot finds what a fresh one would: the writer's result depends only on the log
  order. ``[]`` records an array whose item shape is unknown. Arrays of arrays are fine
  within the depth limit.
- **Limits.** ``MAX_PATHS`` paths and ``MAX_DEPTH`` depth per type. A path is one param
  node: ``params.a``, ``params.a.b``, ``params.a[]`` (an item shape) each count one.
  Depth: ``params.a`` is 1, ``params.a.b`` and ``params.a[]`` are 2, ``params.a[].b`` is 3.
  A new param that does not fit is ignored and counted once, whatever it contains. Which
  params fit when several compete is deterministic: depth-first, parents before children,
  siblings in code-point order of their names. Null upgrades cost nothing.
- Names are case-sensitive and may be any string.

Hot path (processors)
---------------------
``discover(structure, params, seen_at_ms)`` returns only what is new *and fits*, or
``None``. The common case (nothing new) is one allocation-free walk of the params against
the structure: a dict lookup per param, nothing at all for scalars already known. Only when
something is new does the slow path build the additions. Pass ``ignored=Ignored()`` to count
params dropped by the limits (for a metric); counting makes events that carry over-limit
params take the slow path (so do events whose arrays mix item kinds: the fast walk may
suspect news there that the slow path then rules out). Within a poll, use
``discover_batch`` (or ``combine`` and a merged view, as it does) so one new param costs
one addition, not one per event::

    tally = Ignored()
    additions = discover_batch(structure, ((e.params, e.ts_ms) for e in batch), ignored=tally)
    if additions is not None:
        send(additions_to_json(additions))        # to the registry writer
    metric.inc(tally.count)

Measured (``.venv/bin/python bench/structure_micro.py --rounds 7``; one core of this
2-core box while other work ran on it): a 20-param event (a nested object, a 3-item array
of objects, an array of strings) against a structure that already holds all of it:
**~275,000 to 310,000 discover calls/s** (3.2 to 3.6 µs). The slow path (an event bringing one
new param) runs at ~47,000/s (~21 µs); an over-limit param counted with a tally at
~50,000/s; ``discover_batch`` over events that all carry the same new param ~285,000/s.

Writer side
-----------
``merge(structure, additions) -> (structure, ignored)``: applies limits again (additions may
be stale), returns the *same* object when nothing changed. Deterministic: the same
sequence of merges gives the same structure everywhere.

JSON (inside the versioned registry record; camelCase)
------------------------------------------------------
Structure and additions share one format::

    {"format": 1,
     "params": {"total": {"kind": "number", "firstSeenMs": 1767225600000},
                "items": {"kind": "array", "firstSeenMs": 1767225600000,
                          "items": {"kind": "object", "firstSeenMs": 1767225600000,
                                    "fields": {"sku": {"kind": "string", ...}}}}}}

``fields`` is present on every ``object`` node (possibly ``{}``), ``items`` on ``array``
nodes whose item shape is known; names are written in code-point order, so the bytes are
stable. Evolution: readers ignore keys they do not know (additive changes need no bump);
``format`` is raised only for incompatible changes, and a reader refuses a format newer
than its own. A missing ``format`` means 1 and a missing ``params`` means empty, so ``{}``
reads as the empty structure. ``additions_from_json`` (data from a Kafka topic) validates
everything and raises ``ValueError``, bounded by ``MAX_DEPTH`` and ``MAX_PATHS``;
``structure_from_json`` is bounded more loosely (64 deep, 100,000 paths) so that records
written under larger future limits still load.

Paths (preview)
---------------
``params`` followed by one segment per level: ``.name`` for a field, ``[]`` for an array's
items. A name that is empty, not printable, or contains whitespace or any of ``. [ ] " \\``
is written as a JSON string in brackets instead: ``params["first.name"]``,
``params.items[]["a[0]"]``. Every path therefore reads back to exactly one param.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from types import MappingProxyType
from typing import Any

MAX_PATHS = 500
MAX_DEPTH = 8
FORMAT = 1
MAX_SEEN_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z
_READ_MAX_DEPTH = 64
_READ_MAX_PATHS = 100_000


class Kind(StrEnum):
    STRING = "string"
    NUMBER = "number"
    INTEGER = "integer"
    BOOLEAN = "boolean"
    NULL = "null"
    OBJECT = "object"
    ARRAY = "array"


_NULL = Kind.NULL
_OBJECT = Kind.OBJECT
_ARRAY = Kind.ARRAY
_KIND_BY_TYPE: dict[type, Kind] = {
    str: Kind.STRING,
    int: Kind.INTEGER,
    float: Kind.NUMBER,
    bool: Kind.BOOLEAN,
    type(None): Kind.NULL,
    dict: Kind.OBJECT,
    list: Kind.ARRAY,
    tuple: Kind.ARRAY,
}
_OPEN = frozenset((Kind.NULL, Kind.OBJECT, Kind.ARRAY))
_EMPTY: Mapping[str, Node] = MappingProxyType({})


def _empty() -> Mapping[str, Node]:
    return _EMPTY


@dataclass(frozen=True, slots=True)
class Node:
    """One param: its kind, when it was first seen, and what it contains.

    ``fields`` is used by ``object`` nodes only, ``items`` (the item shape, ``None`` while
    only empty arrays were seen) by ``array`` nodes only.
    """

    kind: Kind
    first_seen_ms: int
    fields: Mapping[str, Node] = field(default_factory=_empty)
    items: Node | None = None

    # True for null and containers: the only nodes under which a value can bring news.
    open: bool = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.kind) is not Kind:
            object.__setattr__(self, "kind", Kind(self.kind))  # the hot path compares by identity
        if type(self.fields) is not MappingProxyType:
            object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "open", self.kind in _OPEN)


@dataclass(frozen=True, slots=True)
class _Tree:
    params: Mapping[str, Node]
    paths: int = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.params) is not MappingProxyType:
            object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "paths", _count(self.params))


@dataclass(frozen=True, slots=True)
class Structure(_Tree):
    """The merged parameter structure of one event type (immutable)."""


@dataclass(frozen=True, slots=True)
class Additions(_Tree):
    """What some events bring that their type's structure lacks: a partial structure holding
    new params, upgraded null params, and the containers on the way to them."""


@dataclass(slots=True)
class Ignored:
    """A mutable tally of params dropped by the limits, for callers that count them."""

    count: int = 0


def _count(fields: Mapping[str, Node]) -> int:
    return sum(_count_node(node) for node in fields.values())


def _count_node(node: Node) -> int:
    inner = _count(node.fields) if node.fields else 0
    return 1 + inner + (0 if node.items is None else _count_node(node.items))


EMPTY_STRUCTURE = Structure({})


def count_paths(s: Structure | Additions) -> int:
    """Number of paths (param nodes, item shapes included) in ``s``."""
    return s.paths


# --- hot path: is anything new that fits? (no allocation) ------------------------------
# Results: 0 nothing new, 1 only new things that cannot fit, 2 something that fits.


def _scan_fields(fields: Mapping[str, Node], obj: Mapping[Any, Any], depth: int, full: bool) -> int:
    found = 0
    get = fields.get
    for name, value in obj.items():
        node = get(name)
        if node is None:
            if full or depth > MAX_DEPTH:
                found = 1
                continue
            return 2
        if not node.open:
            continue
        kind = node.kind
        if kind is _NULL:
            if value is not None:
                return 2
        elif kind is _OBJECT:
            if isinstance(value, dict):
                r = _scan_fields(node.fields, value, depth + 1, full)
                if r == 2:
                    return 2
                found |= r
        elif kind is _ARRAY and isinstance(value, (list, tuple)):
            r = _scan_items(node.items, value, depth + 1, full)
            if r == 2:
                return 2
            found |= r
    return found


def _scan_items(
    item: Node | None, values: list[Any] | tuple[Any, ...], depth: int, full: bool
) -> int:
    if not values:
        return 0
    if item is None:
        return 1 if full or depth > MAX_DEPTH else 2
    found = 0
    kind = item.kind
    if kind is _NULL:
        for v in values:
            if v is not None:
                return 2
    elif kind is _OBJECT:
        for v in values:
            if isinstance(v, dict):
                r = _scan_fields(item.fields, v, depth + 1, full)
                if r == 2:
                    return 2
                found |= r
    elif kind is _ARRAY:
        for v in values:
            if isinstance(v, (list, tuple)):
                r = _scan_items(item.items, v, depth + 1, full)
                if r == 2:
                    return 2
                found |= r
    return found


# --- slow path: the event's own shape (drafts), then what of it is new and fits --------

_ITEM = ""  # the key of an array draft's item shape (array drafts hold no named fields)


class _Draft:
    """A node of the event's own shape, under construction."""

    __slots__ = ("children", "kind", "seen")

    def __init__(self, kind: Kind, seen: int) -> None:
        self.kind = kind
        self.seen = seen
        self.children: dict[str, _Draft] = {}

    def freeze(self) -> Node:
        if self.kind is _OBJECT:
            fields = {name: d.freeze() for name, d in self.children.items()}
            return Node(_OBJECT, self.seen, MappingProxyType(fields))
        if self.kind is _ARRAY:
            item = self.children.get(_ITEM)
            return Node(_ARRAY, self.seen, items=None if item is None else item.freeze())
        return Node(self.kind, self.seen)


def _kind_of(value: Any) -> Kind:
    kind = _KIND_BY_TYPE.get(type(value))
    if kind is not None:
        return kind
    for types, k in (
        (bool, Kind.BOOLEAN),
        (int, Kind.INTEGER),
        (float, Kind.NUMBER),
        (str, Kind.STRING),
        (dict, Kind.OBJECT),
        (list | tuple, Kind.ARRAY),
    ):
        if isinstance(value, types):
            return k
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def _absorb(
    drafts: dict[str, _Draft], base: Node | None, key: str, value: Any, seen: int, depth: int
) -> None:
    """Fold ``value`` into the event's own shape at ``key``: the first kind wins, nulls
    upgrade, whatever the structure holds (so a stale snapshot finds the same shape).
    ``base``, the structure's node there, only prunes what cannot be new; callers skip
    known scalars (``base.open`` false) altogether."""
    kind = _kind_of(value)
    draft = drafts.get(key)
    if draft is None:
        draft = _Draft(kind, seen if base is None else base.first_seen_ms)
        drafts[key] = draft
    elif draft.kind is _NULL:
        draft.kind = kind
    elif draft.kind is not kind:
        return  # this event's shape is already another kind here
    if depth > MAX_DEPTH or (base is not None and base.kind is not _NULL and base.kind is not kind):
        return  # too deep (kept only to be counted), or at odds with the structure
    if kind is _OBJECT:
        fields = _EMPTY if base is None else base.fields
        for name, v in value.items():
            if not isinstance(name, str):
                raise TypeError(f"param names are strings, not {type(name).__name__}")
            b = fields.get(name)
            if b is None or b.open:
                _absorb(draft.children, b, name, v, seen, depth + 1)
    elif kind is _ARRAY:
        item = None if base is None else base.items
        if item is None or item.open:
            for v in value:
                _absorb(draft.children, item, _ITEM, v, seen, depth + 1)


class _Budget:
    __slots__ = ("left",)

    def __init__(self, left: int) -> None:
        self.left = left


def _select(e: Node | None, a: Node, depth: int, budget: _Budget) -> tuple[Node | None, int]:
    """What of ``a`` is new relative to ``e`` and fits: (fresh partial node, ignored)."""
    if e is None or (e.kind is _NULL and a.kind is not _NULL):
        seen = a.first_seen_ms
        if e is None:
            if depth > MAX_DEPTH or budget.left <= 0:
                return None, 1
            budget.left -= 1
        else:
            seen = e.first_seen_ms  # null upgrade: free, keeps its first-seen time
        if a.kind is _OBJECT:
            fields, dropped = _select_fields(_EMPTY, a.fields, depth + 1, budget)
            return Node(_OBJECT, seen, fields), dropped
        if a.kind is _ARRAY and a.items is not None:
            item, dropped = _select(None, a.items, depth + 1, budget)
            return Node(_ARRAY, seen, items=item), dropped
        return Node(a.kind, seen), 0
    if e.kind is not a.kind:
        return None, 0
    if e.kind is _OBJECT and a.fields:
        fields, dropped = _select_fields(e.fields, a.fields, depth + 1, budget)
        return (Node(_OBJECT, e.first_seen_ms, fields) if fields else None), dropped
    if e.kind is _ARRAY and a.items is not None:
        item, dropped = _select(e.items, a.items, depth + 1, budget)
        return (None if item is None else Node(_ARRAY, e.first_seen_ms, items=item)), dropped
    return None, 0


def _select_fields(
    existing: Mapping[str, Node], added: Mapping[str, Node], depth: int, budget: _Budget
) -> tuple[Mapping[str, Node], int]:
    fresh: dict[str, Node] = {}
    dropped = 0
    for name in sorted(added):
        node, d = _select(existing.get(name), added[name], depth, budget)
        dropped += d
        if node is not None:
            fresh[name] = node
    return MappingProxyType(fresh), dropped


def _graft(e: Node | None, f: Node) -> Node:
    """``e`` with the fresh partial node ``f`` (from ``_select`` against ``e``) grafted in."""
    if e is None:
        return f
    if e.kind is _NULL:
        return Node(f.kind, e.first_seen_ms, f.fields, f.items)
    if e.kind is _OBJECT:
        return Node(_OBJECT, e.first_seen_ms, _graft_fields(e.fields, f.fields))
    items = e.items if f.items is None else _graft(e.items, f.items)
    return Node(e.kind, e.first_seen_ms, items=items)


def _graft_fields(existing: Mapping[str, Node], fresh: Mapping[str, Node]) -> Mapping[str, Node]:
    out = dict(existing)
    for name, f in fresh.items():
        out[name] = _graft(existing.get(name), f)
    return MappingProxyType(out)


# --- public: discover, combine, merge ----------------------------------------------------


def discover(
    structure: Structure,
    params: Mapping[str, Any],
    seen_at_ms: int,
    *,
    ignored: Ignored | None = None,
) -> Additions | None:
    """The additions ``params`` bring to ``structure`` within the limits, or ``None``.

    ``params`` holds JSON values (dict, list, str, int, float, bool, None; tuples count as
    arrays); anything else raises ``TypeError``. ``seen_at_ms`` is clamped to
    ``[0, MAX_SEEN_MS]``. ``ignored``, if given, is incremented by the number of new params
    the limits drop.
    """
    full = structure.paths >= MAX_PATHS
    found = _scan_fields(structure.params, params, 1, full)
    if found == 0 or (found == 1 and ignored is None):
        return None
    seen = min(max(seen_at_ms, 0), MAX_SEEN_MS)
    base = structure.params
    drafts: dict[str, _Draft] = {}
    for name, value in params.items():
        if not isinstance(name, str):
            raise TypeError(f"param names are strings, not {type(name).__name__}")
        b = base.get(name)
        if b is None or b.open:
            _absorb(drafts, b, name, value, seen, 1)
    delta = {name: d.freeze() for name, d in drafts.items()}
    fresh, dropped = _select_fields(base, delta, 1, _Budget(MAX_PATHS - structure.paths))
    if ignored is not None:
        ignored.count += dropped
    return Additions(fresh) if fresh else None


def combine(a: Additions, b: Additions, *, ignored: Ignored | None = None) -> Additions:
    """``a`` then ``b`` as one addition: ``merge(s, combine(a, b)) == merge(merge(s, a), b)``
    while the limits are not reached. First wins; the result holds at most ``MAX_PATHS``
    paths (what ``b`` cannot add is counted in ``ignored``)."""
    fresh, dropped = _select_fields(a.params, b.params, 1, _Budget(MAX_PATHS - a.paths))
    if ignored is not None:
        ignored.count += dropped
    return Additions(_graft_fields(a.params, fresh)) if fresh else a


def discover_batch(
    structure: Structure,
    events: Iterable[tuple[Mapping[str, Any], int]],
    *,
    ignored: Ignored | None = None,
) -> Additions | None:
    """The combined additions of ``(params, seen_at_ms)`` pairs, in order. Each discovery
    is folded into a private view, so later events carrying the same news stay on the fast
    path and the result holds each new param once."""
    view = structure
    total: Additions | None = None
    for params, seen_at_ms in events:
        found = discover(view, params, seen_at_ms, ignored=ignored)
        if found is not None:
            total = found if total is None else combine(total, found, ignored=ignored)
            view, _ = merge(view, found)
    return total


def merge(structure: Structure, additions: Additions) -> tuple[Structure, int]:
    """Apply ``additions`` (writer side, in log order): the new structure and the number of
    params the limits dropped. Returns ``structure`` itself when nothing changed."""
    budget = _Budget(MAX_PATHS - structure.paths)
    fresh, dropped = _select_fields(structure.params, additions.params, 1, budget)
    if not fresh:
        return structure, dropped
    return Structure(_graft_fields(structure.params, fresh)), dropped


# --- JSON ---------------------------------------------------------------------------------


def _node_to_json(n: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": n.kind.value, "firstSeenMs": n.first_seen_ms}
    if n.kind is _OBJECT:
        out["fields"] = _fields_to_json(n.fields)
    elif n.kind is _ARRAY and n.items is not None:
        out["items"] = _node_to_json(n.items)
    return out


def _fields_to_json(fields: Mapping[str, Node]) -> dict[str, Any]:
    return {name: _node_to_json(fields[name]) for name in sorted(fields)}


def structure_to_json(s: Structure) -> dict[str, Any]:
    return {"format": FORMAT, "params": _fields_to_json(s.params)}


def additions_to_json(a: Additions) -> dict[str, Any]:
    return {"format": FORMAT, "params": _fields_to_json(a.params)}


class _Reader:
    def __init__(self, what: str, max_depth: int, max_paths: int) -> None:
        self.what = what
        self.max_depth = max_depth
        self.max_paths = max_paths
        self.paths = 0

    def fail(self, path: str, message: str) -> ValueError:
        return ValueError(f"{self.what}: {path}: {message}")

    def tree(self, d: Any) -> Mapping[str, Node]:
        if not isinstance(d, Mapping):
            msg = f"{self.what}: expected an object, not {type(d).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - the contract: malformed input is ValueError
        fmt = d.get("format", FORMAT)
        if type(fmt) is not int or fmt < 1:
            raise ValueError(f"{self.what}: format: expected a positive integer")
        if fmt > FORMAT:
            raise ValueError(f"{self.what}: format {fmt} is newer than this reader ({FORMAT})")
        return self.fields(d.get("params", {}), "params", 1)

    def fields(self, raw: Any, path: str, depth: int) -> Mapping[str, Node]:
        if not isinstance(raw, Mapping):
            raise self.fail(path, "expected an object of params")
        out: dict[str, Node] = {}
        for name, value in raw.items():
            if not isinstance(name, str):
                raise self.fail(path, "param names must be strings")
            out[name] = self.node(value, path + _segment(name), depth)
        return MappingProxyType(out)

    def node(self, raw: Any, path: str, depth: int) -> Node:
        if depth > self.max_depth:
            raise self.fail(path, f"deeper than {self.max_depth}")
        self.paths += 1
        if self.paths > self.max_paths:
            raise self.fail(path, f"more than {self.max_paths} paths")
        if not isinstance(raw, Mapping):
            raise self.fail(path, "expected a node object")
        kind_raw = raw.get("kind")
        if not isinstance(kind_raw, str) or kind_raw not in _KINDS:
            raise self.fail(path, f"kind: expected one of {', '.join(_KINDS)}")
        kind = Kind(kind_raw)
        seen = raw.get("firstSeenMs")
        if type(seen) is not int or not 0 <= seen <= MAX_SEEN_MS:
            raise self.fail(path, f"firstSeenMs: expected an integer in [0, {MAX_SEEN_MS}]")
        raw_fields, raw_items = raw.get("fields"), raw.get("items")
        if raw_fields is not None and kind is not _OBJECT:
            raise self.fail(path, "fields on a node that is not an object")
        if raw_items is not None and kind is not _ARRAY:
            raise self.fail(path, "items on a node that is not an array")
        fields = _EMPTY if raw_fields is None else self.fields(raw_fields, path, depth + 1)
        items = None if raw_items is None else self.node(raw_items, path + "[]", depth + 1)
        return Node(kind, seen, fields, items)


_KINDS = tuple(k.value for k in Kind)


def structure_from_json(d: Mapping[str, Any]) -> Structure:
    """Read a structure record; ``ValueError`` when it is malformed."""
    return Structure(_Reader("structure", _READ_MAX_DEPTH, _READ_MAX_PATHS).tree(d))


def additions_from_json(d: Mapping[str, Any]) -> Additions:
    """Read additions received from a topic; ``ValueError`` on anything malformed,
    deeper than ``MAX_DEPTH`` or holding more than ``MAX_PATHS`` paths."""
    return Additions(_Reader("additions", MAX_DEPTH, MAX_PATHS).tree(d))


# --- preview ------------------------------------------------------------------------------

_QUOTE = re.compile(r'[.\[\]"\\\s]')
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _segment(name: str) -> str:
    if name and name.isprintable() and not _QUOTE.search(name):
        return "." + name
    return "[" + json.dumps(name, ensure_ascii=False) + "]"


def format_ms(ms: int) -> str:
    """RFC 3339 UTC with milliseconds: ``2026-01-01T00:00:00.000Z``."""
    return (_EPOCH + timedelta(milliseconds=ms)).strftime(
        "%Y-%m-%dT%H:%M:%S."
    ) + f"{ms % 1000:03d}Z"


def preview_paths(s: Structure) -> list[dict[str, Any]]:
    """Every path, depth-first (parents first, siblings by name in code-point order):
    ``[{"path": "params.items[].sku", "kind": "string", "firstSeenAt": "2026-…Z"}, …]``."""
    out: list[dict[str, Any]] = []

    def walk(node: Node, path: str) -> None:
        out.append(
            {"path": path, "kind": node.kind.value, "firstSeenAt": format_ms(node.first_seen_ms)}
        )
        for name in sorted(node.fields):
            walk(node.fields[name], path + _segment(name))
        if node.items is not None:
            walk(node.items, path + "[]")

    for name in sorted(s.params):
        walk(s.params[name], "params" + _segment(name))
    return out


def _example(node: Node) -> Any:
    if node.kind is _OBJECT:
        return {name: _example(node.fields[name]) for name in sorted(node.fields)}
    if node.kind is _ARRAY:
        return [] if node.items is None else [_example(node.items)]
    return node.kind.value


def preview_json(s: Structure) -> dict[str, Any]:
    """The structure as an example-like document: ``{"items": [{"sku": "string"}]}``.
    Scalars show their kind; an array whose items were never seen shows ``[]``."""
    return {name: _example(s.params[name]) for name in sorted(s.params)}
