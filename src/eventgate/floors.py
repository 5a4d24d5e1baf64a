"""Volume floors (SPEC §3, §12): "alert when fewer than ``events`` arrive in ``hours``
hours" — the original product's trigger control, evaluated by eventgate itself.

One worker evaluates at a time: the owner of ingest partition 0 (the consumer group
already elects exactly one), every ``volume_floor_interval_s``. The others publish zeros
and no per-type series, so ``max``/``sum`` over processes read right.

A type is below its floor when, at evaluation time:

- ``hours`` ≤ 24: fewer than ``events`` records were counted over its last ``hours``
  hours (the counters' buckets, so within one 5-minute bucket);
- ``hours`` > 24: the counters keep 24 hours only, so the last 24 hours are compared
  with the floor pro rata: ``volume24h * hours < events * 24``.

Counted is the counters' **volume**: records attributed to the type, accepted or
rejected, duplicates excluded (SPEC §8). Exported: the number of types with a floor and
below it, and one ``eventgate_type_below_volume_floor{type}`` series per type with a
floor, at most ``metrics_type_series_max`` of them — types below their floor first, then
by 24-hour volume — the rest summed under ``type="_other"``. Each change of a type's
state is logged (``type below its volume floor`` / ``type back above its volume floor``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from eventgate.counters.model import Figures
from eventgate.errors import DependencyUnavailable
from eventgate.metrics import OTHER_TYPES, Metrics
from eventgate.registry.model import EventType, VolumeFloor
from eventgate.settings import Settings

log = logging.getLogger(__name__)

WINDOW_HOURS = 24
MAX_TRANSITION_LOGS = 100  # per evaluation; the rest are summed in one line


class VolumeReader(Protocol):
    """What the evaluation reads of the counters (``CounterStore``)."""

    async def figures(
        self, type_keys: Sequence[str], now_ms: int | None = None
    ) -> dict[str, Figures]: ...

    async def recent_volumes(
        self,
        hours_by_type: Mapping[str, int],
        day_volume: Mapping[str, int],
        now_ms: int | None = None,
    ) -> dict[str, int]: ...


@dataclass(frozen=True, slots=True)
class FloorCheck:
    key: str
    floor: VolumeFloor
    volume24h: int
    counted: int | None  # over the floor's hours (≤ 24); None: not read, volume24h decided
    below: bool


def judge(floor: VolumeFloor, volume24h: int, counted: int | None) -> bool:
    """Whether a type is below ``floor``; ``counted`` is its volume over ``floor.hours``
    (needed only when ``hours`` < 24 and the 24-hour volume reaches the floor)."""
    if floor.hours > WINDOW_HOURS:
        return volume24h * floor.hours < floor.events * WINDOW_HOURS
    if volume24h < floor.events:  # the shorter window holds no more than the 24 hours
        return True
    if floor.hours == WINDOW_HOURS:
        return False
    if counted is None:
        raise ValueError("a floor under 24 hours needs the count over its hours")
    return counted < floor.events


def needs_count(floor: VolumeFloor, volume24h: int) -> bool:
    return floor.hours < WINDOW_HOURS and volume24h >= floor.events


async def check_floors(
    types: Iterable[EventType], store: VolumeReader, now_ms: int
) -> list[FloorCheck]:
    """The floor check of every type that has a floor."""
    floored = [(t.key, t.volume_floor) for t in types if t.volume_floor is not None]
    if not floored:
        return []
    figures = await store.figures([key for key, _ in floored], now_ms)
    day = {key: figures[key].volume24h for key, _ in floored}
    wanted = {key: floor.hours for key, floor in floored if needs_count(floor, day[key])}
    counted = await store.recent_volumes(wanted, day, now_ms) if wanted else {}
    return [
        FloorCheck(key, floor, day[key], counted.get(key), judge(floor, day[key], counted.get(key)))
        for key, floor in floored
    ]


def floor_series(checks: Sequence[FloorCheck], cap: int) -> dict[str, float]:
    """The per-type series: ``cap`` types by (below first, 24-hour volume, key), each
    1 or 0, and ``_other`` = how many of the rest are below (only if there is a rest)."""
    ranked = sorted(checks, key=lambda c: (not c.below, -c.volume24h, c.key))
    series = {c.key: 1.0 if c.below else 0.0 for c in ranked[:cap]}
    rest = ranked[cap:]
    if rest:
        series[OTHER_TYPES] = float(sum(1 for c in rest if c.below))
    return series


class FloorWatch:
    """Evaluates the floors on a timer while ``is_evaluator()``; see the module docstring."""

    def __init__(
        self,
        types: Callable[[], Iterable[EventType]],
        store: VolumeReader,
        metrics: Metrics,
        settings: Settings,
        is_evaluator: Callable[[], bool],
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.types = types
        self.store = store
        self.metrics = metrics
        self.cap = settings.metrics_type_series_max
        self.interval_s = settings.volume_floor_interval_s
        self.is_evaluator = is_evaluator
        self.clock = clock
        self.below: dict[str, FloorCheck] = {}  # as last published
        self.evaluating = False

    async def run(self) -> None:
        while True:
            if self.is_evaluator():
                try:
                    await self.evaluate()
                except DependencyUnavailable as exc:
                    # The last figures stay; the evaluation timestamp tells how old they are.
                    log.warning("volume floors not evaluated", extra={"error": str(exc)})
                except Exception:
                    log.exception("volume floors not evaluated")
            elif self.evaluating:
                self.clear()
            await asyncio.sleep(self.interval_s)

    async def evaluate(self) -> list[FloorCheck]:
        now = self.clock()
        checks = await check_floors(list(self.types()), self.store, int(now * 1000))
        self.publish(checks, now)
        return checks

    def publish(self, checks: Sequence[FloorCheck], now: float) -> None:
        m = self.metrics
        m.floor_types.set(len(checks))
        below = {c.key: c for c in checks if c.below}
        m.floor_types_below.set(len(below))
        m.floor_below.clear()  # no await from here on: a scrape sees all or nothing
        for label, value in floor_series(checks, self.cap).items():
            m.floor_below.labels(label).set(value)
        m.floor_evaluated.set(now)
        self._log_changes(below, {c.key for c in checks})
        self.below = below
        self.evaluating = True

    def clear(self) -> None:
        """Another worker evaluates now: publish nothing of our own."""
        m = self.metrics
        m.floor_below.clear()
        for gauge in (m.floor_types, m.floor_types_below, m.floor_evaluated):
            gauge.set(0)
        self.below = {}
        self.evaluating = False

    def _log_changes(self, below: Mapping[str, FloorCheck], floored: set[str]) -> None:
        went_below = [c for key, c in below.items() if key not in self.below]
        recovered = [c for key, c in self.below.items() if key not in below and key in floored]
        changes = [
            *((c, "type below its volume floor", logging.WARNING) for c in went_below),
            *((c, "type back above its volume floor", logging.INFO) for c in recovered),
        ]
        for check, msg, level in changes[:MAX_TRANSITION_LOGS]:
            log.log(
                level,
                msg,
                extra={
                    "eventTypeKey": check.key,
                    "floorEvents": check.floor.events,
                    "floorHours": check.floor.hours,
                    "counted": check.counted,
                    "volume24h": check.volume24h,
                },
            )
        if len(changes) > MAX_TRANSITION_LOGS:
            left = len(changes) - MAX_TRANSITION_LOGS
            log.warning("volume floor changes not logged", extra={"count": left})
