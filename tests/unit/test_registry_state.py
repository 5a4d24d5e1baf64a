"""RegistryState: log-order application, hot-path indexes, listing and dependencies."""

from __future__ import annotations

import dataclasses
import itertools
from typing import Any

import pytest

from eventgate.registry.model import (
    Category,
    EventType,
    Segment,
    SegmentRef,
    Workflow,
    WorkflowStatus,
    activity_window_ms,
    new_auto_type,
)
from eventgate.registry.records import SEGMENT, TYPE, WORKFLOW, Record, encode
from eventgate.registry.staged import StagedView
from eventgate.registry.state import Page, RegistryState

WINDOW = activity_window_ms(30)
DAY = 86_400_000


class Log:
    def __init__(self) -> None:
        self.state = RegistryState()
        self.offsets = itertools.count()

    def put(self, *entities: EventType | Workflow | Segment) -> None:
        for entity in entities:
            key, value = encode(entity)
            self.state.apply_raw(key, value, next(self.offsets))

    def delete(self, kind: str, ident: str) -> None:
        self.state.apply(Record(kind, ident, None), next(self.offsets))


def wf(
    ident: str, status: str = "active", launch: tuple[str, ...] = (), stop: tuple[str, ...] = ()
) -> Workflow:
    return Workflow(ident, f"W {ident}", WorkflowStatus(status), launch, stop)


def test_apply_in_log_order_and_tombstones() -> None:
    log = Log()
    a1 = new_auto_type("a", 1)
    a2 = dataclasses.replace(a1, name="A", version=2)
    log.put(a1, a2)
    assert log.state.get("a") == a2
    log.delete(TYPE, "a")
    assert log.state.get("a") is None
    assert log.state.last_offset == 2


def test_malformed_records_are_counted_and_skipped() -> None:
    log = Log()
    log.state.apply_raw(b"type/x", b"garbage", 0)
    log.put(new_auto_type("y", 1))
    assert log.state.malformed == 1
    assert log.state.get("y") is not None
    assert log.state.last_malformed is not None and "offset 0" in log.state.last_malformed


def test_hot_path_indexes_follow_workflow_changes() -> None:
    log = Log()
    log.put(wf("w2", launch=("a",)), wf("w1", launch=("a", "b"), stop=("c",)))
    assert log.state.launch_workflows("a") == ("w1", "w2")
    assert log.state.stop_workflows("c") == ("w1",)
    log.put(wf("w1", status="inactive", launch=("a", "b"), stop=("c",)))
    assert log.state.launch_workflows("a") == ("w2",)
    assert log.state.launch_workflows("b") == ()
    assert log.state.stop_workflows("c") == ()
    # inactive workflows are still dependencies
    assert [w.id for w in log.state.dependencies("b").launch] == ["w1"]
    log.delete(WORKFLOW, "w1")
    assert log.state.dependencies("b").empty
    assert log.state.launch_workflows("unknown") == ()


def test_launch_condition_launches_on_the_system_type() -> None:
    log = Log()
    w = Workflow("w", "R", WorkflowStatus.ACTIVE, (), (), SegmentRef("12", "VIP"))
    log.put(w)
    assert log.state.launch_workflows("segment.12") == ("w",)


def test_segments_index() -> None:
    log = Log()
    log.put(Segment("s1", "S1", ("a", "b")), Segment("s2", "S2", ("a",)))
    assert log.state.segments_of("a") == ("s1", "s2")
    log.put(Segment("s1", "S1", ("b",)))
    assert log.state.segments_of("a") == ("s2",)
    log.delete(SEGMENT, "s2")
    assert log.state.segments_of("a") == ()
    assert [s.id for s in log.state.dependencies("b").segments] == ["s1"]


def _listing_fixture() -> Log:
    log = Log()
    now = 100 * DAY
    log.put(
        dataclasses.replace(new_auto_type("zeta", 3), last_event_at_ms=now - DAY),
        dataclasses.replace(new_auto_type("alpha", 2), name="Purchase", segmentation=True),
        dataclasses.replace(new_auto_type("Beta", 1), last_event_at_ms=now - 40 * DAY),
        dataclasses.replace(new_auto_type("gamma", 2), category=Category.CLICK),
        wf("w", launch=("zeta",), stop=("gamma",)),
    )
    return log


def _keys(page: Page) -> list[str]:
    return [t.key for t in page.items]


def test_list_filters_sort_and_page() -> None:
    state = _listing_fixture().state
    now = 100 * DAY

    def ls(**kw: Any) -> Page:
        return state.list_types(now_ms=now, activity_window_ms=WINDOW, **kw)

    assert _keys(ls()) == ["Beta", "alpha", "gamma", "zeta"]
    assert _keys(ls(status="active")) == ["zeta"]
    assert _keys(ls(status="inactive")) == ["Beta", "alpha", "gamma"]
    assert _keys(ls(dependency="launch")) == ["zeta"]
    assert _keys(ls(dependency="stop")) == ["gamma"]
    assert _keys(ls(dependency="segmentation")) == ["alpha"]
    assert _keys(ls(dependency="none")) == ["Beta", "alpha"]
    assert _keys(ls(q="PURCH")) == ["alpha"]
    assert _keys(ls(q="ET")) == ["Beta", "zeta"]
    # ties by key, ascending, in both directions
    assert _keys(ls(sort="createdAt")) == ["Beta", "alpha", "gamma", "zeta"]
    assert _keys(ls(sort="-createdAt")) == ["zeta", "alpha", "gamma", "Beta"]
    assert _keys(ls(sort="-lastEventAt")) == ["zeta", "Beta", "alpha", "gamma"]
    assert _keys(ls(sort="name")) == ["Beta", "gamma", "alpha", "zeta"]
    page = ls(limit=2, offset=1)
    assert _keys(page) == ["alpha", "gamma"] and page.total == 4
    with pytest.raises(ValueError, match="sort"):
        ls(sort="nope")
    with pytest.raises(ValueError):
        ls(status="sometimes")


def test_dependency_counts() -> None:
    state = _listing_fixture().state
    assert state.dependency_counts("zeta").launch == 1
    assert state.dependency_counts("gamma").stop == 1
    assert state.dependency_counts("alpha").segments == 0


def test_recent_auto_registrations_window() -> None:
    log = Log()
    log.put(*(new_auto_type(f"k{i}", i * 10_000) for i in range(30)))
    assert log.state.auto_registrations_since(290_000 - 60_000) == 6
    assert log.state.auto_registrations_since(-1) <= 30


def test_staged_view_overlays_pending_records() -> None:
    log = Log()
    log.put(new_auto_type("a", 1), wf("w1", launch=("a",)), Segment("s", "S", ("a",)))
    view = StagedView(log.state)
    view.stage(Record(TYPE, "b", new_auto_type("b", 5)))
    view.stage(Record(TYPE, "a", None))
    view.stage(Record(WORKFLOW, "w1", wf("w1", launch=("b",))))
    view.stage(Record(WORKFLOW, "w2", wf("w2", launch=("a",), stop=("b",))))
    view.stage(Record(SEGMENT, "s", None))
    assert view.get("a") is None and view.get("b") is not None
    assert view.type_count() == 1
    assert view.launch_referrers("a") == frozenset({"w2"})
    assert view.launch_referrers("b") == frozenset({"w1"})
    assert view.stop_referrers("b") == frozenset({"w2"})
    assert view.segment_referrers("a") == frozenset()
    assert view.auto_registrations_since(0) == 2
    assert log.state.get("a") is not None  # the base is untouched
