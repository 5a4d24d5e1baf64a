"""``split_events``: the exact bytes of each element of ``{"events": [...]}``, whatever the
elements hold; a body that cannot be split is a ``BodyError``, a wrong shape a
``ShapeError``; it never raises anything else."""

from __future__ import annotations

import contextlib
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from eventgate.api.envelope import BodyError, ShapeError, split_events

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)
spaces = st.sampled_from([b"", b" ", b"\n\t ", b"\r\n"])


@settings(max_examples=300, deadline=None)
@given(
    elements=st.lists(json_values, min_size=1, max_size=8),
    ascii_only=st.booleans(),
    gap=spaces,
)
def test_every_element_comes_back_byte_for_byte(
    elements: list[object], ascii_only: bool, gap: bytes
) -> None:
    encoded = [
        json.dumps(e, ensure_ascii=ascii_only, allow_nan=True).encode("utf-8", "surrogatepass")
        for e in elements
    ]
    body = b"{" + gap + b'"events"' + gap + b":" + gap + b"[" + gap
    body += (gap + b"," + gap).join(encoded) + gap + b"]" + gap + b"}"
    assert split_events(body, 500) == encoded


@settings(max_examples=500, deadline=None)
@given(body=st.binary(max_size=200) | st.text(max_size=60).map(str.encode))
def test_any_bytes_split_or_give_a_body_or_shape_error(body: bytes) -> None:
    with contextlib.suppress(BodyError, ShapeError):
        split_events(body, 500)


def test_the_events_member_may_be_escaped_and_the_last_one_wins() -> None:
    assert split_events(b'{"\\u0065vents": [1], "events": [ 2 , 3 ]}', 500) == [b"2", b"3"]


def test_depth_costs_no_recursion() -> None:
    deep = b"[" * 200_000 + b"]" * 200_000
    assert split_events(b'{"events": [' + deep + b"]}", 500) == [deep]


@pytest.mark.parametrize(
    ("body", "error"),
    [
        (b"", ShapeError),
        (b"{}", ShapeError),
        (b'{"events": null}', ShapeError),
        (b'{"events": [1, 2, 3]}', ShapeError),  # over max_items=2 below
        (b'{"events": [1], "other": 2}', ShapeError),
        (b'{"events": [1,]}', BodyError),
        (b'{"events": [1] ', BodyError),
        (b'{"events": ["1]}', BodyError),
        (b'{"events": [[}]}', BodyError),
        (b'{"events": [1]}}', BodyError),
        (b"{events: [1]}", BodyError),
        (b"1 2", BodyError),
    ],
)
def test_refusals(body: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        split_events(body, 2)
