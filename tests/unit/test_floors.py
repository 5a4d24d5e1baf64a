"""Volume floors: the judgement, the bounded per-type series, the evaluator's life cycle
and its logs — against an in-memory registry state and a fake counter store."""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Mapping, Sequence

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from eventgate.counters.model import Figures
from eventgate.errors import DependencyUnavailable
from eventgate.floors import FloorCheck, FloorWatch, check_floors, floor_series, judge
from eventgate.metrics import OTHER_TYPES, Metrics
from eventgate.registry.model import EventType, VolumeFloor, new_auto_type
from eventgate.settings import Settings

NOW_MS = 1_767_225_600_000


class FakeStore:
    """24-hour volumes and per-hours volumes, as the counters would give them."""

    def __init__(self, day: Mapping[str, int], recent: Mapping[str, int] | None = None) -> None:
        self.day = dict(day)
        self.recent = dict(recent or {})
        self.recent_asked: dict[str, int] = {}
        self.fail = False

    async def figures(
        self, type_keys: Sequence[str], now_ms: int | None = None
    ) -> dict[str, Figures]:
        if self.fail:
            raise DependencyUnavailable("Redis: down")
        return {k: Figures(volume24h=self.day.get(k, 0)) for k in type_keys}

    async def recent_volumes(
        self,
        hours_by_type: Mapping[str, int],
        day_volume: Mapping[str, int],
        now_ms: int | None = None,
    ) -> dict[str, int]:
        self.recent_asked.update(hours_by_type)
        return {k: self.recent.get(k, 0) for k in hours_by_type}


def floored(key: str, events: int | None, hours: int = 1) -> EventType:
    floor = VolumeFloor(events, hours) if events is not None else None
    return dataclasses.replace(new_auto_type(key, NOW_MS), volume_floor=floor)


