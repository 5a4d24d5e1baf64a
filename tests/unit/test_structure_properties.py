"""Property tests of the parameter structure against a naive reference model.

The reference keeps a structure as ``{path tuple: (kind, firstSeenMs)}`` and merges an
event the slow, obvious way: build the event's own shape path by path (first kind wins,
nulls upgrade), then walk it in sorted order (depth-first, siblings by name), adding new
paths while depth and path budget allow and counting each new param dropped.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from unittest.mock import patch

from hypothesis import assume, example, given, settings
from hypothesis import strategies as hs

from eventgate.registry import structure as st
from eventgate.registry.structure import (
    EMPTY_STRUCTURE,
    Additions,
    Ignored,
    Node,
    Structure,
    additions_from_json,
    additions_to_json,
    combine,
    discover,
    discover_batch,
    merge,
    structure_from_json,
    structure_to_json,
)

Path = tuple[str, ...]
RefStructure = dict[Path, tuple[str, int]]
ITEM = "[]"

NAMES = hs.sampled_from(["a", "b", "c", "A", "a.b", ""])
SCALARS = hs.one_of(
    hs.none(),
    hs.booleans(),
    hs.integers(-(2**40), 2**40),
    hs.floats(allow_nan=False, allow_infinity=False),
    hs.text(max_size=3),
)
VALUES = hs.recursive(
    SCALARS,
    lambda inner: hs.one_of(hs.lists(inner, max_size=3), hs.dictionaries(NAMES, inner, max_size=3)),
    max_leaves=12,
)
PARAMS = hs.dictionaries(NAMES, VALUES, max_size=4)
EVENTS = hs.lists(PARAMS, max_size=8)
SETTINGS = settings(max_examples=300, deadline=None)


@contextmanager
def limits(max_paths: int, max_depth: int) -> Iterator[None]:
    with patch.object(st, "MAX_PATHS", max_paths), patch.object(st, "MAX_DEPTH", max_depth):
        yield


LIMITS = hs.sampled_from([(500, 8), (6, 3), (3, 2), (10, 1), (0, 8)])


# --- the reference model --------------------------------------------------------------------


def ref_kind(v: Any) -> str:
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "boolean"
    if isinstance(v, int):
        return "integer"
    if isinstance(v, float):
        return "number"
    if isinstance(v, str):
        return "string"
    return "object" if isinstance(v, dict) else "array"


def ref_absorb(shape: RefStructure, path: Path, v: Any, t: int) -> None:
    """The event's own shape: first kind wins at each path, nulls upgrade."""
    k = ref_kind(v)
    cur = shape.get(path)
    if cur is None or cur[0] == "null":
        shape[path] = (k, t)
    elif cur[0] != k:
        return
    if k == "object":
        for name, child in v.items():
            ref_absorb(shape, (*path, "." + name), child, t)
    elif k == "array":
        for child in v:
            ref_absorb(shape, (*path, ITEM), child, t)


def ref_merge(accepted: RefStructure, params: dict[str, Any], t: int) -> tuple[RefStructure, int]:
    shape: RefStructure = {}
    for name, v in params.items():
        ref_absorb(shape, ("." + name,), v, t)
    result = dict(accepted)
    ignored = 0
    for path in sorted(shape):  # parents first, siblings by name
        kind = shape[path][0]
        parent = path[:-1]
        if parent and (parent not in result or result[parent][0] != shape[parent][0]):
            continue  # under a param that was dropped, or whose kind differs
        cur = accepted.get(path)
        if cur is None:
            if len(path) > st.MAX_DEPTH or len(result) >= st.MAX_PATHS:
                ignored += 1
            else:
                result[path] = shape[path]
        elif cur[0] == "null" and kind != "null":
            result[path] = (kind, cur[1])
    return result, ignored


def as_ref(s: Structure | Additions) -> RefStructure:
    out: RefStructure = {}

    def walk(node: Node, path: Path) -> None:
        out[path] = (node.kind.value, node.first_seen_ms)
        for name, child in node.fields.items():
            walk(child, (*path, "." + name))
        if node.items is not None:
            walk(node.items, (*path, ITEM))

    for name, node in s.params.items():
        walk(node, ("." + name,))
    return out


