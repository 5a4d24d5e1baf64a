"""What the counters store answers: figures and history items (frozen, slotted)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eventgate.counters.batch import Outcome

Clock = Callable[[], int]  # milliseconds since the epoch


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


@dataclass(frozen=True, slots=True)
class Figures:
    """The rolling 24-hour counters of one type (SPEC §8), within one 5-minute bucket."""

    volume24h: int = 0
    launched24h: int = 0
    errors24h: int = 0
    rejected24h: int = 0


ZERO = Figures()

OUTCOMES = {"a": Outcome.ACCEPTED, "r": Outcome.REJECTED, "d": Outcome.DUPLICATE}


@dataclass(frozen=True, slots=True)
class HistoryItem:
    """One event in a history (SPEC §9). ``contact`` is masked when configured."""

    event_type_key: str
    event_id: str
    contact: str | None
    outcome: Outcome
    reason: str | None
    launched: tuple[str, ...]
    time_ms: int  # the ingest record time
    partition: int
    position: int

    @property
    def order(self) -> tuple[int, int, int]:
        """Sort key: newest first is descending order of this."""
        return (self.time_ms, self.partition, self.position)

    def to_json(self) -> dict[str, Any]:
        """The API's camelCase shape."""
        return {
            "eventTypeKey": self.event_type_key,
            "eventId": self.event_id,
            "contact": self.contact,
            "outcome": self.outcome.value,
            "reason": self.reason,
            "launchedWorkflows": list(self.launched),
            "timeMs": self.time_ms,
            "partition": self.partition,
            "position": self.position,
        }
