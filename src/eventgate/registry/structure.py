"""The parameter structure of an event type (SPEC §5): the model, discovery, merging.

Pure logic, no I/O. Every accepted event's params are merged into its type's structure:
objects recursively, array item shapes, scalar kinds ``string``, ``number``, ``integer``,
``boolean``, ``null`` (and ``object``, ``array`` for containers). JSON and the preview live
in :mod:`.structure_json`; their names are re-exported here.

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
  any param. The event's shape never depends on the structure. ``[]`` records an array
  whose item shape is unknown. Arrays of arrays are fine within the depth limit.
- **Limits.** ``MAX_PATHS`` paths and ``MAX_DEPTH`` depth per type. A path is one param
  node: ``params.a``, ``params.a.b``, ``params.a[]`` (an item shape) each count one.
  Depth: ``params.a`` is 1, ``params.a.b`` and ``params.a[]`` are 2, ``params.a[].b`` is 3.
  A new param that does not fit is ignored and counted once, whatever it contains. Which
  params fit when several compete is deterministic: depth-first, parents before children,
  siblings in code-point order of their names. Null upgrades cost nothing.
- Names are case-sensitive and may be any string.

Stale snapshots: who applies the path limit
-------------------------------------------
A processor discovers against a snapshot that may lag the writer's structure. The depth
limit is static, so discovery applies it. The path limit is not: a param the snapshot
lacks may already be in the writer's structure (added by another processor's earlier
request), where it is *free*, or it may be a ``null`` there whose upgrade is free whatever
the budget. No truncation by the snapshot's budget can be right for every writer state, so
``discover`` reports **everything** new relative to its snapshot (depth permitting) and only
``merge``, on the writer, spends the path budget, in log order. Hence, for a single event::

    merge(written, discover(snapshot, params, t)) == merge(written, discover(written, params, t))

for every ``snapshot`` the log passed through before ``written``: the result depends only
on the log order. Two bounds keep this cheap: once the snapshot is full the writer's paths
are exactly the snapshot's (paths are never removed), so only null upgrades are reported;
and one request's additions hold at most ``MAX_ADDITION_PATHS`` paths (what lies beyond, in
the order above, is dropped and counted: only then can a stale snapshot change the result).

A batch (``discover_batch``) is one request: the writer merges its events' union, the
budget spent in the order above across the batch. Its result does not depend on the
snapshot either, except when the batch's events disagree on the kind of a param the
snapshot lacks (or holds as ``null``): the batch keeps the first kind, while the writer may
already hold the other and would have walked the later events' contents under it. One
``Additions`` cannot carry both; sending such events in separate requests would.

Hot path (processors)
---------------------
``discover(structure, params, seen_at_ms)`` returns what is new, or ``None``. The common
case (nothing new) is one allocation-free walk of the params against the structure: a dict
lookup per param, nothing at all for scalars already known. Only when something is new does
the slow path build the additions. Pass ``ignored=Ignored()`` to count params dropped by
the limits (for a metric) as they would be were the snapshot the writer's structure (the
writer's ``merge`` counts what it drops); counting makes events that carry over-limit
params take the slow path (so do events whose arrays mix item kinds: the fast walk may
suspect news there that the slow path then rules out). Within a poll, use
``discover_batch`` so one new param costs one addition, not one per event::

    additions = discover_batch(structure, ((e.params, e.ts_ms) for e in batch))
    if additions is not None:
        send(additions_to_json(additions))        # to the registry writer

Measured (``.venv/bin/python bench/structure_micro.py --rounds 7``; one core of this
2-core box while other work ran on it): a 20-param event (a nested object, a 3-item array
of objects, an array of strings) against a structure that already holds all of it:
**~290,000 to 300,000 discover calls/s** (3.3 to 3.4 µs). The slow path (an event bringing one
new param) runs at ~50,000/s (~20 µs); an over-limit param counted with a tally at
~55,000/s; ``discover_batch`` over events that all carry the same new param ~295,000/s.

Writer side
-----------
``merge(structure, additions) -> (structure, ignored)``: spends the path budget (and
re-applies the depth limit), returns the *same* object when nothing changed.
Deterministic: the same sequence of merges gives the same structure everywhere.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from types import MappingProxyType
from typing import Any

MAX_PATHS = 500
MAX_DEPTH = 8
# The paths of one request's additions: what is new to a (possibly stale) snapshot.
MAX_ADDITION_PATHS = 2_000
MAX_SEEN_MS = 253_402_300_799_999  # 9999-12-31T23:59:59.999Z


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


_NO_NAMES: frozenset[str] = frozenset()


def _closed(fields: Mapping[str, Node]) -> frozenset[str]:
    if not fields:
        return _NO_NAMES
    return frozenset([name for name, node in fields.items() if not node.open])


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
    # The names of ``fields`` whose nodes are not open: values under them bring nothing.
    closed: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.kind) is not Kind:
            object.__setattr__(self, "kind", Kind(self.kind))  # the hot path compares by identity
        if type(self.fields) is not MappingProxyType:
            object.__setattr__(self, "fields", MappingProxyType(dict(self.fields)))
        object.__setattr__(self, "open", self.kind in _OPEN)
        object.__setattr__(self, "closed", _closed(self.fields))


@dataclass(frozen=True, slots=True)
class _Tree:
    params: Mapping[str, Node]
    paths: int = field(init=False, compare=False, repr=False)
    closed: frozenset[str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        if type(self.params) is not MappingProxyType:
            object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "paths", _count(self.params))
        object.__setattr__(self, "closed", _closed(self.params))


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


def _scan_fields(
    fields: Mapping[str, Node],
    closed: frozenset[str],
    obj: Mapping[Any, Any],
    depth: int,
    full: bool,
) -> int:
    if closed.issuperset(obj):  # every name known with a scalar kind: a C-speed "nothing"
        return 0
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
                r = _scan_fields(node.fields, node.closed, value, depth + 1, full)
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
                r = _scan_fields(item.fields, item.closed, v, depth + 1, full)
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


def _shape(base: Mapping[str, Node], params: Mapping[str, Any], seen: int) -> dict[str, Node]:
    """The event's own shape where it can differ from ``base`` (pruned as ``_absorb`` says)."""
    drafts: dict[str, _Draft] = {}
    for name, value in params.items():
        if not isinstance(name, str):
            raise TypeError(f"param names are strings, not {type(name).__name__}")
        b = base.get(name)
        if b is None or b.open:
            _absorb(drafts, b, name, value, seen, 1)
    return {name: d.freeze() for name, d in drafts.items()}


