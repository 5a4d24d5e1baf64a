"""The parameter structure (SPEC §5) as JSON, and its preview.

The model, discovery and merging live in :mod:`.structure`, which re-exports these names
(import them from there).

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
everything and raises ``ValueError``, bounded by ``MAX_DEPTH`` and ``MAX_ADDITION_PATHS``;
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
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from eventgate.registry.structure import Additions, Node, Structure

FORMAT = 1
_READ_MAX_DEPTH = 64
_READ_MAX_PATHS = 100_000
_NO_FIELDS: Mapping[str, Node] = MappingProxyType({})


def _node_to_json(n: Node) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": n.kind.value, "firstSeenMs": n.first_seen_ms}
    if n.kind is _st.Kind.OBJECT:
        out["fields"] = _fields_to_json(n.fields)
    elif n.kind is _st.Kind.ARRAY and n.items is not None:
        out["items"] = _node_to_json(n.items)
    return out


def _fields_to_json(fields: Mapping[str, Node]) -> dict[str, Any]:
    return {name: _node_to_json(fields[name]) for name in sorted(fields)}


def structure_to_json(s: Structure) -> dict[str, Any]:
    return {"format": FORMAT, "params": _fields_to_json(s.params)}


def additions_to_json(a: Additions) -> dict[str, Any]:
    return {"format": FORMAT, "params": _fields_to_json(a.params)}


# Where the reader is, kept as a chain of (parent, name) links (``None`` for an array's
# item shape) and rendered only for an error message: formatting a path per node cost
# more than reading the node.
_Where = tuple[Any, str | None] | None


def _render(where: _Where) -> str:
    parts: list[str] = []
    while where is not None:
        where, name = where
        parts.append("[]" if name is None else _segment(name))
    return "params" + "".join(reversed(parts))


class _Reader:
    def __init__(self, what: str, max_depth: int, max_paths: int) -> None:
        self.what = what
        self.max_depth = max_depth
        self.max_paths = max_paths
        self.paths = 0

    def fail(self, where: _Where, message: str) -> ValueError:
        return ValueError(f"{self.what}: {_render(where)}: {message}")

    def tree(self, d: Any) -> Mapping[str, Node]:
        if not isinstance(d, Mapping):
            msg = f"{self.what}: expected an object, not {type(d).__name__}"
            raise ValueError(msg)  # noqa: TRY004 - the contract: malformed input is ValueError
        fmt = d.get("format", FORMAT)
        if type(fmt) is not int or fmt < 1:
            raise ValueError(f"{self.what}: format: expected a positive integer")
        if fmt > FORMAT:
            raise ValueError(f"{self.what}: format {fmt} is newer than this reader ({FORMAT})")
        return self.fields(d.get("params", {}), None, 1)

    def fields(self, raw: Any, where: _Where, depth: int) -> Mapping[str, Node]:
        if not isinstance(raw, Mapping):
            raise self.fail(where, "expected an object of params")
        out: dict[str, Node] = {}
        for name, value in raw.items():
            if not isinstance(name, str):
                raise self.fail(where, "param names must be strings")
            out[name] = self.node(value, (where, name), depth)
        return MappingProxyType(out)

    def node(self, raw: Any, where: _Where, depth: int) -> Node:
        if depth > self.max_depth:
            raise self.fail(where, f"deeper than {self.max_depth}")
        self.paths += 1
        if self.paths > self.max_paths:
            raise self.fail(where, f"more than {self.max_paths} paths")
        if not isinstance(raw, Mapping):
            raise self.fail(where, "expected a node object")
        kind_raw = raw.get("kind")
        kind = _KIND_OF.get(kind_raw) if isinstance(kind_raw, str) else None
        if kind is None:
            raise self.fail(where, f"kind: expected one of {', '.join(_st.Kind)}")
        seen = raw.get("firstSeenMs")
        if type(seen) is not int or not 0 <= seen <= _st.MAX_SEEN_MS:
            raise self.fail(where, f"firstSeenMs: expected an integer in [0, {_st.MAX_SEEN_MS}]")
        raw_fields, raw_items = raw.get("fields"), raw.get("items")
        if raw_fields is not None and kind is not _st.Kind.OBJECT:
            raise self.fail(where, "fields on a node that is not an object")
        if raw_items is not None and kind is not _st.Kind.ARRAY:
            raise self.fail(where, "items on a node that is not an array")
        fields = _NO_FIELDS if raw_fields is None else self.fields(raw_fields, where, depth + 1)
        items = None if raw_items is None else self.node(raw_items, (where, None), depth + 1)
        return _st.Node(kind, seen, fields, items)


def structure_from_json(d: Mapping[str, Any]) -> Structure:
    """Read a structure record; ``ValueError`` when it is malformed."""
    return _st.Structure(_Reader("structure", _READ_MAX_DEPTH, _READ_MAX_PATHS).tree(d))


def additions_from_json(d: Mapping[str, Any]) -> Additions:
    """Read additions received from a topic; ``ValueError`` on anything malformed,
    deeper than ``MAX_DEPTH`` or holding more than ``MAX_ADDITION_PATHS`` paths."""
    return _st.Additions(_Reader("additions", _st.MAX_DEPTH, _st.MAX_ADDITION_PATHS).tree(d))


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
    if node.kind is _st.Kind.OBJECT:
        return {name: _example(node.fields[name]) for name in sorted(node.fields)}
    if node.kind is _st.Kind.ARRAY:
        return [] if node.items is None else [_example(node.items)]
    return node.kind.value


def preview_json(s: Structure) -> dict[str, Any]:
    """The structure as an example-like document: ``{"items": [{"sku": "string"}]}``.
    Scalars show their kind; an array whose items were never seen shows ``[]``."""
    return {name: _example(s.params[name]) for name in sorted(s.params)}


# Last: ``structure`` imports this module at its end, so either can be imported first.
from eventgate.registry import structure as _st  # noqa: E402

_KIND_OF = {kind.value: kind for kind in _st.Kind}