def sequential(s: Structure, events: list[dict[str, Any]], t0: int = 0) -> tuple[Structure, int]:
    """Each event discovered against the structure as it stands, and merged at once."""
    ignored = 0
    for i, params in enumerate(events):
        tally = Ignored()
        found = discover(s, params, t0 + i, ignored=tally)
        ignored += tally.count
        if found is not None:
            s, dropped = merge(s, found)
            # the writer drops what does not fit (the tally also holds what is too deep)
            assert dropped <= tally.count
    return s, ignored


def depth_of(s: Structure) -> int:
    return max((len(p) for p in as_ref(s)), default=0)


# --- properties --------------------------------------------------------------------------------


@SETTINGS
@given(events=EVENTS, lim=LIMITS)
def test_sequential_merges_match_the_reference_model(
    events: list[dict[str, Any]], lim: tuple[int, int]
) -> None:
    with limits(*lim):
        s, ignored = sequential(EMPTY_STRUCTURE, events)
        ref: RefStructure = {}
        ref_ignored = 0
        for i, params in enumerate(events):
            ref, dropped = ref_merge(ref, params, i)
            ref_ignored += dropped
        assert as_ref(s) == ref
        assert ignored == ref_ignored
        assert s.paths == len(ref) <= st.MAX_PATHS
        assert depth_of(s) <= st.MAX_DEPTH


@SETTINGS
@given(prefix=EVENTS, events=EVENTS, lim=LIMITS)
@example(  # the snapshot's room went to ``A``, ``a``, ``b``; on the writer ``c`` upgrades free
    prefix=[],
    events=[
        {"a": None, "b": None, "c": None},
        {"a": None, "b": None, "c": [], "A": {"a": None, "b": None, "c": None}},
    ],
    lim=(6, 3),
)
def test_stale_discoveries_merged_in_log_order_equal_sequential_merging(
    prefix: list[dict[str, Any]], events: list[dict[str, Any]], lim: tuple[int, int]
) -> None:
    """Processors discover against an old snapshot; the writer merges in log order."""
    with limits(*lim):
        snapshot, _ = sequential(EMPTY_STRUCTURE, prefix)
        written = snapshot
        for i, params in enumerate(events):
            found = discover(snapshot, params, 100 + i)
            if found is not None:
                written, _ = merge(written, found)
        expected, _ = sequential(snapshot, events, 100)
        assert written == expected
        assert written.paths <= st.MAX_PATHS
        assert depth_of(written) <= st.MAX_DEPTH


@SETTINGS
@given(events=EVENTS, lags=hs.lists(hs.integers(0, 9), max_size=8), lim=LIMITS)
def test_each_event_discovered_against_any_earlier_log_state_gives_the_same_structure(
    events: list[dict[str, Any]], lags: list[int], lim: tuple[int, int]
) -> None:
    """Every processor is behind by its own number of log entries; the writer's structure
    is still the one merging the events one by one against the current state gives."""
    with limits(*lim):
        states = [EMPTY_STRUCTURE]  # the writer's structure after each log entry
        for i, params in enumerate(events):
            lag = lags[i] if i < len(lags) else 0
            snapshot = states[max(0, len(states) - 1 - lag)]
            found = discover(snapshot, params, i)
            written = states[-1]
            states.append(written if found is None else merge(written, found)[0])
        expected, _ = sequential(EMPTY_STRUCTURE, events)
        assert states[-1] == expected
        assert states[-1].paths <= st.MAX_PATHS
        assert depth_of(states[-1]) <= st.MAX_DEPTH


def kind_conflicts(events: list[dict[str, Any]]) -> bool:
    """Whether two events give one path different non-null kinds."""
    kinds: dict[Path, str] = {}
    for params in events:
        shape: RefStructure = {}
        for name, v in params.items():
            ref_absorb(shape, ("." + name,), v, 0)
        for path, (kind, _) in shape.items():
            if kind != "null" and kinds.setdefault(path, kind) != kind:
                return True
    return False