def _discover(
    structure: Structure,
    params: Mapping[str, Any],
    seen_at_ms: int,
    full: bool,
    ignored: Ignored | None,
) -> Additions | None:
    """``discover`` with fullness given (``discover_batch`` scans a view that may hold more
    than ``MAX_PATHS`` paths while the snapshot it started from is not full)."""
    found = _scan_fields(structure.params, structure.closed, params, 1, full)
    if found == 0 or (found == 1 and ignored is None):
        return None
    base = structure.params
    delta = _shape(base, params, min(max(seen_at_ms, 0), MAX_SEEN_MS))
    # Report everything new (the writer spends the path budget), unless the snapshot is
    # full: then so is the writer's structure, with the very same paths. The additions
    # also hold nodes of ``structure`` (containers, upgrades): at most its paths.
    cap = 0 if full else max(MAX_ADDITION_PATHS - structure.paths, 0)
    budget = _Budget(cap)
    fresh, dropped = _select_fields(base, delta, 1, budget)
    if ignored is not None:
        room = MAX_PATHS - structure.paths
        if cap - budget.left > room:  # more new paths than the snapshot has room for
            dropped = _select_fields(base, delta, 1, _Budget(room))[1]
        ignored.count += dropped
    return Additions(fresh) if fresh else None


def discover(
    structure: Structure,
    params: Mapping[str, Any],
    seen_at_ms: int,
    *,
    ignored: Ignored | None = None,
) -> Additions | None:
    """What ``params`` bring that ``structure`` lacks (new params, null upgrades, and the
    containers on the way to them), or ``None``.

    Not truncated to the room left in ``structure``: it may be a stale snapshot, and only
    the writer's ``merge`` knows what fits (see the module doc). Bounded by the depth limit,
    by ``MAX_ADDITION_PATHS``, and, when ``structure`` is full, to null upgrades.

    ``params`` holds JSON values (dict, list, str, int, float, bool, None; tuples count as
    arrays); anything else raises ``TypeError``. ``seen_at_ms`` is clamped to
    ``[0, MAX_SEEN_MS]``. ``ignored``, if given, is incremented by the number of new params
    the limits would drop were ``structure`` the writer's current structure.
    """
    return _discover(structure, params, seen_at_ms, structure.paths >= MAX_PATHS, ignored)


