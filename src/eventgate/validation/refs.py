"""``$ref`` checks: local pointers to checked subschemas only, no in-place cycles, and a
bounded expansion (see :mod:`eventgate.validation.checks`)."""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

from eventgate.validation.errors import RulesError
from eventgate.validation.facts import Pointer, SchemaFacts, pointer_text

MAX_EXPANDED_SUBSCHEMAS = 50_000
"""Most subschemas one instance can be checked against once ``$ref`` is expanded."""


def resolve_refs(root: dict[str, Any], facts: SchemaFacts) -> None:
    for ref, at in facts.refs:
        where = pointer_text((*at, "$ref"))
        if not ref.startswith("#"):
            raise RulesError(
                f"$ref {ref!r} leaves the schema: only local references (#/...) are allowed",
                where,
            )
        fragment = unquote(ref[1:])
        if fragment and not fragment.startswith("/"):
            raise RulesError(f"$ref {ref!r}: only JSON pointers (#/...) are supported", where)
        segments = fragment.split("/")[1:] if fragment else []
        if any(not seg for seg in segments):
            raise RulesError(f"$ref {ref!r}: empty pointer segments are not supported", where)
        target = tuple(seg.replace("~1", "/").replace("~0", "~") for seg in segments)
        if target not in facts.positions or not _canonical_indexes(root, target):
            raise RulesError(f"$ref {ref!r} does not point to a subschema", where)
        facts.edges[at].append((target, False))
        facts.ref_targets[ref] = target


def _canonical_indexes(root: Any, target: Pointer) -> bool:
    """Whether the array indexes in ``target`` are plain decimals ("01" or "+1" would be
    read differently by fastjsonschema's resolver)."""
    node = root
    for seg in target:
        if isinstance(node, list):
            if not seg.isdecimal() or str(int(seg)) != seg:
                return False
            node = node[int(seg)]
        else:
            node = node[seg]
    return True


def check_ref_graph(facts: SchemaFacts) -> None:
    """Refuse in-place ``$ref`` cycles and graphs expanding past the budget. Iterative, so
    a long chain of references cannot exhaust the Python stack."""
    edges = facts.edges
    # 1. Cycles made only of in-place edges (no descent into the data): infinite recursion.
    state: dict[Pointer, int] = {}
    for start in edges:
        if start in state:
            continue
        stack: list[tuple[Pointer, int]] = [(start, 0)]
        state[start] = 1
        while stack:
            node, index = stack.pop()
            in_place = [child for child, consumes in edges[node] if not consumes]
            if index < len(in_place):
                stack.append((node, index + 1))
                child = in_place[index]
                if state.get(child) == 1:
                    raise RulesError(
                        "$ref cycle that never descends into the data (infinite recursion)",
                        pointer_text(child),
                    )
                if child not in state:
                    state[child] = 1
                    stack.append((child, 0))
            else:
                state[node] = 2
    # 2. Expanded size: subschemas visited per instance, shared $ref targets counted per use.
    cost: dict[Pointer, int] = {}
    on_stack: set[Pointer] = {()}
    work: list[tuple[Pointer, int, int]] = [((), 0, 1)]
    while work:
        node, index, total = work.pop()
        children = edges[node]
        if index < len(children):
            child = children[index][0]
            if child in cost:
                work.append((node, index + 1, total + cost[child]))
            elif child in on_stack:  # recursion through the data: bounded by data depth
                work.append((node, index + 1, total + 1))
            else:
                work.append((node, index, total))
                on_stack.add(child)
                work.append((child, 0, 1))
            continue
        if total > MAX_EXPANDED_SUBSCHEMAS:
            raise RulesError(
                f"$ref expands the schema to more than {MAX_EXPANDED_SUBSCHEMAS} subschemas",
                pointer_text(node),
            )
        cost[node] = total
        on_stack.discard(node)
        if work:  # hand the finished child's cost to its parent
            parent, parent_index, parent_total = work.pop()
            work.append((parent, parent_index + 1, parent_total + total))
