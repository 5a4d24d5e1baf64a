"""Pure parts of the counters: bucket math, keys, encoding, reading plans, history
selection, results parsing."""

from __future__ import annotations

import uuid

import orjson
import pytest
from redis.crc import key_slot

from eventgate.counters.batch import BatchEntry, Outcome
from eventgate.counters.encode import (
    HistoryStyle,
    contact_hash,
    digest,
    encode_batch,
    history_head,
    history_tail,
    mask_contact,
)
from eventgate.counters.history import BadCursor, decode_cursor, encode_cursor, select
from eventgate.counters.keys import BUCKET_SHARDS, bucket_shard, partition_tag, shard_tag
from eventgate.counters.reading import Mode, plan, resolve
from eventgate.counters.results import ResultStats, is_command_id, parse_result
from eventgate.counters.windows import (
    BUCKET_MS,
    DAY_MS,
    HOUR_MS,
    KEY_TTL_MS,
    WINDOW_BUCKETS,
    bucket_of,
    bucket_ttl_ms,
    needs_recount,
    totals_ttl_ms,
    window_at,
)

NOW = 1_900_000_123_456
STYLE = HistoryStyle(mask=False, salt="eventgate.")


def entry(pos: int, **kw: object) -> BatchEntry:
    base: dict[str, object] = {
        "position": pos,
        "timestamp_ms": NOW - 1000,
        "type_key": "purchase",
        "dedupe_id": None,
        "outcome": Outcome.ACCEPTED,
        "reason": None,
        "launched": ("wf",),
        "stopped": (),
        "event_id": f"e{pos}",
        "key_value": "c@example.com",
    }
    base.update(kw)
    return BatchEntry(**base)  # type: ignore[arg-type]


# -- windows --------------------------------------------------------------------------


def test_window_has_288_buckets_and_starts_within_one_bucket_of_24h() -> None:
    for now in (NOW, NOW - NOW % BUCKET_MS, NOW - NOW % BUCKET_MS - 1):
        w = window_at(now)
        assert w.cur - w.lo + 1 == WINDOW_BUCKETS == 288
        assert now - DAY_MS < w.lo * BUCKET_MS <= now - DAY_MS + BUCKET_MS


def test_bucket_clamps_to_the_window() -> None:
    w = window_at(NOW)
    assert bucket_of(NOW, NOW) == w.cur
    assert bucket_of(NOW + HOUR_MS, NOW) == w.cur  # clock ahead
    assert bucket_of(NOW - 3 * DAY_MS, NOW) == w.lo  # very late
    assert bucket_of(-1, NOW) == w.lo  # Kafka's "no timestamp"
    assert bucket_of(NOW - HOUR_MS, NOW) == (NOW - HOUR_MS) // BUCKET_MS


def test_no_ttl_exceeds_25_hours() -> None:
    w = window_at(NOW)
    for b in (w.lo, w.cur):
        assert 0 < bucket_ttl_ms(b, NOW) <= KEY_TTL_MS
    assert 0 < totals_ttl_ms(w.cur, NOW) <= KEY_TTL_MS
    # a bucket lives at least until it has left the window
    assert bucket_ttl_ms(w.cur, NOW) > (w.cur + WINDOW_BUCKETS) * BUCKET_MS - NOW


def test_recount_once_the_oldest_unsubtracted_bucket_may_be_gone() -> None:
    w = window_at(NOW)
    assert not needs_recount(w.lo - 1, NOW)
    assert not needs_recount(w.lo - 3, NOW)  # left 10 minutes ago: still there
    assert needs_recount(w.lo - 12, NOW)  # left an hour ago: past its 30 min grace


# -- keys -----------------------------------------------------------------------------


def test_every_key_of_a_tag_is_in_one_slot() -> None:
    tag = partition_tag("eventgate.", 3)
    assert tag.tag == "{eventgate.p3}"
    keys = [
        tag.meta,
        tag.totals,
        tag.bucket(123, 4),
        tag.dedupe,
        tag.dedupe_queue,
        tag.history,
        tag.type_history("a.b-c"),
        tag.history_types,
    ]
    assert len({key_slot(k.encode()) for k in keys}) == 1
    shard = shard_tag("eventgate.", 1)
    assert len({key_slot(k.encode()) for k in (shard.meta, shard.failed, shard.totals)}) == 1


def test_bucket_shard_is_stable_and_in_range() -> None:
    assert bucket_shard("purchase") == bucket_shard("purchase")
    assert {bucket_shard(f"t{i}") for i in range(1000)} == set(range(BUCKET_SHARDS))


