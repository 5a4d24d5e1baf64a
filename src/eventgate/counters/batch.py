"""What the ingest processor hands to Redis for one (partition, poll) batch.

The processor decides each record's outcome against its registry snapshot; the store
applies the whole batch in one Lua call, fenced by ingest positions (DESIGN-NOTES
decision 3), and answers which records were duplicates of an earlier explicit eventId.

Rules the store implements (SPEC §2, §8, §9):
- an entry with ``dedupe_id`` whose (type_key, dedupe_id) was first recorded at another
  position within the window is a *duplicate*: it counts nowhere but in ``duplicates`` and
  shows in history as ``duplicate``;
- an ``accepted`` entry with ``dedupe_id`` that is not a duplicate records its id with its
  own position (a re-processed record is not a duplicate of itself); rejected entries
  never record their id, so a replay after a fix is not a duplicate;
- ``volume`` counts every non-duplicate entry with a ``type_key`` (the type exists),
  ``rejected`` those of them rejected, ``launched`` the launch commands of accepted ones;
- entries whose position is below the stored position of the partition were applied
  before (a crash between Redis and Kafka): they change nothing, but their duplicate
  answer is still computed, so the processor emits the same outputs again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import NamedTuple, Protocol


class Outcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    DUPLICATE = "duplicate"  # only ever in history and answers, never sent by the processor


class BatchEntry(NamedTuple):
    position: int  # ingest offset of the record
    timestamp_ms: int  # ingest record timestamp; buckets are clamped to [now - 24 h, now]
    type_key: str | None  # an existing type's key, else None (counts only in metrics)
    dedupe_id: str | None  # the explicit eventId; None for derived ids (never deduplicated)
    outcome: Outcome  # ACCEPTED or REJECTED
    reason: str | None  # the reject reason code
    launched: tuple[str, ...]  # workflow ids launched (accepted entries)
    stopped: tuple[str, ...]  # workflow ids stopped (accepted entries)
    event_id: str  # effective eventId (explicit or derived), for history
    key_value: str | None  # the contact, for history (the store masks it when configured)


@dataclass(frozen=True, slots=True)
class BatchResult:
    duplicates: frozenset[int]  # positions of the entries that are duplicates
    stored_before: int  # the partition's stored position before this call (-1 if none)
    # the effective dedupe window of this partition (24 h unless the id cap binds): a gauge
    dedupe_window_ms: int = 86_400_000


class BatchStore(Protocol):
    async def apply_batch(
        self,
        partition: int,
        from_pos: int,
        to_pos: int,
        entries: Sequence[BatchEntry],
        now_ms: int,
        *,
        contiguous: bool = False,
    ) -> BatchResult:
        """Apply one batch covering ingest positions [from_pos, to_pos) of ``partition``.

        ``from_pos`` is where the processor's previous batch ended (or the committed offset
        at assignment); ``to_pos`` is the last record's offset + 1. Idempotent: applying the
        same or an overlapping range again changes nothing already applied.
        """
        ...
