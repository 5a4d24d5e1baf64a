"""``CounterStore`` against real Redis and a Redis Cluster: fencing (re-applied and
overlapping batches, a crash between Redis and Kafka), dedupe, history, many types."""

from __future__ import annotations

import pytest

from eventgate.connections import RedisClient
from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.model import Figures
from eventgate.counters.store import CounterStore
from eventgate.counters.windows import DAY_MS, HOUR_MS, MINUTE_MS
from eventgate.settings import Settings

NOW = 1_900_000_000_000


def entry(
    pos: int,
    type_key: str | None = "purchase",
    *,
    dedupe_id: str | None = None,
    rejected: bool = False,
    launched: tuple[str, ...] = ("wf-1",),
    ts: int = NOW - MINUTE_MS,
    contact: str | None = "someone@example.com",
) -> BatchEntry:
    return BatchEntry(
        position=pos,
        timestamp_ms=ts,
        type_key=type_key,
        dedupe_id=dedupe_id,
        outcome=Outcome.REJECTED if rejected else Outcome.ACCEPTED,
        reason="validation_failed" if rejected else None,
        launched=() if rejected else launched,
        stopped=(),
        event_id=dedupe_id or f"derived/{pos}",
        key_value=contact,
    )


def batch(start: int, n: int, **kwargs: object) -> list[BatchEntry]:
    return [entry(start + i, **kwargs) for i in range(n)]  # type: ignore[arg-type]


def store_of(settings: Settings, redis: RedisClient, **kwargs: object) -> CounterStore:
    return CounterStore(redis, settings, **kwargs)  # type: ignore[arg-type]