def series(metrics: Metrics, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    text = generate_latest(metrics.registry).decode()
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


def test_judge_follows_the_floor_over_its_hours() -> None:
    hourly = VolumeFloor(events=10, hours=1)
    assert judge(hourly, volume24h=5, counted=None)  # 24 h under the floor: so is 1 h
    assert judge(hourly, volume24h=500, counted=9)
    assert not judge(hourly, volume24h=500, counted=10)
    with pytest.raises(ValueError, match="needs the count"):
        judge(hourly, volume24h=500, counted=None)
    daily = VolumeFloor(events=100, hours=24)
    assert judge(daily, 99, None)
    assert not judge(daily, 100, None)
    weekly = VolumeFloor(events=700, hours=168)  # pro rata: 100 a day
    assert judge(weekly, 99, None)
    assert not judge(weekly, 100, None)


async def test_check_reads_the_short_window_only_when_the_day_does_not_decide() -> None:
    types = [
        floored("quiet", 10),  # 24 h: 3, under 10 -> below, no bucket read
        floored("busy", 10),  # 24 h: 500, last hour 2 -> below
        floored("steady", 10),  # 24 h: 500, last hour 40 -> fine
        floored("daily", 100, 24),  # 24 h decides
        floored("nofloor", None),
    ]
    store = FakeStore(
        {"quiet": 3, "busy": 500, "steady": 500, "daily": 50}, {"busy": 2, "steady": 40}
    )
    checks = {c.key: c for c in await check_floors(types, store, NOW_MS)}
    assert set(checks) == {"quiet", "busy", "steady", "daily"}
    assert store.recent_asked == {"busy": 1, "steady": 1}
    assert {k for k, c in checks.items() if c.below} == {"quiet", "busy", "daily"}
    assert checks["busy"].counted == 2 and checks["quiet"].counted is None


def test_series_are_capped_below_first_then_by_volume() -> None:
    floor = VolumeFloor(10, 1)
    checks = [
        FloorCheck("a", floor, 1000, 50, False),
        FloorCheck("b", floor, 5, None, True),
        FloorCheck("c", floor, 3, None, True),
        FloorCheck("d", floor, 2000, 60, False),
        FloorCheck("e", floor, 1, None, True),
    ]
    assert floor_series(checks, 5) == {"a": 0, "b": 1, "c": 1, "d": 0, "e": 1}
    assert floor_series(checks, 2) == {"b": 1, "c": 1, OTHER_TYPES: 1}
    assert floor_series(checks, 4) == {"b": 1, "c": 1, "e": 1, "d": 0, OTHER_TYPES: 0}
    assert floor_series(checks, 0) == {OTHER_TYPES: 3}


async def test_ten_thousand_types_stay_under_the_series_cap() -> None:
    """10,000 distinct types with floors: the exposition holds cap + 1 per-type series, and
    the counts still cover every type."""
    types = [floored(f"type.{i:05d}", 10) for i in range(10_000)]
    store = FakeStore({t.key: (i % 3) * 10 for i, t in enumerate(types)})  # 0, 10, 20
    store.recent = {t.key: 0 if i % 2 else 50 for i, t in enumerate(types)}
    metrics = Metrics()
    settings = Settings(metrics_type_series_max=500)
    watch = FloorWatch(lambda: types, store, metrics, settings, is_evaluator=lambda: True)
    checks = await watch.evaluate()
    below = sum(c.below for c in checks)
    per_type = series(metrics, "eventgate_type_below_volume_floor")
    assert len(per_type) == 501
    assert sum(per_type.values()) == below  # named ones plus _other account for all
    assert series(metrics, "eventgate_volume_floor_types") == {(): 10_000}
    assert series(metrics, "eventgate_volume_floor_types_below") == {(): below}
    labels = {dict(k)["type"] for k in per_type}
    assert OTHER_TYPES in labels
    # The whole exposition is bounded: no other series grew with the types.
    text = generate_latest(metrics.registry).decode()
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert len(samples) < 501 + 150, len(samples)


async def test_evaluator_hands_over_and_logs_changes(caplog: pytest.LogCaptureFixture) -> None:
    types = [floored("signup", 10), floored("checkout", 10)]
    store = FakeStore({"signup": 100, "checkout": 100}, {"signup": 1, "checkout": 50})
    metrics = Metrics()
    evaluator = True
    watch = FloorWatch(
        lambda: types, store, metrics, Settings(), lambda: evaluator, clock=lambda: 1000.0
    )
    with caplog.at_level(logging.INFO, logger="eventgate.floors"):
        await watch.evaluate()
        store.recent["signup"] = 20
        store.recent["checkout"] = 0
        await watch.evaluate()
    lines = [(r.getMessage(), getattr(r, "eventTypeKey", None)) for r in caplog.records]
    assert lines == [
        ("type below its volume floor", "signup"),
        ("type below its volume floor", "checkout"),
        ("type back above its volume floor", "signup"),
    ]
    assert caplog.records[0].floorEvents == 10 and caplog.records[0].counted == 1
    assert series(metrics, "eventgate_volume_floor_evaluated_timestamp_seconds") == {(): 1000.0}
    # Another worker took partition 0: this one publishes nothing of its own.
    evaluator = False
    watch.clear()
    assert series(metrics, "eventgate_type_below_volume_floor") == {}
    assert series(metrics, "eventgate_volume_floor_types_below") == {(): 0}


async def test_a_failed_evaluation_keeps_the_last_figures() -> None:
    types = [floored("signup", 10)]
    store = FakeStore({"signup": 0})
    metrics = Metrics()
    watch = FloorWatch(lambda: types, store, metrics, Settings(), lambda: True, clock=lambda: 5.0)
    await watch.evaluate()
    store.fail = True
    with pytest.raises(DependencyUnavailable):
        await watch.evaluate()
    assert series(metrics, "eventgate_volume_floor_types_below") == {(): 1}
    assert series(metrics, "eventgate_volume_floor_evaluated_timestamp_seconds") == {(): 5.0}
