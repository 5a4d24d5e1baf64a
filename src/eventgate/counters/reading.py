"""How a reader turns one tag's totals into in-window figures. Pure, no I/O.

Totals are exact as of their last roll (watermark ``wm``). A partition that has been idle
since holds buckets that have left the window; the reader corrects for them without
writing: it subtracts them (``SUBTRACT``), or, once the oldest of them may have expired,
sums the buckets still in the window instead (``RECOUNT``). The worker's periodic
``CounterStore.roll`` keeps both rare.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum

from eventgate.counters.windows import needs_recount, window_at


class Mode(Enum):
    CURRENT = "current"  # the totals are the figures
    EMPTY = "empty"  # nothing in the window
    SUBTRACT = "subtract"  # totals minus the listed buckets
    RECOUNT = "recount"  # the sum of the listed buckets


@dataclass(frozen=True, slots=True)
class Plan:
    mode: Mode
    buckets: range


_NONE = range(0)


def plan(watermark: int | None, highest: int | None, now_ms: int) -> Plan:
    if watermark is None:
        return Plan(Mode.EMPTY, _NONE)
    highest = watermark if highest is None else highest
    window = window_at(now_ms)
    if watermark >= window.lo - 1:
        return Plan(Mode.CURRENT, _NONE)
    if highest <= window.lo - 1:
        return Plan(Mode.EMPTY, _NONE)
    if needs_recount(watermark, now_ms):
        return Plan(Mode.RECOUNT, range(window.lo, highest + 1))
    return Plan(Mode.SUBTRACT, range(watermark + 1, window.lo))


def to_int(value: bytes | str | None) -> int:
    return 0 if value is None else int(value)


def resolve(totals: Sequence[int], mode: Mode, buckets: Sequence[Sequence[int]]) -> list[int]:
    """The figures of one tag, given its totals and the rows of the planned buckets."""
    if mode is Mode.CURRENT:
        return list(totals)
    if mode is Mode.EMPTY:
        return [0] * len(totals)
    summed = [0] * len(totals)
    for row in buckets:
        summed = [a + b for a, b in zip(summed, row, strict=True)]
    if mode is Mode.RECOUNT:
        return summed
    return [max(0, a - b) for a, b in zip(totals, summed, strict=True)]
