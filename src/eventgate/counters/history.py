"""Reading event history (SPEC §9): per type or across types, newest first, merged over
the ingest partitions, filtered, paged with a cursor (``time.partition.position`` of the last item).

Each partition keeps its own lists (``keys.py``); a read fetches the relevant list of every
partition in one pipeline (at most ``history_size`` records each), decodes them, keeps the
newest ``history_size`` overall (so the depth does not depend on the partition count),
filters, and pages. "Newest" orders by the ingest record time, then partition, then
position, all descending; the cursor names the last item returned.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from eventgate.connections import RedisClient
from eventgate.counters.batch import Outcome
from eventgate.counters.encode import HistoryStyle, contact_hash
from eventgate.counters.keys import partition_tag
from eventgate.counters.model import OUTCOMES, HistoryItem

MAX_LIMIT = 1000


class BadCursor(ValueError):
    """The cursor was not one this store handed out (the API answers 400)."""


CURSOR_PATTERN = r"^-?[0-9]{1,19}\.[0-9]{1,10}\.[0-9]{1,19}$"
"""A cursor: the (time, partition, position) of the last item of a page. Every string of
this form is a cursor (the page after that point), so the API documents it as the
parameter's pattern and never refuses one that matches."""
_CURSOR = re.compile(CURSOR_PATTERN)


def encode_cursor(order: tuple[int, int, int]) -> str:
    return f"{order[0]}.{order[1]}.{order[2]}"


def decode_cursor(cursor: str) -> tuple[int, int, int]:
    if not _CURSOR.fullmatch(cursor):
        raise BadCursor(f"invalid cursor {cursor[:64]!r}")
    t, p, n = (int(x) for x in cursor.split("."))
    return (t, p, n)


def parse_record(raw: bytes) -> tuple[HistoryItem, str | None] | None:
    """An item and its contact hash (when masked), or None for an unreadable record."""
    try:
        rec: dict[str, Any] = orjson.loads(raw)
        item = HistoryItem(
            event_type_key=rec["k"],
            event_id=rec["e"],
            contact=rec.get("c"),
            outcome=OUTCOMES[rec["o"]],
            reason=rec.get("r"),
            launched=tuple(rec.get("l") or ()),
            time_ms=int(rec["t"]),
            partition=int(rec["p"]),
            position=int(rec["n"]),
        )
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return None
    return item, rec.get("ch")


def select(
    records: Iterable[bytes],
    *,
    depth: int,
    style: HistoryStyle,
    contact: str | None = None,
    outcome: Outcome | str | None = None,
    since_ms: int | None = None,
    until_ms: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> tuple[list[HistoryItem], str | None]:
    """Merge, cap at ``depth``, filter and page raw records. Pure."""
    after = decode_cursor(cursor) if cursor else None
    wanted_outcome = Outcome(outcome) if outcome is not None else None
    wanted_hash = contact_hash(contact, style.salt) if contact is not None and style.mask else None
    parsed = [p for p in (parse_record(r) for r in records) if p is not None]
    unique = {item.order: (item, ch) for item, ch in parsed}
    newest = sorted(unique.values(), key=lambda pair: pair[0].order, reverse=True)[:depth]
    limit = max(1, min(limit, MAX_LIMIT))
    page: list[HistoryItem] = []
    for item, ch in newest:
        if after is not None and item.order >= after:
            continue
        if wanted_outcome is not None and item.outcome is not wanted_outcome:
            continue
        if since_ms is not None and item.time_ms < since_ms:
            continue
        if until_ms is not None and item.time_ms > until_ms:
            continue
        if contact is not None and (ch != wanted_hash if style.mask else item.contact != contact):
            continue
        if len(page) == limit:
            return page, encode_cursor(page[-1].order)
        page.append(item)
    return page, None


class HistoryReader:
    """Reads the history lists of every ingest partition."""

    def __init__(
        self, redis: RedisClient, prefix: str, partitions: int, depth: int, style: HistoryStyle
    ) -> None:
        self.redis = redis
        self.prefix = prefix
        self.partitions = partitions
        self.depth = depth
        self.style = style

    async def read(
        self,
        type_key: str | None = None,
        *,
        contact: str | None = None,
        outcome: Outcome | str | None = None,
        since_ms: int | None = None,
        until_ms: int | None = None,
        limit: int = 50,
        cursor: str | None = None,
    ) -> tuple[list[HistoryItem], str | None]:
        """Items newest first and the cursor of the next page (None on the last page).

        ``type_key`` None reads the history across types. ``contact`` is the real contact
        (compared through its hash when contacts are masked); ``outcome`` one of
        accepted/rejected/duplicate; ``since_ms``/``until_ms`` bound the record time,
        inclusive. ``limit`` is clamped to 1..1000. Raises ``BadCursor``.
        """
        if cursor:
            decode_cursor(cursor)  # refuse a bad cursor before any I/O
        pipe = self.redis.pipeline(transaction=False)
        for p in range(self.partitions):
            tag = partition_tag(self.prefix, p)
            key = tag.history if type_key is None else tag.type_history(type_key)
            pipe.lrange(key, 0, self.depth - 1)
        lists: list[list[bytes]] = await pipe.execute()
        return select(
            (raw for lst in lists for raw in lst),
            depth=self.depth,
            style=self.style,
            contact=contact,
            outcome=outcome,
            since_ms=since_ms,
            until_ms=until_ms,
            limit=limit,
            cursor=cursor,
        )