def combine(a: Additions, b: Additions, *, ignored: Ignored | None = None) -> Additions:
    """``a`` then ``b`` as one request: their union, first wins (``b`` was discovered
    against a view holding ``a``). ``merge(s, combine(a, b)) == merge(merge(s, a), b)``
    while the path limit is not reached. The result holds at most ``MAX_ADDITION_PATHS``
    paths (what ``b`` cannot add is counted in ``ignored``)."""
    fresh, dropped = _select_fields(a.params, b.params, 1, _Budget(MAX_ADDITION_PATHS - a.paths))
    if ignored is not None:
        ignored.count += dropped
    return Additions(_graft_fields(a.params, fresh)) if fresh else a


def discover_batch(
    structure: Structure,
    events: Iterable[tuple[Mapping[str, Any], int]],
    *,
    ignored: Ignored | None = None,
) -> Additions | None:
    """The combined additions of ``(params, seen_at_ms)`` pairs, in order, for one request.
    Each discovery is folded into a private view, so later events carrying the same news
    stay on the fast path and the result holds each new param once. ``ignored`` counts as
    if the events were merged one by one into ``structure``."""
    full = structure.paths >= MAX_PATHS
    view = structure  # ``structure`` and the batch's news so far, not truncated
    fitted = structure  # ``structure`` as merging the events one by one would leave it
    total: Additions | None = None
    for params, seen_at_ms in events:
        if ignored is not None:
            fit = _discover(fitted, params, seen_at_ms, fitted.paths >= MAX_PATHS, ignored)
            if fit is not None:
                fitted, _ = merge(fitted, fit)
        found = _discover(view, params, seen_at_ms, full, None)
        if found is not None:
            total = found if total is None else combine(total, found)
            view = Structure(_graft_fields(view.params, found.params))
    return total


def merge(structure: Structure, additions: Additions) -> tuple[Structure, int]:
    """Apply ``additions`` (writer side, in log order): the new structure and the number of
    params the limits dropped. Returns ``structure`` itself when nothing changed."""
    budget = _Budget(MAX_PATHS - structure.paths)
    fresh, dropped = _select_fields(structure.params, additions.params, 1, budget)
    if not fresh:
        return structure, dropped
    return Structure(_graft_fields(structure.params, fresh)), dropped


# Serialisation and preview (they import the model above, hence last).
from eventgate.registry.structure_json import (  # noqa: E402
    FORMAT,
    additions_from_json,
    additions_to_json,
    format_ms,
    preview_json,
    preview_paths,
    structure_from_json,
    structure_to_json,
)

__all__ = [
    "EMPTY_STRUCTURE",
    "FORMAT",
    "MAX_ADDITION_PATHS",
    "MAX_DEPTH",
    "MAX_PATHS",
    "MAX_SEEN_MS",
    "Additions",
    "Ignored",
    "Kind",
    "Node",
    "Structure",
    "additions_from_json",
    "additions_to_json",
    "combine",
    "count_paths",
    "discover",
    "discover_batch",
    "format_ms",
    "merge",
    "preview_json",
    "preview_paths",
    "structure_from_json",
    "structure_to_json",
]