# -- encoding -------------------------------------------------------------------------


def test_digest_is_short_stable_and_type_scoped() -> None:
    assert len(digest("purchase", "id-1")) == 16
    assert digest("purchase", "id-1") == digest("purchase", "id-1")
    assert digest("purchase", "id-1") != digest("signup", "id-1")
    assert ":" not in digest("a", "b")  # the queue's separator


def test_masking() -> None:
    assert mask_contact("john.doe@example.com") == "j***om"
    assert mask_contact("12345") == "1***"
    assert mask_contact("") == "***"
    assert contact_hash("x", "p.") == contact_hash("x", "p.") != contact_hash("x", "q.")
    masked = HistoryStyle(mask=True, salt="p.")
    head = history_head(entry(0), 0, masked)
    rec = orjson.loads(head + history_tail(entry(0)))
    assert rec["c"] == "c***om"
    assert rec["ch"] == contact_hash("c@example.com", "p.")


def test_history_record_is_json_for_each_outcome() -> None:
    accepted = entry(7, launched=("w1", "w2"))
    rec = orjson.loads(history_head(accepted, 2, STYLE) + history_tail(accepted))
    assert rec == {
        "k": "purchase",
        "e": "e7",
        "c": "c@example.com",
        "t": NOW - 1000,
        "p": 2,
        "n": 7,
        "o": "a",
        "l": ["w1", "w2"],
    }
    rejected = entry(8, outcome=Outcome.REJECTED, reason="validation_failed", launched=())
    rec = orjson.loads(history_head(rejected, 2, STYLE) + history_tail(rejected))
    assert rec["o"] == "r" and rec["r"] == "validation_failed" and "l" not in rec
    dup = orjson.loads(history_head(accepted, 2, STYLE) + b',"o":"d"}')
    assert dup["o"] == "d"


def test_encode_aggregates_plain_entries_and_lists_dedupe_ones() -> None:
    entries = [
        entry(0),
        entry(1),
        entry(2, outcome=Outcome.REJECTED, reason="validation_failed", launched=()),
        entry(3, dedupe_id="x"),
        entry(4, type_key=None),
    ]
    enc = encode_batch(0, entries, NOW, STYLE, (0, 5, NOW, 1, 2, 3, 4))
    doc = orjson.loads(enc.args[0])
    assert doc["s"] == [0, 5, NOW, 1, 2, 3, 4]
    b = bucket_of(NOW - 1000, NOW)
    s = bucket_shard("purchase")
    agg = {(doc["a"][i], doc["a"][i + 1]): doc["a"][i + 2] for i in range(0, len(doc["a"]), 4)}
    assert agg == {("vpurchase", b): 3, ("lpurchase", b): 2, ("rpurchase", b): 1}
    assert all(doc["a"][i + 3] == s for i in range(0, len(doc["a"]), 4))
    d = doc["d"]
    assert len(d) == 10
    assert d[0] == 3 and d[1] == digest("purchase", "x") and d[2] == 1 and d[3] == b
    assert d[4:7] == ["purchase", 1, 0] and d[9] == s
    # history in position order; the dedupe entry refers to d's first value
    h = doc["h"]
    assert h[0::2] == ["purchase"] * 4
    assert h[1::2][:3] == [1, 2, 3] and h[7] == -1
    # records are joined by newlines and numbered from 1
    records = enc.args[1].split(b"\n")
    assert len(enc.args) == 2 and len(records) == 5  # 3 plain + head and tail of "x"
    assert orjson.loads(records[h[1] - 1])["n"] == 0
    assert records[d[7] - 1].startswith(b'{"k":"purchase","e":"e3"')
    assert orjson.loads(records[d[7] - 1] + records[d[8] - 1])["o"] == "a"
    assert enc.applied == 4 and enc.checked == 0


def test_encode_splits_at_the_stored_position() -> None:
    entries = [entry(0, dedupe_id="a"), entry(1), entry(2, dedupe_id="b"), entry(3)]
    enc = encode_batch(0, entries, NOW, STYLE, (2, 4, NOW, 1, 1, 1, 1), apply_from=2)
    doc = orjson.loads(enc.args[0])
    assert doc["c"] == [0, digest("purchase", "a")]
    assert doc["d"][0] == 2
    assert enc.applied == 2 and enc.checked == 1


# -- reading --------------------------------------------------------------------------


