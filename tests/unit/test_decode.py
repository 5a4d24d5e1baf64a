"""The decode stage: every reject reason it can produce, and the choices documented in
``eventgate.ingest.decode``."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest

from eventgate.ingest.decode import (
    DEFAULT_MAX_BYTES,
    KEY_PATTERN,
    MAX_DEPTH,
    REPLAY_HEADER,
    Event,
    RawRecord,
    Rejection,
    decode,
    decode_batch,
    derive_event_id,
)
from eventgate.ingest.reasons import RejectReason, Violation

R = RejectReason
TOPIC = "eventgate.ingest"
TS = 1_795_729_853_123  # 2026-11-26T21:50:53.123Z


def record(
    value: Any,
    *,
    offset: int = 42,
    headers: tuple[tuple[str, bytes], ...] = (),
    timestamp_ms: int = TS,
) -> RawRecord:
    raw = value if value is None or isinstance(value, bytes) else orjson.dumps(value)
    return RawRecord(TOPIC, 3, offset, timestamp_ms, b"contact", raw, headers)


def event(**fields: Any) -> dict[str, Any]:
    doc: dict[str, Any] = {"eventTypeKey": "purchase", "keyValue": "c-1"}
    doc.update(fields)
    return {k: v for k, v in doc.items() if v is not _ABSENT}


_ABSENT: Any = object()


def accepted(value: Any, **kw: Any) -> Event:
    result = decode(record(value, **kw))
    assert isinstance(result, Event), result
    return result


def rejected(value: Any, reason: RejectReason, **kw: Any) -> Rejection:
    result = decode(record(value, **kw))
    assert isinstance(result, Rejection), result
    assert result.reason is reason, result
    assert result.message
    assert "\n" not in result.message
    return result


# ---- the happy path ----------------------------------------------------------------


def test_full_event_is_decoded() -> None:
    rec = record(
        {
            "eventTypeKey": "purchase.web",
            "keyValue": "anna@example.com",
            "eventId": "ord-1",
            "occurredAt": "2026-11-26T22:50:53.123456+01:00",
            "params": {"amount": 25.5, "items": [{"sku": "A"}], "coupon": None},
            "somethingNew": True,
        },
        headers=(("trace", b"x"),),
    )
    result = decode(rec)
    assert result == Event(
        event_type_key="purchase.web",
        key_value="anna@example.com",
        params={"amount": 25.5, "items": [{"sku": "A"}], "coupon": None},
        event_id="ord-1",
        explicit_id=True,
        occurred_at_ms=TS,
        occurred_at="2026-11-26T21:50:53.123Z",
        replay_of=None,
        record=rec,
    )


def test_defaults_derived_id_record_time_and_empty_params() -> None:
    ev = accepted({"eventTypeKey": "k", "keyValue": "c"}, offset=7)
    assert ev.event_id == f"{TOPIC}/3/7" == derive_event_id(TOPIC, 3, 7)
    assert ev.explicit_id is False
    assert ev.occurred_at_ms == TS
    assert ev.occurred_at == "2026-11-26T21:50:53.123Z"
    assert ev.params == {}


def test_null_fields_count_as_absent() -> None:
    ev = accepted(event(params=None, eventId=None, occurredAt=None))
    assert ev.params == {}
    assert ev.explicit_id is False
    assert ev.occurred_at_ms == TS


def test_object_params_repeated_name_last_wins() -> None:
    raw = b'{"eventTypeKey":"k","keyValue":"c","params":{"a":1,"b":2,"a":3}}'
    assert accepted(raw).params == {"a": 3, "b": 2}


def test_repeated_top_level_name_last_wins() -> None:
    raw = b'{"eventTypeKey":"first","keyValue":"c","eventTypeKey":"second"}'
    assert accepted(raw).event_type_key == "second"


def test_list_params_become_an_object_and_extra_item_keys_are_ignored() -> None:
    params = [
        {"name": "a", "value": {"deep": [1, 2]}},
        {"name": "b", "value": None, "type": "string"},
    ]
    assert accepted(event(params=params)).params == {"a": {"deep": [1, 2]}, "b": None}


def test_utf8_bom_is_ignored() -> None:
    ev = accepted(b"\xef\xbb\xbf" + orjson.dumps(event()))
    assert ev.key_value == "c-1"


def test_integers_at_the_64_bit_edges_are_kept_exactly() -> None:
    raw = (
        b'{"eventTypeKey":"k","keyValue":"c",'
        b'"params":{"lo":-9223372036854775808,"hi":18446744073709551615}}'
    )
    assert accepted(raw).params == {"lo": -(2**63), "hi": 2**64 - 1}


def test_long_digit_runs_inside_strings_are_fine() -> None:
    ev = accepted(event(params={"card": "12345678901234567890123", "f": 1.5e300}))
    assert ev.params["card"] == "12345678901234567890123"


def test_replay_header_is_exposed_last_one_wins() -> None:
    headers = (
        (REPLAY_HEADER, b"old/1/2"),
        ("other", b"x"),
        (REPLAY_HEADER, b"eventgate.rejected/0/9"),
    )
    assert accepted(event(), headers=headers).replay_of == "eventgate.rejected/0/9"


def test_replay_header_bad_utf8_is_replaced_and_empty_is_absent() -> None:
    assert accepted(event(), headers=((REPLAY_HEADER, b"a\xffb"),)).replay_of == "a\ufffdb"
    assert accepted(event(), headers=((REPLAY_HEADER, b""),)).replay_of is None


def test_replayed_record_keeps_the_original_effective_id() -> None:
    original = accepted(event(eventId=_ABSENT), offset=5)
    replay = accepted(
        event(eventId=original.event_id, occurredAt=original.occurred_at),
        offset=900,
        headers=((REPLAY_HEADER, b"eventgate.rejected/0/1"),),
        timestamp_ms=TS + 86_400_000,
    )
    assert replay.event_id == original.event_id
    assert replay.explicit_id is True
    assert replay.occurred_at_ms == original.occurred_at_ms


def test_decode_batch_keeps_order_and_mixes_outcomes() -> None:
    records = [record(event()), record(b"nope"), record(event(eventTypeKey="other"))]
    results = decode_batch(records)
    assert [type(r) for r in results] == [Event, Rejection, Event]
    assert [r.record for r in results] == records


def test_decode_batch_passes_max_bytes() -> None:
    results = decode_batch([record(event())], max_bytes=10)
    assert isinstance(results[0], Rejection)
    assert results[0].reason is R.TOO_LARGE


# ---- record-level reasons ----------------------------------------------------------


@pytest.mark.parametrize("value", [None, b""])
def test_no_value_is_invalid_json(value: bytes | None) -> None:
    rej = rejected(value, R.INVALID_JSON)
    assert rej.event_type_key is None


def test_too_large_is_checked_before_parsing() -> None:
    rej = rejected(b"\xff" * (DEFAULT_MAX_BYTES + 1), R.TOO_LARGE)
    assert str(DEFAULT_MAX_BYTES + 1) in rej.message
    padded = orjson.dumps(event(params={"pad": "x" * (DEFAULT_MAX_BYTES - 100)}))
    assert len(padded) <= DEFAULT_MAX_BYTES
    accepted(padded)


def test_max_bytes_is_configurable() -> None:
    raw = orjson.dumps(event())
    assert isinstance(decode(record(raw), max_bytes=len(raw)), Event)
    rej = decode(record(raw), max_bytes=len(raw) - 1)
    assert isinstance(rej, Rejection)
    assert rej.reason is R.TOO_LARGE


@pytest.mark.parametrize(
    "raw",
    [b'{"eventTypeKey":"k","keyValue":"\xff"}', b"\xc3", b'{"a":"\xed\xa0\x80"}'],
)
def test_bad_utf8(raw: bytes) -> None:
    assert "UTF-8" in rejected(raw, R.INVALID_UTF8).message


def test_bad_utf8_wins_over_a_json_error() -> None:
    rejected(b'{"a": NaN, "b": "\xff"}', R.INVALID_UTF8)


@pytest.mark.parametrize(
    "raw",
    [b"{", b"nope", b"   ", b'{"a":1} trailing', b"{'a': 1}", b'{"a": "\\ud800"}', b'{"a": nan}'],
)
def test_not_json(raw: bytes) -> None:
    rej = rejected(raw, R.INVALID_JSON)
    assert "not valid JSON" in rej.message
    assert rej.event_type_key is None


@pytest.mark.parametrize("raw", [b"[]", b"[1, 2]", b'"text"', b"12", b"true", b"null"])
def test_not_an_object(raw: bytes) -> None:
    rejected(raw, R.NOT_OBJECT)


@pytest.mark.parametrize(
    ("raw", "literal"),
    [
        (b"NaN", "NaN"),
        (b'{"eventTypeKey":"k","keyValue":"c","params":{"x":NaN}}', "NaN"),
        (b'{"a": Infinity}', "Infinity"),
        (b'{"a": [1, -Infinity]}', "-Infinity"),
        (b'{"a": 1e400}', "1e400"),
        (b'{"a": -1.5E999}', "-1.5E999"),
    ],
)
def test_non_finite_numbers(raw: bytes, literal: str) -> None:
    assert repr(literal) in rejected(raw, R.INVALID_NUMBER).message


def test_invalid_number_still_names_a_well_formed_key() -> None:
    raw = b'{"eventTypeKey":"purchase","keyValue":"c","params":{"x":[NaN, 1e999]}}'
    assert rejected(raw, R.INVALID_NUMBER).event_type_key == "purchase"
    assert rejected(b'{"eventTypeKey":"no good","x":NaN}', R.INVALID_NUMBER).event_type_key is None
    # the first problem decides the reason; the rest is no JSON, so no key is read
    assert rejected(b'{"eventTypeKey":"k","x":NaN,}', R.INVALID_NUMBER).event_type_key is None


@pytest.mark.parametrize(
    "literal", ["18446744073709551616", "-9223372036854775809", "1" * 40, "-" + "9" * 5000]
)
def test_integers_beyond_64_bits(literal: str) -> None:
    raw = b'{"eventTypeKey":"k","keyValue":"c","params":{"n":' + literal.encode() + b"}}"
    rej = rejected(raw, R.INVALID_NUMBER)
    assert "64-bit" in rej.message
    assert rej.event_type_key == "k"
    assert len(rej.message) < 200


def _nested(depth: int) -> dict[str, Any]:
    """An event whose deepest container sits at ``depth`` (the record object is 1)."""
    inner: Any = []
    for i in range(depth - 2):
        inner = {"n": inner} if i % 2 or i == depth - 3 else [inner]
    return event(params=inner)


def test_depth_limit_is_exactly_32() -> None:
    assert MAX_DEPTH == 32
    at_limit = orjson.dumps(_nested(32))
    assert at_limit.count(b"{") + at_limit.count(b"[") == 32
    accepted(at_limit)
    rej = rejected(_nested(33), R.TOO_DEEP)
    assert rej.event_type_key == "purchase"
    assert rej.violations[0].path.startswith("params")


def test_many_shallow_containers_are_not_too_deep() -> None:
    ev = accepted(event(params={"items": [{"sku": str(i), "tags": ["a"]} for i in range(100)]}))
    assert len(ev.params["items"]) == 100


def test_brackets_inside_strings_do_not_count() -> None:
    accepted(event(params={"text": "[[[[{{{{" * 20}))


def test_too_deep_path_names_the_first_offending_container() -> None:
    inner: Any = {}
    for _ in range(31):
        inner = {"x": inner}
    rej = rejected({"eventTypeKey": "k", "keyValue": "c", "a": [0, inner]}, R.TOO_DEEP)
    # record 1, a 2, a[1] 3, ... a[1] + .x * 30 is the first container at depth 33
    assert [v.path for v in rej.violations] == ["a[1]" + ".x" * 30]
    assert rej.message.endswith("a[1]" + ".x" * 30)


def test_nesting_beyond_the_parser_limit_is_too_deep() -> None:
    rejected(b"[" * 5000 + b"]" * 5000, R.TOO_DEEP)
    rejected(b'{"a":' * 2000 + b"1" + b"}" * 2000, R.TOO_DEEP)


# ---- eventTypeKey ------------------------------------------------------------------


@pytest.mark.parametrize("key", [_ABSENT, None, ""])
def test_missing_key(key: Any) -> None:
    rej = rejected(event(eventTypeKey=key), R.MISSING_KEY)
    assert rej.event_type_key is None
    assert rej.violations[0].path == "eventTypeKey"


@pytest.mark.parametrize(
    "key",
    ["buy\n", "-buy", "_buy", ".buy", "buy now", "buy/now", "kéy", "x" * 101, 7, True, ["k"], {}],
)
def test_invalid_key(key: Any) -> None:
    rej = rejected(event(eventTypeKey=key), R.INVALID_KEY)
    assert rej.event_type_key is None
    assert rej.violations[0].path == "eventTypeKey"


@pytest.mark.parametrize("key", ["a", "A9", "purchase.web_v2-b", "0", "x" * 100, "segment.1234"])
def test_valid_keys(key: str) -> None:
    assert accepted(event(eventTypeKey=key)).event_type_key == key


def test_key_pattern_refuses_a_trailing_newline_with_any_method() -> None:
    for method in (KEY_PATTERN.match, KEY_PATTERN.fullmatch, KEY_PATTERN.search):
        assert method("buy\n") is None
        assert method("buy") is not None


def test_key_is_case_sensitive() -> None:
    assert accepted(event(eventTypeKey="Purchase")).event_type_key == "Purchase"


def test_long_invalid_key_is_cut_in_the_message() -> None:
    rej = rejected(event(eventTypeKey="!" * 10_000), R.INVALID_KEY)
    assert len(rej.message) < 300


# ---- params ------------------------------------------------------------------------


@pytest.mark.parametrize("params", ["a=1", 5, True, [1, 2]])
def test_invalid_params_types(params: Any) -> None:
    rej = rejected(event(params=params), R.INVALID_PARAMS)
    assert rej.event_type_key == "purchase"


@pytest.mark.parametrize(
    ("items", "path"),
    [
        ([{"name": "a", "value": 1}, "b"], "params[1]"),
        ([{"value": 1}], "params[0].name"),
        ([{"name": 5, "value": 1}], "params[0].name"),
        ([{"name": "", "value": 1}], "params[0].name"),
        ([{"name": "a"}], "params[0].value"),
    ],
)
def test_invalid_list_items(items: list[Any], path: str) -> None:
    rej = rejected(event(params=items), R.INVALID_PARAMS)
    assert rej.violations[0].path == path
    assert path in rej.message


def test_every_bad_list_item_is_a_violation() -> None:
    rej = rejected(
        event(params=[1, {"name": "ok", "value": 1}, None, {"value": 2}]), R.INVALID_PARAMS
    )
    assert [v.path for v in rej.violations] == ["params[0]", "params[2]", "params[3].name"]
    assert "2 more" in rej.message


def test_violations_are_capped() -> None:
    rej = rejected(event(params=[1] * 1000), R.INVALID_PARAMS)
    assert len(rej.violations) == 100


def test_empty_param_name_in_object_form() -> None:
    rejected(event(params={"": 1}), R.INVALID_PARAMS)


def test_duplicate_param_in_list_form_names_each_repeat() -> None:
    params = [
        {"name": "sku", "value": "A"},
        {"name": "qty", "value": 1},
        {"name": "sku", "value": "B"},
        {"name": "sku", "value": "C"},
    ]
    rej = rejected(event(params=params), R.DUPLICATE_PARAM)
    assert rej.violations == (
        Violation("params[2].name", "param 'sku' repeats params[0]"),
        Violation("params[3].name", "param 'sku' repeats params[0]"),
    )
    assert "'sku'" in rej.message
    assert rej.event_type_key == "purchase"


def test_list_form_names_are_case_sensitive() -> None:
    params = [{"name": "sku", "value": 1}, {"name": "SKU", "value": 2}]
    assert accepted(event(params=params)).params == {"sku": 1, "SKU": 2}


def test_bad_items_are_reported_before_duplicates() -> None:
    params = [{"name": "a", "value": 1}, {"name": "a", "value": 2}, 3]
    rejected(event(params=params), R.INVALID_PARAMS)


# ---- contact -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key_value", "expected"),
    [("anna@example.com", "anna@example.com"), (" padded ", " padded "), ("x" * 300, "x" * 300)],
)
def test_key_value_strings_are_kept_exactly(key_value: str, expected: str) -> None:
    assert accepted(event(keyValue=key_value)).key_value == expected


def test_integer_key_value_is_its_decimal_string() -> None:
    assert accepted(event(keyValue=1234567)).key_value == "1234567"
    assert accepted(event(keyValue=-5)).key_value == "-5"


@pytest.mark.parametrize("key_value", ["", "   ", "x" * 301, 1.5, 2.0, True, {"id": 1}, ["a"]])
def test_invalid_key_value(key_value: Any) -> None:
    rej = rejected(event(keyValue=key_value), R.INVALID_CONTACT)
    assert rej.violations[0].path == "keyValue"
    assert rej.event_type_key == "purchase"


def test_key_value_wins_over_params() -> None:
    assert accepted(event(keyValue="kv", params={"contactId": "cid"})).key_value == "kv"


def test_contact_length_counts_characters_not_bytes() -> None:
    assert accepted(event(keyValue="é" * 300)).key_value == "é" * 300
    rejected(event(keyValue="é" * 301), R.INVALID_CONTACT)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (
            {
                "pushToken": "p",
                "phone": "ph",
                "email": "e",
                "externalCustomerId": "x",
                "contactId": "c",
            },
            "c",
        ),
        ({"pushToken": "p", "phone": "ph", "email": "e", "externalCustomerId": "x"}, "x"),
        ({"pushToken": "p", "phone": "ph", "email": "e"}, "e"),
        ({"pushToken": "p", "phone": "ph"}, "ph"),
        ({"pushToken": "p"}, "p"),
        ({"EMAIL": "upper@example.com", "Phone": "1"}, "upper@example.com"),
        ({"CONTACTID": 98765}, "98765"),
        ({"contactId": None, "email": "e"}, "e"),
        ({"Email": "first", "email": "second"}, "first"),
    ],
)
def test_contact_fallback_priority_and_case(params: dict[str, Any], expected: str) -> None:
    ev = accepted(event(keyValue=_ABSENT, params=params))
    assert ev.key_value == expected
    assert ev.params == params


def test_contact_fallback_from_list_params() -> None:
    params = [{"name": "phone", "value": "+33 1 23"}, {"name": "Email", "value": "a@b"}]
    assert accepted(event(keyValue=_ABSENT, params=params)).key_value == "a@b"


def test_null_key_value_falls_back_to_params() -> None:
    assert accepted(event(keyValue=None, params={"phone": "1"})).key_value == "1"


@pytest.mark.parametrize("bad", ["", " ", 1.5, False, {"a": 1}, ["x"], "y" * 301])
def test_invalid_fallback_contact(bad: Any) -> None:
    rej = rejected(event(keyValue=_ABSENT, params={"email": bad, "phone": "ok"}), R.INVALID_CONTACT)
    assert rej.violations[0].path == "params.email"


@pytest.mark.parametrize(
    "params",
    [None, {}, {"mail": "a@b", "contact_id": "c", "e-mail": "x"}, {"email": None}, {"émail": "x"}],
)
def test_missing_contact(params: Any) -> None:
    rej = rejected(event(keyValue=_ABSENT, params=params), R.MISSING_CONTACT)
    assert rej.event_type_key == "purchase"
    assert "contactId" in rej.message


def test_fallback_names_must_be_ascii_case_variants() -> None:
    # U+212A KELVIN SIGN lower-cases to "k": "pushToKen" must not count as pushToken.
    rejected(event(keyValue=_ABSENT, params={"pushTo\u212aen": "t"}), R.MISSING_CONTACT)


# ---- eventId -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("event_id", "expected"),
    [("a", "a"), ("x" * 128, "x" * 128), (42, "42"), ("é" * 128, "é" * 128)],
)
def test_explicit_event_id(event_id: Any, expected: str) -> None:
    ev = accepted(event(eventId=event_id))
    assert (ev.event_id, ev.explicit_id) == (expected, True)


@pytest.mark.parametrize("event_id", ["", "  ", "x" * 129, 1.5, False, ["a"], {"id": 1}])
def test_invalid_event_id(event_id: Any) -> None:
    rej = rejected(event(eventId=event_id), R.INVALID_EVENT_ID)
    assert rej.violations[0].path == "eventId"
    assert rej.event_type_key == "purchase"


def test_derived_ids_are_deterministic_and_distinct() -> None:
    assert derive_event_id("t", 0, 1) == derive_event_id("t", 0, 1) == "t/0/1"
    assert len({derive_event_id("t", p, o) for p in range(3) for o in range(3)}) == 9


def test_derived_id_for_a_long_topic_still_fits_an_explicit_id() -> None:
    topic = "p." * 120 + "ingest"
    derived = derive_event_id(topic, 11, 123456789)
    assert len(derived) <= 128
    assert derived.startswith("~") and derived.endswith("/11/123456789")
    assert derived == derive_event_id(topic, 11, 123456789)
    assert derived != derive_event_id(topic + "x", 11, 123456789)
    # a replay of such an event carries the id explicitly, and it is accepted
    assert accepted(event(eventId=derived)).event_id == derived


# ---- occurredAt --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-11-26T21:50:53Z", "2026-11-26T21:50:53.000Z"),
        ("2026-11-26t21:50:53.1z", "2026-11-26T21:50:53.100Z"),
        ("2026-11-26 21:50:53.123Z", "2026-11-26T21:50:53.123Z"),
        ("2026-11-26T21:50:53.123999999Z", "2026-11-26T21:50:53.123Z"),
        ("2026-11-27T03:20:53.5+05:30", "2026-11-26T21:50:53.500Z"),
        ("2026-11-26T11:50:53-10:00", "2026-11-26T21:50:53.000Z"),
        ("2026-11-26T21:50:53-00:00", "2026-11-26T21:50:53.000Z"),
        ("2024-02-29T00:00:00Z", "2024-02-29T00:00:00.000Z"),
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"),
        ("1969-12-31T23:59:59.999Z", "1969-12-31T23:59:59.999Z"),
    ],
)
def test_occurred_at_is_normalised_to_utc_ms(text: str, expected: str) -> None:
    ev = accepted(event(occurredAt=text))
    assert ev.occurred_at == expected


def test_occurred_at_ms_matches_the_text() -> None:
    ev = accepted(event(occurredAt="2026-11-26T22:50:53.123+01:00"))
    assert ev.occurred_at_ms == TS


@pytest.mark.parametrize(
    "text",
    [
        "2026-11-26T21:50:53",  # no offset
        "2026-11-26",
        "21:50:53Z",
        "2026-11-26T21:50Z",
        "2026-11-26T21:50:53.Z",
        "2026-11-26T21:50:53+0100",
        "2026-11-26T21:50:53+01",
        "2026-02-30T00:00:00Z",
        "2026-13-01T00:00:00Z",
        "2026-11-26T24:00:00Z",
        "2026-11-26T21:60:00Z",
        "2026-11-26T21:50:61Z",
        "2026-11-26T21:50:53+24:00",
        "0000-01-01T00:00:00Z",
        "0001-01-01T00:00:00+00:01",
        "9999-12-31T23:59:59-00:01",
        "2026-11-26T21:50:53Z\n",
        "\u0662026-11-26T21:50:53Z",
        "2026-11-26T21:50:53 Z",
        "",
        "yesterday",
    ],
)
def test_invalid_occurred_at_text(text: str) -> None:
    rej = rejected(event(occurredAt=text), R.INVALID_OCCURRED_AT)
    assert rej.violations[0].path == "occurredAt"
    assert rej.event_type_key == "purchase"


@pytest.mark.parametrize("value", [1795729853123, 1.5, True, ["2026-11-26T21:50:53Z"], {}])
def test_occurred_at_must_be_a_string(value: Any) -> None:
    rejected(event(occurredAt=value), R.INVALID_OCCURRED_AT)


@pytest.mark.parametrize(
    ("timestamp_ms", "expected"),
    [
        (0, "1970-01-01T00:00:00.000Z"),
        (-1, "1969-12-31T23:59:59.999Z"),
        (10**18, "9999-12-31T23:59:59.999Z"),
        (-(10**18), "0001-01-01T00:00:00.000Z"),
    ],
)
def test_record_timestamp_is_clamped_to_writable_times(timestamp_ms: int, expected: str) -> None:
    ev = accepted(event(), timestamp_ms=timestamp_ms)
    assert ev.occurred_at == expected
    assert accepted(event(occurredAt=ev.occurred_at)).occurred_at_ms == ev.occurred_at_ms


# ---- order of checks and messages --------------------------------------------------


def test_key_is_checked_before_params_contact_id_and_time() -> None:
    rejected(
        {"eventTypeKey": "bad key", "params": 5, "eventId": "", "occurredAt": 1},
        R.INVALID_KEY,
    )


def test_params_before_contact_before_event_id_before_time() -> None:
    base = {"eventTypeKey": "k", "keyValue": "", "params": 5, "eventId": "", "occurredAt": 1}
    rejected(base, R.INVALID_PARAMS)
    rejected({**base, "params": {}}, R.INVALID_CONTACT)
    rejected({**base, "params": {}, "keyValue": "c"}, R.INVALID_EVENT_ID)
    rejected({**base, "params": {}, "keyValue": "c", "eventId": "e"}, R.INVALID_OCCURRED_AT)


def test_structural_problems_come_before_field_problems() -> None:
    big = b'{"eventTypeKey":"bad key","n":123456789012345678901234}'
    rej = rejected(big, R.INVALID_NUMBER)
    assert rej.event_type_key is None


def test_messages_escape_user_text_onto_one_line() -> None:
    rej = rejected(event(eventTypeKey="a\nb\r\nc"), R.INVALID_KEY)
    assert "\\n" in rej.message


ONE_PER_REASON: dict[RejectReason, Any] = {
    R.INVALID_UTF8: b"\xff",
    R.INVALID_JSON: b"{",
    R.NOT_OBJECT: b"[]",
    R.TOO_LARGE: b" " * (DEFAULT_MAX_BYTES + 1),
    R.TOO_DEEP: _nested(33),
    R.INVALID_NUMBER: b'{"n": NaN}',
    R.MISSING_KEY: event(eventTypeKey=_ABSENT),
    R.INVALID_KEY: event(eventTypeKey="no spaces"),
    R.INVALID_CONTACT: event(keyValue=""),
    R.MISSING_CONTACT: event(keyValue=_ABSENT),
    R.INVALID_PARAMS: event(params="x"),
    R.DUPLICATE_PARAM: event(params=[{"name": "a", "value": 1}, {"name": "a", "value": 2}]),
    R.INVALID_EVENT_ID: event(eventId=""),
    R.INVALID_OCCURRED_AT: event(occurredAt="now"),
}


def test_decode_produces_every_reason_but_those_of_later_stages() -> None:
    produced = set()
    for value in ONE_PER_REASON.values():
        result = decode(record(value))
        assert isinstance(result, Rejection)
        produced.add(result.reason)
    assert produced == set(ONE_PER_REASON) == set(R) - {R.VALIDATION_FAILED, R.REGISTRATION_LIMIT}


def test_rejections_and_events_serialise() -> None:
    """What the dead-letter writer and the emitters need is plain data."""
    rej = rejected(event(params=[{"name": "a", "value": 1}] * 2), R.DUPLICATE_PARAM)
    payload = {"reason": rej.reason, "violations": [v.as_json() for v in rej.violations]}
    assert json.loads(orjson.dumps(payload))["reason"] == "duplicate_param"
    ev = accepted(event(params={"n": 2**64 - 1}))
    assert orjson.loads(orjson.dumps(ev.params)) == ev.params
