"""The parameter structure (SPEC §5): discover on the hot path, merge on the writer, JSON,
preview. Property tests live in ``test_structure_properties.py``."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from typing import Any
from unittest.mock import patch

import orjson
import pytest

from eventgate.registry import structure as st
from eventgate.registry.structure import (
    EMPTY_STRUCTURE,
    MAX_ADDITION_PATHS,
    MAX_DEPTH,
    MAX_PATHS,
    Additions,
    Ignored,
    Kind,
    Node,
    Structure,
    additions_from_json,
    additions_to_json,
    combine,
    count_paths,
    discover,
    discover_batch,
    merge,
    preview_json,
    preview_paths,
    structure_from_json,
    structure_to_json,
)

T1 = 1_767_225_600_000  # 2026-01-01T00:00:00.000Z
T2 = T1 + 1_000
T3 = T1 + 2_000


def learn(s: Structure, params: dict[str, Any], t: int = T1) -> Structure:
    found = discover(s, params, t)
    return s if found is None else merge(s, found)[0]


def kinds(s: Structure) -> dict[str, str]:
    return {p["path"]: p["kind"] for p in preview_paths(s)}


def seen(s: Structure) -> dict[str, int]:
    out: dict[str, int] = {}

    def walk(node: Node, path: str) -> None:
        out[path] = node.first_seen_ms
        for name, child in node.fields.items():
            walk(child, f"{path}.{name}")
        if node.items is not None:
            walk(node.items, path + "[]")

    for name, node in s.params.items():
        walk(node, name)
    return out


def nested(depth: int, leaf: Any = 1) -> dict[str, Any]:
    """``{"l1": {"l2": … {"l<depth>": leaf}}}``: the leaf param is at ``depth``."""
    value: Any = leaf
    for level in range(depth, 0, -1):
        value = {f"l{level}": value}
    return value  # type: ignore[no-any-return]


# --- kinds -------------------------------------------------------------------------------


def test_scalar_kinds() -> None:
    s = learn(EMPTY_STRUCTURE, {"s": "x", "i": 3, "f": 1.5, "whole": 1.0, "b": True, "n": None})
    assert kinds(s) == {
        "params.b": "boolean",
        "params.f": "number",
        "params.i": "integer",
        "params.n": "null",
        "params.s": "string",
        "params.whole": "number",
    }


def test_big_integers_and_false_keep_their_kinds() -> None:
    s = learn(EMPTY_STRUCTURE, {"big": 2**70, "no": False, "zero": 0})
    assert kinds(s) == {"params.big": "integer", "params.no": "boolean", "params.zero": "integer"}


def test_names_are_case_sensitive() -> None:
    s = learn(EMPTY_STRUCTURE, {"sku": "a"})
    found = discover(s, {"SKU": 1}, T2)
    assert found is not None
    assert kinds(merge(s, found)[0]) == {"params.SKU": "integer", "params.sku": "string"}


def test_nested_objects_merge_recursively() -> None:
    s = learn(EMPTY_STRUCTURE, {"customer": {"name": "Ann", "address": {"city": "Lyon"}}})
    s = learn(s, {"customer": {"age": 40, "address": {"zip": "69001"}}}, T2)
    assert kinds(s) == {
        "params.customer": "object",
        "params.customer.address": "object",
        "params.customer.address.city": "string",
        "params.customer.address.zip": "string",
        "params.customer.age": "integer",
        "params.customer.name": "string",
    }
    assert seen(s)["customer.age"] == T2
    assert seen(s)["customer"] == T1


def test_empty_object_is_recorded() -> None:
    s = learn(EMPTY_STRUCTURE, {"meta": {}})
    assert kinds(s) == {"params.meta": "object"}
    assert discover(s, {"meta": {}}, T2) is None


# --- existing params never change ----------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "later"),
    [
        (3, 2.5),  # integer first, then a float: stays integer, not new
        (2.5, 3),  # number first, then an integer: stays number
        (1, True),
        ("x", 1),
        ("x", {"inner": 1}),  # a scalar never becomes an object, nor gains fields
        ({"inner": 1}, "x"),
        ([1], {"a": 1}),
        ({"a": 1}, [1]),
        ("x", None),  # null after a kind: nothing new
    ],
)
def test_first_seen_kind_wins_and_the_rest_is_not_new(first: Any, later: Any) -> None:
    s = learn(EMPTY_STRUCTURE, {"p": first})
    assert discover(s, {"p": later}, T2) is None
    assert discover(s, {"p": later}, T2, ignored=Ignored()) is None


def test_null_takes_its_first_non_null_kind_and_keeps_its_first_seen() -> None:
    s = learn(EMPTY_STRUCTURE, {"coupon": None})
    assert kinds(s) == {"params.coupon": "null"}
    assert discover(s, {"coupon": None}, T2) is None
    s = learn(s, {"coupon": "SPRING"}, T2)
    assert kinds(s) == {"params.coupon": "string"}
    assert seen(s) == {"coupon": T1}
    assert discover(s, {"coupon": 5}, T3) is None  # now a string for good


def test_null_upgrades_to_a_container_with_its_contents() -> None:
    s = learn(EMPTY_STRUCTURE, {"extra": None})
    s = learn(s, {"extra": {"a": [1]}}, T2)
    assert kinds(s) == {
        "params.extra": "object",
        "params.extra.a": "array",
        "params.extra.a[]": "integer",
    }
    assert seen(s) == {"extra": T1, "extra.a": T2, "extra.a[]": T2}


# --- arrays --------------------------------------------------------------------------------


def test_array_item_shape_is_merged_across_items() -> None:
    s = learn(EMPTY_STRUCTURE, {"items": [{"sku": "A"}, {"sku": "B", "qty": 2}, {"price": 1.5}]})
    assert kinds(s) == {
        "params.items": "array",
        "params.items[]": "object",
        "params.items[].price": "number",
        "params.items[].qty": "integer",
        "params.items[].sku": "string",
    }
    assert preview_json(s) == {"items": [{"price": "number", "qty": "integer", "sku": "string"}]}


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ([1, "a", 2.5], "integer"),
        (["a", 1], "string"),
        ([None, 1, "a"], "integer"),  # null items upgrade within the array too
        ([None, None], "null"),
        ([{"a": 1}, "x"], "object"),
        ([1.0, 1], "number"),
    ],
)
def test_mixed_items_first_kind_wins(values: list[Any], kind: str) -> None:
    assert kinds(learn(EMPTY_STRUCTURE, {"v": values}))["params.v[]"] == kind


def test_empty_array_then_items() -> None:
    s = learn(EMPTY_STRUCTURE, {"tags": []})
    assert kinds(s) == {"params.tags": "array"}
    assert preview_json(s) == {"tags": []}
    assert discover(s, {"tags": []}, T2) is None
    s = learn(s, {"tags": ["a"]}, T2)
    assert kinds(s) == {"params.tags": "array", "params.tags[]": "string"}
    assert seen(s) == {"tags": T1, "tags[]": T2}


def test_an_event_array_shape_is_decided_by_its_own_first_item() -> None:
    # The event's item shape is a string (its first item): at odds with the structure, so
    # nothing is new, even in the later object item. Whatever snapshot a processor holds,
    # it finds the same shape, so the writer's result depends on the log order only.
    s = learn(EMPTY_STRUCTURE, {"items": [{"sku": "A"}]})
    assert discover(s, {"items": ["junk", {"sku": "B", "qty": 1}]}, T2) is None
    assert discover(s, {"items": [None, {"qty": 1}, "junk"]}, T2) is not None


def test_stale_and_fresh_snapshots_lead_to_the_same_structure() -> None:
    first: dict[str, Any] = {"tags": [{}]}
    second = {"tags": [[], {"a": None}]}  # item shape: array (first item), object dropped
    fresh = learn(learn(EMPTY_STRUCTURE, first), second, T2)
    a = discover(EMPTY_STRUCTURE, first, T1)
    b = discover(EMPTY_STRUCTURE, second, T2)  # a processor that has not seen ``first``
    assert a is not None and b is not None
    assert merge(merge(EMPTY_STRUCTURE, a)[0], b)[0] == fresh
    assert kinds(fresh) == {"params.tags": "array", "params.tags[]": "object"}


def test_item_shape_folds_over_every_array_at_the_same_path() -> None:
    s = learn(EMPTY_STRUCTURE, {"rows": [{"cells": [1]}, {"cells": ["x", 2.5]}, {"cells": []}]})
    assert kinds(s)["params.rows[].cells[]"] == "integer"
    s = learn(EMPTY_STRUCTURE, {"rows": [{"cells": [None]}, {"cells": [{"v": 1}]}]})
    assert kinds(s)["params.rows[].cells[].v"] == "integer"


def test_arrays_of_arrays() -> None:
    s = learn(EMPTY_STRUCTURE, {"grid": [[1, 2], [], [3]], "deep": [[[{"x": True}]]]})
    assert kinds(s) == {
        "params.deep": "array",
        "params.deep[]": "array",
        "params.deep[][]": "array",
        "params.deep[][][]": "object",
        "params.deep[][][].x": "boolean",
        "params.grid": "array",
        "params.grid[]": "array",
        "params.grid[][]": "integer",
    }
    assert preview_json(s)["deep"] == [[[{"x": "boolean"}]]]


def test_known_scalar_arrays_are_not_walked_again() -> None:
    s = learn(EMPTY_STRUCTURE, {"tags": ["a"]})
    assert discover(s, {"tags": ["b", 1, {"x": 1}, [2]]}, T2) is None


def test_tuples_count_as_arrays() -> None:
    assert kinds(learn(EMPTY_STRUCTURE, {"t": (1, 2)})) == {
        "params.t": "array",
        "params.t[]": "integer",
    }


# --- discover / merge ------------------------------------------------------------------------


def test_discover_returns_none_when_nothing_is_new() -> None:
    params = {"a": 1, "b": {"c": [1, {"d": None}]}, "e": [{"f": "x"}]}
    s = learn(EMPTY_STRUCTURE, params)
    assert discover(s, params, T2) is None
    assert discover(s, {}, T2) is None
    assert discover(s, {"a": 7}, T2) is None


def test_discover_returns_only_the_additions() -> None:
    s = learn(EMPTY_STRUCTURE, {"a": 1, "b": {"c": 1}, "z": "x"})
    found = discover(s, {"a": 2, "b": {"c": 2, "d": "new"}, "z": "y", "n": None}, T2)
    assert found is not None
    assert preview_json(Structure(found.params)) == {"b": {"d": "string"}, "n": "null"}
    # ``b`` is there only to hold ``d``: an existing container, with its own first-seen time
    assert found.params["b"].first_seen_ms == T1
    assert found.params["b"].fields["d"].first_seen_ms == T2


def test_merge_returns_the_same_structure_when_nothing_changes() -> None:
    s = learn(EMPTY_STRUCTURE, {"a": 1})
    stale = discover(EMPTY_STRUCTURE, {"a": "x"}, T2)
    assert stale is not None
    merged, ignored = merge(s, stale)
    assert merged is s
    assert ignored == 0


def test_first_seen_means_first_in_log_order_not_first_discovered() -> None:
    # Processor P1 sees ``amount`` as a string at T1; P2 sees it as an integer at T2; both
    # against the same (empty) snapshot. Their requests reach the log in either order.
    by_p1 = discover(EMPTY_STRUCTURE, {"amount": "12.5"}, T1)
    by_p2 = discover(EMPTY_STRUCTURE, {"amount": 12}, T2)
    assert by_p1 is not None and by_p2 is not None

    p2_first, _ = merge(merge(EMPTY_STRUCTURE, by_p2)[0], by_p1)
    assert kinds(p2_first) == {"params.amount": "integer"}
    assert seen(p2_first) == {"amount": T2}

    p1_first, _ = merge(merge(EMPTY_STRUCTURE, by_p1)[0], by_p2)
    assert kinds(p1_first) == {"params.amount": "string"}
    assert seen(p1_first) == {"amount": T1}


def test_stale_additions_from_two_processors_union_on_the_writer() -> None:
    base = learn(EMPTY_STRUCTURE, {"order": {"id": "1"}, "x": None})
    by_p1 = discover(base, {"order": {"id": "2", "total": 1.5}, "x": 1}, T2)
    by_p2 = discover(base, {"order": {"currency": "EUR", "total": 3}, "x": "s"}, T3)
    assert by_p1 is not None and by_p2 is not None
    s, ignored = merge(merge(base, by_p1)[0], by_p2)
    assert ignored == 0
    assert kinds(s) == {
        "params.order": "object",
        "params.order.currency": "string",
        "params.order.id": "string",
        "params.order.total": "number",  # p1's, first in the log
        "params.x": "integer",  # p1's upgrade of the null
    }
    assert seen(s) == {
        "order": T1,
        "order.currency": T3,
        "order.id": T1,
        "order.total": T2,
        "x": T1,
    }


def test_the_same_merges_give_the_same_structure_and_bytes() -> None:
    events: list[dict[str, Any]] = [
        {"b": 1, "a": {"y": [1], "x": None}},
        {"a": {"x": "s", "z": True}, "c": []},
    ]
    found = [discover(EMPTY_STRUCTURE, e, T1 + i) for i, e in enumerate(events)]
    results = []
    for _ in range(2):
        s = EMPTY_STRUCTURE
        for f in found:
            assert f is not None
            # through the wire, as the writer gets them
            s, _ = merge(s, additions_from_json(orjson.loads(orjson.dumps(additions_to_json(f)))))
        results.append(orjson.dumps(structure_to_json(s)))
    assert results[0] == results[1]


def test_seen_at_is_clamped() -> None:
    s = learn(EMPTY_STRUCTURE, {"a": 1}, -1)  # Kafka's "no timestamp"
    assert seen(s) == {"a": 0}
    assert preview_paths(s)[0]["firstSeenAt"] == "1970-01-01T00:00:00.000Z"


def test_non_json_values_and_names_are_type_errors() -> None:
    with pytest.raises(TypeError, match="not a JSON value"):
        discover(EMPTY_STRUCTURE, {"a": {1, 2}}, T1)
    with pytest.raises(TypeError, match="param names are strings"):
        discover(EMPTY_STRUCTURE, {1: "x"}, T1)  # type: ignore[dict-item]
    with pytest.raises(TypeError, match="param names are strings"):
        discover(EMPTY_STRUCTURE, {"a": {2: "x"}}, T1)


# --- combine and batches -----------------------------------------------------------------------


def test_combine_dedupes_and_first_wins() -> None:
    base = learn(EMPTY_STRUCTURE, {"o": {}})
    a = discover(base, {"o": {"k": 1}, "n": None, "same": "x"}, T2)
    b = discover(base, {"o": {"k": "s", "j": 1}, "n": [1], "same": "y"}, T3)
    assert a is not None and b is not None
    both = combine(a, b)
    assert preview_json(Structure(both.params)) == {
        "n": ["integer"],
        "o": {"j": "integer", "k": "integer"},
        "same": "string",
    }
    assert both.params["n"].first_seen_ms == T2  # the null, upgraded, keeps its time
    assert merge(base, both)[0] == merge(merge(base, a)[0], b)[0]
    assert combine(a, a) is a


def test_discover_batch_reports_each_new_param_once() -> None:
    s = learn(EMPTY_STRUCTURE, {"a": 1})
    events = [({"a": i, "promo": "X"}, T1 + i) for i in range(100)]
    events.append(({"a": 1, "promo": 5, "late": None}, T3 * 2))
    found = discover_batch(s, events)
    assert found is not None
    assert count_paths(found) == 2
    assert kinds(merge(s, found)[0]) == {
        "params.a": "integer",
        "params.late": "null",
        "params.promo": "string",
    }
    assert found.params["promo"].first_seen_ms == T1
    assert discover_batch(s, [({"a": 1}, T1)]) is None
    assert discover_batch(s, []) is None


def test_a_batch_beyond_the_room_of_its_snapshot_is_left_to_the_writer() -> None:
    # Each event is new to the snapshot, which has room for one: the batch reports both
    # (a stale snapshot's room says nothing of the writer's), the writer keeps what fits.
    s = full_structure(extra_room=1)
    tally = Ignored()
    found = discover_batch(s, [({"b": 1}, T2), ({"a": 1}, T3)], ignored=tally)
    assert found is not None
    assert set(found.params) == {"a", "b"}
    assert tally.count == 1  # ``a``, as merging the events one by one would drop it
    merged, ignored = merge(s, found)
    assert ignored == 1
    assert "params.a" in kinds(merged)  # one request: the budget is spent by name


def test_a_batch_keeps_the_first_kind_of_a_param_its_snapshot_lacks() -> None:
    # The documented limit of one request per batch: the writer already holds ``p`` as an
    # object (another processor's request came first), the batch holds it as a string and
    # cannot also say what its later event brings under an object.
    events: list[tuple[dict[str, Any], int]] = [({"p": "s"}, T2), ({"p": {"x": 1}}, T3)]
    stale = discover_batch(EMPTY_STRUCTURE, events)
    assert stale is not None
    written = learn(EMPTY_STRUCTURE, {"p": {}})
    assert merge(written, stale)[0] is written
    fresh = discover_batch(written, events)
    assert fresh is not None
    assert kinds(merge(written, fresh)[0]) == {"params.p": "object", "params.p.x": "integer"}
    # one event per request has no such limit
    one_by_one = written
    for params, t in events:
        found = discover(EMPTY_STRUCTURE, params, t)
        assert found is not None
        one_by_one = merge(one_by_one, found)[0]
    assert one_by_one == merge(written, fresh)[0]


# --- limits --------------------------------------------------------------------------------------


def full_structure(extra_room: int = 0) -> Structure:
    params = {f"p{i:03d}": i for i in range(MAX_PATHS - extra_room)}
    s = learn(EMPTY_STRUCTURE, params)
    assert count_paths(s) == MAX_PATHS - extra_room
    return s


def test_limits_are_the_documented_ones() -> None:
    assert (MAX_PATHS, MAX_DEPTH) == (500, 8)


def test_a_full_structure_ignores_new_params_and_counts_them() -> None:
    s = full_structure()
    event = {"p000": 1, "new1": 1, "new2": {"a": 1, "b": 2}}
    assert discover(s, event, T2) is None  # nothing can be added: the fast answer
    tally = Ignored()
    assert discover(s, event, T2, ignored=tally) is None
    assert tally.count == 2  # new1, and new2 with whatever it holds
    assert discover(s, {"p001": 5}, T2, ignored=tally) is None
    assert tally.count == 2


def test_a_null_upgrade_still_happens_in_a_full_structure() -> None:
    s = learn(full_structure(extra_room=1), {"maybe": None})
    assert count_paths(s) == MAX_PATHS
    tally = Ignored()
    found = discover(s, {"maybe": {"inner": 1}}, T2, ignored=tally)
    assert found is not None
    assert tally.count == 1  # ``inner`` does not fit
    s2, ignored = merge(s, found)
    assert (ignored, count_paths(s2)) == (0, MAX_PATHS)
    assert kinds(s2)["params.maybe"] == "object"


def test_partial_fit_is_deterministic_depth_first_by_name() -> None:
    s = full_structure(extra_room=3)
    tally = Ignored()
    found = discover(s, {"zz": 1, "b": {"y": 1, "x": 1}, "a": 1, "c": 1}, T2, ignored=tally)
    assert found is not None
    assert count_paths(found) == 6  # everything new: only the writer knows what fits
    assert tally.count == 3  # b.y, c, zz: what would not fit were ``s`` the writer's
    merged, ignored = merge(s, found)
    assert ignored == 3
    assert count_paths(merged) == MAX_PATHS
    new = {p for p in kinds(merged) if not p.startswith("params.p")}
    assert new == {"params.a", "params.b", "params.b.x"}


def test_a_stale_snapshot_reports_beyond_its_room_for_the_writer_to_choose() -> None:
    # Seen by the processor: room for 3 more. Meanwhile the writer took ``a``, ``b`` and a
    # null ``c`` (another processor's request): its room is 0, but ``c`` upgrades free.
    snapshot = full_structure(extra_room=3)
    written = learn(snapshot, {"a": None, "b": None, "c": None}, T2)
    assert count_paths(written) == MAX_PATHS
    event: dict[str, Any] = {"a": None, "b": None, "c": [], "A": {"x": 1}}
    found = discover(snapshot, event, T3)
    assert found is not None
    assert set(found.params) == {"A", "a", "b", "c"}  # ``c`` too, though past the room
    merged, ignored = merge(written, found)
    assert merged == learn(written, event, T3)
    assert kinds(merged)["params.c"] == "array"
    assert ignored == 1  # ``A``, with its ``x``


def test_the_writer_applies_limits_to_stale_additions_and_counts() -> None:
    s = full_structure(extra_room=2)
    by_p1 = discover(s, {"n1": 1, "n2": 1}, T2)
    by_p2 = discover(s, {"n3": 1, "n4": {"x": 1}}, T2)
    assert by_p1 is not None and by_p2 is not None
    s, ignored = merge(s, by_p1)
    assert ignored == 0
    s2, ignored = merge(s, by_p2)
    assert s2 is s
    assert ignored == 2  # n3, and n4 with its x
    assert count_paths(s2) == MAX_PATHS


def test_depth_limit() -> None:
    s = learn(EMPTY_STRUCTURE, nested(MAX_DEPTH, leaf={}))
    assert max(p.count(".") for p in kinds(s)) == MAX_DEPTH  # params.l1...l8
    assert count_paths(s) == MAX_DEPTH
    assert kinds(s)["params.l1.l2.l3.l4.l5.l6.l7.l8"] == "object"
    deeper = nested(MAX_DEPTH + 3)
    assert discover(s, deeper, T2) is None
    tally = Ignored()
    assert discover(s, deeper, T2, ignored=tally) is None
    assert tally.count == 1  # l9, with whatever it holds

    # the depth-8 node is still recorded as what it is; only its contents are ignored
    fresh_tally = Ignored()
    fresh = discover(EMPTY_STRUCTURE, nested(MAX_DEPTH + 2), T1, ignored=fresh_tally)
    assert fresh is not None
    assert kinds(merge(EMPTY_STRUCTURE, fresh)[0]) == kinds(s)
    assert fresh_tally.count == 1


def test_array_levels_count_as_depth() -> None:
    value: Any = 1
    for _ in range(MAX_DEPTH + 1):
        value = [value]
    tally = Ignored()
    found = discover(EMPTY_STRUCTURE, {"m": value}, T1, ignored=tally)
    assert found is not None
    s, _ = merge(EMPTY_STRUCTURE, found)
    deepest = max(kinds(s), key=len)
    assert deepest == "params.m" + "[]" * (MAX_DEPTH - 1)
    assert kinds(s)[deepest] == "array"
    assert tally.count == 1


def test_structure_never_exceeds_the_path_limit_under_a_flood() -> None:
    s = EMPTY_STRUCTURE
    for i in range(60):
        params = {f"k{i}_{j}": {"v": j} for j in range(10)}
        s = learn(s, params, T1 + i)
    assert count_paths(s) == MAX_PATHS
    assert len(preview_paths(s)) == MAX_PATHS


def test_additions_are_capped_deterministically() -> None:
    many = {f"a{i:04d}": 1 for i in range(MAX_ADDITION_PATHS + 2)}
    tally = Ignored()
    a = discover(EMPTY_STRUCTURE, many, T1, ignored=tally)
    assert a is not None
    assert count_paths(a) == MAX_ADDITION_PATHS
    assert max(a.params) == f"a{MAX_ADDITION_PATHS - 1:04d}"  # the first ones, by name
    assert tally.count == MAX_ADDITION_PATHS + 2 - MAX_PATHS  # as the writer would count
    assert additions_from_json(additions_to_json(a)) == a
    # a structure's nodes on the way (or upgraded) count too
    s = learn(EMPTY_STRUCTURE, {"o": {"x": 1}})
    nested = discover(s, {"o": {f"n{i:04d}": 1 for i in range(MAX_ADDITION_PATHS)}}, T2)
    assert nested is not None
    assert count_paths(nested) <= MAX_ADDITION_PATHS
    assert count_paths(nested) > MAX_ADDITION_PATHS - count_paths(s) - 1


def test_combine_caps_at_the_additions_limit() -> None:
    a = discover(EMPTY_STRUCTURE, {f"a{i:04d}": 1 for i in range(MAX_ADDITION_PATHS)}, T1)
    b = discover(EMPTY_STRUCTURE, {"b1": 1, "b2": 2}, T1)
    assert a is not None and b is not None
    tally = Ignored()
    both = combine(a, b, ignored=tally)
    assert both is a
    assert tally.count == 2
    c = discover(EMPTY_STRUCTURE, {f"c{i:03d}": 1 for i in range(MAX_PATHS)}, T1)
    assert c is not None
    assert count_paths(combine(c, b)) == MAX_PATHS + 2  # beyond ``MAX_PATHS``: the writer's


def test_a_full_snapshot_reports_only_null_upgrades() -> None:
    s = learn(full_structure(extra_room=1), {"maybe": None})
    found = discover(s, {"maybe": {"inner": 1}, "new": 1}, T2)
    assert found is not None
    assert as_json(found) == {"maybe": {"kind": "object", "firstSeenMs": T1, "fields": {}}}


def as_json(a: Additions) -> dict[str, Any]:
    params: dict[str, Any] = additions_to_json(a)["params"]
    return params


def test_limits_are_read_when_called() -> None:
    with patch.object(st, "MAX_PATHS", 2), patch.object(st, "MAX_ADDITION_PATHS", 3):
        tally = Ignored()
        found = discover(EMPTY_STRUCTURE, {"a": 1, "b": 1, "c": 1, "d": 1}, T1, ignored=tally)
        assert found is not None
        assert (count_paths(found), tally.count) == (3, 2)
        merged, ignored = merge(EMPTY_STRUCTURE, found)
        assert (count_paths(merged), ignored) == (2, 1)
        with pytest.raises(ValueError, match="more than 3 paths"):
            additions_from_json({"params": {k: node() for k in "abcd"}})


# --- JSON ----------------------------------------------------------------------------------------


def sample() -> Structure:
    s = learn(
        EMPTY_STRUCTURE,
        {
            "total": 9.5,
            "items": [{"sku": "A", "qty": 1}],
            "tags": [],
            "customer": {"tier": None, "ids": [[1]]},
            "paid": True,
            "a.b": "odd name",
        },
    )
    return learn(s, {"customer": {"tier": "gold"}, "late": 1}, T2)


def test_structure_json_shape_and_round_trip() -> None:
    s = sample()
    doc = structure_to_json(s)
    assert doc["format"] == 1
    assert list(doc["params"]) == sorted(doc["params"])
    assert doc["params"]["items"] == {
        "kind": "array",
        "firstSeenMs": T1,
        "items": {
            "kind": "object",
            "firstSeenMs": T1,
            "fields": {
                "qty": {"kind": "integer", "firstSeenMs": T1},
                "sku": {"kind": "string", "firstSeenMs": T1},
            },
        },
    }
    assert doc["params"]["tags"] == {"kind": "array", "firstSeenMs": T1}
    assert doc["params"]["customer"]["fields"]["tier"] == {"kind": "string", "firstSeenMs": T1}
    back = structure_from_json(orjson.loads(orjson.dumps(doc)))
    assert back == s
    assert count_paths(back) == count_paths(s)
    assert orjson.dumps(structure_to_json(back)) == orjson.dumps(doc)


def test_additions_json_round_trip() -> None:
    found = discover(sample(), {"customer": {"vip": True}, "new": [None]}, T3)
    assert found is not None
    doc = additions_to_json(found)
    assert doc == {
        "format": 1,
        "params": {
            "customer": {
                "kind": "object",
                "firstSeenMs": T1,
                "fields": {"vip": {"kind": "boolean", "firstSeenMs": T3}},
            },
            "new": {
                "kind": "array",
                "firstSeenMs": T3,
                "items": {"kind": "null", "firstSeenMs": T3},
            },
        },
    }
    assert additions_from_json(orjson.loads(orjson.dumps(doc))) == found


def test_empty_and_old_records_read_as_the_empty_structure() -> None:
    assert structure_from_json({}) == EMPTY_STRUCTURE
    assert structure_from_json({"format": 1}) == EMPTY_STRUCTURE
    assert structure_to_json(EMPTY_STRUCTURE) == {"format": 1, "params": {}}


def test_unknown_keys_are_ignored_for_evolution() -> None:
    doc = {
        "format": 1,
        "future": [1, 2],
        "params": {"a": {"kind": "integer", "firstSeenMs": T1, "hint": "x"}},
    }
    assert kinds(structure_from_json(doc)) == {"params.a": "integer"}


def node(kind: str = "integer", **extra: Any) -> dict[str, Any]:
    return {"kind": kind, "firstSeenMs": T1, **extra}


def chain(depth: int) -> dict[str, Any]:
    n = node()
    for _ in range(depth - 1):
        n = node("object", fields={"x": n})
    return {"params": {"x": n}}


@pytest.mark.parametrize(
    ("doc", "message"),
    [
        ([], "expected an object"),
        ("{}", "expected an object"),
        ({"format": 2}, "newer than this reader"),
        ({"format": "1"}, "format"),
        ({"format": True}, "format"),
        ({"format": 0}, "format"),
        ({"params": []}, "expected an object of params"),
        ({"params": None}, "expected an object of params"),
        ({"params": {"a": "integer"}}, "expected a node object"),
        ({"params": {"a": {"kind": "int", "firstSeenMs": 1}}}, "kind"),
        ({"params": {"a": {"kind": ["object"], "firstSeenMs": 1}}}, "kind"),
        ({"params": {"a": {"kind": "integer"}}}, "firstSeenMs"),
        ({"params": {"a": {"kind": "integer", "firstSeenMs": True}}}, "firstSeenMs"),
        ({"params": {"a": {"kind": "integer", "firstSeenMs": 1.0}}}, "firstSeenMs"),
        ({"params": {"a": {"kind": "integer", "firstSeenMs": -1}}}, "firstSeenMs"),
        ({"params": {"a": {"kind": "integer", "firstSeenMs": 10**20}}}, "firstSeenMs"),
        ({"params": {"a": node(fields={})}}, "fields on a node that is not an object"),
        ({"params": {"a": node("object", items=node())}}, "items on a node that is not"),
        ({"params": {"a": node("object", fields=[node()])}}, "expected an object of params"),
        ({"params": {"a": node("array", items=[])}}, "expected a node object"),
        ({"params": {"a": node("object", fields={1: node()})}}, "param names must be strings"),
        ({"params": {1: node()}}, "param names must be strings"),
        (chain(MAX_DEPTH + 1), "deeper than 8"),
        (
            {"params": {f"p{i}": node() for i in range(MAX_ADDITION_PATHS + 1)}},
            "more than 2000 paths",
        ),
    ],
)
def test_malformed_additions_are_value_errors(doc: Any, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        additions_from_json(doc)


def test_additions_at_the_limits_are_accepted() -> None:
    assert count_paths(additions_from_json(chain(MAX_DEPTH))) == MAX_DEPTH
    wide = {"params": {f"p{i}": node() for i in range(MAX_ADDITION_PATHS)}}
    assert count_paths(additions_from_json(wide)) == MAX_ADDITION_PATHS


def test_structure_records_are_read_with_looser_bounds_but_still_bounded() -> None:
    assert count_paths(structure_from_json(chain(MAX_DEPTH + 4))) == MAX_DEPTH + 4
    with pytest.raises(ValueError, match="deeper than 64"):
        structure_from_json(chain(65))


def test_error_messages_name_the_path() -> None:
    doc = {"params": {"a.b": node("array", items=node("object", fields={"c": {"kind": "x"}}))}}
    with pytest.raises(ValueError, match=r'params\["a\.b"\]\[\]\.c: kind'):
        additions_from_json(doc)


# --- preview ------------------------------------------------------------------------------------


def test_preview_paths_sorted_depth_first_with_times() -> None:
    s = sample()
    paths = preview_paths(s)
    assert [p["path"] for p in paths] == [
        'params["a.b"]',
        "params.customer",
        "params.customer.ids",
        "params.customer.ids[]",
        "params.customer.ids[][]",
        "params.customer.tier",
        "params.items",
        "params.items[]",
        "params.items[].qty",
        "params.items[].sku",
        "params.late",
        "params.paid",
        "params.tags",
        "params.total",
    ]
    assert paths[-4] == {
        "path": "params.late",
        "kind": "integer",
        "firstSeenAt": "2026-01-01T00:00:01.000Z",
    }
    assert {p["firstSeenAt"] for p in paths} == {
        "2026-01-01T00:00:00.000Z",
        "2026-01-01T00:00:01.000Z",
    }


def test_preview_json() -> None:
    assert preview_json(sample()) == {
        "a.b": "string",
        "customer": {"ids": [["integer"]], "tier": "string"},
        "items": [{"qty": "integer", "sku": "string"}],
        "late": "integer",
        "paid": "boolean",
        "tags": [],
        "total": "number",
    }
    assert preview_json(EMPTY_STRUCTURE) == {}
    assert preview_paths(EMPTY_STRUCTURE) == []


@pytest.mark.parametrize(
    ("name", "path"),
    [
        ("sku", "params.sku"),
        ("order-id", "params.order-id"),
        ("цена", "params.цена"),
        ("a.b", 'params["a.b"]'),
        ("x[0]", 'params["x[0]"]'),
        ("[]", 'params["[]"]'),
        ("", 'params[""]'),
        ("two words", 'params["two words"]'),
        ('say "hi"', 'params["say \\"hi\\""]'),
        ("back\\slash", 'params["back\\\\slash"]'),
        ("tab\there", 'params["tab\\there"]'),
        ("bell\x07", 'params["bell\\u0007"]'),
    ],
)
def test_path_names_render_unambiguously(name: str, path: str) -> None:
    s = learn(EMPTY_STRUCTURE, {name: {"in": 1}})
    assert [p["path"] for p in preview_paths(s)] == [path, f"{path}.in"]


def test_distinct_names_never_share_a_path() -> None:
    names = ["a.b", "a", "b", "a[]", "a[].b", "", " ", '"a.b"', "a b"]
    s = learn(EMPTY_STRUCTURE, {n: {"b": [1]} for n in names})
    paths = [p["path"] for p in preview_paths(s)]
    assert len(paths) == len(set(paths)) == count_paths(s)


# --- types ---------------------------------------------------------------------------------


def test_values_are_immutable() -> None:
    s = sample()
    with pytest.raises(TypeError):
        s.params["x"] = Node(Kind.STRING, T1)  # type: ignore[index]
    with pytest.raises(TypeError):
        s.params["customer"].fields["x"] = Node(Kind.STRING, T1)  # type: ignore[index]
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.params["total"].kind = Kind.STRING  # type: ignore[misc]
    mutable = {"a": Node(Kind.STRING, T1)}
    built = Additions(mutable)
    mutable["b"] = Node(Kind.STRING, T1)
    assert list(built.params) == ["a"]
    assert count_paths(built) == 1


def test_nodes_built_by_hand_get_a_real_kind() -> None:
    s = Structure({"a": Node("object", T1, {"b": Node("null", T1)})})  # type: ignore[arg-type]
    assert s.params["a"].kind is Kind.OBJECT
    assert discover(s, {"a": {"b": None}}, T2) is None
    assert discover(s, {"a": {"b": 1}}, T2) is not None


def test_the_json_module_can_be_imported_first() -> None:
    code = (
        "from eventgate.registry.structure_json import structure_to_json as f\n"
        "from eventgate.registry.structure import EMPTY_STRUCTURE, structure_to_json\n"
        "assert f is structure_to_json\n"
        "print(f(EMPTY_STRUCTURE))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "{'format': 1, 'params': {}}"
