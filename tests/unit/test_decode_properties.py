"""Property tests of the decode stage: it never raises, and what it accepts or refuses
agrees with independent checks."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eventgate.ingest.decode import (
    KEY_PATTERN,
    MAX_DEPTH,
    Event,
    RawRecord,
    Rejection,
    decode,
)
from eventgate.ingest.reasons import RejectReason

PROPS = settings(
    max_examples=300,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
DECODE_REASONS = set(RejectReason) - {
    RejectReason.VALIDATION_FAILED,
    RejectReason.REGISTRATION_LIMIT,
}
UTC_MS = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z")


def rec(value: bytes | None, headers: tuple[tuple[str, bytes], ...] = ()) -> RawRecord:
    return RawRecord("eventgate.ingest", 0, 17, 1_795_729_853_123, None, value, headers)


def check_outcome(result: Event | Rejection) -> None:
    """What must hold of any decode result."""
    if isinstance(result, Rejection):
        assert result.reason in DECODE_REASONS
        assert result.message
        assert "\n" not in result.message and "\r" not in result.message
        assert len(result.violations) <= 100
        assert result.event_type_key is None or KEY_PATTERN.fullmatch(result.event_type_key)
        return
    assert isinstance(result, Event)
    assert KEY_PATTERN.fullmatch(result.event_type_key)
    assert 0 < len(result.key_value) <= 300 and not result.key_value.isspace()
    assert 0 < len(result.event_id) <= 128
    assert UTC_MS.fullmatch(result.occurred_at)
    assert isinstance(result.params, dict)
    assert "" not in result.params
    orjson.dumps(result.params)  # everything accepted can be written out again


# JSON-ish values, including what JSON forbids or orjson cannot hold.
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=20)
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=25,
)
keys = st.sampled_from(["purchase", "page.view", "", "bad key", "x\n", "-x"]) | json_values
contacts = st.sampled_from(["c-1", "", " ", "x" * 301, 12]) | json_values
params = (
    st.dictionaries(
        st.sampled_from(["email", "EMAIL", "phone", "contactId", "pushToken", "sku", ""])
        | st.text(max_size=8),
        json_values,
        max_size=5,
    )
    | st.lists(
        st.fixed_dictionaries({"name": st.sampled_from(["a", "b", "email"]), "value": json_values})
        | json_values,
        max_size=5,
    )
    | json_values
)
times = st.sampled_from(["2026-11-26T21:50:53Z", "2026-02-30T00:00:00Z", "now"]) | json_values
event_like = st.fixed_dictionaries(
    {},
    optional={
        "eventTypeKey": keys,
        "keyValue": contacts,
        "params": params,
        "eventId": st.sampled_from(["e-1", "", "x" * 129]) | json_values,
        "occurredAt": times,
    },
)


@PROPS
@given(st.binary(max_size=2000), st.integers(min_value=0, max_value=3000))
def test_arbitrary_bytes_never_raise(value: bytes, max_bytes: int) -> None:
    check_outcome(decode(rec(value), max_bytes=max_bytes))


@PROPS
@given(event_like)
def test_event_like_documents_never_raise(doc: dict[str, Any]) -> None:
    raw = json.dumps(doc, allow_nan=True).encode()
    result = decode(rec(raw))
    check_outcome(result)
    if isinstance(result, Event):
        assert result.event_type_key == doc["eventTypeKey"]


@PROPS
@given(json_values)
def test_any_json_value_never_raises(value: Any) -> None:
    raw = json.dumps(value, allow_nan=True).encode()
    result = decode(rec(raw))
    check_outcome(result)
    if not isinstance(value, dict):
        assert isinstance(result, Rejection)
        assert result.reason in {RejectReason.NOT_OBJECT, RejectReason.INVALID_NUMBER}


@PROPS
@given(event_like, st.data())
def test_corrupted_documents_never_raise(doc: dict[str, Any], data: st.DataObject) -> None:
    raw = bytearray(json.dumps(doc, allow_nan=True).encode())
    for _ in range(data.draw(st.integers(min_value=1, max_value=4))):
        if not raw:
            break
        at = data.draw(st.integers(min_value=0, max_value=len(raw) - 1))
        raw[at] = data.draw(st.integers(min_value=0, max_value=255))
    check_outcome(decode(rec(bytes(raw))))


@PROPS
@given(
    st.lists(st.tuples(st.sampled_from(["eventgate-replay-of", "x"]), st.binary(max_size=8))),
)
def test_any_headers_never_raise(headers: list[tuple[str, bytes]]) -> None:
    result = decode(rec(b'{"eventTypeKey":"k","keyValue":"c"}', tuple(headers)))
    assert isinstance(result, Event)
    replays = [value for name, value in headers if name == "eventgate-replay-of"]
    if replays and replays[-1]:
        assert result.replay_of == replays[-1].decode("utf-8", "replace")
    else:
        assert result.replay_of is None


def depth_of(value: Any) -> int:
    if isinstance(value, dict):
        return 1 + max((depth_of(v) for v in value.values()), default=0)
    if isinstance(value, list):
        return 1 + max((depth_of(v) for v in value), default=0)
    return 0


@st.composite
def nested_events(draw: st.DrawFn) -> dict[str, Any]:
    """Events with a chain of 20-40 mixed containers somewhere in params, plus noise."""
    inner: Any = draw(st.none() | st.booleans() | st.integers(-9, 9) | st.text(max_size=4))
    for _ in range(draw(st.integers(min_value=20, max_value=40))):
        if draw(st.booleans()):
            inner = [inner] if draw(st.booleans()) else [draw(st.integers(0, 9)), inner]
        else:
            inner = {draw(st.sampled_from(["a", "b"])): inner, "z": draw(st.integers(0, 9))}
    return {"eventTypeKey": "deep", "keyValue": "c", "params": {"p": inner, "q": [[1], {}]}}


@PROPS
@given(nested_events())
def test_too_deep_exactly_when_nesting_exceeds_32(doc: dict[str, Any]) -> None:
    result = decode(rec(orjson.dumps(doc)))
    if depth_of(doc) > MAX_DEPTH:
        assert isinstance(result, Rejection)
        assert result.reason is RejectReason.TOO_DEEP
        assert result.event_type_key == "deep"
    else:
        assert isinstance(result, Event)
        assert result.params == doc["params"]


@PROPS
@given(st.lists(st.integers(min_value=-(2**66), max_value=2**66), min_size=1, max_size=5))
def test_integers_accepted_exactly_within_64_bits(numbers: list[int]) -> None:
    raw = json.dumps({"eventTypeKey": "n", "keyValue": "c", "params": {"n": numbers}}).encode()
    result = decode(rec(raw))
    if all(-(2**63) <= n <= 2**64 - 1 for n in numbers):
        assert isinstance(result, Event)
        assert result.params["n"] == numbers
        assert all(type(n) is int for n in result.params["n"])
    else:
        assert isinstance(result, Rejection)
        assert result.reason is RejectReason.INVALID_NUMBER


@PROPS
@given(
    st.datetimes(
        min_value=datetime(1, 1, 2),  # noqa: DTZ001 - naive bounds; the zone comes next
        max_value=datetime(9999, 12, 30),  # noqa: DTZ001
        timezones=st.builds(
            timezone,
            st.integers(min_value=-23 * 60 - 59, max_value=23 * 60 + 59).map(
                lambda m: timedelta(minutes=m)
            ),
        ),
    ),
    st.sampled_from(["T", "t", " "]),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
)
def test_occurred_at_agrees_with_datetime(moment: datetime, sep: str, precision: str) -> None:
    text = moment.isoformat(sep=sep, timespec=precision)
    result = decode(rec(orjson.dumps({"eventTypeKey": "t", "keyValue": "c", "occurredAt": text})))
    assert isinstance(result, Event), text
    if precision == "seconds":
        moment = moment.replace(microsecond=0)
    expected_ms = (moment - datetime(1970, 1, 1, tzinfo=UTC)) // timedelta(milliseconds=1)
    assert result.occurred_at_ms == expected_ms
    utc = moment.astimezone(UTC)
    assert result.occurred_at == (
        f"{utc.year:04d}-{utc.month:02d}-{utc.day:02d}T{utc.hour:02d}:{utc.minute:02d}:"
        f"{utc.second:02d}.{utc.microsecond // 1000:03d}Z"
    )


@PROPS
@given(
    key=st.from_regex(KEY_PATTERN),
    contact=st.text(min_size=1, max_size=300).filter(lambda s: not s.isspace()),
    event_id=st.text(min_size=1, max_size=128).filter(lambda s: not s.isspace()),
    names=st.lists(st.text(min_size=1, max_size=10), unique=True, max_size=6),
)
def test_valid_events_decode_to_what_was_sent(
    key: str, contact: str, event_id: str, names: list[str]
) -> None:
    params = [{"name": name, "value": i} for i, name in enumerate(names)]
    doc = {"eventTypeKey": key, "keyValue": contact, "eventId": event_id, "params": params}
    result = decode(rec(orjson.dumps(doc)))
    assert isinstance(result, Event)
    assert (result.event_type_key, result.key_value, result.event_id) == (key, contact, event_id)
    assert result.params == {name: i for i, name in enumerate(names)}