@SETTINGS
@given(prefix=EVENTS, between=EVENTS, events=EVENTS, lim=LIMITS)
def test_a_batch_discovered_against_a_stale_snapshot_merges_as_a_fresh_one(
    prefix: list[dict[str, Any]],
    between: list[dict[str, Any]],
    events: list[dict[str, Any]],
    lim: tuple[int, int],
) -> None:
    """One request per batch: against the snapshot or against the writer's structure, the
    batch changes the writer's structure alike, unless its events disagree on a kind (one
    ``Additions`` holds one kind per path; see ``test_structure``)."""
    assume(not kind_conflicts(events))
    with limits(*lim):
        snapshot, _ = sequential(EMPTY_STRUCTURE, prefix)
        written, _ = sequential(snapshot, between, 50)
        batch = [(p, 100 + i) for i, p in enumerate(events)]
        stale = discover_batch(snapshot, batch)
        fresh = discover_batch(written, batch)
        got = written if stale is None else merge(written, stale)[0]
        assert got == (written if fresh is None else merge(written, fresh)[0])
        assert got.paths <= st.MAX_PATHS


@SETTINGS
@given(prefix=EVENTS, events=EVENTS)
def test_combined_discoveries_equal_sequential_merging_within_the_limits(
    prefix: list[dict[str, Any]], events: list[dict[str, Any]]
) -> None:
    snapshot, _ = sequential(EMPTY_STRUCTURE, prefix)
    total: Additions | None = None
    for i, params in enumerate(events):
        found = discover(snapshot, params, 100 + i)
        if found is not None:
            total = found if total is None else combine(total, found)
    written = snapshot if total is None else merge(snapshot, total)[0]
    expected, _ = sequential(snapshot, events, 100)
    assert written == expected
    batch = discover_batch(snapshot, [(p, 100 + i) for i, p in enumerate(events)])
    assert (snapshot if batch is None else merge(snapshot, batch)[0]) == expected


@SETTINGS
@given(prefix=EVENTS, params=PARAMS, lim=LIMITS)
def test_discover_is_idempotent(
    prefix: list[dict[str, Any]], params: dict[str, Any], lim: tuple[int, int]
) -> None:
    with limits(*lim):
        s, _ = sequential(EMPTY_STRUCTURE, prefix)
        found = discover(s, params, 7)
        merged = s if found is None else merge(s, found)[0]
        assert discover(merged, params, 8) is None
        assert discover(merged, params, 8, ignored=Ignored()) is None
        if found is None:
            assert discover(s, params, 7, ignored=Ignored()) is None


@SETTINGS
@given(prefix=EVENTS, params=PARAMS, lim=LIMITS)
def test_json_round_trips(
    prefix: list[dict[str, Any]], params: dict[str, Any], lim: tuple[int, int]
) -> None:
    with limits(*lim):
        s, _ = sequential(EMPTY_STRUCTURE, prefix)
        assert structure_from_json(structure_to_json(s)) == s
        found = discover(s, params, 7)
        if found is not None:
            assert additions_from_json(additions_to_json(found)) == found


JSON = hs.recursive(
    hs.one_of(
        hs.none(),
        hs.booleans(),
        hs.integers(),
        hs.floats(allow_nan=False),
        hs.sampled_from(["object", "array", "integer", "null", "x"]),
    ),
    lambda inner: hs.one_of(
        hs.lists(inner, max_size=3),
        hs.dictionaries(
            hs.sampled_from(["format", "params", "kind", "firstSeenMs", "fields", "items", "a"]),
            inner,
            max_size=5,
        ),
    ),
    max_leaves=25,
)


@settings(max_examples=500, deadline=None)
@given(doc=JSON)
def test_additions_from_json_raises_only_value_error(doc: Any) -> None:
    try:
        got = additions_from_json(doc)
    except ValueError:
        return
    assert additions_from_json(additions_to_json(got)) == got