def test_reader_plans() -> None:
    w = window_at(NOW)
    assert plan(None, None, NOW).mode is Mode.EMPTY
    assert plan(w.lo - 1, w.cur, NOW).mode is Mode.CURRENT
    assert plan(w.lo - 5, w.lo - 5, NOW).mode is Mode.EMPTY  # idle: all left the window
    sub = plan(w.lo - 4, w.lo + 10, NOW)
    assert sub.mode is Mode.SUBTRACT and sub.buckets == range(w.lo - 3, w.lo)
    rec = plan(w.lo - 100, w.lo + 10, NOW)
    assert rec.mode is Mode.RECOUNT and rec.buckets == range(w.lo, w.lo + 11)


def test_resolve() -> None:
    assert resolve([5, 3], Mode.CURRENT, []) == [5, 3]
    assert resolve([5, 3], Mode.EMPTY, []) == [0, 0]
    assert resolve([5, 3], Mode.SUBTRACT, [[1, 1], [2, 0]]) == [2, 2]
    assert resolve([5, 3], Mode.RECOUNT, [[1, 1], [2, 0]]) == [3, 1]


# -- history --------------------------------------------------------------------------


def record(t: int, p: int, n: int, outcome: str = "a", contact: str = "c") -> bytes:
    return orjson.dumps(
        {"k": "x", "e": f"e{n}", "c": contact, "t": t, "p": p, "n": n, "o": outcome}
    )


def test_select_merges_newest_first_caps_and_pages() -> None:
    raws = [record(100 + i, i % 2, i) for i in range(10)] + [b"garbage", record(105, 1, 5)]
    items, cursor = select(raws, depth=8, style=STYLE, limit=3)
    assert [i.position for i in items] == [9, 8, 7] and cursor is not None
    rest, cursor2 = select(raws, depth=8, style=STYLE, limit=10, cursor=cursor)
    assert [i.position for i in rest] == [6, 5, 4, 3, 2]  # depth 8 overall, no repeat of 5
    assert cursor2 is None


def test_select_filters() -> None:
    raws = [record(100 + i, 0, i, "r" if i % 3 == 0 else "a", f"c{i % 2}") for i in range(10)]
    items, _ = select(raws, depth=100, style=STYLE, outcome="rejected")
    assert [i.position for i in items] == [9, 6, 3, 0]
    items, _ = select(raws, depth=100, style=STYLE, contact="c1", since_ms=103, until_ms=107)
    assert [i.position for i in items] == [7, 5, 3]
    with pytest.raises(ValueError):
        select(raws, depth=100, style=STYLE, outcome="nope")


def test_cursor_round_trip_and_garbage() -> None:
    assert decode_cursor(encode_cursor((1, 2, 3))) == (1, 2, 3)
    assert decode_cursor(encode_cursor((-62135596800000, 0, 7))) == (-62135596800000, 0, 7)
    for bad in ("!!", "YWJj", "", "1.2", "1.2.3.4", "1.-2.3", "٣.1.1"):
        with pytest.raises(BadCursor):
            decode_cursor(bad)


# -- results --------------------------------------------------------------------------


def test_parse_result() -> None:
    cmd = str(uuid.uuid5(uuid.NAMESPACE_OID, "x"))

    def known(type_key: str, workflow_id: str) -> bool:
        return type_key == "t"

    def value(**kw: object) -> bytes:
        return orjson.dumps(
            {"commandId": cmd, "workflowId": "w", "eventTypeKey": "t", "status": "failed", **kw}
        )

    stats = ResultStats()
    f = parse_result(value(), 4, 99, known, stats)
    assert f is not None and (f.position, f.command_id, f.type_key, f.timestamp_ms) == (
        4,
        cmd,
        "t",
        99,
    )
    assert parse_result(value(status="started"), 5, 99, known, stats) is None
    assert parse_result(value(status="weird"), 5, 99, known, stats) is None
    assert parse_result(b"[1]", 5, 99, known, stats) is None
    assert parse_result(None, 5, 99, known, stats) is None
    assert parse_result(value(eventTypeKey="zz"), 5, 99, known, stats) is None
    assert parse_result(value(commandId=str(uuid.uuid4())), 5, 99, known, stats) is None
    assert (stats.failed, stats.started, stats.malformed, stats.unknown) == (1, 1, 3, 2)
    assert is_command_id(cmd) and is_command_id(cmd.upper())
    assert not is_command_id("not-a-uuid")