async def test_reapplied_and_overlapping_batches_never_double_count(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    first = batch(0, 10, dedupe_id=None)
    r1 = await store.apply_batch(0, 0, 10, first, NOW)
    assert r1.stored_before == -1 and not r1.duplicates
    want = Figures(volume24h=10, launched24h=10)
    assert (await store.figures(["purchase"], NOW))["purchase"] == want
    # the same range again
    r2 = await store.apply_batch(0, 0, 10, first, NOW)
    assert r2.stored_before == 10
    assert (await store.figures(["purchase"], NOW))["purchase"] == want
    # an overlapping range: 5..15 (5 old, 5 new)
    overlap = batch(5, 10)
    r3 = await store.apply_batch(0, 5, 15, overlap, NOW)
    assert r3.stored_before == 10
    assert (await store.figures(["purchase"], NOW))["purchase"] == Figures(15, 15, 0, 0)
    # an older range entirely below: nothing
    await store.apply_batch(0, 2, 8, batch(2, 6), NOW)
    assert (await store.figures(["purchase"], NOW))["purchase"] == Figures(15, 15, 0, 0)
    items, _ = await store.history("purchase", limit=100)
    assert [i.position for i in items] == list(range(14, -1, -1))


async def test_crash_between_redis_and_kafka_replays_into_already_applied(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    """A processor applies [0, 6) to Redis and dies before its Kafka commit; the next
    owner polls from the committed offset 0 a bigger batch [0, 9). The duplicate answers
    must be the same (so it emits the same outputs), and nothing counts twice."""
    settings, redis = counters_redis
    store = store_of(settings, redis)
    # id "a" first seen at 1, again at 3 (a producer retry), rejected id "r" at 4 and 5
    records = [
        entry(0),
        entry(1, dedupe_id="a"),
        entry(2, dedupe_id="b"),
        entry(3, dedupe_id="a"),
        entry(4, dedupe_id="r", rejected=True),
        entry(5, dedupe_id="r"),
        entry(6, dedupe_id="b"),
        entry(7, dedupe_id="r"),
        entry(8, dedupe_id="c"),
    ]
    before = await store.apply_batch(0, 0, 6, records[:6], NOW)
    assert before.duplicates == {3}
    figures = (await store.figures(["purchase"], NOW))["purchase"]
    assert figures == Figures(volume24h=5, launched24h=4, rejected24h=1)
    # crash: the new owner re-polls from 0
    after = await store.apply_batch(0, 0, 9, records, NOW + 1000)
    assert after.stored_before == 6
    assert after.duplicates == {3, 6, 7}
    figures = (await store.figures(["purchase"], NOW + 1000))["purchase"]
    assert figures == Figures(volume24h=6, launched24h=5, rejected24h=1)
    # and once more: still the same answers, still no change
    again = await store.apply_batch(0, 0, 9, records, NOW + 2000)
    assert again.duplicates == {3, 6, 7}
    assert (await store.figures(["purchase"], NOW + 2000))["purchase"] == figures
    items, _ = await store.history("purchase", limit=100)
    assert [(i.position, i.outcome.value) for i in items] == [
        (8, "accepted"),
        (7, "duplicate"),
        (6, "duplicate"),
        (5, "accepted"),
        (4, "rejected"),
        (3, "duplicate"),
        (2, "accepted"),
        (1, "accepted"),
        (0, "accepted"),
    ]
    assert items[4].reason == "validation_failed"
    assert items[3].launched == ("wf-1",) and items[2].launched == ()


async def test_dedupe_per_type_and_self_reprocessing(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    r = await store.apply_batch(
        0,
        0,
        4,
        [
            entry(0, dedupe_id="x"),
            entry(1, "other", dedupe_id="x"),  # same id, other type: not a duplicate
            entry(2, dedupe_id="x"),
            entry(3, None, dedupe_id="x"),  # no type: never deduplicated
        ],
        NOW,
    )
    assert r.duplicates == {2}
    # position 0 re-processed after a crash is not a duplicate of itself
    r = await store.apply_batch(0, 0, 1, [entry(0, dedupe_id="x")], NOW)
    assert r.duplicates == frozenset()
    # another partition has its own store (producers key records by contact, SPEC §2)
    r = await store.apply_batch(1, 0, 1, [entry(0, dedupe_id="x")], NOW)
    assert r.duplicates == frozenset()
    got = await store.figures(["purchase", "other"], NOW)
    assert got["purchase"].volume24h == 2 and got["other"].volume24h == 1


async def test_dedupe_window_24h_and_id_cap(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    settings = settings.model_copy(update={"dedupe_max_ids": 4000, "ingest_partitions": 4})
    store = store_of(settings, redis)  # 1000 ids per partition
    await store.apply_batch(0, 0, 1, [entry(0, dedupe_id="old")], NOW)
    # 23 h later: still a duplicate
    r = await store.apply_batch(0, 1, 2, [entry(1, dedupe_id="old")], NOW + 23 * HOUR_MS)
    assert r.duplicates == {1}
    # 24 h + 1 ms after it was recorded: forgotten (evicted by that call, answered by the next)
    await store.apply_batch(0, 2, 3, [entry(2)], NOW + DAY_MS + 1)
    r = await store.apply_batch(0, 3, 4, [entry(3, dedupe_id="old")], NOW + DAY_MS + 2)
    assert r.duplicates == frozenset()
    assert r.dedupe_window_ms == DAY_MS
    assert await store.dedupe_window_ms(NOW + DAY_MS + 2) == DAY_MS
    # cap: 1200 new ids in partition 1, one a minute of simulated time per 100
    t = NOW
    pos = 0
    for chunk in range(12):
        t = NOW + chunk * 10 * MINUTE_MS
        ids = [entry(pos + i, dedupe_id=f"id{pos + i}") for i in range(100)]
        r = await store.apply_batch(1, pos, pos + 100, ids, t)
        pos += 100
    assert r.dedupe_window_ms < DAY_MS  # the cap forced ids out: the window shrank
    assert r.dedupe_window_ms == 100 * MINUTE_MS  # ids of the 3rd chunk went at chunk 11
    assert await store.dedupe_window_ms(t) == 100 * MINUTE_MS
    assert await redis.hlen(store.partition_tags()[1].dedupe) == 1000
    assert await redis.llen(store.partition_tags()[1].dedupe_queue) == 1000
    # the oldest 200 are forgotten, the others still known
    r = await store.apply_batch(
        1, pos, pos + 2, [entry(pos, dedupe_id="id0"), entry(pos + 1, dedupe_id="id500")], t
    )
    assert r.duplicates == {pos + 1}


async def test_rejected_ids_are_not_recorded(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    r = await store.apply_batch(0, 0, 2, [entry(0, dedupe_id="e", rejected=True)], NOW)
    assert r.duplicates == frozenset()
    # the fixed event replayed (SPEC §6 replay): accepted, not a duplicate
    r = await store.apply_batch(0, 2, 3, [entry(2, dedupe_id="e")], NOW)
    assert r.duplicates == frozenset()
    # a producer retry of it now is a duplicate, even if rejected this time
    r = await store.apply_batch(0, 3, 4, [entry(3, dedupe_id="e", rejected=True)], NOW)
    assert r.duplicates == {3}
    fig = (await store.figures(["purchase"], NOW))["purchase"]
    assert fig == Figures(volume24h=2, launched24h=1, rejected24h=1)


async def test_history_bounded_filtered_paged(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    settings = settings.model_copy(update={"history_size": 20, "ingest_partitions": 2})
    store = store_of(settings, redis)
    for p in (0, 1):
        entries = [
            entry(
                i,
                "a" if i % 2 else "b",
                rejected=i % 5 == 0,
                ts=NOW - 100_000 + 2 * i + p,
                contact=f"c{i % 3}",
            )
            for i in range(50)
        ]
        await store.apply_batch(p, 0, 50, entries, NOW)
    for p in (0, 1):
        tag = store.partition_tags()[p]
        assert await redis.llen(tag.type_history("a")) == 20
        assert await redis.llen(tag.history) == 20
    items, cursor = await store.history("a", limit=100)
    assert len(items) == 20 and cursor is None  # the newest 20 over both partitions
    assert [i.time_ms for i in items] == sorted((i.time_ms for i in items), reverse=True)
    assert items[0].time_ms == NOW - 100_000 + 2 * 49 + 1
    # paging gives the same items, no repeats
    paged, cursor = [], None
    while True:
        page, cursor = await store.history("a", limit=7, cursor=cursor)
        paged += page
        if cursor is None:
            break
    assert paged == items
    rejected, _ = await store.history(None, outcome="rejected", limit=100)
    assert rejected and all(i.outcome is Outcome.REJECTED for i in rejected)
    by_contact, _ = await store.history(None, contact="c1", limit=100)
    assert by_contact and all(i.contact == "c1" for i in by_contact)
    window, _ = await store.history(None, since_ms=NOW - 100_000 + 90, until_ms=NOW, limit=100)
    assert window and all(i.time_ms >= NOW - 100_000 + 90 for i in window)
    with pytest.raises(ValueError, match="cursor"):
        await store.history(None, cursor="garbage!")


async def test_history_masks_contacts(counters_redis: tuple[Settings, RedisClient]) -> None:
    settings, redis = counters_redis
    settings = settings.model_copy(update={"mask_contacts": True})
    store = store_of(settings, redis)
    await store.apply_batch(
        0,
        0,
        2,
        [entry(0, contact="john.doe@example.com"), entry(1, contact="jane@example.com")],
        NOW,
    )
    items, _ = await store.history(None)
    assert [i.contact for i in items] == ["j***om", "j***om"]
    raw = await redis.lrange(store.partition_tags()[0].history, 0, -1)
    assert all(b"example" not in r for r in raw)
    found, _ = await store.history(None, contact="john.doe@example.com")
    assert [i.position for i in found] == [0]


async def test_history_memory_budget_is_shared_fairly(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    settings = settings.model_copy(update={"history_size": 1000, "ingest_partitions": 1})
    store = store_of(settings, redis, history_max_entries=2000)
    tag = store.partition_tags()[0]
    # one busy type fills its history
    await store.apply_batch(0, 0, 1500, batch(0, 1500, type_key="busy"), NOW)
    assert await redis.llen(tag.type_history("busy")) == 1000
    # 39 more types arrive: the fair share drops to 2000/40 = 50 each
    others = [entry(1500 + i, f"t{i % 39}") for i in range(39 * 60)]
    await store.apply_batch(0, 1500, 1500 + len(others), others, NOW)
    await store.apply_batch(0, 3840, 3841, [entry(3840, "busy")], NOW)
    lengths = [await redis.llen(tag.type_history(f"t{i}")) for i in range(39)]
    assert lengths == [50] * 39
    assert await redis.llen(tag.type_history("busy")) == 50
    total = sum(lengths) + 50
    assert total <= 2000


async def test_figures_of_many_types_in_one_read(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    types = [f"type-{i}" for i in range(3000)]
    for p in range(settings.ingest_partitions):
        entries = [
            entry(i, types[i], rejected=(i + p) % 7 == 0, launched=("w1", "w2"))
            for i in range(len(types))
            if (i + p) % 3 == 0
        ]
        await store.apply_batch(p, 0, len(types), entries, NOW)
    got = await store.figures([*types, "never-seen"], NOW)
    for i, key in enumerate(types):
        parts = [p for p in range(settings.ingest_partitions) if (i + p) % 3 == 0]
        rejected = sum(1 for p in parts if (i + p) % 7 == 0)
        assert got[key] == Figures(
            volume24h=len(parts), launched24h=2 * (len(parts) - rejected), rejected24h=rejected
        ), key
    assert got["never-seen"] == Figures()


async def test_clear_type_forgets_counters_and_history(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    await store.apply_batch(0, 0, 6, [entry(i, "gone" if i % 2 else "kept") for i in range(6)], NOW)
    await store.clear_type("gone")
    got = await store.figures(["gone", "kept"], NOW)
    assert got["gone"] == Figures() and got["kept"].volume24h == 3
    assert (await store.history("gone"))[0] == []
    assert {i.event_type_key for i in (await store.history(None))[0]} == {"kept"}
    # a bucket rolling out later must not drive anything negative
    later = NOW + DAY_MS + 10 * MINUTE_MS
    await store.apply_batch(0, 6, 7, [entry(6, "gone", ts=later)], later)
    got = await store.figures(["gone", "kept"], later)
    assert got["gone"].volume24h == 1 and got["kept"] == Figures()


async def test_entries_without_type_count_nowhere(
    counters_redis: tuple[Settings, RedisClient],
) -> None:
    settings, redis = counters_redis
    store = store_of(settings, redis)
    r = await store.apply_batch(0, 0, 3, [entry(i, None) for i in range(3)], NOW)
    assert r.duplicates == frozenset()
    assert (await store.history(None))[0] == []
    assert await redis.hget(store.partition_tags()[0].meta, "pos") == b"3"


def test_batch_entry_is_immutable() -> None:
    with pytest.raises(AttributeError):  # a NamedTuple
        entry(0).position = 3  # type: ignore[misc]
