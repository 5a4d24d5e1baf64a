"""``CounterStore``: the Redis side of counters, dedupe and history (implements
``BatchStore``). Key layout in ``keys.py``, Lua contract in ``lua/apply_batch.lua``,
window arithmetic in ``windows.py``; ``docs/counters.md`` explains the whole.

- ``apply_batch``: ONE Lua call per (partition, batch) in the common case; a second one
  only when the batch overlaps the stored position (a re-processed poll after a crash),
  to apply exactly the part above it.
- ``figures``: one pipelined ``HMGET`` of the running totals per partition and per error
  shard (grouped per node on a cluster), plus a second pipeline only for partitions idle
  since their last roll.
- ``history``: in ``history.py`` (``HistoryReader``), exposed here.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from eventgate.connections import RedisClient
from eventgate.counters.batch import BatchEntry, BatchResult, Outcome
from eventgate.counters.encode import HistoryStyle, encode_batch
from eventgate.counters.history import HistoryReader
from eventgate.counters.keys import (
    ERRORS,
    HIGHEST_FIELD,
    INGEST_KINDS,
    VOLUME,
    WATERMARK_FIELD,
    Tag,
    bucket_shard,
    field,
    partition_tag,
    shard_tag,
)
from eventgate.counters.model import Clock, Figures, HistoryItem, wall_clock_ms
from eventgate.counters.reading import Mode, plan, resolve, to_int
from eventgate.counters.scripts import Scripts
from eventgate.counters.windows import BUCKET_MS, DAY_MS, HOUR_MS, window_at
from eventgate.errors import DependencyUnavailable, RedisBehind
from eventgate.settings import Settings

APPLIED, ALREADY_APPLIED, OVERLAP, BEHIND = 0, 1, 2, 3
DEFAULT_HISTORY_MAX_ENTRIES = 1_000_000
DEFAULT_ERROR_SHARDS = 4
HISTORY_FLOOR = 50  # the fair share never cuts a type's history below this
BUCKETS_PER_HOUR = HOUR_MS // BUCKET_MS
_READ_CHUNK = 2000  # HMGETs per pipeline round trip in recent_volumes


@contextlib.asynccontextmanager
async def redis_errors() -> AsyncIterator[None]:
    """Redis unreachable -> ``DependencyUnavailable`` (retriable: the loop pauses)."""
    try:
        yield
    except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
        raise DependencyUnavailable(f"Redis: {exc}") from exc
    except RuntimeError as exc:
        # uvloop's answer to a write on a connection the peer reset ("unable to perform
        # operation on <TCPTransport closed=True ...>; the handler is closed"); redis-py
        # has already dropped that connection, so a retry opens a fresh one.
        if _CLOSED_TRANSPORT not in str(exc):
            raise
        raise DependencyUnavailable(f"Redis: connection reset: {exc}") from exc


_CLOSED_TRANSPORT = "unable to perform operation on"


class CounterStore:
    """Counters, history and dedupe of one deployment in Redis (or a Redis Cluster).

    ``history_max_entries`` bounds all per-type history lists together (split evenly
    across partitions; each type gets a fair share of its partition's budget, never more
    than ``settings.history_size`` nor less than 50); ``error_shards`` is how many slots
    the failed-commandId sets spread over. Both are fixed for the life of the data.
    """

    def __init__(
        self,
        redis: RedisClient,
        settings: Settings,
        *,
        now_ms: Clock = wall_clock_ms,
        history_max_entries: int = DEFAULT_HISTORY_MAX_ENTRIES,
        error_shards: int = DEFAULT_ERROR_SHARDS,
    ) -> None:
        self.redis = redis
        self.settings = settings
        self.now_ms = now_ms
        self.scripts = Scripts(redis)
        self.partitions = settings.ingest_partitions
        self.error_shards = error_shards
        self.dedupe_cap = max(1, settings.dedupe_max_ids // self.partitions)
        self.history_size = settings.history_size
        self.history_budget = max(1, history_max_entries // self.partitions)
        self.history_floor = min(HISTORY_FLOOR, settings.history_size)
        self.style = HistoryStyle(settings.mask_contacts, settings.topic_prefix)
        self.history_reader = HistoryReader(
            redis, settings.topic_prefix, self.partitions, self.history_size, self.style
        )

    def partition_tags(self) -> list[Tag]:
        return [partition_tag(self.settings.topic_prefix, p) for p in range(self.partitions)]

    def shard_tags(self) -> list[Tag]:
        return [shard_tag(self.settings.topic_prefix, s) for s in range(self.error_shards)]

    # -- writing -------------------------------------------------------------------------

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
        """Apply ingest positions [from_pos, to_pos) of ``partition`` (see ``BatchStore``).

        A gap (``from_pos`` above a stored position: Redis lost writes) raises
        ``RedisBehind`` when ``contiguous``, so the caller can re-apply the missing range
        first; otherwise (a rebuild, which skips records on purpose) it is applied as it
        comes.
        """
        for entry in entries:
            if entry.outcome is Outcome.DUPLICATE:
                raise ValueError("the processor sends accepted or rejected entries only")
        tag = partition_tag(self.settings.topic_prefix, partition)
        keys = [
            tag.meta,
            tag.totals,
            tag.dedupe,
            tag.dedupe_queue,
            tag.history,
            tag.history_types,
        ]
        first_stored: int | None = None
        apply_from = -1
        while True:
            scalars = (
                max(from_pos, apply_from),
                to_pos,
                now_ms,
                self.dedupe_cap,
                self.history_size,
                self.history_budget,
                self.history_floor,
                1 if contiguous else 0,
            )
            encoded = encode_batch(partition, entries, now_ms, self.style, scalars, apply_from)
            async with redis_errors():
                reply = await self.scripts.apply_batch(keys=keys, args=encoded.args)
            status, stored, window, *duplicates = (int(x) for x in reply)
            if first_stored is None:
                first_stored = stored
            if status == BEHIND:
                raise RedisBehind(partition, stored, from_pos)
            if status != OVERLAP:
                return BatchResult(frozenset(duplicates), first_stored, window)
            # The stored position lies inside the batch: re-send, applying only from it.
            # Another owner may move it again meanwhile; each round moves it forward.
            apply_from = stored

    async def roll(self, now_ms: int | None = None) -> None:
        """Bring every partition's and shard's totals up to now. The worker calls this about
        once a minute so readers never have to correct for idle partitions."""
        now = self.now_ms() if now_ms is None else now_ms
        async with redis_errors():
            for tag in (*self.partition_tags(), *self.shard_tags()):
                await self.scripts.roll(keys=[tag.totals], args=[now])

    async def clear_type(self, type_key: str) -> None:
        """Forget a deleted type's counters and history (SPEC §3); its dedupe ids stay."""
        shard = bucket_shard(type_key)
        async with redis_errors():
            for tag in self.partition_tags():
                fields = [field(kind, type_key) for kind in INGEST_KINDS]
                await self.scripts.clear_type(
                    keys=[tag.totals, tag.history, tag.history_types, tag.type_history(type_key)],
                    args=[type_key, shard, *fields],
                )
            for tag in self.shard_tags():
                await self.scripts.clear_type(
                    keys=[tag.totals, tag.history, tag.history_types, tag.type_history(type_key)],
                    args=[type_key, shard, field(ERRORS, type_key)],
                )

    # -- reading -------------------------------------------------------------------------

    async def figures(
        self, type_keys: Sequence[str], now_ms: int | None = None
    ) -> dict[str, Figures]:
        """The 24-hour figures of up to tens of thousands of types in two round trips per
        Redis node at most (one in the common case)."""
        now = self.now_ms() if now_ms is None else now_ms
        keys = list(dict.fromkeys(type_keys))
        if not keys:
            return {}
        ingest_fields = [field(kind, key) for key in keys for kind in INGEST_KINDS]
        error_fields = [field(ERRORS, key) for key in keys]
        groups = [(tag, ingest_fields) for tag in self.partition_tags()] + [
            (tag, error_fields) for tag in self.shard_tags()
        ]
        async with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            for tag, fields in groups:
                pipe.hmget(tag.totals, [WATERMARK_FIELD, HIGHEST_FIELD, *fields])
            rows: list[list[Any]] = await pipe.execute()
            plans = [
                plan(None if row[0] is None else int(row[0]), to_int(row[1]), now) for row in rows
            ]
            corrections = [
                (i, b)
                for i, p in enumerate(plans)
                if p.mode in (Mode.SUBTRACT, Mode.RECOUNT)
                for b in p.buckets
            ]
            fixes: dict[int, list[list[int]]] = {}
            if corrections:
                fixes = await self._bucket_rows(groups, corrections)
        ingest_sum = [0] * len(ingest_fields)
        error_sum = [0] * len(error_fields)
        for i, row in enumerate(rows):
            values = resolve([to_int(v) for v in row[2:]], plans[i].mode, fixes.get(i, []))
            target = ingest_sum if i < self.partitions else error_sum
            for j, v in enumerate(values):
                target[j] += v
        return {
            key: Figures(
                volume24h=ingest_sum[3 * n],
                launched24h=ingest_sum[3 * n + 2],
                errors24h=error_sum[n],
                rejected24h=ingest_sum[3 * n + 1],
            )
            for n, key in enumerate(keys)
        }

    async def _bucket_rows(
        self, groups: list[tuple[Tag, list[str]]], corrections: list[tuple[int, int]]
    ) -> dict[int, list[list[int]]]:
        """The rows of the buckets ``corrections`` names ((group, bucket) pairs), each in
        the order of its group's fields, read from the bucket's type shards."""
        layouts: dict[int, dict[int, list[int]]] = {}  # id(fields) -> shard -> indexes
        for _, fields in groups:
            if id(fields) not in layouts:
                by_shard: dict[int, list[int]] = {}
                for n, name in enumerate(fields):
                    by_shard.setdefault(bucket_shard(name[1:]), []).append(n)
                layouts[id(fields)] = by_shard
        pipe = self.redis.pipeline(transaction=False)
        asked: list[tuple[int, int, list[int]]] = []
        for i, b in corrections:
            tag, fields = groups[i]
            for shard, indexes in layouts[id(fields)].items():
                pipe.hmget(tag.bucket(b, shard), [fields[n] for n in indexes])
                asked.append((i, b, indexes))
        answers: list[list[Any]] = await pipe.execute()
        rows: dict[tuple[int, int], list[int]] = {}
        for (i, b, indexes), answer in zip(asked, answers, strict=True):
            row = rows.setdefault((i, b), [0] * len(groups[i][1]))
            for n, value in zip(indexes, answer, strict=True):
                row[n] = to_int(value)
        out: dict[int, list[list[int]]] = {}
        for (i, _), row in rows.items():
            out.setdefault(i, []).append(row)
        return out

    async def recent_volumes(
        self,
        hours_by_type: Mapping[str, int],
        day_volume: Mapping[str, int],
        now_ms: int | None = None,
    ) -> dict[str, int]:
        """Each type's volume over its last ``hours`` (1..24) hours, within one bucket (the
        newest ``hours * 12`` buckets): for the volume floors (SPEC §3). ``day_volume`` is
        the types' 24-hour volume as ``figures`` gave it just before: past 12 hours the
        older buckets are fewer, so they are read and subtracted from it instead. Read-only;
        pipelined HMGETs of the bucket hashes, in chunks."""
        now = self.now_ms() if now_ms is None else now_ms
        window = window_at(now)
        wanted: dict[tuple[int, int, int], list[str]] = {}  # (partition, bucket, shard)
        subtract: set[str] = set()
        for key, hours in hours_by_type.items():
            if not 1 <= hours <= 24:
                raise ValueError(f"hours must be 1..24, got {hours}")
            first = window.cur - hours * BUCKETS_PER_HOUR + 1  # the newest `hours` of buckets
            if first - window.lo < window.cur - first + 1:
                subtract.add(key)
                buckets = range(window.lo, first)
            else:
                buckets = range(first, window.cur + 1)
            shard = bucket_shard(key)
            for partition in range(self.partitions):
                for b in buckets:
                    wanted.setdefault((partition, b, shard), []).append(key)
        counted = dict.fromkeys(hours_by_type, 0)
        tags = self.partition_tags()
        items = list(wanted.items())
        async with redis_errors():
            for start in range(0, len(items), _READ_CHUNK):
                chunk = items[start : start + _READ_CHUNK]
                pipe = self.redis.pipeline(transaction=False)
                for (partition, b, shard), keys in chunk:
                    pipe.hmget(tags[partition].bucket(b, shard), [field(VOLUME, k) for k in keys])
                answers: list[list[Any]] = await pipe.execute()
                for (_, keys), answer in zip(chunk, answers, strict=True):
                    for key, value in zip(keys, answer, strict=True):
                        counted[key] += to_int(value)
        for key in subtract:
            counted[key] = max(0, day_volume[key] - counted[key])
        return counted

    async def dedupe_window_ms(self, now_ms: int | None = None) -> int:
        """The effective dedupe window: 24 h unless the id cap forced ids out within the
        last 24 h, then the age the youngest forced-out id had (the smallest over
        partitions). A gauge for ``/metrics``."""
        now = self.now_ms() if now_ms is None else now_ms
        async with redis_errors():
            pipe = self.redis.pipeline(transaction=False)
            for tag in self.partition_tags():
                pipe.hmget(tag.meta, ["dw", "dwt"])
            rows: list[list[Any]] = await pipe.execute()
        window = DAY_MS
        for dw, dwt in rows:
            if dw is not None and dwt is not None and now - int(dwt) < DAY_MS:
                window = min(window, int(dw))
        return window

    async def history(
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
        """Newest first; see ``HistoryReader.read``."""
        async with redis_errors():
            return await self.history_reader.read(
                type_key,
                contact=contact,
                outcome=outcome,
                since_ms=since_ms,
                until_ms=until_ms,
                limit=limit,
                cursor=cursor,
            )
